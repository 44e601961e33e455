import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyHealth, concludeHealth, type HealthExpectation, type HealthObservation } from '../../tasks/common/vvp/health';

const exp: HealthExpectation = { jobId: 'job-1', baselineRestarts: 0, maxJobRestarts: 0 };
const obs = (over: Partial<HealthObservation> = {}, restarts = 0, jobState = 'STARTED'): HealthObservation => ({
  deploymentState: 'RUNNING',
  runningJobId: 'job-1',
  job: { id: 'job-1', state: jobState, restarts },
  conditions: [],
  ...over,
});
const failing = { type: 'JobFailing', status: 'True', reason: 'JobRestarting', message: 'java.lang.NullPointerException at Map.apply' };

describe('classifyHealth (during the window)', () => {
  for (const [label, observation, expectation, status, pattern] of [
    ['a STARTED job without restarts', obs(), exp, 'pending', /STARTED, no restarts/],
    ['a restart beyond maxJobRestarts', obs({ conditions: [failing] }, 1), exp, 'failed', /job job-1 restarted 1 time \(maxJobRestarts 0\); JobFailing: True \(JobRestarting\) — java\.lang\.NullPointerException/],
    ['a restart within maxJobRestarts', obs({ conditions: [failing] }, 1), { ...exp, maxJobRestarts: 1 }, 'pending', /restarted \(1 restart, JobFailing: True/],
    ['restarts counted from the start of the check', obs({}, 3), { ...exp, baselineRestarts: 3 }, 'pending', /no restarts/],
    ['the deployment leaving RUNNING', obs({ deploymentState: 'FAILED' }), exp, 'failed', /left RUNNING \(now FAILED\)/],
    ['another job running', obs({ runningJobId: 'job-2' }), exp, 'failed', /replaced job job-1 with job job-2/],
    ['the job leaving STARTED', obs({}, 0, 'FAILED'), exp, 'failed', /left STARTED \(now FAILED\)/],
    ['the job gone', obs({ job: undefined }), exp, 'failed', /left STARTED \(now gone\)/],
  ] as const) {
    it(`is ${status} for ${label}`, () => {
      const verdict = classifyHealth(observation, expectation);
      assert.equal(verdict.status, status);
      assert.match(verdict.status === 'failed' ? verdict.reason : verdict.state, pattern);
    });
  }

  it('keeps the same state text while nothing changes, so the log gets a line per change only', () => {
    assert.equal(classifyHealth(obs({}, 1), { ...exp, maxJobRestarts: 5 }).state, classifyHealth(obs({}, 1), { ...exp, maxJobRestarts: 5 }).state);
    assert.notEqual(classifyHealth(obs({}, 1), { ...exp, maxJobRestarts: 5 }).state, classifyHealth(obs({}, 2), { ...exp, maxJobRestarts: 5 }).state);
  });
});

describe('concludeHealth (at the end of the window)', () => {
  it('passes a job that ran the window without unhealthy conditions', () => {
    assert.deepEqual(concludeHealth(obs({}, 1), { ...exp, maxJobRestarts: 1 }), { status: 'succeeded', state: classifyHealth(obs({}, 1), { ...exp, maxJobRestarts: 1 }).state, result: { restarts: 1 } });
  });

  it('fails a job whose JobFailing or ClusterUnreachable condition is still True: it did not recover', () => {
    for (const type of ['JobFailing', 'ClusterUnreachable']) {
      const verdict = concludeHealth(obs({ conditions: [{ ...failing, type }] }, 1), { ...exp, maxJobRestarts: 1 });
      assert.equal(verdict.status, 'failed');
      assert.match(verdict.status === 'failed' ? verdict.reason : '', new RegExp(`did not recover .*${type}: True`));
    }
  });

  it('ignores conditions that are False or Unknown', () => {
    assert.equal(concludeHealth(obs({ conditions: [{ type: 'JobFailing', status: 'False' }, { type: 'ClusterUnreachable', status: 'Unknown' }] }), exp).status, 'succeeded');
  });
});
