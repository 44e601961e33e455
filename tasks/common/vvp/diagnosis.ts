/**
 * Pure decisions about what explains a failed or stalled wait: which events and which jobs
 * belong to this step's change. Table-tested; the phases only fetch and pass the lists in.
 */
import { oneLine, type EventLine, type JobFailure } from './errors';
import type { Job, VvpEvent } from './resources';

/** Allowed difference between VVP's timestamp of a write and of the events it caused. */
const EVENT_SKEW_MS = 2_000;
/** When VVP gives no timestamp, events are taken from this long before the local send time. */
export const LOCAL_SKEW_MS = 60_000;

/** VVP's time of a write (minus skew), or the local send time minus a wider skew. */
export function changeTime(timestamp: string | undefined, localSendMs: number): number {
  const parsed = Date.parse(timestamp ?? '');
  return Number.isNaN(parsed) ? localSendMs - LOCAL_SKEW_MS : parsed - EVENT_SKEW_MS;
}

/** Events created at or after `sinceMs` (VVP time; undated ones kept), oldest first, server text on one line. */
export function eventsSince(events: readonly VvpEvent[], sinceMs: number): EventLine[] {
  return events
    .map((event) => ({ event, at: Date.parse(event.metadata.createdAt ?? '') }))
    .filter(({ at }) => Number.isNaN(at) || at >= sinceMs)
    .sort((a, b) => (a.at || 0) - (b.at || 0))
    .map(({ event }) => ({
      createdAt: clean(event.metadata.createdAt),
      name: clean(event.metadata.name),
      jobId: clean(event.metadata.jobId),
      message: oneLine(event.spec?.message ?? ''),
    }));
}

/** Which jobs a change created: not the job from before it, and new since it. */
export interface ChangeJobs {
  /** The job running before the change. */
  baselineJobId?: string;
  /** Jobs that existed before the change; when known, "new" means "not among them". */
  knownJobIds?: ReadonlySet<string>;
  /** Else: created at or after this VVP time. */
  sinceMs: number;
}

/** Jobs created by the change, newest first. */
export function jobsOfChange(jobs: readonly Job[], change: ChangeJobs): Job[] {
  return jobs
    .filter((job) => {
      if (job.metadata.id === change.baselineJobId) return false;
      if (change.knownJobIds) return !change.knownJobIds.has(job.metadata.id);
      const created = Date.parse(job.metadata.createdAt ?? '');
      return Number.isNaN(created) || created >= change.sinceMs;
    })
    .sort((a, b) => (Date.parse(b.metadata.createdAt ?? '') || 0) - (Date.parse(a.metadata.createdAt ?? '') || 0));
}

/** The `status.failure` of the newest job (of a newest-first list) that has one; its message keeps its lines (a stack trace). */
export function newestFailure(jobs: readonly Job[]): JobFailure | undefined {
  const failed = jobs.find((job) => job.status?.failure);
  const failure = failed?.status?.failure;
  if (!failed || !failure) return undefined;
  return { jobId: oneLine(failed.metadata.id), reason: clean(failure.reason), message: failure.message ?? undefined, failedAt: clean(failure.failedAt) };
}

/** "; the newest job 1a2b… is STARTING" for timeout messages, or that VVP created none. */
export function newestJobNote(jobs: readonly Job[]): string {
  const newest = jobs[0];
  if (!newest) return '; VVP has not created a new job';
  return `; the newest job ${oneLine(newest.metadata.id)} is ${clean(newest.status?.state) ?? 'in an unknown state'}`;
}

function clean(text: string | null | undefined): string | undefined {
  return text === undefined || text === null ? undefined : oneLine(text);
}

/** Event names (VVP's enum) that report a failure, an error or a restart rather than a routine step. */
const FAILURE_EVENT_NAME = /FAIL|ERROR|UNRECOVERABLE|TOO_MANY|DOES_NOT_EXIST|EXCEEDED|MULTIPLE_NON_TERMINAL|MISSING|RESTART|UNREACHABLE/;
/** Text of an event that is not a routine step (`EXTERNAL`, names newer than these) and reports a failure. */
const FAILURE_TEXT = /exception|error|fail|restart|unreachable|caused by/i;
/** The steps of an upgrade, a suspend or a start that went as planned (API-NOTES §7). */
const ROUTINE_EVENTS = new Set([
  'STATE_TRANSITION_IS_NEEDED',
  'USING_AN_UPGRADE_STRATEGY',
  'NEED_TO_TRIGGER_A_SAVEPOINT',
  'SUCCESSFULLY_TRIGGERED_A_SAVEPOINT',
  'AWAITING_FOR_A_SAVEPOINT_TO_COMPLETE',
  'CREATING_A_SAVEPOINT_BEFORE_SUSPENSION',
  'AWAITING_SAVEPOINT_COMPLETION_TO_TRANSITION_TO_SUSPENDED',
  'FOUND_A_COMPLETED_SAVEPOINT_READY_FOR_SUSPENSION',
  'FOUND_AN_OLD_JOB_AND_WILL_TERMINATE_IT',
  'FOUND_A_JOB_TO_TERMINATE',
  'AWAITING_A_JOB_TO_TERMINATE',
  'AWAIT_FOR_A_CLUSTER_TO_TEARDOWN',
  'CREATING_A_NEW_JOB',
  'SPINNING_UP_A_CLUSTER_FOR_A_JOB',
  'AWAITING_FOR_A_CLUSTER_TO_SPIN_UP',
  'AWAITING_A_JOB_TO_START',
  'JOB_SUCCESSFULLY_STARTED',
  'STATE_TRANSITION_IS_COMPLETED',
  'JOB_SUCCESSFULLY_FINISHED',
  'TRANSITIONED_TO_FINISHED_STATE',
]);

/**
 * The events that explain a failure: failures, errors, transitions to FAILED and restarts, not
 * the routine steps of an upgrade (savepoint triggered, new job created, transition completed).
 * An event without a name (a note that the events could not be read) is kept. Order kept.
 */
export function explainingEvents(events: readonly EventLine[]): { events: EventLine[]; routine: number } {
  const kept = events.filter((e) => {
    if (!e.name) return true;
    if (FAILURE_EVENT_NAME.test(e.name)) return true;
    return !ROUTINE_EVENTS.has(e.name) && FAILURE_TEXT.test(e.message);
  });
  return { events: kept, routine: events.length - kept.length };
}
