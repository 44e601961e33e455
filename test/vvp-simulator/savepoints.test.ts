import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { DeploymentTruth } from './client';
import { JAR_A, JAR_B, deploymentBody, jarPatch, startTestSimulator, type TestSimulator } from './sim-harness';

const SAVEPOINT_PATH = /^wasbs:\/\/vvp@vvpstorage\.blob\.core\.windows\.net\/flink-jobs\/namespaces\/default\/jobs\/([0-9a-f-]{36})\/savepoints\/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/;
const CHECKPOINT_PATH = /^wasbs:\/\/vvp@vvpstorage\.blob\.core\.windows\.net\/flink-jobs\/namespaces\/default\/jobs\/([0-9a-f-]{36})\/checkpoints\/[0-9a-f]{32}\/chk-\d+$/;

describe('savepoints and restore strategies', () => {
  let sim: TestSimulator;
  before(async () => {
    sim = await startTestSimulator();
  });
  after(() => sim.stop());
  beforeEach(() => sim.control.reset());

  const settled = (name: string, state = 'RUNNING'): Promise<DeploymentTruth> =>
    sim.control.waitFor('default', name, (t) => t.statusState === state && !t.transitionInProgress);
  const newJobRunning = (name: string, oldJobId: string | undefined): Promise<DeploymentTruth> =>
    sim.control.waitFor('default', name, (t) => t.statusState === 'RUNNING' && t.runningJob !== null && t.runningJob.id !== oldJobId && !t.transitionInProgress);

  it('records the savepoint of a STATEFUL upgrade with the replaced job id, a creation time after the change and a blob storage location', async () => {
    const seeded = await sim.control.seedDeployment({ name: 'upgrade', jarUri: JAR_A });
    const oldJobId = seeded.status.running?.jobId;
    const patched = (await sim.api('PATCH', 'deployments/upgrade', { body: jarPatch(JAR_B) })).json;
    const truth = await newJobRunning('upgrade', oldJobId);

    const list = (await sim.api('GET', `savepoints?deploymentId=${seeded.metadata.id}&jobId=${oldJobId}`)).json.items;
    assert.equal(list.length, 1);
    const savepoint = list[0];
    assert.equal(savepoint.metadata.deploymentId, seeded.metadata.id);
    assert.equal(savepoint.metadata.jobId, oldJobId);
    assert.equal(savepoint.metadata.origin, 'SUSPEND');
    assert.equal(savepoint.status.state, 'COMPLETED');
    assert.ok(savepoint.metadata.createdAt > patched.metadata.modifiedAt, 'taken after the change');
    assert.equal(SAVEPOINT_PATH.exec(savepoint.spec.savepointLocation)?.[1], oldJobId, 'under the storage of the job it was taken of');
    const newJob = (await sim.api('GET', `jobs/${truth.runningJob?.id}`)).json;
    assert.equal(newJob.spec.savepointLocation, savepoint.spec.savepointLocation);
    assert.deepEqual(
      truth.savepoints.map((s) => [s.id, s.jobId, s.origin, s.state, s.savepointLocation, s.createdAt]),
      [[savepoint.metadata.id, oldJobId, 'SUSPEND', 'COMPLETED', savepoint.spec.savepointLocation, savepoint.metadata.createdAt]],
    );
  });

  it('puts savepoints under the configured blob storage base URI', async () => {
    await sim.control.setConfig({ blobStorageBaseUri: 's3://flink-state/vvp' });
    const seeded = await sim.control.seedDeployment({ name: 'on-s3', jarUri: JAR_A });
    await sim.api('PATCH', 'deployments/on-s3', { body: jarPatch(JAR_B) });
    const truth = await newJobRunning('on-s3', seeded.status.running?.jobId);
    assert.match(truth.savepoints[0].savepointLocation, /^s3:\/\/flink-state\/vvp\/flink-jobs\/namespaces\/default\/jobs\/[0-9a-f-]{36}\/savepoints\/savepoint-/);
  });

  it('takes a user-requested savepoint that completes, and one that fails with status.failure when savepoints fail, leaving queued job outcomes alone', async () => {
    const seeded = await sim.control.seedDeployment({ name: 'snap', jarUri: JAR_A, behaviour: { savepointFailure: { reason: 'SavepointFailed', message: 'Checkpoint expired before completing.' } } });
    const jobId = seeded.status.running?.jobId;
    const ok = (await sim.api('POST', 'savepoints', { body: { metadata: { deploymentId: seeded.metadata.id } } })).json;
    assert.equal(ok.metadata.jobId, jobId);
    assert.equal(ok.metadata.origin, 'USER_REQUEST');
    assert.equal(ok.status.state, 'STARTED');
    assert.match(ok.spec.savepointLocation, SAVEPOINT_PATH);
    await sim.control.waitFor('default', 'snap', (t) => t.savepoints.find((s) => s.id === ok.metadata.id)?.state === 'COMPLETED');

    await sim.control.setDeploymentBehaviour('default', 'snap', { outcomeQueue: ['savepointFails', 'fails'] });
    const failing = await sim.api('POST', 'savepoints', { body: { metadata: { deploymentId: seeded.metadata.id } } });
    assert.equal(failing.status, 201);
    const truth = await sim.control.waitFor('default', 'snap', (t) => t.savepoints.find((s) => s.id === failing.json.metadata.id)?.state === 'FAILED');
    const failed = (await sim.api('GET', `savepoints/${failing.json.metadata.id}`)).json;
    assert.equal(failed.status.failure.reason, 'SavepointFailed');
    assert.equal(failed.status.failure.message, 'Checkpoint expired before completing.');
    assert.ok(failed.status.failure.failedAt);
    assert.deepEqual(truth.pendingOutcomes, ['fails'], 'the job outcome is still queued for the next start');
    assert.equal(truth.runningJob?.id, jobId, 'the job keeps running');
    assert.equal(truth.statusState, 'RUNNING');
  });

  it('registers a COPIED savepoint of a given location at once, without a job, and validates the request', async () => {
    const seeded = await sim.control.seedDeployment({ name: 'copy', jarUri: JAR_A });
    const location = 's3://flink-state/savepoints/savepoint-3a7c2e-5d1f0b9c8a7e';
    const copied = await sim.api('POST', 'savepoints', { body: { metadata: { deploymentId: seeded.metadata.id }, spec: { savepointLocation: location } } });
    assert.equal(copied.status, 201);
    assert.equal(copied.json.metadata.origin, 'COPIED');
    assert.equal(copied.json.status.state, 'COMPLETED');
    assert.equal(copied.json.metadata.jobId, undefined);
    assert.equal(copied.json.spec.savepointLocation, location);
    assert.deepEqual((await sim.control.truth('default', 'copy')).savepoints.map((s) => [s.origin, s.jobId, s.state]), [['COPIED', null, 'COMPLETED']]);

    const bad = await sim.api('POST', 'savepoints', { body: { metadata: { deploymentId: seeded.metadata.id }, spec: { savepointLocation: 'not a uri' } } });
    assert.equal(bad.status, 400);
    assert.equal((await sim.api('POST', 'savepoints', { body: { spec: { savepointLocation: location } } })).status, 400);
    const unknown = await sim.api('POST', 'savepoints', { body: { metadata: { deploymentId: '00000000-0000-4000-8000-000000000000' }, spec: { savepointLocation: location } } });
    assert.equal(unknown.status, 404);
  });

  it('answers 409 to a savepoint request while no job runs', async () => {
    const seeded = await sim.control.seedDeployment({ name: 'idle', jarUri: JAR_A, state: 'CANCELLED' });
    const answer = await sim.api('POST', 'savepoints', { body: { metadata: { deploymentId: seeded.metadata.id } } });
    assert.equal(answer.status, 409);
    assert.match(answer.json.message, /no running job/);
  });

  it('keeps the last checkpoint of a job cancelled or replaced STATELESS as a RETAINED_CHECKPOINT, and none when retained checkpoints are off', async () => {
    const cancelled = await sim.control.seedDeployment({ name: 'cancelled', jarUri: JAR_A });
    const stateless = await sim.control.seedDeployment({ name: 'stateless', jarUri: JAR_A, upgradeStrategy: 'STATELESS' });
    await sim.control.seedDeployment({ name: 'discarded', jarUri: JAR_A, behaviour: { retainedCheckpoints: false } });
    await sim.api('PATCH', 'deployments/cancelled', { body: { spec: { state: 'CANCELLED' } } });
    await sim.api('PATCH', 'deployments/stateless', { body: jarPatch(JAR_B) });
    await sim.api('PATCH', 'deployments/discarded', { body: { spec: { state: 'CANCELLED' } } });

    for (const [name, seeded] of [['cancelled', cancelled], ['stateless', stateless]] as const) {
      const truth = await settled(name, name === 'cancelled' ? 'CANCELLED' : 'RUNNING');
      assert.equal(truth.savepoints.length, 1, name);
      const [checkpoint] = truth.savepoints;
      assert.equal(checkpoint.origin, 'RETAINED_CHECKPOINT');
      assert.equal(checkpoint.state, 'COMPLETED');
      assert.equal(checkpoint.jobId, seeded.status.running?.jobId, 'the checkpoint of the torn-down job');
      assert.equal(CHECKPOINT_PATH.exec(checkpoint.savepointLocation)?.[1], seeded.status.running?.jobId);
      assert.ok(!truth.events.includes('NEED_TO_TRIGGER_A_SAVEPOINT'), 'no savepoint was taken');
    }
    assert.deepEqual((await settled('discarded', 'CANCELLED')).savepoints, []);
  });

  it('restores by restore strategy: LATEST_STATE the newest savepoint or retained checkpoint, LATEST_SAVEPOINT no retained checkpoint, NONE nothing', async () => {
    const kinds = ['LATEST_STATE', 'LATEST_SAVEPOINT', 'NONE'] as const;
    const userSavepoint: Record<string, string> = {};
    for (const kind of kinds) {
      const name = `restore-${kind.toLowerCase().replace('_', '-')}`;
      const seeded = await sim.control.seedDeployment({ name, jarUri: JAR_A, upgradeStrategy: 'STATELESS', restoreStrategy: kind });
      const requested = (await sim.api('POST', 'savepoints', { body: { metadata: { deploymentId: seeded.metadata.id } } })).json;
      await sim.control.waitFor('default', name, (t) => t.savepoints[0]?.state === 'COMPLETED');
      userSavepoint[kind] = requested.spec.savepointLocation;
      await sim.api('PATCH', `deployments/${name}`, { body: jarPatch(JAR_B) });
    }
    const restored: Record<string, string | null | undefined> = {};
    const checkpoints: Record<string, string | undefined> = {};
    for (const kind of kinds) {
      const truth = await sim.control.waitFor('default', `restore-${kind.toLowerCase().replace('_', '-')}`, (t) => t.runningJob?.jarUri === JAR_B && !t.transitionInProgress);
      restored[kind] = truth.runningJob?.savepointLocation;
      checkpoints[kind] = truth.savepoints.find((s) => s.origin === 'RETAINED_CHECKPOINT')?.savepointLocation;
      assert.ok(checkpoints[kind], `${kind}: the replaced job left a retained checkpoint, newer than the user savepoint`);
    }
    assert.equal(restored.LATEST_STATE, checkpoints.LATEST_STATE);
    assert.equal(restored.LATEST_SAVEPOINT, userSavepoint.LATEST_SAVEPOINT);
    assert.equal(restored.NONE, null);
  });

  it('starts a stopped deployment from the newest completed state, a COPIED savepoint included', async () => {
    const seeded = await sim.control.seedDeployment({ name: 'from-copy', jarUri: JAR_A, state: 'CANCELLED', restoreStrategy: 'LATEST_SAVEPOINT' });
    const location = 'wasbs://vvp@vvpstorage.blob.core.windows.net/flink-jobs/namespaces/default/jobs/3f1c/savepoints/savepoint-3f1c00-0123456789ab';
    await sim.api('POST', 'savepoints', { body: { metadata: { deploymentId: seeded.metadata.id }, spec: { savepointLocation: location } } });
    await sim.api('PATCH', 'deployments/from-copy', { body: { spec: { state: 'RUNNING' } } });
    const truth = await settled('from-copy');
    assert.equal(truth.runningJob?.savepointLocation, location);
    const job = (await sim.api('GET', `jobs/${truth.runningJob?.id}`)).json;
    assert.equal(job.spec.savepointLocation, location);
  });

  it('rolls back a crash-looping upgrade onto the upgrade savepoint through a COPIED savepoint under LATEST_SAVEPOINT, never onto the broken job checkpoint', async () => {
    const names = ['safe-rollback', 'naive-rollback'];
    const upgradeLocation: Record<string, string> = {};
    for (const name of names) {
      const seeded = await sim.control.seedDeployment({ name, jarUri: JAR_A, behaviour: { outcomeQueue: ['crashLoops'], restartIntervalMs: 20 } });
      const previous = (await sim.api('GET', `deployments/${name}`)).json;
      await sim.api('PATCH', `deployments/${name}`, { body: jarPatch(JAR_B) });
      const broken = await sim.control.waitFor('default', name, (t) => t.runningJob?.jarUri === JAR_B && (t.jobs.at(-1)?.restarts ?? 0) >= 2);
      const upgrade = broken.savepoints.find((s) => s.jobId === seeded.status.running?.jobId && s.origin === 'SUSPEND');
      assert.ok(upgrade);
      upgradeLocation[name] = upgrade.savepointLocation;
      const restore = name === 'safe-rollback' ? 'LATEST_SAVEPOINT' : 'LATEST_STATE';
      if (name === 'safe-rollback') {
        await sim.api('POST', 'savepoints', { body: { metadata: { deploymentId: seeded.metadata.id }, spec: { savepointLocation: upgrade.savepointLocation } } });
      }
      const rollback = { metadata: previous.metadata, spec: { ...previous.spec, upgradeStrategy: { kind: 'STATELESS' }, restoreStrategy: { kind: restore, allowNonRestoredState: false } } };
      assert.equal((await sim.api('PUT', `deployments/${name}`, { body: rollback })).status, 200);
    }
    for (const name of names) {
      const truth = await sim.control.waitFor('default', name, (t) => t.runningJob?.jarUri === JAR_A && !t.transitionInProgress);
      const brokenCheckpoint = truth.savepoints.find((s) => s.origin === 'RETAINED_CHECKPOINT');
      assert.ok(brokenCheckpoint, 'the crash-looping job left its checkpoint');
      if (name === 'safe-rollback') assert.equal(truth.runningJob?.savepointLocation, upgradeLocation[name], 'the old JAR starts from the state it had before the upgrade');
      else assert.equal(truth.runningJob?.savepointLocation, brokenCheckpoint.savepointLocation, 'LATEST_STATE picks the broken job state');
    }

    // Putting the strategies back is no template change: no restart.
    const jobsBefore = (await sim.control.truth('default', 'safe-rollback')).jobs.length;
    await sim.api('PATCH', 'deployments/safe-rollback', { body: { spec: { upgradeStrategy: { kind: 'STATEFUL' }, restoreStrategy: { kind: 'LATEST_STATE' } } } });
    const afterwards = await sim.control.truth('default', 'safe-rollback');
    assert.equal(afterwards.transitionInProgress, false);
    assert.equal(afterwards.jobs.length, jobsBefore);
  });

  it('passes restoreStrategy.allowNonRestoredState to the new job', async () => {
    await sim.api('POST', 'deployments', { body: deploymentBody('lenient', JAR_A, { restoreStrategy: { kind: 'LATEST_STATE', allowNonRestoredState: true } }) });
    const truth = await settled('lenient');
    const job = (await sim.api('GET', `jobs/${truth.runningJob?.id}`)).json;
    assert.equal(job.spec.allowNonRestoredState, true);
    assert.equal(job.spec.savepointLocation, undefined, 'nothing to restore yet');
  });
});

