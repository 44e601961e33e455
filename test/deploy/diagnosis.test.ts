import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changeTime, eventsSince, jobsOfChange, newestFailure, newestJobNote } from '../../tasks/common/vvp/diagnosis';
import type { Job, VvpEvent } from '../../tasks/common/vvp/resources';

const job = (id: string, createdAt: string, extra: Partial<Job['status']> = {}): Job => ({ metadata: { id, createdAt }, status: { state: 'STARTED', ...extra } });
const event = (name: string, createdAt: string | undefined, message: string): VvpEvent => ({ metadata: { id: name, name, createdAt }, spec: { message } });

describe('changeTime', () => {
  it("takes VVP's timestamp of the write minus 2 s of skew", () => assert.equal(changeTime('2026-01-01T00:00:10Z', 0), Date.parse('2026-01-01T00:00:08Z')));
  it('falls back to the local send time minus a minute', () => assert.equal(changeTime(undefined, 120_000), 60_000));
});

describe('eventsSince', () => {
  it('keeps events from the change on (and undated ones), oldest first, each on one line', () => {
    const lines = eventsSince(
      [event('LATE', '2026-01-01T00:00:30Z', 'b'), event('OLD', '2026-01-01T00:00:01Z', 'a'), event('UNDATED', undefined, 'multi\nline\r\n##vso[x]'), event('EARLY', '2026-01-01T00:00:20Z', 'c')],
      Date.parse('2026-01-01T00:00:10Z'),
    );
    assert.deepEqual(lines.map((l) => l.name), ['UNDATED', 'EARLY', 'LATE']);
    assert.equal(lines[0].message, 'multi line ##vso[x]');
  });
});

describe('jobsOfChange', () => {
  const jobs = [job('old', '2026-01-01T00:00:00Z'), job('a', '2026-01-01T00:01:00Z'), job('b', '2026-01-01T00:02:00Z')];

  it('leaves out the job from before the change and jobs known before it, newest first', () => {
    assert.deepEqual(jobsOfChange(jobs, { baselineJobId: 'old', knownJobIds: new Set(['old', 'a']), sinceMs: 0 }).map((j) => j.metadata.id), ['b']);
  });

  it('uses creation time when the jobs before the change are unknown', () => {
    assert.deepEqual(jobsOfChange(jobs, { sinceMs: Date.parse('2026-01-01T00:00:30Z') }).map((j) => j.metadata.id), ['b', 'a']);
  });
});

describe('newestFailure and newestJobNote', () => {
  it("finds the newest job with a status.failure and puts VVP's text on one line", () => {
    const failed = [job('b', '2026-01-01T00:02:00Z'), job('a', '2026-01-01T00:01:00Z', { state: 'FAILED', failure: { reason: 'Boom', message: 'line1\nline2' } })];
    assert.deepEqual(newestFailure(failed), { jobId: 'a', reason: 'Boom', message: 'line1 line2', failedAt: undefined });
    assert.equal(newestFailure([job('x', '2026-01-01T00:00:00Z')]), undefined);
  });

  it('says what the newest job is doing, or that there is none', () => {
    assert.equal(newestJobNote([job('n', '2026-01-01T00:00:00Z', { state: 'STARTING' })]), '; the newest job n is STARTING');
    assert.equal(newestJobNote([]), '; VVP has not created a new job');
  });
});
