/**
 * The whole VvpDeploy flow against the in-memory VVP on virtual time: the real phases, VVP's
 * documented behaviour (stale RUNNING window, upgrade savepoints, crash loops, restore
 * strategies, merge PATCH), no HTTP and no waiting. Minutes of VVP time run in milliseconds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CancelledError, ServiceError } from '../../tasks/common/errors/errors';
import { MemoryLogger } from '../support/memory-logger';
import { DeploymentFailedError, WaitTimeoutError } from '../../tasks/common/vvp/errors';
import type { JsonObject } from '../../tasks/common/vvp/resources';
import { runAction } from '../../tasks/VvpDeploy/VvpDeployV1/action';
import type { DeployResult } from '../../tasks/VvpDeploy/VvpDeployV1/deploy-result';
import type { DeployConfig } from '../../tasks/VvpDeploy/VvpDeployV1/inputs';
import { deployOutputs, renderSummary } from '../../tasks/VvpDeploy/VvpDeployV1/summary';
import { InMemoryVvp } from '../support/in-memory-vvp';
import { deployConfig } from './deploy-config';

const BASE_JAR = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing.jar';
// One blob per build (versioned names): a rollback can bring the previous JAR back.
const OLD_JAR = `${BASE_JAR.replace(/\.jar$/, '-0000000.jar')}?commit=0000000`;
const NEW_JAR = `${BASE_JAR.replace(/\.jar$/, '-abc1234.jar')}?commit=abc1234`;
const NAME = 'top-speed-windowing';

interface Run {
  vvp: InMemoryVvp;
  result: DeployResult;
  logger: MemoryLogger;
  secrets: string[];
  outputs: Record<string, string>;
}

function setUp(seed: Partial<Parameters<InMemoryVvp['seedDeployment']>[0]> | null = {}): InMemoryVvp {
  const vvp = new InMemoryVvp();
  if (seed) vvp.seedDeployment({ name: NAME, jarUri: OLD_JAR, ...seed });
  return vvp;
}

async function deploy(vvp: InMemoryVvp, overrides: Partial<DeployConfig> = {}, abortSignal?: AbortSignal): Promise<Run> {
  const logger = new MemoryLogger();
  const secrets: string[] = [];
  const config = deployConfig({ deployment: NAME, jarUri: NEW_JAR, vvpUrl: new URL('https://vvp.example.com'), ...overrides });
  const result = await runAction(config, { vvp, clock: vvp.clock, logger, registerSecret: (s) => secrets.push(s), abortSignal });
  const outputs = Object.fromEntries(Object.entries(deployOutputs(result)).map(([k, v]) => [k, v.value]));
  return { vvp, result, logger, secrets, outputs };
}

const writes = (vvp: InMemoryVvp, method: string) => vvp.requests({ method }).length;
const specOf = async (vvp: InMemoryVvp) => (await vvp.getDeployment('default', NAME))!;

describe('deploy flow (in-memory VVP, virtual time)', () => {
  it('rolls a RUNNING deployment onto the new jarUri with one PATCH and succeeds only once the new job runs', async () => {
    const vvp = setUp();
    const before = vvp.truth('default', NAME);
    const run = await deploy(vvp);
    const truth = vvp.truth('default', NAME);
    assert.equal(run.result.error, undefined, run.result.message);
    assert.equal(run.result.outcome, 'succeeded');
    assert.equal(writes(vvp, 'PATCH'), 1);
    assert.notEqual(truth.runningJob?.id, before.runningJob?.id);
    assert.equal(truth.runningJob?.jarUri, NEW_JAR);
    assert.equal(run.outputs.jobId, truth.runningJob?.id);
    assert.equal(run.outputs.previousJarUri, OLD_JAR);
    assert.equal(run.outputs.restartRequired, 'true');
    assert.equal(run.outputs.planChanges, '1');
  });

  it('reports the upgrade savepoint VVP took of the previous job, and the state the new job restored', async () => {
    const vvp = setUp();
    const oldJob = vvp.truth('default', NAME).runningJob?.id;
    const run = await deploy(vvp);
    const truth = vvp.truth('default', NAME);
    const upgrade = truth.savepoints.find((s) => s.jobId === oldJob);
    assert.ok(upgrade, 'VVP took an upgrade savepoint');
    assert.equal(run.outputs.savepointId, upgrade.id);
    assert.equal(run.outputs.savepointLocation, upgrade.savepointLocation);
    assert.equal(run.outputs.restoredFrom, truth.runningJob?.savepointLocation);
    assert.equal(run.outputs.restoredFrom, upgrade.savepointLocation);
  });

  it('reports no savepoint and no restored state for a STATELESS upgrade with restore strategy NONE', async () => {
    const vvp = setUp({ upgradeStrategy: 'STATELESS', restoreStrategy: 'NONE' });
    const run = await deploy(vvp);
    assert.equal(run.result.outcome, 'succeeded', run.result.message);
    assert.equal(run.outputs.savepointId, '');
    assert.equal(run.outputs.restoredFrom, '');
  });

  it('is not fooled by the old job still reported RUNNING after the PATCH', async () => {
    const vvp = setUp({ behaviour: { staleRunningMs: 20_000 } });
    const start = vvp.clock.now();
    const run = await deploy(vvp);
    assert.equal(run.result.outcome, 'succeeded');
    assert.ok(vvp.clock.now() - start >= 20_000, 'no verdict inside the stale window');
    assert.ok(run.logger.lines.some((l) => /still job \w+ from before the change/.test(l)));
  });

  it('sets the upgrade and restore strategy inputs with the change', async () => {
    const vvp = setUp();
    await deploy(vvp, { upgradeStrategy: 'STATELESS', restoreStrategy: 'LATEST_SAVEPOINT' });
    const body = vvp.requests({ method: 'PATCH' })[0].body as any;
    assert.deepEqual([body.spec.upgradeStrategy, body.spec.restoreStrategy], [{ kind: 'STATELESS' }, { kind: 'LATEST_SAVEPOINT' }]);
  });

  it('records the pipeline run in metadata.annotations of the same PATCH, never in the template', async () => {
    const vvp = setUp();
    const runAnnotations = { 'azure-pipelines/run': '20261204.3', 'azure-pipelines/pipeline': 'flink-ci' };
    await deploy(vvp, { runAnnotations });
    const patches = vvp.requests({ method: 'PATCH' });
    assert.equal(patches.length, 1);
    const body = patches[0].body as any;
    assert.deepEqual(body.metadata.annotations, runAnnotations);
    assert.equal(body.spec.template.metadata, undefined);
    assert.equal((await specOf(vvp)).metadata.annotations?.['azure-pipelines/run'], '20261204.3');
  });

  it('writes no annotations with annotateDeployment: false', async () => {
    const vvp = setUp();
    await deploy(vvp, { annotateDeployment: false, runAnnotations: { 'azure-pipelines/run': '1' } });
    assert.equal((vvp.requests({ method: 'PATCH' })[0].body as any).metadata, undefined);
  });

  it('does nothing when the deployment already runs exactly this jarUri, although the run annotations differ', async () => {
    const vvp = setUp({ jarUri: NEW_JAR });
    const run = await deploy(vvp, { runAnnotations: { 'azure-pipelines/run': '2' } });
    assert.equal(run.result.outcome, 'upToDate');
    assert.equal(writes(vvp, 'PATCH'), 0);
    assert.deepEqual([run.outputs.planChanges, run.outputs.restartRequired], ['0', 'false']);
  });

  it('creates a missing deployment from the spec file and waits for it to run', async () => {
    const vvp = setUp(null);
    const document = { kind: 'Deployment', spec: { template: { spec: { artifact: { kind: 'JAR', jarUri: NEW_JAR } } } } } as JsonObject;
    const run = await deploy(vvp, { specFile: { path: 'd.yaml', document } });
    assert.equal(run.result.outcome, 'succeeded', run.result.message);
    assert.equal(run.result.created, true);
    assert.equal(vvp.truth('default', NAME).runningJob?.jarUri, NEW_JAR);
  });

  it('fails fast when the new job fails, with its failure and the events since the change', async () => {
    const vvp = setUp({ spec: { maxJobCreationAttempts: 1 }, behaviour: { outcomeQueue: ['fails'] } });
    const run = await deploy(vvp);
    assert.ok(run.result.error instanceof DeploymentFailedError && run.result.error.kind === 'job', run.result.message);
    assert.match(run.result.message, /ClassNotFoundException/);
    assert.match(run.result.message, /VVP events that explain the failure[^\n]*:\n.*TRANSITIONING_TO_FAILED_STATE_BECAUSE_JOB_NOT_STARTED/s);
  });

  it('puts every server string on one line before logging it, and neutralises a logging command in the failure text of the message', async () => {
    const vvp = setUp({
      spec: { maxJobCreationAttempts: 1 },
      behaviour: { outcomeQueue: ['fails'], jobFailure: { reason: 'Boom', message: 'first line\n##vso[task.complete result=Succeeded;]done' } },
    });
    const run = await deploy(vvp);
    assert.ok(run.logger.lines.every((l) => !l.includes('\n')), 'one line each');
    assert.ok(run.logger.lines.every((l) => !l.startsWith('##vso')));
    assert.match(run.result.message, /\n {4}first line\n {4}#\u200b#vso\[task\.complete/);
  });

  it('times out naming the phase that stalled and the newest job', async () => {
    const vvp = setUp({ behaviour: { outcomeQueue: ['stuck'] } });
    const start = vvp.clock.now();
    const run = await deploy(vvp, { timeoutInMs: 5 * 60_000 });
    assert.ok(run.result.error instanceof WaitTimeoutError, run.result.message);
    assert.match(run.result.message, /Timed out after 5 min waiting for/);
    assert.match(run.result.message, /the newest job [0-9a-f-]+ is STARTING/);
    assert.ok(vvp.clock.now() - start < 5 * 60_000 + 20_000, 'the wait ends at its bound');
  });

  it('times out naming "start the upgrade" when VVP never acts on the change', async () => {
    const vvp = setUp({ behaviour: { staleRunningMs: 3_600_000 } });
    const run = await deploy(vvp, { timeoutInMs: 2 * 60_000 });
    assert.ok(run.result.error instanceof WaitTimeoutError, run.result.message);
    assert.match(run.result.message, /waiting for VVP to start the upgrade/);
    assert.match(run.result.message, /still job \w+ from before the change/);
  });

  it('does not mistake the FAILED status from before the change for a new failure', async () => {
    const vvp = setUp({ state: 'FAILED', behaviour: { staleRunningMs: 12_000 } });
    const run = await deploy(vvp);
    assert.equal(run.result.outcome, 'succeeded', run.result.message);
    assert.ok(run.logger.lines.some((l) => /FAILED \(as before the change\)/.test(l)));
  });

  it('refuses to create a missing deployment without a spec file, and reports it missing with createIfMissing: false', async () => {
    const noFile = await deploy(setUp(null));
    assert.match(noFile.result.message, /deploymentSpecFile.*needed to create deployment/);
    const notAllowed = await deploy(setUp(null), { createIfMissing: false });
    assert.match(notAllowed.result.message, /HTTP 404.*not found in namespace 'default'.*createIfMissing/);
    assert.equal(writes(notAllowed.vvp, 'POST'), 0);
  });

  it('stores the change without waiting when waitForRunning is off', async () => {
    const vvp = setUp();
    const run = await deploy(vvp, { waitForRunning: false });
    assert.equal(run.result.outcome, 'applied');
    assert.match(run.result.message, /not waiting/);
  });

  it('says nothing was changed when cancelled before the PATCH', async () => {
    const vvp = setUp();
    const controller = new AbortController();
    controller.abort();
    const run = await deploy(vvp, {}, controller.signal);
    assert.ok(run.result.error instanceof CancelledError, run.result.message);
    assert.match(run.result.message, /^Cancelled during read deployment: nothing was changed in VVP/);
    assert.equal(writes(vvp, 'PATCH'), 0);
  });

  it('refuses a change under upgradeStrategy NONE before sending anything', async () => {
    const vvp = setUp({ upgradeStrategy: 'NONE' });
    const run = await deploy(vvp);
    assert.ok(run.result.error instanceof DeploymentFailedError && run.result.error.kind === 'blocked');
    assert.equal(writes(vvp, 'PATCH'), 0);
  });

  it('reads back instead of resending when the PATCH answer is lost but it was applied', async () => {
    const vvp = setUp();
    vvp.loseNextAnswer({ method: 'PATCH' });
    const run = await deploy(vvp);
    assert.equal(run.result.outcome, 'succeeded', run.result.message);
    assert.equal(writes(vvp, 'PATCH'), 1);
    assert.ok(run.logger.lines.includes('Read back: the PATCH was applied.'));
  });

  it('calls a dropped PATCH not applied only after reading back for the grace period, and sends it once', async () => {
    const vvp = setUp();
    vvp.addFault({ method: 'PATCH', times: 1, action: 'dropRequest' });
    const start = vvp.clock.now();
    const run = await deploy(vvp);
    assert.ok(run.result.error instanceof ServiceError, run.result.message);
    assert.match(run.result.message, /VVP has not applied the PATCH so far, but it may still/);
    assert.ok(vvp.clock.now() - start >= 10_000);
    assert.equal(writes(vvp, 'PATCH'), 1);
    assert.equal(vvp.truth('default', NAME).specJarUri, OLD_JAR);
  });

  it('says the outcome is unknown when the PATCH answer is lost and the read-back fails too', async () => {
    const vvp2 = setUp();
    vvp2.addFault({ method: 'PATCH', times: 1, action: 'dropRequest' });
    // From the PATCH on, VVP cannot be read either.
    const patch = vvp2.patchDeployment.bind(vvp2);
    vvp2.patchDeployment = async (...args) => {
      vvp2.failReads({ path: '/deployments/', times: 100 });
      return patch(...args);
    };
    const run2 = await deploy(vvp2);
    assert.ok(run2.result.error instanceof ServiceError, run2.result.message);
    assert.match(run2.result.message, /whether VVP applied the PATCH is unknown/);
  });

  it('masks the query credentials of a jarUri read from VVP in the log and the summary without registering them as agent secrets, and sets those outputs as secret variables', async () => {
    const sasJar = 'https://acct.blob.core.windows.net/vvp/app-abc1234.jar?sv=2022-11-02&sp=r&sig=c2VjcmV0LXNpZ25hdHVyZS0xMjM0NTY%3D&commit=abc1234';
    const vvp = setUp({ jarUri: 'https://acct.blob.core.windows.net/vvp/app.jar?sv=2022-11-02&sp=r&sig=b2xkLXNpZ25hdHVyZS0xMjM0NTY%3D&commit=0000000' });
    const run = await deploy(vvp, { jarUri: sasJar });
    // Whoever can edit the deployment must not be able to make the agent mask any word of the log.
    assert.deepEqual(run.secrets, [], 'nothing read from VVP is registered');
    assert.ok(run.logger.lines.some((l) => l.includes('app.jar?sv=***&sp=***&sig=***&commit=0000000')), 'the previous jarUri is shown masked');
    assert.ok(!run.logger.lines.some((l) => l.includes('b2xkLXNpZ25hdHVyZS0xMjM0NTY')), 'its signature never reaches the log');
    assert.ok(!renderSummary(run.result, 'https://vvp.example.com').includes('b2xkLXNpZ25hdHVyZS0xMjM0NTY'), 'nor the summary');
    const outputs = deployOutputs(run.result);
    assert.equal(outputs.jarUri.secret, true);
    assert.equal(outputs.previousJarUri.secret, true);
  });

  it('stops promptly on cancellation during the wait and says the change was applied', async () => {
    const vvp = setUp({ behaviour: { staleRunningMs: 60_000 } });
    const controller = new AbortController();
    vvp.clock.setTimer(() => controller.abort(), 5_000);
    const run = await deploy(vvp, {}, controller.signal);
    assert.ok(run.result.error instanceof CancelledError, run.result.message);
    assert.match(run.result.message, /^Cancelled during wait for the new job: the change \(jarUri .*\) was applied and VVP keeps working on it/);
    assert.equal(vvp.truth('default', NAME).specJarUri, NEW_JAR, 'abort undoes nothing');
  });
});

describe('rollback (in-memory VVP)', () => {
  const failing = { spec: { maxJobCreationAttempts: 1 }, behaviour: { outcomeRules: [{ jarUriContains: 'commit=abc1234', outcome: 'fails' as const }] } };

  it('restores the exact previous deployment with one PUT: fields the change added are gone, spec fields outside the template too', async () => {
    const vvp = setUp(failing);
    const before = await specOf(vvp);
    const document = {
      metadata: { labels: { added: 'by-change' } },
      spec: { maxSavepointCreationAttempts: 9, template: { spec: { flinkConfiguration: { 'added.by.change': 'x' }, artifact: { jarUri: 'JARURI' } } } },
    } as JsonObject;
    const run = await deploy(vvp, { rollbackOnFailure: true, specFile: { path: 'd.yaml', document } });
    assert.ok(run.result.error instanceof DeploymentFailedError && run.result.error.kind === 'job', run.result.message);
    assert.equal(run.result.rollback?.outcome, 'succeeded', run.result.message);
    const after = await specOf(vvp);
    assert.deepEqual(after.spec, before.spec);
    assert.deepEqual(after.metadata.labels ?? {}, before.metadata.labels ?? {});
    assert.equal(writes(vvp, 'PATCH'), 1);
    assert.equal(writes(vvp, 'PUT'), 2, 'the restore once with the state-safe strategies, once to put them back');
    assert.equal(run.outputs.rolledBack, 'true');
    assert.equal(run.outputs.jarUri, OLD_JAR);
    assert.match(run.result.message, /Rolled back: the deployment from before this step is restored exactly/);
  });

  it('does not roll back over a change someone made after this step wrote, and says what changed', async () => {
    const vvp = setUp({ behaviour: { outcomeRules: [{ jarUriContains: 'commit=abc1234', outcome: 'stuck' }] } });
    vvp.clock.setTimer(() => void vvp.patchDeployment('default', NAME, { spec: { template: { spec: { parallelism: 7 } } } }), 30_000);
    const run = await deploy(vvp, { rollbackOnFailure: true, timeoutInMs: 60_000 });
    assert.ok(run.result.error instanceof WaitTimeoutError, run.result.message);
    assert.equal(run.result.rollback?.outcome, 'refused');
    assert.match(run.result.message, /Not rolled back: the deployment was changed after this step wrote it .*spec\.template\.spec\.parallelism.*Nothing was rolled back/s);
    assert.equal(writes(vvp, 'PUT'), 0);
    assert.equal(run.outputs.rolledBack, 'false');
    assert.equal((await specOf(vvp)).spec.template && ((await specOf(vvp)).spec as any).template.spec.parallelism, 7);
  });

  it('is rolledBack only when the previous template runs again: a rollback whose job fails too is not', async () => {
    const vvp = setUp({ spec: { maxJobCreationAttempts: 1 }, behaviour: { outcomeQueue: ['fails', 'fails'] } });
    const run = await deploy(vvp, { rollbackOnFailure: true, rollbackStateFrom: 'restoreStrategy' });
    assert.equal(run.result.rollback?.outcome, 'failed', run.result.message);
    assert.equal(run.result.rolledBack, false);
    assert.equal(run.outputs.rolledBack, 'false');
    assert.match(run.result.message, /Rollback to .* FAILED too/);
  });
});

describe('health check (in-memory VVP)', () => {
  it('catches a crash loop within one poll of the first restart, with the restart count and VVP condition', async () => {
    const vvp = setUp({ behaviour: { outcomeQueue: ['crashLoops'], restartIntervalMs: 10_000 } });
    const run = await deploy(vvp, { healthCheckInMs: 5 * 60_000, pollIntervalInMs: 5000 });
    assert.ok(run.result.error instanceof DeploymentFailedError && run.result.error.kind === 'health', run.result.message);
    assert.match(run.result.message, /restarted 1 time \(maxJobRestarts 0\)/);
    assert.match(run.result.message, /JobFailing: True/);
    const truth = vvp.truth('default', NAME);
    const job = truth.jobs.find((j) => j.id === run.result.jobId);
    assert.equal(job?.restarts, 1, 'caught before the second restart');
    assert.equal(truth.statusState, 'RUNNING', 'VVP itself still reports RUNNING');
  });

  it('tolerates one restart with maxJobRestarts: 1, when the job recovers', async () => {
    const vvp = setUp({ behaviour: { outcomeQueue: ['restartsOnce'], restartIntervalMs: 5_000 } });
    const run = await deploy(vvp, { healthCheckInMs: 60_000, maxJobRestarts: 1 });
    assert.equal(run.result.outcome, 'succeeded', run.result.message);
    assert.match(run.result.message, /healthy for 1 min with 1 restart/);
  });

  it('fails the same single restart with the default maxJobRestarts 0', async () => {
    const vvp = setUp({ behaviour: { outcomeQueue: ['restartsOnce'], restartIntervalMs: 5_000 } });
    const run = await deploy(vvp, { healthCheckInMs: 60_000 });
    assert.ok(run.result.error instanceof DeploymentFailedError && run.result.error.kind === 'health', run.result.message);
  });

  it('holds a healthy job for the whole window and no longer', async () => {
    const vvp = setUp();
    let verdictAt = 0;
    let runningAt = 0;
    const logger = new MemoryLogger();
    const original = logger.info.bind(logger);
    logger.info = (line: string) => {
      if (/^Watching job/.test(line)) runningAt = vvp.clock.now();
      if (/^Health check passed/.test(line)) verdictAt = vvp.clock.now();
      original(line);
    };
    const config = deployConfig({ deployment: NAME, jarUri: NEW_JAR, healthCheckInMs: 120_000 });
    const result = await runAction(config, { vvp, clock: vvp.clock, logger, registerSecret: () => undefined });
    assert.equal(result.outcome, 'succeeded', result.message);
    const watched = verdictAt - runningAt;
    assert.ok(watched >= 120_000 && watched < 125_000, `watched ${watched} ms`);
  });

  it('rolls back after a crash loop to the pre-upgrade savepoint, not the broken job\'s savepoint or retained checkpoint, and puts the strategies back', async () => {
    const vvp = setUp({ behaviour: { outcomeRules: [{ jarUriContains: 'commit=abc1234', outcome: 'crashLoops' }], restartIntervalMs: 10_000 } });
    const before = await specOf(vvp);
    const oldJob = vvp.truth('default', NAME).runningJob?.id;
    const run = await deploy(vvp, { healthCheckInMs: 5 * 60_000, rollbackOnFailure: true });
    assert.ok(run.result.error instanceof DeploymentFailedError && run.result.error.kind === 'health', run.result.message);
    assert.equal(run.result.rollback?.outcome, 'succeeded', run.result.message);
    const truth = vvp.truth('default', NAME);
    const upgrade = truth.savepoints.find((s) => s.jobId === oldJob && s.origin !== 'COPIED');
    assert.ok(upgrade);
    assert.equal(truth.runningJob?.jarUri, OLD_JAR);
    assert.equal(truth.runningJob?.savepointLocation, upgrade.savepointLocation, 'the old JAR restored the state from before the upgrade');
    const brokenJob = run.result.rollback ? truth.jobs.find((j) => j.jarUri === NEW_JAR)?.id : undefined;
    assert.ok(!truth.savepoints.some((s) => s.jobId === brokenJob && s.savepointLocation === truth.runningJob?.savepointLocation), 'not the broken job\'s state');
    assert.deepEqual((await specOf(vvp)).spec, before.spec, 'strategies back as they were');
    assert.match(run.result.message, /started from .*, the savepoint taken before the upgrade/);
    assert.equal(run.outputs.rolledBack, 'true');
  });

  it("leaves the rolled-back job's state to VVP with rollbackStateFrom: restoreStrategy", async () => {
    const vvp = setUp({ behaviour: { outcomeRules: [{ jarUriContains: 'commit=abc1234', outcome: 'crashLoops' }], restartIntervalMs: 10_000 } });
    const run = await deploy(vvp, { healthCheckInMs: 5 * 60_000, rollbackOnFailure: true, rollbackStateFrom: 'restoreStrategy' });
    assert.equal(run.result.rollback?.outcome, 'succeeded', run.result.message);
    const truth = vvp.truth('default', NAME);
    assert.ok(!truth.savepoints.some((s) => s.origin === 'COPIED'), 'no COPIED savepoint');
    assert.equal(writes(vvp, 'PUT'), 1);
    assert.match(run.result.message, /chosen by the deployment's restore strategy|without state/);
  });
});

describe('lifecycle actions (in-memory VVP)', () => {
  const act = (vvp: InMemoryVvp, action: DeployConfig['action'], overrides: Partial<DeployConfig> = {}) => deploy(vvp, { action, jarUri: '', ...overrides });

  it('suspends with the savepoint VVP takes, and reports it', async () => {
    const vvp = setUp();
    const job = vvp.truth('default', NAME).runningJob?.id;
    const run = await act(vvp, 'suspend');
    assert.equal(run.result.outcome, 'succeeded', run.result.message);
    const truth = vvp.truth('default', NAME);
    assert.equal(truth.statusState, 'SUSPENDED');
    const savepoint = truth.savepoints.find((s) => s.jobId === job);
    assert.equal(run.outputs.savepointId, savepoint?.id);
    assert.equal(run.outputs.state, 'SUSPENDED');
    assert.equal(run.outputs.jobId, '', 'no job runs');
    assert.equal(writes(vvp, 'PATCH'), 1);
  });

  it('says "already suspended" without a write', async () => {
    const vvp = setUp({ state: 'SUSPENDED' });
    const run = await act(vvp, 'suspend');
    assert.equal(run.result.outcome, 'upToDate');
    assert.match(run.result.message, /already suspended/);
    assert.equal(writes(vvp, 'PATCH'), 0);
  });

  it('fails a suspend whose savepoint fails with VVP\'s reason, and the job keeps running', async () => {
    const vvp = setUp({ behaviour: { outcomeQueue: ['savepointFails'] } });
    const run = await act(vvp, 'suspend');
    assert.equal(run.result.outcome, 'failed', run.result.message);
    assert.match(run.result.message, /did not reach SUSPENDED/);
    assert.match(run.result.message, /FAILED/);
  });

  it('resumes: a new job runs, restored from the suspend savepoint', async () => {
    const vvp = setUp();
    await act(vvp, 'suspend');
    const suspended = vvp.truth('default', NAME).savepoints.at(-1);
    const run = await act(vvp, 'resume');
    assert.equal(run.result.outcome, 'succeeded', run.result.message);
    const truth = vvp.truth('default', NAME);
    assert.equal(truth.statusState, 'RUNNING');
    assert.equal(run.outputs.jobId, truth.runningJob?.id);
    assert.equal(run.outputs.restoredFrom, suspended?.savepointLocation);
  });

  it('cancels without a savepoint', async () => {
    const vvp = setUp();
    const run = await act(vvp, 'cancel');
    assert.equal(run.result.outcome, 'succeeded', run.result.message);
    assert.equal(vvp.truth('default', NAME).statusState, 'CANCELLED');
    assert.equal(run.outputs.savepointId, '');
  });

  it('takes a savepoint of the running job and waits until it is COMPLETED; the job keeps running', async () => {
    const vvp = setUp();
    const job = vvp.truth('default', NAME).runningJob?.id;
    const run = await act(vvp, 'savepoint');
    assert.equal(run.result.outcome, 'succeeded', run.result.message);
    const truth = vvp.truth('default', NAME);
    const taken = truth.savepoints.find((s) => s.id === run.outputs.savepointId);
    assert.equal(taken?.state, 'COMPLETED');
    assert.equal(run.outputs.savepointLocation, taken?.savepointLocation);
    assert.equal(truth.runningJob?.id, job);
  });

  it('fails a savepoint that FAILED with its status.failure', async () => {
    const vvp = setUp({ behaviour: { outcomeQueue: ['savepointFails'] } });
    const run = await act(vvp, 'savepoint');
    assert.equal(run.result.outcome, 'failed', run.result.message);
    assert.match(run.result.message, /the savepoint FAILED: /);
  });

  it('deletes a running deployment: cancel first, then DELETE, then it is gone', async () => {
    const vvp = setUp();
    const run = await act(vvp, 'delete');
    assert.equal(run.result.outcome, 'succeeded', run.result.message);
    assert.equal(await vvp.getDeployment('default', NAME), undefined);
    assert.deepEqual(vvp.requests({}).filter((r) => r.method !== 'GET').map((r) => r.method), ['PATCH', 'DELETE']);
  });

  it('succeeds on deleting a deployment that does not exist ("nothing to delete")', async () => {
    const vvp = setUp(null);
    const run = await act(vvp, 'delete');
    assert.equal(run.result.outcome, 'upToDate');
    assert.match(run.result.message, /nothing to delete/);
  });
});
