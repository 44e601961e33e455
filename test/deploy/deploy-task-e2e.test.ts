/**
 * VvpDeploy@1.1 end to end: the bundled task run as the agent runs it (inputs, variables,
 * service connection, proxy), through the rig's Entra ID and Key Vault fakes, against the VVP
 * simulator in its own process: the health check, the upgrade savepoint, the state-safe
 * rollback, plan, the run annotations and the lifecycle actions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RIG_DEFAULTS as D } from '../rig/config';
import { deployInputs, explain, jarFor, requireSim, runBundled, scanBench, seed, startBench, type Bench } from '../reliability/bench';
import type { TaskRunResult } from '../rig/run-task';
import { logGroups, repeatsPerGroup } from './log-groups';

let bench: Bench;
let counter = 0;
const unique = (stem: string): string => `${stem}-${++counter}`;

/** The value of a row of the run summary table (`| Row | value |`); undefined without that row. */
function summaryRow(run: TaskRunResult, row: string): string | undefined {
  const line = run.summaries.join('\n').split('\n').find((l) => l.startsWith(`| ${row} |`));
  return line?.slice(`| ${row} |`.length).replace(/\|\s*$/, '').trim();
}

/** Every visible line of the run is inside a group, and no value is printed twice in one group. */
function assertQuietLog(run: TaskRunResult, values: Record<string, string | undefined>): void {
  const { groups, outside } = logGroups(run.stdout, run.message);
  assert.deepEqual(outside, [], 'every line of the task is inside a group');
  assert.deepEqual(repeatsPerGroup(groups, values), [], 'each value at most once per group');
}

const VALID_SPEC = 'kind: Deployment\nspec:\n  upgradeStrategy:\n    kind: STATEFUL\n  template:\n    spec:\n      parallelism: 2\n      artifact:\n        jarUri: JARURI\n';
const INVALID_SPEC = 'kind: Deployment\nspec:\n  paralelism: 2\n  restoreStrategy:\n    kind: LATEST\n  template:\n    spec:\n      artifact:\n        jarUri: JARURI\n';

