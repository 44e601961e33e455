import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyUpgrade, type UpgradeExpectation, type UpgradeObservation } from '../../tasks/common/vvp/classify';
import type { DeploymentState, JobState } from '../../tasks/common/vvp/resources';

/** Every documented state (swagger enums), to run the classifier over all of them. */
const DEPLOYMENT_STATES: readonly DeploymentState[] = ['RUNNING', 'SUSPENDED', 'CANCELLED', 'TRANSITIONING', 'FAILED', 'FINISHED'];
const JOB_STATES: readonly JobState[] = ['STARTING', 'STANDBY', 'STARTED', 'TERMINATING', 'FAILED', 'TERMINATED', 'FINISHED'];


const NEW_JAR = 'wasbs://c@a.blob.core.windows.net/app.jar?commit=new';
const OLD_JOB = '11111111-1111-1111-1111-111111111111';
const NEW_JOB = '22222222-2222-2222-2222-222222222222';

const expectation: UpgradeExpectation = { jarUri: NEW_JAR, baselineJobId: OLD_JOB, baselineState: 'RUNNING', requireNewJob: true };

type Letter = 's' | 'p' | 'f';
type JobColumn = (typeof JOB_STATES)[number] | 'not read';
const COLUMNS: JobColumn[] = [...JOB_STATES, 'not read'];

/**
 * Expected verdict per deployment state (rows) × running job state (columns), for the job id
 * changed or not. s = succeeded, p = pending, f = failed. The job runs the expected jarUri.
 * Columns: STARTING STANDBY STARTED TERMINATING FAILED TERMINATED FINISHED not-read
 */
const TABLE: Record<string, { changed: string; same: string }> = {
  RUNNING: { changed: 'p p s p f p f p', same: 'p p p p p p p p' },
  TRANSITIONING: { changed: 'p p p p p p p p', same: 'p p p p p p p p' },
  FAILED: { changed: 'f f f f f f f f', same: 'f f f f f f f f' },
  CANCELLED: { changed: 'f f f f f f f f', same: 'f f f f f f f f' },
  SUSPENDED: { changed: 'f f f f f f f f', same: 'f f f f f f f f' },
  FINISHED: { changed: 'f f f f f f f f', same: 'f f f f f f f f' },
};

function observe(state: string, jobState: JobColumn, jobIdChanged: boolean, extra: Partial<UpgradeObservation> = {}): UpgradeObservation {
  const runningJobId = jobIdChanged ? NEW_JOB : OLD_JOB;
  return {
    state,
    desiredState: 'RUNNING',
    runningJobId,
    runningJob: jobState === 'not read' ? undefined : { id: runningJobId, state: jobState, jarUri: NEW_JAR },
    changeObserved: true,
    ...extra,
  };
}

describe('classifyUpgrade: deployment state × job state × job id changed', () => {
  it('covers every deployment state', () => assert.deepEqual(Object.keys(TABLE).sort(), [...DEPLOYMENT_STATES].sort()));
  for (const [state, rows] of Object.entries(TABLE)) {
    for (const changed of [true, false]) {
      const letters = (changed ? rows.changed : rows.same).split(' ') as Letter[];
      COLUMNS.forEach((jobState, i) => {
        const expected = { s: 'succeeded', p: 'pending', f: 'failed' }[letters[i]];
        it(`${state} with ${changed ? 'a new' : 'the old'} job ${jobState} → ${expected}`, () => {
          assert.equal(classifyUpgrade(observe(state, jobState, changed), expectation).status, expected);
        });
      });
    }
  }
});

