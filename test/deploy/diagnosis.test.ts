import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changeTime, eventsSince, explainingEvents, jobsOfChange, newestFailure, newestJobNote } from '../../tasks/common/vvp/diagnosis';
import { DeploymentFailedError, failureExcerpt, renderEvents } from '../../tasks/common/vvp/errors';
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
  it("finds the newest job with a status.failure and keeps the lines of VVP's text (a stack trace)", () => {
    const failed = [job('b', '2026-01-01T00:02:00Z'), job('a', '2026-01-01T00:01:00Z', { state: 'FAILED', failure: { reason: 'Boom', message: 'line1\nline2' } })];
    assert.deepEqual(newestFailure(failed), { jobId: 'a', reason: 'Boom', message: 'line1\nline2', failedAt: undefined });
    assert.equal(newestFailure([job('x', '2026-01-01T00:00:00Z')]), undefined);
  });

  it('says what the newest job is doing, or that there is none', () => {
    assert.equal(newestJobNote([job('n', '2026-01-01T00:00:00Z', { state: 'STARTING' })]), '; the newest job n is STARTING');
    assert.equal(newestJobNote([]), '; VVP has not created a new job');
  });
});

describe('explainingEvents', () => {
  const ev = (name: string | undefined, message: string) => ({ name, message, createdAt: '2026-01-01T00:00:00Z' });
  it('keeps failures, errors, transitions to FAILED and restarts, and leaves out the routine steps of an upgrade that went well', () => {
    const events = [
      ev('STATE_TRANSITION_IS_NEEDED', 'The Deployment template changed'),
      ev('SUCCESSFULLY_TRIGGERED_A_SAVEPOINT', 'Successfully triggered savepoint'),
      ev('CREATING_A_NEW_JOB', 'Creating a new job restoring from wasbs://x'),
      ev('JOB_SUCCESSFULLY_STARTED', 'Job was successfully started'),
      ev('TRANSITIONING_TO_FAILED_STATE_BECAUSE_JOB_NOT_STARTED', 'The job did not start'),
      ev('RECOVERABLE_FAILURE_WHILE_TRIGGERING_A_SAVEPOINT', 'attempt 1 of 3'),
      ev('EXTERNAL', 'java.lang.IllegalStateException: bad record'),
      ev('EXTERNAL', 'scaled by an operator'),
      ev(undefined, '(events could not be read: HTTP 503)'),
    ];
    const { events: kept, routine } = explainingEvents(events);
    assert.deepEqual(
      kept.map((e) => e.name ?? e.message),
      ['TRANSITIONING_TO_FAILED_STATE_BECAUSE_JOB_NOT_STARTED', 'RECOVERABLE_FAILURE_WHILE_TRIGGERING_A_SAVEPOINT', 'EXTERNAL', '(events could not be read: HTTP 503)'],
    );
    assert.equal(routine, 5);
  });

  it('says that no event reports a failure, and how many routine ones were left out, instead of listing them', () => {
    assert.equal(renderEvents([], 12), "No VVP event since the change reports a failure (12 routine events of the change left out: the deployment's event log in the VVP UI has them).");
    assert.equal(renderEvents([]), 'No VVP events since the change.');
  });
});

describe('failureExcerpt', () => {
  const trace = [
    "org.apache.flink.client.program.ProgramInvocationException: The program's entry point class 'X' was not found in the jar file.",
    ...Array.from({ length: 6 }, (_, i) => `\tat org.apache.flink.client.program.PackagedProgram.frame${i}(PackagedProgram.java:${i})`),
    'Caused by: java.lang.ClassNotFoundException: X',
    ...Array.from({ length: 40 }, (_, i) => `\tat java.base/java.net.URLClassLoader.frame${i}(URLClassLoader.java:${i})`),
  ].join('\n');

  it('keeps the failure up to and including the first Caused by and its first frames, saying how many lines are left out', () => {
    const text = failureExcerpt(trace);
    const lines = text.split('\n');
    assert.equal(lines[0], "org.apache.flink.client.program.ProgramInvocationException: The program's entry point class 'X' was not found in the jar file.");
    assert.ok(lines.includes('Caused by: java.lang.ClassNotFoundException: X'), text);
    assert.ok(lines.includes('at java.base/java.net.URLClassLoader.frame2(URLClassLoader.java:2)'), text);
    assert.ok(!text.includes('frame3(URLClassLoader'), text);
    assert.ok(!text.includes('frame3(PackagedProgram'), 'the frames before the cause are cut to the first ones');
    assert.equal(lines.at(-1), '… (37 more lines)');
  });

  it('is bounded to 2,000 characters however long the cause is', () => {
    const long = failureExcerpt(`Caused by: ${'x'.repeat(5000)}`);
    assert.ok(long.length < 2100, String(long.length));
  });

  it('renders a job failure with its cause on lines of their own', () => {
    const rendered = new DeploymentFailedError({ kind: 'job', deployment: 'd', namespace: 'n', reason: 'the new job FAILED', failure: { jobId: 'job-1', reason: 'JobSubmissionFailed', message: trace }, events: [] }).message.split('\n').slice(1).join('\n');
    assert.match(rendered, /^Job job-1 failed: JobSubmissionFailed:\n {4}org\.apache/);
    assert.match(rendered, /\n {4}Caused by: java\.lang\.ClassNotFoundException: X\n/);
  });
});
