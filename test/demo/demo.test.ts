import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../rig/bundles';
import { annotationsOf, runDemo, expandMacros, scenarioPipeline } from './demo';
import { logGroups, repeatsPerGroup } from '../deploy/log-groups';
import type { TaskRunResult } from '../rig/run-task';

/** Every line of the step is in a group, and each value is printed at most once per group. */
function assertEachValueOncePerGroup(run: TaskRunResult, values: Record<string, string | undefined>): void {
  const { groups, outside } = logGroups(run.stdout, run.message);
  assert.deepEqual(outside, [], 'every line is inside a group');
  assert.deepEqual(repeatsPerGroup(groups, values), [], 'each value at most once per group');
}

// The README's first command, in quick form (the demo JAR is small anyway): it must end the way
// each scenario means to show, with the tasks run from the packaged VSIX.
const pipelineFile = path.join(ROOT, 'test', 'demo', 'pipeline.yml');

test('the demo pipeline uploads the JAR and the deploy step proves the new job runs', async () => {
  const lines: string[] = [];
  const result = await runDemo({ scenario: 'upgrade', target: 'local', pipelineFile, print: (l) => lines.push(l) });
  assert.ok(result.asExpected, lines.join('\n'));
  const [upload, deploy] = result.steps.map((s) => s.run);
  assert.equal(upload.outputs.uploaded, 'true');
  assert.equal(deploy.outputs.jarUri, `${upload.outputs.jarUri}?commit=${deploy.outputs.jarUri.split('?commit=')[1]}`, 'step 2 got step 1 output');
  assert.ok(lines.some((l) => l.startsWith('▼ Wait for the new job')), 'log groups are shown');
  assert.ok(lines.some((l) => l.includes('Run summary')), 'run summary is shown');
  assert.match(result.recap, /VVP now runs job [0-9a-f-]{36} .* replacing job [0-9a-f-]{36}/);
  assertEachValueOncePerGroup(deploy, { 'the new jarUri': deploy.outputs.jarUri, 'the new job': deploy.outputs.jobId, 'the upgrade savepoint': deploy.outputs.savepointLocation });
});

test('the failing demo shows the reason and rollbackOnFailure restoring the previous JAR', async () => {
  const lines: string[] = [];
  const result = await runDemo({ scenario: 'failing', target: 'local', pipelineFile, print: (l) => lines.push(l) });
  assert.ok(result.asExpected, lines.join('\n'));
  const deploy = result.steps[1].run;
  assert.match(deploy.message ?? '', /ClassNotFoundException/);
  assert.equal(deploy.outputs.rolledBack, 'true');
});

test('the crash-loop demo: the health check fails the step with VVP\'s reason and the old JAR returns from the pre-upgrade savepoint', async () => {
  const lines: string[] = [];
  const result = await runDemo({ scenario: 'crashloop', target: 'local', pipelineFile: scenarioPipeline('crashloop'), print: (l) => lines.push(l) });
  assert.ok(result.asExpected, lines.join('\n'));
  const deploy = result.steps[1].run;
  assert.match(deploy.message ?? '', /health check failed .*NullPointerException/s);
  assert.match(deploy.message ?? '', /the savepoint taken before the upgrade/);
  assert.ok(deploy.outputs.savepointLocation);
  const newJob = /started job ([0-9a-f-]{36})/.exec(deploy.message ?? '')?.[1];
  assert.ok(newJob && deploy.stdout.includes('New jarUri: '), 'the values to count are known');
  assertEachValueOncePerGroup(deploy, {
    'the new jarUri': /New jarUri: (\S+)/.exec(deploy.stdout)?.[1],
    'the new job': newJob,
    'the rolled-back job': deploy.outputs.jobId,
    'the upgrade savepoint': deploy.outputs.savepointLocation,
  });
});

