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

/** The `status.failure` of the newest job (of a newest-first list) that has one. */
export function newestFailure(jobs: readonly Job[]): JobFailure | undefined {
  const failed = jobs.find((job) => job.status?.failure);
  const failure = failed?.status?.failure;
  if (!failed || !failure) return undefined;
  return { jobId: oneLine(failed.metadata.id), reason: clean(failure.reason), message: clean(failure.message), failedAt: clean(failure.failedAt) };
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
