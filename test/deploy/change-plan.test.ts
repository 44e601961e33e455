import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planChange, type ChangePlan } from '../../tasks/common/vvp/change-plan';
import { buildPatchBody } from '../../tasks/common/vvp/deployment-spec';
import type { Deployment, Job, JsonObject } from '../../tasks/common/vvp/resources';

const OLD = 'wasbs://c@a/app.jar?commit=old';
const NEW = 'wasbs://c@a/app.jar?commit=new';
const JOB = '11111111-1111-1111-1111-111111111111';

function deployment(state: string, opts: { jar?: string; desired?: string; upgrade?: string } = {}): Deployment {
  return {
    metadata: { id: 'd-1', name: 'app', labels: { team: 'a' } },
    spec: {
      state: opts.desired ?? 'RUNNING',
      upgradeStrategy: { kind: opts.upgrade ?? 'STATEFUL' },
      template: { spec: { parallelism: 1, artifact: { kind: 'JAR', jarUri: opts.jar ?? OLD } } },
    },
    status: { state, running: state === 'RUNNING' ? { jobId: JOB } : undefined },
  };
}

function job(state: string, jar: string): Job {
  return { metadata: { id: JOB }, spec: { artifact: { jarUri: jar } }, status: { state } };
}

function plan(current: Deployment, patch: JsonObject, opts: { runningJob?: Job; wait?: boolean } = {}): ChangePlan {
  return planChange({ current, runningJob: opts.runningJob, patch, waitForRunning: opts.wait ?? true });
}

