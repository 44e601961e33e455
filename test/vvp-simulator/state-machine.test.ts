import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { JAR_A, JAR_B, JAR_C, delay, deploymentBody, jarPatch, startTestSimulator, type TestSimulator } from './sim-harness';

const STATEFUL_UPGRADE_EVENTS = [
  'STATE_TRANSITION_IS_NEEDED',
  'USING_AN_UPGRADE_STRATEGY',
  'NEED_TO_TRIGGER_A_SAVEPOINT',
  'SUCCESSFULLY_TRIGGERED_A_SAVEPOINT',
  'AWAITING_FOR_A_SAVEPOINT_TO_COMPLETE',
  'FOUND_AN_OLD_JOB_AND_WILL_TERMINATE_IT',
  'AWAITING_A_JOB_TO_TERMINATE',
  'CREATING_A_NEW_JOB',
  'SPINNING_UP_A_CLUSTER_FOR_A_JOB',
  'AWAITING_A_JOB_TO_START',
  'JOB_SUCCESSFULLY_STARTED',
  'STATE_TRANSITION_IS_COMPLETED',
];

describe('deployment state machine', () => {
  let sim: TestSimulator;
  before(async () => {
    sim = await startTestSimulator();
  });
  after(() => sim.stop());
  beforeEach(() => sim.control.reset());

  const settled = (name: string, state = 'RUNNING') =>
    sim.control.waitFor('default', name, (t) => t.statusState === state && !t.transitionInProgress);

  it('shows the old job RUNNING during the stale window after a template change, then a new job id', async () => {
    await sim.control.seedDeployment({ name: 'racy', jarUri: JAR_A, behaviour: { staleRunningMs: 500 } });
    const before = await sim.api('GET', 'deployments/racy');
    const oldJobId = before.json.status.running.jobId;
    const patched = await sim.api('PATCH', 'deployments/racy', { body: jarPatch(JAR_B) });
    assert.equal(patched.json.status.state, 'RUNNING');
    assert.equal(patched.json.status.running.jobId, oldJobId, 'the PATCH answer still shows the old job');
    assert.equal(patched.json.spec.template.spec.artifact.jarUri, JAR_B);
    assert.equal(patched.json.metadata.annotations['com.dataartisans.appmanager.controller.deployment.spec.version'], '2');
    await delay(50);
    const stale = await sim.api('GET', 'deployments/racy');
    assert.equal(stale.json.status.state, 'RUNNING');
    assert.equal(stale.json.status.running.jobId, oldJobId);
    const oldJob = await sim.api('GET', `jobs/${oldJobId}`);
    assert.equal(oldJob.json.spec.artifact.jarUri, JAR_A, 'the RUNNING read describes the old jar');

    let sawTransitioning = false;
    for (let i = 0; i < 200; i++) {
      const d = (await sim.api('GET', 'deployments/racy')).json;
      if (d.status.state === 'TRANSITIONING') {
        sawTransitioning = true;
        assert.equal(d.status.running, undefined);
        assert.equal(d.metadata.annotations['com.dataartisans.appmanager.controller.deployment.transitioning'], 'true');
      }
      if (d.status.state === 'RUNNING' && d.status.running.jobId !== oldJobId) break;
      await delay(10);
    }
    assert.ok(sawTransitioning);
    const done = (await sim.api('GET', 'deployments/racy')).json;
    assert.notEqual(done.status.running.jobId, oldJobId);
    const newJob = (await sim.api('GET', `jobs/${done.status.running.jobId}`)).json;
    assert.equal(newJob.status.state, 'STARTED');
    assert.equal(newJob.spec.artifact.jarUri, JAR_B, 'the frozen job spec keeps the ?commit= query');
    assert.equal((await sim.api('GET', `jobs/${oldJobId}`)).json.status.state, 'TERMINATED');
  });

  it('takes a COMPLETED savepoint in a STATEFUL upgrade and restores the new job from it, with the documented events', async () => {
    const seeded = await sim.control.seedDeployment({ name: 'stateful', jarUri: JAR_A });
    const oldJobId = seeded.status.running?.jobId;
    await sim.api('PATCH', 'deployments/stateful', { body: jarPatch(JAR_B) });
    const truth = await sim.control.waitFor('default', 'stateful', (t) => t.statusState === 'RUNNING' && t.statusJobId !== oldJobId);
    assert.deepEqual(truth.events, STATEFUL_UPGRADE_EVENTS);
    assert.equal(truth.savepoints.length, 1);
    assert.equal(truth.savepoints[0].state, 'COMPLETED');
    assert.equal(truth.savepoints[0].origin, 'SUSPEND');
    assert.equal(truth.runningJob?.jarUri, JAR_B);
    assert.equal(truth.runningJob?.savepointLocation, truth.savepoints[0].savepointLocation);
    const oldJob = (await sim.api('GET', `jobs/${oldJobId}`)).json;
    assert.equal(oldJob.status.state, 'TERMINATED');
    assert.ok(oldJob.metadata.terminatedAt);
    const savepoint = (await sim.api('GET', `savepoints/${truth.savepoints[0].id}`)).json;
    assert.equal(savepoint.metadata.jobId, oldJobId);
    assert.equal(savepoint.metadata.type, 'FULL');
  });

  it('uses origin SUSPEND_AND_UPGRADE when emulating VVP 2.4', async () => {
    await sim.control.setConfig({ buildVersion: '2.4.3' });
    await sim.control.seedDeployment({ name: 'old-vvp', jarUri: JAR_A });
    await sim.api('PATCH', 'deployments/old-vvp', { body: jarPatch(JAR_B) });
    const truth = await sim.control.waitFor('default', 'old-vvp', (t) => t.runningJob?.jarUri === JAR_B);
    assert.equal(truth.savepoints[0].origin, 'SUSPEND_AND_UPGRADE');
  });

  it('takes no savepoint in a STATELESS upgrade', async () => {
    // Without retained checkpoints there is no state at all to restore (see savepoints.test.ts for them).
    await sim.control.seedDeployment({ name: 'stateless', jarUri: JAR_A, upgradeStrategy: 'STATELESS', behaviour: { retainedCheckpoints: false } });
    await sim.api('PATCH', 'deployments/stateless', { body: jarPatch(JAR_B) });
    const truth = await sim.control.waitFor('default', 'stateless', (t) => t.runningJob?.jarUri === JAR_B && t.statusState === 'RUNNING');
    assert.equal(truth.savepoints.length, 0);
    assert.ok(!truth.events.includes('NEED_TO_TRIGGER_A_SAVEPOINT'));
    assert.equal(truth.runningJob?.savepointLocation, null);
  });

  it('never starts a job for a template change under upgrade strategy NONE', async () => {
    const seeded = await sim.control.seedDeployment({ name: 'frozen', jarUri: JAR_A, upgradeStrategy: 'NONE' });
    const answer = await sim.api('PATCH', 'deployments/frozen', { body: jarPatch(JAR_B) });
    assert.equal(answer.json.spec.template.spec.artifact.jarUri, JAR_B);
    await delay(350);
    const truth = await sim.control.truth('default', 'frozen');
    assert.equal(truth.jobs.length, 1);
    assert.equal(truth.statusState, 'RUNNING');
    assert.equal(truth.statusJobId, seeded.status.running?.jobId);
    assert.equal(truth.runningJob?.jarUri, JAR_A);
  });

  it('leaves a FAILED job with status.failure and the documented events when an upgrade fails, and a rollback then runs', async () => {
    const message = 'java.lang.ClassNotFoundException: com.example.Missing';
    await sim.control.seedDeployment({
      name: 'fragile',
      jarUri: JAR_A,
      spec: { maxJobCreationAttempts: 3 },
      behaviour: { outcomeQueue: ['fails'], jobFailure: { reason: 'JobSubmissionFailed', message } },
    });
    await sim.api('PATCH', 'deployments/fragile', { body: jarPatch(JAR_B) });
    const failed = await settled('fragile', 'FAILED');
    const failedJob = failed.jobs.at(-1);
    assert.equal(failedJob?.state, 'FAILED');
    assert.equal(failedJob?.jarUri, JAR_B);
    assert.deepEqual(Object.keys(failedJob?.failure as object).sort(), ['failedAt', 'message', 'reason']);
    assert.equal((failedJob?.failure as { message: string }).message, message);
    assert.equal(failed.runningJob, null);
    const tail = failed.events.slice(failed.events.indexOf('AWAITING_A_JOB_TO_START') + 1);
    assert.deepEqual(tail, [
      'FAILED_CREATING_A_NEW_JOB',
      'FAILED_CREATING_A_NEW_JOB',
      'FAILED_CREATING_A_NEW_JOB',
      'TOO_MANY_FAILED_JOB_CREATION_ATTEMPTS',
      'TRANSITIONING_TO_FAILED_STATE_BECAUSE_JOB_NOT_STARTED',
    ]);
    const job = (await sim.api('GET', `jobs/${failedJob?.id}`)).json;
    assert.equal(job.status.failure.reason, 'JobSubmissionFailed');
    assert.equal((await sim.api('GET', 'deployments/fragile')).json.status.state, 'FAILED');

    await sim.api('PATCH', 'deployments/fragile', { body: jarPatch(JAR_A) });
    const rolledBack = await sim.control.waitFor('default', 'fragile', (t) => t.statusState === 'RUNNING' && t.runningJob?.jarUri === JAR_A);
    assert.ok(rolledBack.runningJob?.savepointLocation, 'the rollback restores from the upgrade savepoint');
  });

  it('picks outcomes by jarUri substring', async () => {
    await sim.control.seedDeployment({
      name: 'ruled',
      jarUri: JAR_A,
      spec: { maxJobCreationAttempts: 1 },
      behaviour: { outcome: 'fails', outcomeRules: [{ jarUriContains: 'commit=ccccccc', outcome: 'runs' }] },
    });
    await sim.api('PATCH', 'deployments/ruled', { body: jarPatch(JAR_B) });
    await settled('ruled', 'FAILED');
    await sim.api('PATCH', 'deployments/ruled', { body: jarPatch(JAR_C) });
    const truth = await settled('ruled');
    assert.equal(truth.runningJob?.jarUri, JAR_C);
  });

  it('fails the deployment when the STATEFUL savepoint fails, keeping the old job', async () => {
    const seeded = await sim.control.seedDeployment({ name: 'no-savepoint', jarUri: JAR_A, spec: { maxSavepointCreationAttempts: 2 }, behaviour: { outcomeQueue: ['savepointFails'] } });
    await sim.api('PATCH', 'deployments/no-savepoint', { body: jarPatch(JAR_B) });
    const truth = await settled('no-savepoint', 'FAILED');
    assert.deepEqual(truth.savepoints.map((s) => s.state), ['FAILED', 'FAILED']);
    assert.deepEqual(truth.events.slice(-2), ['TOO_MANY_FAILED_SUSPENSION_ATTEMPTS', 'TRANSITIONING_TO_FAILED_STATE_BECAUSE_SAVEPOINT_FAILED_IN_FLINK']);
    assert.equal(truth.runningJob?.id, seeded.status.running?.jobId);
    assert.equal(truth.jobs.length, 1);
  });

  it('stays TRANSITIONING forever when the new job is stuck', async () => {
    await sim.control.seedDeployment({ name: 'stuck', jarUri: JAR_A, behaviour: { outcomeQueue: ['stuck'] } });
    await sim.api('PATCH', 'deployments/stuck', { body: jarPatch(JAR_B) });
    await delay(450);
    const truth = await sim.control.truth('default', 'stuck');
    assert.equal(truth.statusState, 'TRANSITIONING');
    assert.equal(truth.jobs.at(-1)?.state, 'STARTING');
    assert.equal(truth.transitionInProgress, true);
  });

  it('ends FINISHED when the job is bounded', async () => {
    await sim.api('POST', 'deployments', { body: deploymentBody('batch', JAR_A) });
    await sim.control.setDeploymentBehaviour('default', 'batch', { outcome: 'finishes' });
    await sim.api('PATCH', 'deployments/batch', { body: jarPatch(JAR_B) });
    const truth = await settled('batch', 'FINISHED');
    assert.equal(truth.jobs.at(-1)?.state, 'FINISHED');
    assert.deepEqual(truth.events.slice(-2), ['JOB_SUCCESSFULLY_FINISHED', 'TRANSITIONED_TO_FINISHED_STATE']);
  });

  it('cancels, suspends with a savepoint, and resumes from that savepoint', async () => {
    await sim.control.seedDeployment({ name: 'lifecycle', jarUri: JAR_A });
    await sim.api('PATCH', 'deployments/lifecycle', { body: { spec: { state: 'CANCELLED' } } });
    let truth = await settled('lifecycle', 'CANCELLED');
    assert.equal(truth.runningJob, null);
    assert.deepEqual(truth.savepoints.map((s) => s.origin), ['RETAINED_CHECKPOINT'], 'cancelling takes no savepoint; only the last checkpoint is retained');

    await sim.api('PATCH', 'deployments/lifecycle', { body: { spec: { state: 'RUNNING' } } });
    truth = await settled('lifecycle');
    assert.equal(truth.jobs.length, 2);

    await sim.api('PATCH', 'deployments/lifecycle', { body: { spec: { state: 'SUSPENDED' } } });
    truth = await settled('lifecycle', 'SUSPENDED');
    const suspendSavepoints = truth.savepoints.filter((s) => s.origin === 'SUSPEND');
    assert.equal(suspendSavepoints.length, 1);
    assert.equal(truth.savepoints.length, 2, 'a suspended job leaves no retained checkpoint: it has a savepoint');
    assert.ok(truth.events.includes('CREATING_A_SAVEPOINT_BEFORE_SUSPENSION'));
    assert.ok(truth.events.includes('FOUND_A_COMPLETED_SAVEPOINT_READY_FOR_SUSPENSION'));

    await sim.api('PATCH', 'deployments/lifecycle', { body: { spec: { state: 'RUNNING' } } });
    truth = await settled('lifecycle');
    assert.equal(truth.runningJob?.savepointLocation, suspendSavepoints[0].savepointLocation);
  });

  it('restarts the transition when the template changes again during the stale window', async () => {
    await sim.control.seedDeployment({ name: 'twice', jarUri: JAR_A, behaviour: { staleRunningMs: 400 } });
    await sim.api('PATCH', 'deployments/twice', { body: jarPatch(JAR_B) });
    await delay(50);
    await sim.api('PATCH', 'deployments/twice', { body: jarPatch(JAR_C) });
    const truth = await settled('twice');
    assert.equal(truth.jobs.length, 2, 'only one new job');
    assert.equal(truth.runningJob?.jarUri, JAR_C);
  });

  it('recovers a FAILED deployment by cancelling it', async () => {
    await sim.control.seedDeployment({ name: 'broken', jarUri: JAR_A, state: 'FAILED' });
    assert.equal((await sim.control.truth('default', 'broken')).jobs[0].state, 'FAILED');
    await sim.api('PATCH', 'deployments/broken', { body: { spec: { state: 'CANCELLED' } } });
    await settled('broken', 'CANCELLED');
  });

  it('fails a deployment whose deployment target does not exist', async () => {
    const answer = await sim.api('POST', 'deployments', { body: deploymentBody('lost-target', JAR_A, { deploymentTargetName: 'nowhere' }) });
    assert.equal(answer.status, 201);
    const truth = await settled('lost-target', 'FAILED');
    assert.ok(truth.events.includes('REFERENCED_DEPLOYMENT_TARGET_DOES_NOT_EXIST'));
    await sim.control.setConfig({ strictDeploymentTarget: true });
    assert.equal((await sim.api('POST', 'deployments', { body: deploymentBody('strict-target', JAR_A, { deploymentTargetName: 'nowhere' }) })).status, 400);
  });

  it('scales every duration by timeScale', async () => {
    await sim.control.setConfig({ timeScale: 0 });
    await sim.control.seedDeployment({ name: 'instant', jarUri: JAR_A, behaviour: { staleRunningMs: 60_000, startMs: 60_000 } });
    await sim.api('PATCH', 'deployments/instant', { body: jarPatch(JAR_B) });
    const truth = await sim.control.waitFor('default', 'instant', (t) => t.runningJob?.jarUri === JAR_B, 2000);
    assert.equal(truth.statusState, 'RUNNING');
  });
});

describe('reset', () => {
  it('restores the startup deployments and queued outcomes', async () => {
    const sim = await startTestSimulator({
      behaviour: { outcomeQueue: ['fails'] },
      deployments: [{ name: 'seeded', jarUri: JAR_A, spec: { maxJobCreationAttempts: 1 } }],
    });
    try {
      for (let round = 0; round < 2; round++) {
        assert.deepEqual((await sim.control.truth('default', 'seeded')).pendingOutcomes, ['fails']);
        await sim.api('PATCH', 'deployments/seeded', { body: jarPatch(JAR_B) });
        await sim.control.waitFor('default', 'seeded', (t) => t.statusState === 'FAILED');
        await sim.control.reset();
      }
      await sim.control.reset({ deployments: false });
      assert.equal((await sim.api('GET', 'deployments')).json.items.length, 0);
    } finally {
      await sim.stop();
    }
  });
});
