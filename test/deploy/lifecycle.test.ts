import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyStateChange, decideLifecycle, type LifecycleAction } from '../../tasks/common/vvp/lifecycle';
import type { Deployment } from '../../tasks/common/vvp/resources';

const deployment = (desired: string, observed: string, jobId?: string): Deployment => ({
  metadata: { id: 'd-1', name: 'app' },
  spec: { state: desired },
  status: { state: observed, ...(jobId ? { running: { jobId } } : {}) },
});

describe('decideLifecycle', () => {
  for (const [action, d, kind, detail] of [
    ['suspend', deployment('RUNNING', 'RUNNING', 'j'), 'setState', 'SUSPENDED'],
    ['suspend', deployment('SUSPENDED', 'SUSPENDED'), 'noop', /already suspended/],
    ['suspend', deployment('SUSPENDED', 'TRANSITIONING'), 'setState', 'SUSPENDED'],
    ['cancel', deployment('RUNNING', 'FAILED'), 'setState', 'CANCELLED'],
    ['cancel', deployment('CANCELLED', 'CANCELLED'), 'noop', /already cancelled/],
    ['resume', deployment('SUSPENDED', 'SUSPENDED'), 'setState', 'RUNNING'],
    ['resume', deployment('RUNNING', 'RUNNING', 'j'), 'noop', /already running \(job j\)/],
    ['resume', deployment('RUNNING', 'FAILED'), 'refuse', /Cancel it first/],
    ['savepoint', deployment('RUNNING', 'RUNNING', 'j'), 'savepoint', 'j'],
    ['savepoint', deployment('SUSPENDED', 'SUSPENDED'), 'refuse', /no job to take a savepoint of/],
    ['delete', deployment('CANCELLED', 'CANCELLED'), 'delete', undefined],
    ['delete', deployment('SUSPENDED', 'SUSPENDED'), 'delete', undefined],
    ['delete', deployment('RUNNING', 'RUNNING', 'j'), 'setState', 'CANCELLED'],
  ] as const) {
    it(`${action} on ${d.spec.state}/${d.status?.state}: ${kind}`, () => {
      const decision = decideLifecycle(action as LifecycleAction, d);
      assert.equal(decision.kind, kind);
      if (decision.kind === 'setState') assert.equal(decision.state, detail);
      if (decision.kind === 'savepoint') assert.equal(decision.jobId, detail);
      if (decision.kind === 'noop' || decision.kind === 'refuse') assert.match(decision.reason, detail as RegExp);
    });
  }

  it('succeeds on deleting a deployment that does not exist, and refuses the other actions', () => {
    assert.equal(decideLifecycle('delete', undefined).kind, 'noop');
    for (const action of ['suspend', 'resume', 'cancel', 'savepoint'] as const) assert.equal(decideLifecycle(action, undefined).kind, 'refuse');
  });

  it('sends only spec.state (and the restore strategy on resume when set), never the template', () => {
    const resume = decideLifecycle('resume', deployment('SUSPENDED', 'SUSPENDED'), 'LATEST_SAVEPOINT');
    assert.deepEqual(resume.kind === 'setState' ? resume.body : undefined, { spec: { state: 'RUNNING', restoreStrategy: { kind: 'LATEST_SAVEPOINT' } } });
    const suspend = decideLifecycle('suspend', deployment('RUNNING', 'RUNNING', 'j'), 'LATEST_SAVEPOINT');
    assert.deepEqual(suspend.kind === 'setState' ? suspend.body : undefined, { spec: { state: 'SUSPENDED' } });
  });
});

describe('classifyStateChange', () => {
  const exp = { wanted: 'SUSPENDED', baselineState: 'RUNNING' };
  it('waits through the stale state from before the write', () => {
    const verdict = classifyStateChange({ state: 'RUNNING', desiredState: 'SUSPENDED', changeObserved: false }, exp);
    assert.equal(verdict.status, 'pending');
    assert.match(verdict.state, /as before the change/);
  });
  it('succeeds on the wanted state', () => assert.equal(classifyStateChange({ state: 'SUSPENDED', desiredState: 'SUSPENDED', changeObserved: true }, exp).status, 'succeeded'));
  it('fails on FAILED after the change, but not on a FAILED from before it', () => {
    assert.equal(classifyStateChange({ state: 'FAILED', desiredState: 'SUSPENDED', changeObserved: true }, exp).status, 'failed');
    assert.equal(classifyStateChange({ state: 'FAILED', desiredState: 'CANCELLED', changeObserved: false }, { wanted: 'CANCELLED', baselineState: 'FAILED' }).status, 'pending');
  });
  it('fails when someone changes the desired state during the wait', () => {
    const verdict = classifyStateChange({ state: 'TRANSITIONING', desiredState: 'RUNNING', changeObserved: true }, exp);
    assert.equal(verdict.status, 'failed');
  });
});
