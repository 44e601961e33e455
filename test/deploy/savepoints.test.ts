import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Savepoint } from '../../tasks/common/vvp/resources';
import { copiedSavepointBody, restoredLocation, savepointOfTransition } from '../../tasks/common/vvp/savepoints';

const sp = (id: string, jobId: string | undefined, createdAt: string, origin: string, state = 'COMPLETED'): Savepoint => ({
  metadata: { id, jobId, createdAt, origin },
  spec: { savepointLocation: `s3://sp/${id}` },
  status: { state },
});
const SINCE = Date.parse('2026-01-01T00:01:00Z');

describe('savepointOfTransition', () => {
  it('finds the savepoint of the previous job taken since the change, whatever VVP version named its origin', () => {
    for (const origin of ['SUSPEND', 'SUSPEND_AND_UPGRADE']) {
      const found = savepointOfTransition([sp('old', 'j1', '2026-01-01T00:00:00Z', origin), sp('up', 'j1', '2026-01-01T00:01:05Z', origin)], { jobId: 'j1', sinceMs: SINCE });
      assert.equal(found?.metadata.id, 'up', origin);
    }
  });

  it('ignores savepoints of other jobs, COPIED registrations and retained checkpoints', () => {
    const found = savepointOfTransition(
      [sp('other', 'j2', '2026-01-01T00:01:05Z', 'SUSPEND'), sp('copy', undefined, '2026-01-01T00:01:06Z', 'COPIED'), sp('ckpt', 'j1', '2026-01-01T00:01:07Z', 'RETAINED_CHECKPOINT')],
      { jobId: 'j1', sinceMs: SINCE },
    );
    assert.equal(found, undefined);
  });

  it('prefers a COMPLETED savepoint and reports a FAILED one when there is no other', () => {
    const failed = sp('f', 'j1', '2026-01-01T00:01:09Z', 'SUSPEND', 'FAILED');
    assert.equal(savepointOfTransition([failed, sp('ok', 'j1', '2026-01-01T00:01:05Z', 'SUSPEND')], { jobId: 'j1', sinceMs: SINCE })?.metadata.id, 'ok');
    assert.equal(savepointOfTransition([failed], { jobId: 'j1', sinceMs: SINCE })?.metadata.id, 'f');
  });
});

describe('restoredLocation and copiedSavepointBody', () => {
  it('reads the location a job restored, and nothing for an empty one', () => {
    assert.equal(restoredLocation({ metadata: { id: 'j' }, spec: { savepointLocation: 's3://x' } }), 's3://x');
    assert.equal(restoredLocation({ metadata: { id: 'j' }, spec: { savepointLocation: '' } }), undefined);
    assert.equal(restoredLocation(undefined), undefined);
  });

  it('registers a location for a deployment', () => {
    assert.deepEqual(copiedSavepointBody('d-1', 's3://x'), { metadata: { deploymentId: 'd-1' }, spec: { savepointLocation: 's3://x' } });
  });
});