describe('spec.state transitions', () => {
  let sim: TestSimulator;
  before(async () => {
    sim = await startTestSimulator();
  });
  after(() => sim.stop());
  beforeEach(() => sim.control.reset());

  const settled = (name: string, state = 'RUNNING'): Promise<DeploymentTruth> =>
    sim.control.waitFor('default', name, (t) => t.statusState === state && !t.transitionInProgress);

  it('suspends with a SUSPEND savepoint of the job and resumes by the restore strategy: LATEST_SAVEPOINT from it, NONE from nothing', async () => {
    for (const restoreStrategy of ['LATEST_SAVEPOINT', 'NONE']) {
      const name = `suspend-${restoreStrategy.toLowerCase().replace('_', '-')}`;
      const seeded = await sim.control.seedDeployment({ name, jarUri: JAR_A, restoreStrategy });
      await sim.api('PATCH', `deployments/${name}`, { body: { spec: { state: 'SUSPENDED' } } });
      const suspended = await settled(name, 'SUSPENDED');
      assert.deepEqual(suspended.savepoints.map((s) => [s.origin, s.jobId, s.state]), [['SUSPEND', seeded.status.running?.jobId, 'COMPLETED']]);
      assert.equal(suspended.jobs[0].state, 'TERMINATED');
      await sim.api('PATCH', `deployments/${name}`, { body: { spec: { state: 'RUNNING' } } });
      const resumed = await settled(name);
      assert.notEqual(resumed.runningJob?.id, seeded.status.running?.jobId);
      assert.equal(resumed.runningJob?.savepointLocation, restoreStrategy === 'NONE' ? null : suspended.savepoints[0].savepointLocation);
    }
  });

  it('fails a suspension whose savepoint fails: FAILED with the savepoint events and failures, the job still running', async () => {
    const seeded = await sim.control.seedDeployment({ name: 'no-suspend', jarUri: JAR_A, spec: { maxSavepointCreationAttempts: 2 }, behaviour: { outcomeQueue: ['savepointFails'] } });
    await sim.api('PATCH', 'deployments/no-suspend', { body: { spec: { state: 'SUSPENDED' } } });
    const truth = await settled('no-suspend', 'FAILED');
    assert.deepEqual(truth.savepoints.map((s) => [s.origin, s.state]), [['SUSPEND', 'FAILED'], ['SUSPEND', 'FAILED']]);
    assert.ok(truth.savepoints.every((s) => (s.failure as { message?: string } | null)?.message));
    assert.ok(truth.events.includes('CREATING_A_SAVEPOINT_BEFORE_SUSPENSION'));
    assert.equal(truth.events.filter((e) => e === 'RECOVERABLE_FAILURE_WHILE_TRIGGERING_A_SAVEPOINT').length, 2);
    assert.deepEqual(truth.events.slice(-2), ['TOO_MANY_FAILED_SUSPENSION_ATTEMPTS', 'TRANSITIONING_TO_FAILED_STATE_BECAUSE_SAVEPOINT_FAILED_IN_FLINK']);
    assert.equal(truth.runningJob?.id, seeded.status.running?.jobId);
    assert.equal(truth.specState, 'SUSPENDED');
  });

  it('deletes a deployment only when its desired state is CANCELLED or SUSPENDED', async () => {
    await sim.control.seedDeployment({ name: 'keep', jarUri: JAR_A });
    await sim.control.seedDeployment({ name: 'parked', jarUri: JAR_A, state: 'SUSPENDED' });
    const refused = await sim.api('DELETE', 'deployments/keep');
    assert.equal(refused.status, 409);
    assert.match(refused.json.message, /desired state RUNNING/);
    const deleted = await sim.api('DELETE', 'deployments/parked');
    assert.equal(deleted.status, 200);
    assert.equal(deleted.json.spec.state, 'SUSPENDED');
    assert.equal((await sim.api('GET', 'deployments/parked')).status, 404);
  });
});