describe('VvpDeploy@1.1 bundled task against the VVP simulator', { concurrency: 2 }, () => {
  before(async () => {
    bench = await startBench();
  });
  after(async () => {
    try {
      await scanBench(bench);
    } finally {
      await bench?.stop();
    }
  });

  it('catches a crash loop with the health check and rolls back to the state from before the upgrade', async () => {
    const name = unique('crash');
    const sim = requireSim(bench);
    await seed(bench, name, { behaviour: { outcomeRules: [{ jarUriContains: 'commit=c7a5h00', outcome: 'crashLoops' }], restartIntervalMs: 400 } });
    const oldJob = (await sim.control.truth('default', name)).runningJob?.id;
    const run = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, 'c7a5h00', { healthCheckSeconds: 20, rollbackOnFailure: true }) });
    assert.equal(run.result, 'Failed', explain(run));
    assert.match(run.message ?? '', /health check failed .*restarted 1 time \(maxJobRestarts 0\).*JobFailing: True/s);
    assert.match(run.message ?? '', /Rolled back: .* started from .*, the savepoint taken before the upgrade/s);
    const truth = await sim.control.truth('default', name);
    const upgrade = truth.savepoints.find((s) => s.jobId === oldJob && s.origin !== 'COPIED');
    assert.ok(upgrade, 'VVP took the upgrade savepoint');
    assert.equal(truth.runningJob?.jarUri, jarFor('0000000'));
    assert.equal(truth.runningJob?.savepointLocation, upgrade.savepointLocation);
    assert.equal(run.outputs.rolledBack, 'true');
    assert.equal(run.outputs.savepointId, upgrade.id);
    assert.ok(run.stdout.includes('##[group]Health check'));
    // The outputs describe the job that runs: the rolled-back one.
    assert.equal(run.outputs.jobId, truth.runningJob?.id);
    assert.equal(run.outputs.restoredFrom, truth.runningJob?.savepointLocation);
    assert.equal(run.outputs.jarUri, jarFor('0000000'));
    // The summary says what happened, each value once.
    const restarts = /restarted (\d+) times?/.exec(run.message ?? '')?.[1];
    assert.equal(summaryRow(run, 'Health check'), `failed (${restarts} restart${restarts === '1' ? '' : 's'}): see the message below`);
    assert.equal(summaryRow(run, 'jarUri now in VVP'), 'the previous jarUri');
    assert.equal(summaryRow(run, 'New job restored'), undefined, 'the new job is not the one in jobId');
    assert.equal(summaryRow(run, 'Rolled-back job'), `\`${truth.runningJob?.id}\`, started from the savepoint of the previous job`);
    assert.equal(summaryRow(run, 'Recorded on the deployment'), undefined);
    assert.equal(summaryRow(run, 'Build'), '`20240101.1`');
    // The events that explain the failure, not the routine steps of the upgrade that went well.
    assert.doesNotMatch(run.message ?? '', /JOB_SUCCESSFULLY_STARTED|USING_AN_UPGRADE_STRATEGY/);
    assert.match(run.message ?? '', /routine events? of the change left out/);
    const newJob = truth.jobs.find((j) => j.id !== oldJob && j.id !== truth.runningJob?.id)?.id;
    assertQuietLog(run, { 'the upgrade savepoint': upgrade.savepointLocation ?? undefined, 'the new job': newJob, 'the rolled-back job': truth.runningJob?.id, 'the new jarUri': jarFor('c7a5h00') });
  });

  it('reports no restoredFrom and no job when the rollback itself fails its health check', async () => {
    const name = unique('crash-both');
    await seed(bench, name, { behaviour: { outcomeQueue: ['crashLoops', 'crashLoops'], restartIntervalMs: 300 } });
    // The seeded job runs healthily; every job started after it (the new one and the rolled-back one) crash-loops.
    const run = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, 'b0775ed', { healthCheckSeconds: 4, rollbackOnFailure: true }) });
    assert.equal(run.result, 'Failed', explain(run));
    assert.match(run.message ?? '', /FAILED too/);
    assert.equal(run.outputs.rolledBack, 'false');
    assert.equal(run.outputs.jobId, '', 'no healthy job runs');
    assert.equal(run.outputs.restoredFrom, '', 'restoredFrom describes the job in jobId: none');
    assert.match(summaryRow(run, 'Health check') ?? '', /^failed \(/);
  });

  it('tolerates one restart with maxJobRestarts: 1 and reports the upgrade savepoint and the restored state', async () => {
    const name = unique('once');
    const sim = requireSim(bench);
    await seed(bench, name, { behaviour: { outcomeQueue: ['restartsOnce'], restartIntervalMs: 300 } });
    const run = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, 'a11ce00', { healthCheckSeconds: 3, maxJobRestarts: 1 }) });
    assert.equal(run.result, 'Succeeded', explain(run));
    const truth = await sim.control.truth('default', name);
    assert.equal(run.outputs.restoredFrom, truth.runningJob?.savepointLocation);
    assert.ok(run.outputs.savepointId, 'savepointId set');
    assert.equal(run.outputs.savepointLocation, truth.savepoints.find((s) => s.id === run.outputs.savepointId)?.savepointLocation);
    assert.match(run.stdout, /restarted \(1 restart/);
  });

  it('fails the same single restart with the default maxJobRestarts', async () => {
    const name = unique('strict');
    await seed(bench, name, { behaviour: { outcomeQueue: ['restartsOnce'], restartIntervalMs: 300 } });
    const run = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, 'b0b0b00', { healthCheckSeconds: 3 }) });
    assert.equal(run.result, 'Failed', explain(run));
    assert.equal(run.outputs.rolledBack, 'false');
  });

  it('records the run on the deployment with the KubernetesManifest@1 annotation keys, and not with annotateDeployment: false', async () => {
    const sim = requireSim(bench);
    const name = unique('annotated');
    await seed(bench, name);
    const run = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, 'd00d00d'), variables: { 'Build.DefinitionName': 'flink-ci', 'System.DefinitionId': '12', 'Agent.JobName': 'Deploy' } });
    assert.equal(run.result, 'Succeeded', explain(run));
    const deploymentId = (await sim.control.truth('default', name)).deploymentId;
    const patch = (await sim.control.requests({ method: 'PATCH' })).find((r) => r.path.includes(deploymentId));
    const annotations = (patch?.body as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations ?? {};
    assert.equal(annotations['azure-pipelines/run'], '20240101.1');
    assert.equal(annotations['azure-pipelines/pipeline'], 'flink-ci');
    assert.equal(annotations['azure-pipelines/pipelineId'], '12');
    assert.equal(annotations['azure-pipelines/jobName'], 'Deploy');
    assert.match(annotations['azure-pipelines/runuri'] ?? '', new RegExp(`^https://dev\\.azure\\.com/${D.organization}/.+/_build/results\\?buildId=4242$`));
    assert.equal((patch?.body as { spec?: { template?: { metadata?: unknown } } }).spec?.template?.metadata, undefined, 'never template annotations');

    const plain = unique('plain');
    await seed(bench, plain);
    const off = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs(plain, 'd00d00e', { annotateDeployment: false }) });
    assert.equal(off.result, 'Succeeded', explain(off));
    const id = (await sim.control.truth('default', plain)).deploymentId;
    const offPatch = (await sim.control.requests({ method: 'PATCH' })).find((r) => r.path.includes(id));
    assert.equal((offPatch?.body as { metadata?: unknown }).metadata, undefined);
  });

  it('ends the step at timeoutMinutes when VVP never answers the reads after the PATCH, with garbage collections running in the task', async () => {
    const sim = requireSim(bench);
    const name = unique('silent');
    // Without an answer the new job would take a minute anyway: only the timeout can end the wait.
    const id = await seed(bench, name, { behaviour: { staleRunningMs: 60_000 } });
    // The read before the change goes by name; every read of the deployment by id (the wait) is accepted and never answered.
    await sim.control.addFault({ method: 'GET', path: `/deployments/${id}$`, persistent: true, action: 'hang' });
    try {
      // The task process collects every 200 ms (Node 20 then lost timeouts made of AbortSignal.any and the step never ended).
      const run = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, '5113e70', { timeoutMinutes: 0.3 }), gcEveryMs: 200, timeoutMs: 60_000 });
      assert.equal(run.timedOut, false, `the step was still running after 60 s (timeoutMinutes 0.3 = 18 s): ${explain(run)}`);
      assert.equal(run.result, 'Failed', explain(run));
      assert.match(run.message ?? '', /Timed out after 18 s/);
      assert.match(run.message ?? '', /no answer from vvp\.example\.com|status unreadable \(ETIMEDOUT\)/);
      assert.ok((await sim.control.requests({ method: 'PATCH' })).some((r) => r.path.includes(id)), 'the PATCH was sent');
      // 18 s of waiting, at most one poll interval of grace for the hung read, then the bounded reads that explain it.
      assert.ok(run.durationMs < 45_000, `the step took ${run.durationMs} ms`);
    } finally {
      await sim.control.clearFaults();
    }
  });

  it('plans offline with no secrets and no network at all', async () => {
    // Every way out leads to a closed port: any request would fail the step.
    const nowhere = 'http://127.0.0.1:9';
    const run = await runBundled(bench, 'VvpDeploy', {
      inputs: { action: 'plan', azureSubscription: undefined, deployment: 'pr-app', jarUri: 'wasbs://vvp@acct.blob.core.windows.net/app.jar', deploymentSpecFile: 'vvp/deployment.yaml' },
      files: { 'vvp/deployment.yaml': VALID_SPEC },
      env: { HTTPS_PROXY: nowhere, HTTP_PROXY: nowhere, NO_PROXY: '' },
    });
    assert.equal(run.result, 'Succeeded', explain(run));
    assert.match(run.stdout, /Offline plan only: no token source is given/);
    assert.match(run.stdout, /"parallelism": 2/);
    assert.doesNotMatch(run.stdout, /ECONNREFUSED|Key Vault|login\.microsoftonline/);
    assert.ok(run.summaries.some((s) => s.includes('Plan (offline)')));
  });

  it('fails an offline plan of an invalid spec, naming every problem', async () => {
    const run = await runBundled(bench, 'VvpDeploy', {
      inputs: { action: 'plan', azureSubscription: undefined, deployment: 'pr-app', jarUri: 'wasbs://vvp@acct.blob.core.windows.net/app.jar', deploymentSpecFile: 'vvp/deployment.yaml' },
      files: { 'vvp/deployment.yaml': INVALID_SPEC },
    });
    assert.equal(run.result, 'Failed', explain(run));
    assert.match(run.message ?? '', /spec\.paralelism/);
    assert.match(run.message ?? '', /spec\.restoreStrategy\.kind.*LATEST_STATE, LATEST_SAVEPOINT, NONE/);
  });

  it('plans online with a diff and writes nothing; a token source that fails only warns', async () => {
    const sim = requireSim(bench);
    const name = unique('plan');
    const id = await seed(bench, name);
    // Other tests run beside this one: count only the writes to this deployment.
    const writes = async () => (await sim.control.requests({})).filter((r) => r.method !== 'GET' && (r.path.includes(id) || r.path.includes(name))).length;
    const writesBefore = await writes();
    const run = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, 'feed123', { action: 'plan' }) });
    assert.equal(run.result, 'Succeeded', explain(run));
    assert.match(run.stdout, /~ spec\.template\.spec\.artifact\.jarUri: .*commit=0000000 → .*commit=feed123/);
    assert.deepEqual([run.outputs.planChanges, run.outputs.restartRequired], ['1', 'true']);
    assert.equal(await writes(), writesBefore, 'no write');
    // Online, the diff shows the change: no PATCH body beside it; the run annotations show whole (the agent's own values).
    assert.doesNotMatch(run.stdout, /The PATCH body a deploy would send/);
    assert.match(run.stdout, /\+ metadata\.annotations\["azure-pipelines\/runuri"\]: https:\/\/dev\.azure\.com\/.*buildId=4242/);
    assert.doesNotMatch(run.stdout + run.summaries.join('\n'), /buildId=\*\*\*/);
    const truth = await sim.control.truth('default', name);
    assert.deepEqual([run.outputs.deploymentId, run.outputs.jobId, run.outputs.state], [id, truth.runningJob?.id, 'RUNNING']);
    assert.equal(summaryRow(run, 'Outcome'), 'Planned (nothing was written)');
    assert.equal(summaryRow(run, 'jarUri now in VVP'), 'the previous jarUri');
    assert.equal(summaryRow(run, 'Job'), `\`${truth.runningJob?.id}\``);
    assertQuietLog(run, { 'the new jarUri': jarFor('feed123') });

    const denied = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, 'feed123', { action: 'plan', keyVaultName: 'no-such-vault' }) });
    assert.equal(denied.result, 'SucceededWithIssues', explain(denied));
    assert.match(denied.stdout, /Offline plan only: the token source failed/);
  });

  it('suspends with a savepoint, resumes from it, takes a savepoint, cancels, deletes, and deletes again as a no-op', async () => {
    const sim = requireSim(bench);
    const name = unique('life');
    await seed(bench, name);
    const act = (action: string) => runBundled(bench, 'VvpDeploy', { inputs: { keyVaultName: D.vaultName, vvpUrl: 'https://vvp.example.com', deployment: name, action, timeoutMinutes: 1, pollIntervalSeconds: 1 } });

    const suspend = await act('suspend');
    assert.equal(suspend.result, 'Succeeded', explain(suspend));
    assert.equal((await sim.control.truth('default', name)).statusState, 'SUSPENDED');
    const suspendSavepoint = suspend.outputs.savepointLocation;
    assert.ok(suspendSavepoint);
    assert.deepEqual([suspend.outputs.jobId, suspend.outputs.state, suspend.outputs.restoredFrom], ['', 'SUSPENDED', '']);
    assert.equal(summaryRow(suspend, 'Outcome'), 'Suspended (VVP took a savepoint and stopped the job)');
    assert.equal(summaryRow(suspend, 'Job'), '–');
    assert.equal(summaryRow(suspend, 'Savepoint'), `\`${suspend.outputs.savepointId}\` at \`${suspendSavepoint}\``);
    assert.equal(summaryRow(suspend, 'New job restored'), undefined);
    assertQuietLog(suspend, { 'the suspend savepoint': suspendSavepoint });

    const again = await act('suspend');
    assert.match(again.message ?? '', /already suspended/);
    assert.match(summaryRow(again, 'Outcome') ?? '', /already suspended/);

    const resume = await act('resume');
    assert.equal(resume.result, 'Succeeded', explain(resume));
    assert.equal(resume.outputs.restoredFrom, suspendSavepoint);
    const resumedJob = (await sim.control.truth('default', name)).runningJob?.id;
    assert.deepEqual([resume.outputs.jobId, resume.outputs.state, resume.outputs.savepointId], [resumedJob, 'RUNNING', '']);
    assert.equal(summaryRow(resume, 'Outcome'), 'Resumed: a new job runs');
    assert.equal(summaryRow(resume, 'Job'), `\`${resumedJob}\``);
    assert.equal(summaryRow(resume, 'New job restored'), `\`${suspendSavepoint}\``);
    assertQuietLog(resume, { 'the new job': resumedJob, 'the suspend savepoint': suspendSavepoint });

    const savepoint = await act('savepoint');
    assert.equal(savepoint.result, 'Succeeded', explain(savepoint));
    const truth = await sim.control.truth('default', name);
    assert.equal(truth.savepoints.find((s) => s.id === savepoint.outputs.savepointId)?.state, 'COMPLETED');
    assert.deepEqual([savepoint.outputs.jobId, savepoint.outputs.state, savepoint.outputs.restoredFrom], [resumedJob, 'RUNNING', '']);
    assert.equal(summaryRow(savepoint, 'Outcome'), 'Savepoint COMPLETED; the job keeps running');
    assert.equal(summaryRow(savepoint, 'Savepoint'), `\`${savepoint.outputs.savepointId}\` at \`${savepoint.outputs.savepointLocation}\``);
    assert.equal(summaryRow(savepoint, 'New job restored'), undefined);
    assertQuietLog(savepoint, { 'the job': resumedJob, 'the savepoint': savepoint.outputs.savepointLocation });

    const cancel = await act('cancel');
    assert.equal(cancel.result, 'Succeeded', explain(cancel));
    assert.deepEqual([cancel.outputs.jobId, cancel.outputs.state, cancel.outputs.savepointId], ['', 'CANCELLED', '']);
    assert.equal(summaryRow(cancel, 'Outcome'), 'Cancelled (the job stopped without a savepoint)');
    assert.equal(summaryRow(cancel, 'Job'), '–');
    assertQuietLog(cancel, {});

    const del = await act('delete');
    assert.equal(del.result, 'Succeeded', explain(del));
    assert.equal(summaryRow(del, 'Outcome'), 'Deleted');
    assert.equal(del.outputs.jobId, '');
    assertQuietLog(del, {});
    const gone = await act('delete');
    assert.equal(gone.result, 'Succeeded', explain(gone));
    assert.match(gone.message ?? '', /nothing to delete/);
    assert.match(summaryRow(gone, 'Outcome') ?? '', /nothing to delete/);
    assertQuietLog(gone, {});
  });

  it('fails a savepoint that FAILED with its reason', async () => {
    const name = unique('sp-fail');
    await seed(bench, name, { behaviour: { outcomeQueue: ['savepointFails'] } });
    const run = await runBundled(bench, 'VvpDeploy', { inputs: { keyVaultName: D.vaultName, vvpUrl: 'https://vvp.example.com', deployment: name, action: 'savepoint', timeoutMinutes: 1 } });
    assert.equal(run.result, 'Failed', explain(run));
    assert.match(run.message ?? '', /the savepoint FAILED/);
  });
});