describe('planChange', () => {
  it('patches when the jarUri changes, expecting a new job', () => {
    assert.deepEqual(plan(deployment('RUNNING'), buildPatchBody(undefined, { kind: 'JAR', jarUri: NEW, additionalDependencies: [] }), { runningJob: job('STARTED', OLD) }), {
      kind: 'patch',
      templateChanges: true,
      restartExpected: true,
    });
  });

  it('is up to date (no PATCH) when RUNNING with a STARTED job running exactly the jarUri', () => {
    const p = plan(deployment('RUNNING', { jar: NEW }), buildPatchBody(undefined, { kind: 'JAR', jarUri: NEW, additionalDependencies: [] }), { runningJob: job('STARTED', NEW) });
    assert.equal(p.kind, 'upToDate');
    assert.match(p.kind === 'upToDate' ? p.reason : '', /already up to date/);
  });

  const notUpToDate: [string, Deployment, Job | undefined, ChangePlan['kind']][] = [
    ['the job is still STARTING', deployment('RUNNING', { jar: NEW }), job('STARTING', NEW), 'wait'],
    ['the job runs another jarUri', deployment('RUNNING', { jar: NEW }), job('STARTED', OLD), 'wait'],
    ['the job could not be read', deployment('RUNNING', { jar: NEW }), undefined, 'wait'],
    ['the deployment is TRANSITIONING', deployment('TRANSITIONING', { jar: NEW }), undefined, 'wait'],
    ['the deployment is FAILED', deployment('FAILED', { jar: NEW }), undefined, 'blocked'],
    ['the deployment is CANCELLED', deployment('CANCELLED', { jar: NEW }), undefined, 'blocked'],
    ['the deployment is SUSPENDED', deployment('SUSPENDED', { jar: NEW }), undefined, 'blocked'],
  ];
  for (const [why, current, runningJob, expected] of notUpToDate) {
    it(`does not PATCH the same jarUri again but ${expected === 'wait' ? 'waits' : 'refuses'} when ${why}`, () => {
      assert.equal(plan(current, buildPatchBody(undefined, { kind: 'JAR', jarUri: NEW, additionalDependencies: [] }), { runningJob }).kind, expected);
    });
  }

  it('explains that the same template does not restart a FAILED deployment', () => {
    const p = plan(deployment('FAILED', { jar: NEW }), buildPatchBody(undefined, { kind: 'JAR', jarUri: NEW, additionalDependencies: [] }));
    assert.match(p.kind === 'blocked' ? p.reason : '', /does not restart it.*new commitId/);
  });

  it('reports nothing to change without waiting when waitForRunning is off', () => {
    assert.equal(plan(deployment('FAILED', { jar: NEW }), buildPatchBody(undefined, { kind: 'JAR', jarUri: NEW, additionalDependencies: [] }), { wait: false }).kind, 'upToDate');
  });

  for (const state of ['RUNNING', 'TRANSITIONING']) {
    it(`refuses a template change under upgradeStrategy NONE while ${state}`, () => {
      const p = plan(deployment(state, { upgrade: 'NONE' }), buildPatchBody(undefined, { kind: 'JAR', jarUri: NEW, additionalDependencies: [] }));
      assert.equal(p.kind, 'blocked');
      assert.match(p.kind === 'blocked' ? p.reason : '', /upgradeStrategy is NONE.*no new job would start/);
    });
  }

  it('allows the change when the spec file switches the strategy away from NONE', () => {
    const patch = buildPatchBody({ spec: { upgradeStrategy: { kind: 'STATELESS' } } }, { kind: 'JAR', jarUri: NEW, additionalDependencies: [] });
    assert.equal(plan(deployment('RUNNING', { upgrade: 'NONE' }), patch).kind, 'patch');
  });

  it('refuses when the spec file switches the strategy to NONE on a running deployment', () => {
    const patch = buildPatchBody({ spec: { upgradeStrategy: { kind: 'NONE' } } }, { kind: 'JAR', jarUri: NEW, additionalDependencies: [] });
    assert.equal(plan(deployment('RUNNING'), patch).kind, 'blocked');
  });

  it('allows NONE on a CANCELLED deployment that the spec file starts (a start, not an upgrade)', () => {
    const patch = buildPatchBody({ spec: { state: 'RUNNING' } }, { kind: 'JAR', jarUri: NEW, additionalDependencies: [] });
    assert.equal(plan(deployment('CANCELLED', { desired: 'CANCELLED', upgrade: 'NONE' }), patch).kind, 'patch');
  });

  it('refuses to wait for a deployment whose desired state stays CANCELLED', () => {
    const p = plan(deployment('CANCELLED', { desired: 'CANCELLED' }), buildPatchBody(undefined, { kind: 'JAR', jarUri: NEW, additionalDependencies: [] }));
    assert.match(p.kind === 'blocked' ? p.reason : '', /desired state \(spec.state\) would be CANCELLED/);
  });

  it('only stores the change on a CANCELLED deployment when not waiting', () => {
    assert.equal(plan(deployment('CANCELLED', { desired: 'CANCELLED' }), buildPatchBody(undefined, { kind: 'JAR', jarUri: NEW, additionalDependencies: [] }), { wait: false }).kind, 'patch');
  });

  it('patches a FAILED deployment with a new template (that makes VVP try again)', () => {
    assert.equal(plan(deployment('FAILED'), buildPatchBody(undefined, { kind: 'JAR', jarUri: NEW, additionalDependencies: [] })).kind, 'patch');
  });

  it('patches a change outside the template without expecting a new job', () => {
    const patch = buildPatchBody({ spec: { maxJobCreationAttempts: 9 } }, { kind: 'JAR', jarUri: OLD, additionalDependencies: [] });
    assert.deepEqual(plan(deployment('RUNNING'), patch, { runningJob: job('STARTED', OLD) }), {
      kind: 'patch',
      templateChanges: false,
      restartExpected: false,
    });
  });

  it('refuses a change outside the template on a FAILED deployment when waiting (nothing would restart)', () => {
    const patch = buildPatchBody({ spec: { maxJobCreationAttempts: 9 } }, { kind: 'JAR', jarUri: OLD, additionalDependencies: [] });
    assert.equal(plan(deployment('FAILED'), patch).kind, 'blocked');
  });

  it('patches label changes from the spec file', () => {
    const patch = buildPatchBody({ metadata: { labels: { team: 'b' } } }, { kind: 'JAR', jarUri: OLD, additionalDependencies: [] });
    assert.equal(plan(deployment('RUNNING'), patch, { runningJob: job('STARTED', OLD) }).kind, 'patch');
  });

  it('sees no change when the spec file repeats what VVP stores', () => {
    const patch = buildPatchBody({ metadata: { labels: { team: 'a' } }, spec: { template: { spec: { parallelism: 1 } } } }, { kind: 'JAR', jarUri: OLD, additionalDependencies: [] });
    assert.equal(plan(deployment('RUNNING'), patch, { runningJob: job('STARTED', OLD) }).kind, 'upToDate');
  });
});
