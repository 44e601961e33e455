import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CONTRACTS } from './contract';
import { fromRoot, ROOT } from './project-paths';

interface TaskJson {
  name: string;
  version: { Major: number };
  inputs: { name: string; aliases?: string[] }[];
  outputVariables: { name: string }[];
}
const tasks = CONTRACTS.map((c) => JSON.parse(fs.readFileSync(fromRoot(c.folder, 'task.json'), 'utf8')) as TaskJson);

test('docs/reference.md is generated from the current task.json files', () => {
  const result = spawnSync(process.execPath, [fromRoot('.ci/docs.mjs'), '--check'], { encoding: 'utf8', cwd: ROOT });
  assert.equal(result.status, 0, result.stderr);
});

test('the reference documents every input and output, and nothing that does not exist', () => {
  const doc = fs.readFileSync(fromRoot('docs/reference.md'), 'utf8');
  for (const t of tasks) {
    const section = doc.split(`## ${t.name}@`)[1]?.split('\n## ')[0] ?? '';
    const [inputsPart, outputsPart] = section.split('### Output variables');
    const documentedInputs = [...inputsPart.matchAll(/^\| `(\w+)`/gm)].map((m) => m[1]);
    const documentedOutputs = [...(outputsPart ?? '').matchAll(/^\| `(\w+)`/gm)].map((m) => m[1]);
    assert.deepEqual(documentedInputs.sort(), t.inputs.map((i) => i.name).sort(), `${t.name} inputs`);
    assert.deepEqual(documentedOutputs.sort(), t.outputVariables.map((o) => o.name).sort(), `${t.name} outputs`);
  }
});

/** Every `- task: Vvp…@1` step in the YAML samples of the docs, with its inputs. */
function yamlSteps(): { file: string; task: string; inputs: string[] }[] {
  const files = ['README.md', 'overview.md', ...fs.readdirSync(fromRoot('docs')).map((f) => path.join('docs', f))].filter(
    (f) => f.endsWith('.md') && fs.existsSync(fromRoot(f)),
  );
  const steps: { file: string; task: string; inputs: string[] }[] = [];
  const visit = (node: unknown, file: string): void => {
    if (Array.isArray(node)) node.forEach((n) => visit(n, file));
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (typeof o.task === 'string' && /^Vvp\w+@\d+$/.test(o.task)) {
        steps.push({ file, task: o.task, inputs: Object.keys((o.inputs as object) ?? {}) });
      }
      Object.values(o).forEach((v) => visit(v, file));
    }
  };
  for (const file of files) {
    const text = fs.readFileSync(fromRoot(file), 'utf8');
    for (const block of text.matchAll(/```ya?ml\n([\s\S]*?)```/g)) {
      for (const doc of parseAllDocuments(block[1])) {
        if (doc.errors.length === 0) visit(doc.toJS(), file);
      }
    }
  }
  return steps;
}

test('every YAML sample in the docs uses only inputs the tasks have', () => {
  const steps = yamlSteps();
  assert.ok(steps.length >= 2, 'the docs show both tasks in YAML');
  for (const step of steps) {
    const [name, major] = step.task.split('@');
    const t = tasks.find((x) => x.name === name && String(x.version.Major) === major);
    assert.ok(t, `${step.file}: unknown task ${step.task}`);
    const known = new Set(t.inputs.flatMap((i) => [i.name, ...(i.aliases ?? [])]));
    for (const input of step.inputs) assert.ok(known.has(input), `${step.file}: ${step.task} has no input '${input}'`);
  }
});
