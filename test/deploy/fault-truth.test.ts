/**
 * The 1.2 promises, each case a review of 1.1 broke, on the in-memory VVP and virtual time:
 * null fields, a health check that could not look, a rollback that does not finish, a rollback to
 * an overwritten blob, a rollback of a SUSPENDED deployment, credentials in a plan, a 404 that
 * is not VVP's, and the values that go into outputs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryLogger } from '../support/memory-logger';
import { DeploymentFailedError, VvpApiError } from '../../tasks/common/vvp/errors';
import type { JsonObject } from '../../tasks/common/vvp/resources';
import { UNFINISHED_ROLLBACK_ANNOTATION, unfinishedRollbackOf } from '../../tasks/common/vvp/rollback-body';
import { runAction } from '../../tasks/VvpDeploy/VvpDeployV1/action';
import type { DeployResult } from '../../tasks/VvpDeploy/VvpDeployV1/deploy-result';
import type { DeployConfig } from '../../tasks/VvpDeploy/VvpDeployV1/inputs';
import { runPlan } from '../../tasks/VvpDeploy/VvpDeployV1/plan';
import { deployOutputs, renderSummary } from '../../tasks/VvpDeploy/VvpDeployV1/summary';
import { InMemoryVvp } from '../support/in-memory-vvp';
import { deployConfig } from './deploy-config';

const NAME = 'top-speed-windowing';
const blob = (build: string): string => `wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing-${build}.jar`;
const OLD_JAR = `${blob('0000000')}?commit=0000000`;
const NEW_JAR = `${blob('abc1234')}?commit=abc1234`;
const SHARED_BLOB = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing.jar';

interface Run {
  result: DeployResult;
  lines: string[];
  outputs: Record<string, string>;
  summary: string;
}

async function run(vvp: InMemoryVvp, overrides: Partial<DeployConfig> = {}, abortSignal?: AbortSignal): Promise<Run> {
  const logger = new MemoryLogger();
  const config = deployConfig({ deployment: NAME, jarUri: NEW_JAR, vvpUrl: new URL('https://vvp.example.com'), ...overrides });
  const deps = { vvp, clock: vvp.clock, logger, registerSecret: () => undefined, abortSignal };
  const result = config.action === 'plan' ? await runPlan(config, deps) : await runAction(config, deps);
  const outputs = Object.fromEntries(Object.entries(deployOutputs(result)).map(([k, v]) => [k, v.value]));
  return { result, lines: logger.lines, outputs, summary: renderSummary(result, 'https://vvp.example.com') };
}

function seeded(seed: Partial<Parameters<InMemoryVvp['seedDeployment']>[0]> = {}): InMemoryVvp {
  const vvp = new InMemoryVvp();
  vvp.seedDeployment({ name: NAME, jarUri: OLD_JAR, ...seed });
  return vvp;
}

const writes = (vvp: InMemoryVvp, method: string): number => vvp.requests({ method }).length;
const failsOnce = { spec: { maxJobCreationAttempts: 1 }, behaviour: { outcomeRules: [{ jarUriContains: 'commit=abc1234', outcome: 'fails' as const }] } };

describe('server data may be null', () => {
  it('keeps the events of a failed deploy when VVP writes unset fields as null (deployment-level events with jobId null)', async () => {
    const vvp = seeded(failsOnce);
    vvp.setConfig({ explicitNulls: true });
    const r = await run(vvp);
    assert.equal(r.result.outcome, 'failed', r.result.message);
    assert.doesNotMatch(r.result.message, /could not be read|Cannot read properties/);
    assert.match(r.result.message, /VVP events that explain the failure/);
    assert.match(r.result.message, /TRANSITIONING_TO_FAILED_STATE/);
  });

  it('never sends back a null it read: the rollback PUT of the deployment as read carries none', async () => {
    const vvp = seeded(failsOnce);
    vvp.setConfig({ explicitNulls: true });
    const r = await run(vvp, { rollbackOnFailure: true });
    assert.equal(r.result.rollback?.outcome, 'succeeded', r.result.message);
    const puts = vvp.requests({ method: 'PUT' });
    assert.ok(puts.length > 0);
    for (const put of puts) assert.ok(!JSON.stringify(put.body).includes('null'), `PUT body without null: ${JSON.stringify(put.body).slice(0, 300)}`);
  });
});

describe('a health check that could not look is no pass', () => {
  it('fails when VVP stops answering after the first probes of the window, saying for how long', async () => {
    const vvp = seeded();
    const r0 = Date.now();
    // The new job runs at about 5 s; from 20 s on, VVP accepts reads and never answers.
    vvp.clock.setTimer(() => void vvp.addFault({ method: 'GET', action: 'hang', times: 1000 }), 20_000);
    const r = await run(vvp, { healthCheckInMs: 60_000 });
    assert.ok(r.result.error instanceof DeploymentFailedError && r.result.error.kind === 'health', r.result.message);
    assert.match(r.result.message, /health could not be verified: VVP did not answer at the end of the window \(no answer for the last \d+/);
    assert.doesNotMatch(r.result.message, /Health check passed/);
    assert.ok(Date.now() - r0 < 10_000);
  });
});

describe('a rollback leaves no trap', () => {
  const oldJobStalls = { spec: { maxJobCreationAttempts: 1 }, behaviour: { outcomeQueue: ['fails' as const, 'stuck' as const] } };

  it('records the strategies to put back on the deployment when the rolled-back job does not start in time, and says so', async () => {
    const vvp = seeded(oldJobStalls);
    const r = await run(vvp, { rollbackOnFailure: true, timeoutInMs: 60_000 });
    assert.equal(r.result.rollback?.outcome, 'timedOut', r.result.message);
    assert.equal(r.outputs.rolledBack, 'false');
    assert.match(r.result.message, new RegExp(`keeps the temporary STATELESS \\+ LATEST_SAVEPOINT strategies \\(annotation ${UNFINISHED_ROLLBACK_ANNOTATION}\\)`));
    assert.match(r.result.message, /The next run of VvpDeploy on this deployment \(any action\) puts back upgrade strategy STATEFUL, restore strategy LATEST_STATE/);
    const d = (await vvp.getDeployment('default', NAME))!;
    assert.equal((d.spec.upgradeStrategy as JsonObject).kind, 'STATELESS', 'the rolled-back job must not start from the failed job state');
    assert.deepEqual(unfinishedRollbackOf(d)?.upgradeStrategy, { kind: 'STATEFUL' });
  });

  it('the next deploy puts the recorded strategies back before its own change, so its upgrade savepoints the running job', async () => {
    const vvp = seeded(oldJobStalls);
    await run(vvp, { rollbackOnFailure: true, timeoutInMs: 60_000 });
    // The previous job comes up after all (VVP keeps trying), then the next build is deployed.
    vvp.setDeploymentBehaviour('default', NAME, { outcomeQueue: [] });
    await vvp.patchDeployment('default', NAME, { spec: { state: 'CANCELLED' } });
    await vvp.clock.sleep(30_000);
    await vvp.patchDeployment('default', NAME, { spec: { state: 'RUNNING' } });
    await vvp.clock.sleep(30_000);
    const runningBefore = vvp.truth('default', NAME).runningJob?.id;
    assert.ok(runningBefore, 'the previous job runs');
    const next = await run(vvp, { jarUri: `${blob('def5678')}?commit=def5678` });
    assert.equal(next.result.outcome, 'succeeded', next.result.message);
    assert.ok(next.lines.some((l) => /Finished the unfinished rollback: upgrade strategy STATEFUL, restore strategy LATEST_STATE are back/.test(l)));
    const d = (await vvp.getDeployment('default', NAME))!;
    assert.equal(unfinishedRollbackOf(d), undefined, 'the annotation is gone');
    assert.equal((d.spec.upgradeStrategy as JsonObject).kind, 'STATEFUL');
    const truth = vvp.truth('default', NAME);
    const upgrade = truth.savepoints.find((s) => s.jobId === runningBefore && s.origin !== 'COPIED');
    assert.ok(upgrade, 'the upgrade savepointed the job that ran before it (no state lost)');
    assert.equal(truth.runningJob?.savepointLocation, upgrade.savepointLocation);
  });

  it('says what a cancelled rollback left behind', async () => {
    const vvp = seeded(oldJobStalls);
    const controller = new AbortController();
    // Failure at ~5 s, the rollback's PUT right after; cancel while it waits for the previous job.
    vvp.clock.setTimer(() => controller.abort(), 40_000);
    const r = await run(vvp, { rollbackOnFailure: true, timeoutInMs: 120_000 }, controller.signal);
    assert.equal(r.result.outcome, 'cancelled', r.result.message);
    assert.match(r.result.message, /during the rollback .*keeps the temporary STATELESS \+ LATEST_SAVEPOINT strategies/s);
  });
});

describe('a rollback never claims a JAR it cannot bring back', () => {
  it('warns before the write when the new jarUri names the same blob as the previous one, and does not roll back to it', async () => {
    const vvp = seeded({ jarUri: `${SHARED_BLOB}?commit=0000000`, ...failsOnce });
    const r = await run(vvp, { jarUri: `${SHARED_BLOB}?commit=abc1234`, rollbackOnFailure: true });
    const warnAt = r.lines.findIndex((l) => /names the same blob as the previous one .*a rollback cannot bring it back/.test(l));
    const patchAt = r.lines.findIndex((l) => /PATCH applied/.test(l));
    assert.ok(warnAt >= 0 && warnAt < patchAt, 'the warning comes before the write');
    assert.equal(r.result.rollback?.outcome, 'skipped');
    assert.equal(r.outputs.rolledBack, 'false');
    assert.match(r.result.message, /Not rolled back: .* names the same blob as the new one, which now holds the new JAR/);
    assert.equal(writes(vvp, 'PUT'), 0);
  });

  it('health-checks the rolled-back job like the new one: a crash-looping previous JAR is no rollback', async () => {
    const vvp = seeded({ behaviour: { outcomeQueue: ['crashLoops', 'crashLoops'], restartIntervalMs: 10_000 } });
    const r = await run(vvp, { rollbackOnFailure: true, healthCheckInMs: 60_000 });
    assert.ok(r.result.error instanceof DeploymentFailedError && r.result.error.kind === 'health', r.result.message);
    assert.equal(r.result.rollback?.outcome, 'failed', r.result.message);
    assert.match(r.result.message, /the rolled-back job failed its health check/);
    assert.equal(r.outputs.rolledBack, 'false');
  });

  it('reports rolledBack only after the rolled-back job passed the health check', async () => {
    const vvp = seeded({ behaviour: { outcomeQueue: ['crashLoops', 'runs'], restartIntervalMs: 10_000 } });
    const r = await run(vvp, { rollbackOnFailure: true, healthCheckInMs: 30_000 });
    assert.equal(r.result.rollback?.outcome, 'succeeded', r.result.message);
    assert.match(r.result.message, /it passed the health check \(0 restarts\)/);
    assert.equal(r.outputs.rolledBack, 'true');
  });

  it("does not roll back over a change someone made between this step's read and its write", async () => {
    const vvp = seeded(failsOnce);
    vvp.addFault({ method: 'PATCH', action: 'delay', delayMs: 5_000 });
    vvp.clock.setTimer(() => void vvp.patchDeployment('default', NAME, { spec: { template: { spec: { parallelism: 7 } } } }), 2_000);
    const r = await run(vvp, { rollbackOnFailure: true });
    assert.equal(r.result.rollback?.outcome, 'refused', r.result.message);
    assert.match(r.result.message, /changed by someone else between this step's read and its write \(spec\.template\.spec\.parallelism\)/);
    assert.equal(writes(vvp, 'PUT'), 0);
    assert.equal(((await vvp.getDeployment('default', NAME))!.spec.template as { spec: { parallelism?: number } }).spec.parallelism, 7);
  });

  it('outputs the jarUri VVP stores after a rollback that could not be completed, not the new one', async () => {
    const vvp = seeded(failsOnce);
    vvp.addFault({ method: 'POST', path: '/savepoints', status: 400, times: 5 });
    const r = await run(vvp, { rollbackOnFailure: true });
    assert.equal(r.result.rollback?.outcome, 'error', r.result.message);
    assert.equal(r.outputs.jarUri, (await vvp.getDeployment('default', NAME))!.spec.template ? NEW_JAR : '');
    assert.equal(r.outputs.rolledBack, 'false');
  });
});

describe('a rollback of a deployment that was SUSPENDED', () => {
  it('restores SUSPENDED with the state it had, not a savepoint of the broken job', async () => {
    const vvp = seeded({ state: 'SUSPENDED', ...failsOnce });
    const suspendSavepoint = vvp.truth('default', NAME).savepoints.at(-1)?.savepointLocation;
    const document = { spec: { state: 'RUNNING', template: { spec: { artifact: { jarUri: 'JARURI' } } } } } as JsonObject;
    const r = await run(vvp, { rollbackOnFailure: true, specFile: { path: 'd.yaml', document } });
    assert.equal(r.result.rollback?.outcome, 'succeeded', r.result.message);
    assert.match(r.result.message, /is SUSPENDED again/);
    const truth = vvp.truth('default', NAME);
    assert.equal(truth.statusState, 'SUSPENDED');
    const failedJobs = new Set(truth.jobs.filter((j) => j.jarUri === NEW_JAR).map((j) => j.id));
    assert.ok(!truth.savepoints.some((s) => typeof s.jobId === 'string' && failedJobs.has(s.jobId) && s.origin !== 'COPIED'), 'no savepoint of the broken job');
    if (suspendSavepoint) {
      const newest = [...truth.savepoints].sort((a, b) => Date.parse(b.createdAt ?? '') - Date.parse(a.createdAt ?? ''))[0];
      assert.equal(newest?.savepointLocation, suspendSavepoint, 'a resume restores the state from before the step');
    }
  });
});

describe('no credential in a plan', () => {
  it('masks sensitive Flink configuration values of the live deployment and of the spec file, key names kept', async () => {
    const vvp = seeded({ spec: { template: { spec: { flinkConfiguration: { 'fs.azure.account.key.acct.blob.core.windows.net': 'live-account-key-123456', 'taskmanager.numberOfTaskSlots': '2' } } } } });
    const document = { spec: { template: { spec: { flinkConfiguration: { 's3.secret-key': 'file-secret-key-987654', 'fs.azure.account.key.acct.blob.core.windows.net': 'new-account-key-654321' } } } } } as JsonObject;
    const r = await run(vvp, { action: 'plan', online: true, specFile: { path: 'd.yaml', document } });
    const everything = [...r.lines, r.summary, r.result.message].join('\n');
    for (const secret of ['live-account-key-123456', 'file-secret-key-987654', 'new-account-key-654321']) assert.ok(!everything.includes(secret), `${secret} is masked`);
    assert.match(everything, /fs\.azure\.account\.key\.acct\.blob\.core\.windows\.net"?\]?: \*\*\* → \*\*\*/);
    assert.match(everything, /s3\.secret-key"?\]?: \*\*\*/);
    assert.equal(writes(vvp, 'PATCH') + writes(vvp, 'PUT') + writes(vvp, 'POST'), 0);
  });

  it("masks the live jarUri's query credentials in the plan's summary rows", async () => {
    const sas = 'https://acct.blob.core.windows.net/vvp/app.jar?sv=2022-11-02&sig=bGl2ZS1zaWduYXR1cmUtMTIzNDU2&commit=0000000';
    const vvp = seeded({ jarUri: sas });
    const r = await run(vvp, { action: 'plan', online: true });
    assert.ok(!r.summary.includes('bGl2ZS1zaWduYXR1cmUtMTIzNDU2'), r.summary);
    assert.match(r.summary, /app\.jar\?sv=\*\*\*&sig=\*\*\*&commit=0000000/);
  });
});

