import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { runTask } from '../rig/run-task';
import { CONTRACTS } from './contract';
import { fromRoot } from './project-paths';

// The bundles `npm run build` wrote to dist/, run exactly as the agent runs them.
for (const contract of CONTRACTS) {
  const taskDir = fromRoot('dist', contract.folder);

  test(`the bundled ${contract.name} with no inputs fails with a readable "required" message and no stack`, async () => {
    assert.ok(fs.existsSync(`${taskDir}/index.js`), 'run `npm run build` first');
    const run = await runTask({ taskDir, inputs: {}, timeoutMs: 30_000 });
    assert.equal(run.exitCode, 0, 'the agent reads the result from task.complete, not the exit code');
    assert.equal(run.result, 'Failed');
    assert.match(run.message ?? '', /required/i);
    assert.match(run.message ?? '', /azureSubscription|deployment|artifactPath/);
    assert.doesNotMatch(run.stdout + run.stderr, /\n\s+at .+\(.+:\d+:\d+\)/, 'no stack trace');
  });
}