test('the plan demo: offline without secrets, then a diff against the live deployment, nothing written', async () => {
  const lines: string[] = [];
  const result = await runDemo({ scenario: 'plan', target: 'local', pipelineFile: scenarioPipeline('plan'), print: (l) => lines.push(l) });
  assert.ok(result.asExpected, lines.join('\n'));
  const [offline, online] = result.steps.map((s) => s.run);
  assert.match(offline.stdout, /Offline plan only/);
  assert.match(online.stdout, /~ spec\.template\.spec\.parallelism: 2 → 4/);
  assert.equal(online.outputs.restartRequired, 'true');
});

test('the lifecycle demo: a savepoint, a suspend and a resume from the suspend savepoint', async () => {
  const lines: string[] = [];
  const result = await runDemo({ scenario: 'lifecycle', target: 'local', pipelineFile: scenarioPipeline('lifecycle'), print: (l) => lines.push(l) });
  assert.ok(result.asExpected, lines.join('\n'));
  const [, suspend, resume] = result.steps.map((s) => s.run);
  assert.equal(resume.outputs.restoredFrom, suspend.outputs.savepointLocation);
});

test('the SQL demo: the UDF JAR uploaded, a plan with the script as a line diff, the script deployed with the JAR, a typo annotated at its line and nothing written', async () => {
  const lines: string[] = [];
  const result = await runDemo({ scenario: 'sql', target: 'local', pipelineFile: scenarioPipeline('sql'), print: (l) => lines.push(l) });
  assert.ok(result.asExpected, lines.join('\n'));
  const [udf, plan, deploy, typo] = result.steps.map((s) => s.run);
  assert.match(udf.outputs.jarUri, /^wasbs:\/\/vvp@vvpstorage\.blob\.core\.windows\.net\/artifacts\/namespaces\/default\/orders-udfs-1\.0-[0-9a-f]{12}\.jar$/);
  // The plan: the script's change line by line, the password masked, the new UDF JAR from step 1.
  assert.match(plan.stdout, /~ spec\.template\.spec\.artifact\.sqlScript: \(line diff\)/);
  assert.match(plan.stdout, /^\s+-\s+'rows-per-second' = '5'$/m);
  assert.match(plan.stdout, /^\s+\+\s+'rows-per-second' = '10'$/m);
  assert.match(plan.stdout, /'password' = '\*\*\*'/);
  assert.ok(plan.stdout.includes(udf.outputs.jarUri), 'the plan shows the uploaded UDF JAR in additionalDependencies');
  assert.equal(plan.outputs.restartRequired, 'true');
  // The deploy sent the file as it is, and says which script runs.
  const script = fs.readFileSync(path.join(ROOT, 'test', 'demo', 'pipelines', 'sql', 'orders.sql'));
  assert.equal(deploy.outputs.sqlScriptSha256, createHash('sha256').update(script).digest('hex'));
  assert.match(deploy.message ?? '', /runs job [0-9a-f-]{36} with SQL script orders\.sql/);
  // The typo: an error annotation at the file's line and column, and no write.
  assert.deepEqual(
    annotationsOf(typo).map((a) => [a.file, a.line, a.column]),
    [['sql/orders-typo.sql', 25, 13]],
  );
  assert.match(typo.message ?? '', /Object 'big_order' not found/);
  assert.doesNotMatch(typo.stdout, /Apply change|PATCH/);
  for (const step of result.steps) assert.ok(!step.run.stdout.includes('demo-db-password-5f2a'), `${step.step.name} shows the JDBC password`);
  assert.match(result.recap, /refused before any write: .* on sql\/orders-typo\.sql line 25, column 13; the job above still runs/);
});

test('pipeline macros expand like the agent: known variables replaced, unknown ones left as written', () => {
  assert.equal(expandMacros('$(upload.jarUri)', { 'upload.jarUri': 'wasbs://x' }), 'wasbs://x');
  assert.equal(expandMacros('$(Unknown.Var)/a', {}), '$(Unknown.Var)/a');
});
