/**
 * SIGINT, as the agent sends it on cancel, during each phase (VvpDeploy@1: token fetch, PATCH,
 * wait; VvpUploadArtifact@1: block upload): the process ends within 5 s, says where it stopped
 * and what state it left, and leaves no process behind (runBundled checks).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TaskRunResult } from '../rig/run-task';
import { randomBytes } from 'node:crypto';
import { assertNoFalseSuccess } from './false-success';
import { deployInputs, explain, jarFor, requireSim, routeBlobHostNowhere, runBundled, runUpload, scanBench, seed, startBench, type Bench } from './bench';

/** Milliseconds from SIGINT to the process's exit. */
function stopDelay(run: TaskRunResult): number {
  assert.notEqual(run.signalSentAtMs, undefined, 'the signal was sent');
  return run.durationMs - (run.signalSentAtMs ?? 0);
}

function assertStoppedPromptly(run: TaskRunResult, where: RegExp): void {
  assert.equal(run.timedOut, false, explain(run));
  assert.equal(run.result, 'Cancelled', explain(run));
  assert.match(run.message ?? '', where);
  assert.ok(/Cancellation requested \(SIGINT\): stopping\./.test(run.stdout), 'the log says the cancellation was seen');
  const delay = stopDelay(run);
  assert.ok(delay < 5000, `the process ended ${delay} ms after SIGINT`);
}

describe('cancellation in each phase', () => {
  let bench: Bench;
  before(async () => {
    bench = await startBench();
    await routeBlobHostNowhere(bench);
  });
  after(async () => {
    await bench?.stop();
  });

  it('SIGINT while the token request hangs stops at once, saying nothing was changed', async () => {
    const name = 'cancel-token';
    await seed(bench, name);
    await bench.rig.control.addFault({ host: /^login\.microsoftonline\.com$/, method: 'POST', count: 0, action: { kind: 'hang' } });
    try {
      const run = await runBundled(bench, 'VvpDeploy', {
        inputs: deployInputs(name, 'ca0ca01'),
        signalAfter: { signal: 'SIGINT', whenStdoutMatches: /##\[group\]Read the VVP API token/, afterMs: 400 },
      });
      assertStoppedPromptly(run, /^Cancelled during Read the VVP API token/);
      await assertNoFalseSuccess(run, { sim: requireSim(bench).control, deployment: name, jarUri: jarFor('ca0ca01') });
      assert.equal((await requireSim(bench).control.requests()).length, 0, 'VVP was not called');
    } finally {
      await bench.rig.control.clearFaults();
    }
  });

  it('SIGINT while the PATCH is unanswered stops at once, saying VVP may or may not have applied it', async () => {
    const name = 'cancel-patch';
    await seed(bench, name);
    const sim = requireSim(bench).control;
    await sim.addFault({ method: 'PATCH', deployment: name, times: 1, action: 'hang' });
    try {
      const run = await runBundled(bench, 'VvpDeploy', {
        inputs: deployInputs(name, 'ca0ca02'),
        signalAfter: { signal: 'SIGINT', whenStdoutMatches: /##\[group\]Apply change/, afterMs: 400 },
      });
      assertStoppedPromptly(run, /^Cancelled during apply change: the PATCH was sent but its answer did not arrive, so VVP may or may not have applied it/);
      await assertNoFalseSuccess(run, { sim, deployment: name, jarUri: jarFor('ca0ca02') });
      assert.equal((await sim.requests({ method: 'PATCH' })).length, 1, 'one PATCH, never repeated');
    } finally {
      await sim.clearFaults();
      await sim.clearRequests();
    }
  });

  it('SIGINT during the wait stops at once, saying the change was applied and nothing was undone', async () => {
    const name = 'cancel-wait';
    await seed(bench, name, { behaviour: { staleRunningMs: 30_000 } });
    const sim = requireSim(bench).control;
    const run = await runBundled(bench, 'VvpDeploy', {
      inputs: deployInputs(name, 'ca0ca03'),
      signalAfter: { signal: 'SIGINT', whenStdoutMatches: /Waiting up to /, afterMs: 600 },
    });
    assertStoppedPromptly(run, /^Cancelled during wait for the new job: the change \(jarUri .*commit=ca0ca03\) was applied and VVP keeps working on it; last observed state: RUNNING; nothing was undone/);
    await assertNoFalseSuccess(run, { sim, deployment: name, jarUri: jarFor('ca0ca03') });
    assert.equal((await sim.truth('default', name)).specJarUri?.endsWith('commit=ca0ca03'), true, 'the change stays');
    assert.equal((await sim.requests({ method: 'PATCH' })).length, 1);
    await sim.clearRequests();
  });

  it('SIGINT mid-upload stops within 5 s and commits no block list', async () => {
    const since = await bench.rig.control.mark();
    // Hold every block at the proxy, so the signal surely arrives while blocks are in flight.
    await bench.rig.control.addFault({ host: /^vvpstorage\.blob\./, method: 'PUT', path: /[?&]comp=block(&|$)/, count: 0, action: { kind: 'delay', ms: 20_000 } });
    try {
      const run = await runUpload(bench, 'cancelled.jar', randomBytes(9 * 1024 * 1024), { signalAfter: { signal: 'SIGINT', whenStdoutMatches: /Uploading to /, afterMs: 300 } });
      assertStoppedPromptly(run, /^Cancelled during the upload of artifacts\/namespaces\/default\/cancelled\.jar: no block list was committed/);
    } finally {
      await bench.rig.control.clearFaults();
    }
    assert.deepEqual(await bench.rig.control.requests({ since, method: 'PUT', path: /comp=blocklist/ }), [], 'no block list was committed');
  });

  it('printed no secret in any run', async () => {
    await scanBench(bench);
  });
});
