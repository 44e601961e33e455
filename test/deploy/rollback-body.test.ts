import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Deployment } from '../../tasks/common/vvp/resources';
import {
  changedBesideTheWrite,
  changesSinceWrite,
  differencesFromPrevious,
  finishedRollback,
  namesSameBlob,
  restoreBody,
  UNFINISHED_ROLLBACK_ANNOTATION,
  unfinishedRollbackOf,
  withTemporaryStrategies,
} from '../../tasks/common/vvp/rollback-body';

const previous: Deployment = {
  kind: 'Deployment',
  apiVersion: 'v1',
  metadata: {
    id: 'd-1',
    name: 'app',
    namespace: 'default',
    resourceVersion: 7,
    createdAt: '2026-01-01T00:00:00Z',
    modifiedAt: '2026-01-02T00:00:00Z',
    labels: { team: 'a' },
    annotations: { owner: 'x', 'com.dataartisans.appmanager.controller.deployment.spec.version': '7' },
  },
  spec: {
    state: 'RUNNING',
    upgradeStrategy: { kind: 'STATEFUL' },
    template: { spec: { artifact: { kind: 'JAR', jarUri: 'wasbs://c@a/app.jar?commit=old' }, parallelism: 2 } },
  },
  status: { state: 'RUNNING', running: { jobId: 'j-1' } },
};

function changed(mutate: (d: Deployment) => void): Deployment {
  const copy = structuredClone(previous);
  mutate(copy);
  return copy;
}

describe('restoreBody', () => {
  it('is the previous metadata and spec, without status and VVP bookkeeping', () => {
    const body = restoreBody(previous) as any;
    assert.deepEqual(Object.keys(body).sort(), ['apiVersion', 'kind', 'metadata', 'spec']);
    assert.deepEqual(body.spec, previous.spec);
    assert.deepEqual(body.metadata, { id: 'd-1', name: 'app', namespace: 'default', labels: { team: 'a' }, annotations: previous.metadata.annotations });
  });

  it('is a copy: changing it leaves the previous deployment alone', () => {
    const body = restoreBody(previous) as any;
    body.spec.template.spec.parallelism = 9;
    assert.equal((previous.spec as any).template.spec.parallelism, 2);
  });
});

describe('the path comparison behind every rollback check', () => {
  for (const [label, before, after, expected] of [
    ['equal values', { a: 1 }, { a: 1 }, []],
    ['a changed scalar', { a: 1 }, { a: 2 }, ['spec.a']],
    ['an added field', { a: 1 }, { a: 1, b: { c: 1 } }, ['spec.b']],
    ['a removed nested field', { t: { x: 1, y: 2 } }, { t: { x: 1 } }, ['spec.t.y']],
    ['a changed array as a whole', { l: [1, 2] }, { l: [1, 3] }, ['spec.l']],
    ['key order only', { a: 1, b: 2 }, { b: 2, a: 1 }, []],
  ] as const) {
    it(`finds ${label}`, () => {
      const of = (spec: object): Deployment => ({ kind: 'Deployment', metadata: { id: 'd-1', name: 'app' }, spec: spec as any });
      assert.deepEqual(differencesFromPrevious(of(before), of(after)), expected);
    });
  }
});

describe('changesSinceWrite', () => {
  it('is empty while the deployment holds what the step wrote, whatever VVP does to status and its own annotations', () => {
    const now = changed((d) => {
      d.status = { state: 'FAILED' };
      d.metadata.resourceVersion = 12;
      d.metadata.annotations = { ...d.metadata.annotations, 'com.dataartisans.appmanager.controller.deployment.transitioning': 'true' };
    });
    assert.deepEqual(changesSinceWrite(previous, now), []);
  });

  it('names a spec field someone else changed after the write, not only the jarUri', () => {
    const now = changed((d) => ((d.spec as any).template.spec.parallelism = 4));
    assert.deepEqual(changesSinceWrite(previous, now), ['spec.template.spec.parallelism']);
  });

  it('names a label someone else added', () => {
    const now = changed((d) => (d.metadata.labels = { team: 'a', env: 'prod' }));
    assert.deepEqual(changesSinceWrite(previous, now), ['metadata.labels.env']);
  });
});

describe('differencesFromPrevious', () => {
  it('finds fields the failed change added to the template, which a merge PATCH of the old template would keep', () => {
    const now = changed((d) => ((d.spec as any).template.spec.flinkConfiguration = { 'state.backend': 'rocksdb' }));
    assert.deepEqual(differencesFromPrevious(previous, now), ['spec.template.spec.flinkConfiguration']);
  });

  it('finds spec fields outside the template and annotations the change set', () => {
    const now = changed((d) => {
      (d.spec as any).upgradeStrategy = { kind: 'STATELESS' };
      d.metadata.annotations = { ...d.metadata.annotations, 'azure-pipelines/run': '20260101.1' };
    });
    assert.deepEqual(differencesFromPrevious(previous, now), ['spec.upgradeStrategy.kind', 'metadata.annotations.azure-pipelines/run']);
  });
});

