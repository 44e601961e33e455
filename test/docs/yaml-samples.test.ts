import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  docPages,
  findInput,
  parseSample,
  taskDefinitions,
  taskSteps,
  yamlSamples,
  type Json,
  type TaskDefinition,
  type TaskInputDefinition,
  type TaskStep,
  type YamlSample,
} from './doc-samples';

/** Inputs are read from task.json at test time: new inputs need no change here. */
const definitions = taskDefinitions();

interface Located extends TaskStep {
  where: string;
}

function allSamples(): YamlSample[] {
  return docPages().flatMap(yamlSamples);
}

function allSteps(): Located[] {
  return allSamples().flatMap((sample) =>
    parseSample(sample).documents.flatMap((document) =>
      taskSteps(document).map((step) => ({ ...step, where: `${sample.page}:${sample.line} (${step.task})` })),
    ),
  );
}

function definitionOf(reference: string): TaskDefinition | undefined {
  const [name, version] = reference.split('@');
  return definitions.find((d) => d.task.name === name && String(d.task.version.Major) === version)?.task;
}

/** A value the agent expands at run time: it cannot be checked here. */
function isMacro(value: unknown): boolean {
  return typeof value === 'string' && /\$\(|\$\{\{|\$\[/.test(value);
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/** Why a value does not fit the input, or undefined when it does. */
function valueProblem(input: TaskInputDefinition, value: unknown): string | undefined {
  if (isMacro(value)) return undefined;
  const text = typeof value === 'string' ? value.trim() : value;
  if (input.type === 'boolean') {
    return typeof text === 'boolean' || text === 'true' || text === 'false' ? undefined : `${JSON.stringify(value)} is not true or false`;
  }
  if (input.type === 'int') {
    return Number.isInteger(typeof text === 'string' && NUMBER.test(text) ? Number(text) : text) ? undefined : `${JSON.stringify(value)} is not a whole number`;
  }
  // A string input whose default is a number (timeoutMinutes, healthCheckSeconds…) takes a number.
  if (input.type === 'string' && NUMBER.test(String(input.defaultValue ?? ''))) {
    return typeof text === 'number' || (typeof text === 'string' && NUMBER.test(text)) ? undefined : `${JSON.stringify(value)} is not a number`;
  }
  if (input.type === 'pickList' && input.options && input.properties?.EditableOptions !== 'True') {
    const options = Object.keys(input.options);
    return options.includes(String(text)) ? undefined : `${JSON.stringify(value)} is not one of ${options.map((o) => `'${o}'`).join(', ')}`;
  }
  return undefined;
}

test('every YAML sample in README.md, overview.md and docs/*.md parses', () => {
  const samples = allSamples();
  assert.ok(samples.length > 10, `found only ${samples.length} YAML samples`);
  const broken = samples.map((s) => ({ s, error: parseSample(s).error })).filter((x) => x.error);
  assert.deepEqual(broken.map((x) => `${x.s.page}:${x.s.line}: ${x.error}`), []);
});

test('every sample step names a task of this extension by its major version only', () => {
  const steps = allSteps();
  assert.ok(steps.some((s) => s.task.startsWith('VvpUploadArtifact@')) && steps.some((s) => s.task.startsWith('VvpDeploy@')), 'the docs show both tasks');
  const problems = steps
    .filter((s) => !/^\w+@\d+$/.test(s.task) || !definitionOf(s.task))
    .map((s) => `${s.where}: pin the major version of a task that exists (an organization has one version of the extension installed)`);
  assert.deepEqual(problems, []);
});

test('every input a sample names is declared in task.json, with a value the input accepts', () => {
  const problems: string[] = [];
  for (const step of allSteps()) {
    const definition = definitionOf(step.task);
    if (!definition) continue;
    for (const [name, value] of Object.entries(step.inputs)) {
      const input = findInput(definition, name);
      if (!input) {
        problems.push(`${step.where}: no input '${name}'`);
        continue;
      }
      const problem = valueProblem(input, value);
      if (problem) problems.push(`${step.where}: ${name}: ${problem}`);
    }
  }
  assert.deepEqual(problems, []);
});

/** The lines of a multi-line input. */
function lines(value: unknown): string[] {
  return String(value ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

test('every artifactPath that matches *.jar excludes the original-*.jar a shaded Maven build leaves beside it', () => {
  const problems: string[] = [];
  for (const step of allSteps().filter((s) => s.task.startsWith('VvpUploadArtifact@'))) {
    const patterns = lines(step.inputs.artifactPath);
    const excludes = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
    for (const include of patterns.filter((p) => !p.startsWith('!') && p.endsWith('*.jar'))) {
      // A relative pattern is rooted at the working directory like the exclusion; an absolute one
      // ($(Pipeline.Workspace)/…) needs an exclusion in its own folder, or `**/` would miss it.
      const absolute = include.startsWith('/') || include.startsWith('$(');
      const wanted = absolute ? `${include.slice(0, include.lastIndexOf('/'))}/original-*.jar` : '**/original-*.jar';
      if (!excludes.includes(wanted)) problems.push(`${step.where}: artifactPath '${include}' without the line '!${wanted}'`);
    }
  }
  assert.deepEqual(problems, []);
});

/** Names that change with every build or every content: a rollback can bring the previous JAR back. */
const VERSIONED = /\{sha256(:\d+)?\}|\$\(Build\.(BuildId|BuildNumber|SourceVersion)\)/;

function isTrue(value: unknown): boolean {
  return value === true || String(value).trim().toLowerCase() === 'true';
}

test('a sample that rolls back uploads under a versioned blob name, so the previous JAR is still there', () => {
  const problems: string[] = [];
  const steps = allSteps();
  for (const deploy of steps.filter((s) => s.task.startsWith('VvpDeploy@') && isTrue(s.inputs.rollbackOnFailure))) {
    const uploads = steps.filter((s) => s.task.startsWith('VvpUploadArtifact@') && s.document === deploy.document);
    const referenced = /^\$\((\w+)\.jarUri\)$/.exec(String(deploy.inputs.jarUri ?? '').trim())?.[1];
    const named = uploads.filter((u) => referenced !== undefined && u.step.name === referenced);
    // The upload that feeds this deploy: the named one next to it, else any named one, else its neighbours.
    const feeding =
      [named.filter((u) => u.siblings === deploy.siblings), named, uploads.filter((u) => u.siblings === deploy.siblings)].find((c) => c.length > 0) ?? [];
    for (const upload of feeding) {
      if (!VERSIONED.test(String(upload.inputs.blobName ?? ''))) {
        problems.push(`${upload.where}: blobName ${JSON.stringify(upload.inputs.blobName ?? '(the file name)')} is overwritten by the next build, but ${deploy.where} rolls back to it`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

/** The mappings around a step that may carry a condition or a timeout: itself, its job, its stage. */
function scopes(step: TaskStep): Json[] {
  return [step.step, ...step.ancestors].filter((a) => a.condition !== undefined || a.job !== undefined || a.deployment !== undefined || a.stage !== undefined || a === step.step);
}

function triggersEveryBranch(document: unknown): boolean {
  const trigger = (document as Json | undefined)?.trigger;
  const include = (trigger as Json | undefined)?.branches && ((trigger as Json).branches as Json).include;
  const list = Array.isArray(trigger) ? trigger : Array.isArray(include) ? include : [];
  return list.some((b) => String(b).trim() === '*');
}

test('no sample that builds every branch deploys without a condition', () => {
  const problems = allSteps()
    .filter((s) => s.task.startsWith('VvpDeploy@') && String(s.inputs.action ?? 'deploy') !== 'plan' && triggersEveryBranch(s.document))
    .filter((s) => !scopes(s).some((scope) => typeof scope.condition === 'string' && scope.condition.includes('refs/heads/')))
    .map((s) => `${s.where}: runs on every branch the trigger includes ('*'); condition the deploy, its job or stage on the branch`);
  assert.deepEqual(problems, []);
});

function numberInput(step: TaskStep, definition: TaskDefinition, name: string): number {
  const value = step.inputs[name] ?? findInput(definition, name)?.defaultValue;
  return isMacro(value) ? NaN : Number(value ?? 0);
}

test("a deploy whose worst case exceeds the 60-minute default job timeout states the job's timeoutInMinutes above it", () => {
  const problems: string[] = [];
  for (const step of allSteps().filter((s) => s.task.startsWith('VvpDeploy@'))) {
    const definition = definitionOf(step.task);
    if (!definition) continue;
    const action = String(step.inputs.action ?? 'deploy');
    if (action === 'plan') continue;
    // The wait and the health check; a rollback waits for the previous job and checks it the same way.
    const once = numberInput(step, definition, 'timeoutMinutes') + numberInput(step, definition, 'healthCheckSeconds') / 60;
    const worst = action === 'deploy' && isTrue(step.inputs.rollbackOnFailure) ? 2 * once : once;
    if (!(worst > 60)) continue;
    const jobTimeout = scopes(step)
      .map((scope) => Number(scope.timeoutInMinutes))
      .find((t) => Number.isFinite(t));
    if (jobTimeout === undefined || jobTimeout < worst) {
      problems.push(`${step.where}: can take ${worst} minutes, the job allows ${jobTimeout ?? '60 (the default)'}`);
    }
  }
  assert.deepEqual(problems, []);
});