describe('a cancelled plan', () => {
  it('ends with a cancelled result that says nothing was changed, also while VVP does not answer', async () => {
    const vvp = seeded();
    vvp.addFault({ method: 'GET', action: 'hang', times: 10 });
    const controller = new AbortController();
    vvp.clock.setTimer(() => controller.abort(), 2_000);
    const r = await run(vvp, { action: 'plan', online: true }, controller.signal);
    assert.equal(r.result.outcome, 'cancelled', r.result.message);
    assert.match(r.result.message, /^Cancelled during the plan: nothing was changed/);
    assert.equal(vvp.requests().filter((q) => q.method !== 'GET').length, 0);
  });
});

describe('delete proves absence', () => {
  it('fails instead of "nothing to delete" when the namespace list cannot be read either (a wrong path answering 404)', async () => {
    const vvp = seeded();
    vvp.addFault({ method: 'GET', path: '/deployments', status: 404, times: 10 });
    const r = await run(vvp, { action: 'delete', jarUri: '', deployment: 'missing-one' });
    assert.equal(r.result.outcome, 'error', r.result.message);
    assert.ok(r.result.error instanceof VvpApiError);
    assert.match(r.result.message, /namespace's deployment list could not be read either.*nothing was deleted/s);
  });

  it('says "nothing to delete" when VVP lists the namespace without the deployment', async () => {
    const vvp = seeded();
    const r = await run(vvp, { action: 'delete', jarUri: '', deployment: 'missing-one' });
    assert.equal(r.result.outcome, 'upToDate', r.result.message);
    assert.match(r.result.message, /nothing to delete/);
  });

  it('fails when VVP answers 404 for the deployment but still lists it', async () => {
    const vvp = seeded();
    vvp.addFault({ method: 'GET', path: `/deployments/${NAME}$`, status: 404, times: 1 });
    const r = await run(vvp, { action: 'delete', jarUri: '' });
    assert.ok(r.result.error instanceof DeploymentFailedError && r.result.error.kind === 'action', r.result.message);
    assert.match(r.result.message, /still lists it/);
  });
});

describe('outputs carry no logging command', () => {
  it('puts VVP strings into outputs on one line, with logging commands neutralised', () => {
    const outputs = deployOutputs({
      outcome: 'succeeded',
      message: '',
      namespace: 'default',
      deployment: NAME,
      targetJarUri: NEW_JAR,
      state: 'RUNNING\n##vso[task.setvariable variable=x]1',
      jobId: '##vso[task.complete result=Succeeded]',
      created: false,
      rolledBack: false,
      startedAtMs: 0,
      finishedAtMs: 0,
    });
    for (const output of Object.values(outputs)) {
      assert.ok(!/##vso\[/i.test(output.value), output.value);
      assert.ok(!output.value.includes('\n'));
    }
  });
});