describe('the unfinished-rollback record', () => {
  const base: Deployment = { metadata: { id: 'd-1', annotations: { owner: 'x' } }, spec: { upgradeStrategy: { kind: 'STATEFUL' }, restoreStrategy: { kind: 'LATEST_STATE', allowNonRestoredState: true } } };

  it('records the strategies from before the step and sets the temporary ones, other restore fields kept', () => {
    const temporary = withTemporaryStrategies(base, { run: 'https://run/1', at: '2026-12-06T00:00:00Z' });
    assert.deepEqual(temporary.spec.upgradeStrategy, { kind: 'STATELESS' });
    assert.deepEqual(temporary.spec.restoreStrategy, { kind: 'LATEST_SAVEPOINT', allowNonRestoredState: true });
    assert.deepEqual(unfinishedRollbackOf(temporary), { upgradeStrategy: { kind: 'STATEFUL' }, restoreStrategy: { kind: 'LATEST_STATE', allowNonRestoredState: true }, run: 'https://run/1', at: '2026-12-06T00:00:00Z' });
    assert.equal(temporary.metadata.annotations?.owner, 'x');
    assert.deepEqual(withTemporaryStrategies(base, {}, 'NONE').spec.restoreStrategy, { kind: 'NONE', allowNonRestoredState: true });
  });

  it('keeps what an earlier record says when the deployment still carries one (its strategies are the temporary ones)', () => {
    const once = withTemporaryStrategies(base, { run: 'https://run/1' });
    const twice = withTemporaryStrategies(once, { run: 'https://run/2' });
    assert.deepEqual(unfinishedRollbackOf(twice)?.upgradeStrategy, { kind: 'STATEFUL' });
    assert.equal(unfinishedRollbackOf(twice)?.run, 'https://run/2');
  });

  it('puts the recorded strategies back and removes the annotation; strategies the step sets itself are kept', () => {
    const temporary = withTemporaryStrategies(base, {});
    const record = unfinishedRollbackOf(temporary)!;
    const finished = finishedRollback(temporary, record);
    assert.deepEqual(finished.spec, base.spec);
    assert.equal(finished.metadata.annotations?.[UNFINISHED_ROLLBACK_ANNOTATION], undefined);
    assert.deepEqual(finishedRollback(temporary, record, { upgradeStrategy: true }).spec.upgradeStrategy, { kind: 'STATELESS' });
    assert.equal(finishedRollback({ ...temporary, spec: { ...temporary.spec } }, {}).spec.upgradeStrategy, undefined, 'an unset strategy stays unset');
  });

  it('reads a hand-edited annotation as a record without strategies, and none when absent', () => {
    assert.deepEqual(unfinishedRollbackOf({ ...base, metadata: { id: 'd', annotations: { [UNFINISHED_ROLLBACK_ANNOTATION]: 'not json' } } }), {});
    assert.equal(unfinishedRollbackOf(base), undefined);
  });
});

describe('namesSameBlob', () => {
  const cases: [string | undefined, string, boolean][] = [
    ['wasbs://c@a/x/app.jar?commit=1', 'wasbs://c@a/x/app.jar?commit=2', true],
    ['wasbs://c@a/x/app.jar', 'wasbs://c@a/x/app.jar?commit=2', true],
    ['wasbs://c@a/x/app-1.jar?commit=1', 'wasbs://c@a/x/app-2.jar?commit=2', false],
    ['wasbs://c@a/x/app.jar?commit=1', 'wasbs://c@a/x/app.jar?commit=1', false],
    [undefined, 'wasbs://c@a/x/app.jar', false],
  ];
  for (const [before, after, expected] of cases) {
    it(`${expected ? 'sees' : 'does not see'} the same blob in ${before ?? '(none)'} and ${after}`, () => assert.equal(namesSameBlob(before, after), expected));
  }
});

describe('changedBesideTheWrite', () => {
  it('names the fields someone else changed between the read and the write, not the ones the write set', () => {
    const read: Deployment = { metadata: { id: 'd', labels: { a: '1' } }, spec: { template: { spec: { parallelism: 1, artifact: { jarUri: 'old' } } } } };
    const body = { spec: { template: { spec: { artifact: { jarUri: 'new' } } } }, metadata: { annotations: { 'azure-pipelines/run': '7' } } };
    const written: Deployment = { metadata: { id: 'd', labels: { a: '1' }, annotations: { 'azure-pipelines/run': '7' } }, spec: { template: { spec: { parallelism: 4, artifact: { jarUri: 'new' } } } } };
    assert.deepEqual(changedBesideTheWrite(read, body, written), ['spec.template.spec.parallelism']);
    assert.deepEqual(changedBesideTheWrite(read, body, { ...written, spec: { template: { spec: { parallelism: 1, artifact: { jarUri: 'new' } } } } }), []);
  });
});