describe('classifyUpgrade: the details that matter', () => {
  it('treats a RUNNING read just after the change (old job id) as "upgrade not started", even if that job is STARTED', () => {
    const v = classifyUpgrade(observe('RUNNING', 'STARTED', false), expectation);
    assert.equal(v.status, 'pending');
    assert.equal(v.status === 'pending' && v.phase, 'waiting for VVP to start the upgrade');
    assert.match(v.state, /still job 11111111 from before the change/);
  });

  it('does not succeed when the new job runs another jarUri', () => {
    const obs = observe('RUNNING', 'STARTED', true);
    obs.runningJob = { id: NEW_JOB, state: 'STARTED', jarUri: `${NEW_JAR}x` };
    const v = classifyUpgrade(obs, expectation);
    assert.equal(v.status, 'pending');
    assert.match(v.state, /not the expected one/);
  });

  it('compares the jarUri exactly, query string included', () => {
    const obs = observe('RUNNING', 'STARTED', true);
    obs.runningJob = { id: NEW_JOB, state: 'STARTED', jarUri: NEW_JAR.replace('commit=new', 'commit=old') };
    assert.equal(classifyUpgrade(obs, expectation).status, 'pending');
  });

  it('returns the new job id on success', () => {
    const v = classifyUpgrade(observe('RUNNING', 'STARTED', true), expectation);
    assert.deepEqual(v.status === 'succeeded' && v.result, { jobId: NEW_JOB });
  });

  it('ignores a job read for another id than the running one', () => {
    const obs = observe('RUNNING', 'STARTED', true);
    obs.runningJob = { id: OLD_JOB, state: 'STARTED', jarUri: NEW_JAR };
    assert.equal(classifyUpgrade(obs, expectation).status, 'pending');
  });

  it('accepts the same job id when no new job is required (e.g. a create or a wait without change)', () => {
    const v = classifyUpgrade(observe('RUNNING', 'STARTED', false), { ...expectation, requireNewJob: false });
    assert.equal(v.status, 'succeeded');
  });

  it('waits while RUNNING has no job id yet', () => {
    const v = classifyUpgrade({ state: 'RUNNING', desiredState: 'RUNNING', runningJobId: undefined, changeObserved: true }, expectation);
    assert.equal(v.status, 'pending');
  });

  it('names the transition phase for TRANSITIONING and the job phase for a starting job', () => {
    const t = classifyUpgrade(observe('TRANSITIONING', 'not read', false), expectation);
    assert.equal(t.status === 'pending' && t.phase, 'waiting for VVP to finish the transition');
    const j = classifyUpgrade(observe('RUNNING', 'STARTING', true), expectation);
    assert.equal(j.status === 'pending' && j.phase, 'waiting for the new job to start');
  });

  for (const bad of ['FAILED', 'CANCELLED', 'SUSPENDED', 'FINISHED']) {
    it(`treats ${bad} equal to the state before the change as stale until VVP visibly acts`, () => {
      const exp = { ...expectation, baselineState: bad, baselineJobId: undefined };
      const stale = classifyUpgrade({ state: bad, desiredState: 'RUNNING', runningJobId: undefined, changeObserved: false }, exp);
      assert.equal(stale.status, 'pending');
      assert.equal(stale.status === 'pending' && stale.phase, 'waiting for VVP to start the upgrade');
      const real = classifyUpgrade({ state: bad, desiredState: 'RUNNING', runningJobId: undefined, changeObserved: true }, exp);
      assert.equal(real.status, 'failed');
    });
  }

  it('fails at once on FAILED when the state before the change was RUNNING', () => {
    const v = classifyUpgrade({ state: 'FAILED', desiredState: 'RUNNING', runningJobId: undefined, changeObserved: false }, expectation);
    assert.equal(v.status, 'failed');
    assert.equal(v.status === 'failed' && v.reason, 'the deployment is FAILED');
  });

  it('says RUNNING was wanted for CANCELLED, SUSPENDED and FINISHED', () => {
    for (const s of ['CANCELLED', 'SUSPENDED', 'FINISHED']) {
      const v = classifyUpgrade(observe(s, 'not read', true), expectation);
      assert.match(v.status === 'failed' ? v.reason : '', new RegExp(`${s} while RUNNING is wanted`));
    }
  });

  it('fails when the desired state is no longer RUNNING, whatever the observed state', () => {
    for (const s of [...DEPLOYMENT_STATES, undefined]) {
      const v = classifyUpgrade(observe(String(s), 'STARTED', true, { state: s, desiredState: 'SUSPENDED' }), expectation);
      assert.equal(v.status, 'failed', String(s));
    }
  });

  it('keeps waiting on a deployment or job state it does not know', () => {
    assert.equal(classifyUpgrade(observe('UPGRADING', 'not read', true), expectation).status, 'pending');
    const obs = observe('RUNNING', 'STARTED', true);
    obs.runningJob = { id: NEW_JOB, state: 'WARMING_UP', jarUri: NEW_JAR };
    assert.equal(classifyUpgrade(obs, expectation).status, 'pending');
    assert.equal(classifyUpgrade({ state: undefined, desiredState: 'RUNNING', runningJobId: undefined, changeObserved: false }, expectation).status, 'pending');
  });

  it('gives a state text without counters or times, so progress logs only real changes', () => {
    const a = classifyUpgrade(observe('RUNNING', 'STARTING', true), expectation);
    const b = classifyUpgrade(observe('RUNNING', 'STARTING', true), expectation);
    assert.equal(a.state, b.state);
  });

  it('waits when VVP still reports a bad state but a job created after the change is already starting', () => {
    for (const state of ['FAILED', 'CANCELLED', 'SUSPENDED', 'FINISHED']) {
      const v = classifyUpgrade(observe(state, 'not read', false, { newJobActive: true }), expectation);
      assert.equal(v.status, 'pending', state);
      assert.equal(v.status === 'pending' && v.phase, 'waiting for VVP to finish the transition');
      assert.match(v.state, /a new job is starting/);
    }
  });

  it('fails on a bad state once no new job is active any more', () => {
    const v = classifyUpgrade(observe('FAILED', 'not read', false, { newJobActive: false }), expectation);
    assert.equal(v.status, 'failed');
  });
});
