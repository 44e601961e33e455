/**
 * Finding the savepoint VVP took for a transition, as pure decisions. Matched by the job it was
 * taken of and by time, not by the origin VVP gives it: 2.4 names an upgrade savepoint
 * SUSPEND_AND_UPGRADE, 2.6+ SUSPEND. Only the two origins that are not taken savepoints are
 * left out: COPIED (a registration of a location) and RETAINED_CHECKPOINT (a checkpoint a
 * torn-down job left; STATELESS upgrades leave one). Table-tested.
 */
import { isJsonObject, pick, type Job, type Savepoint } from './resources';

/** Origins of Savepoint resources VVP did not take of a job. */
const NOT_TAKEN = new Set(['COPIED', 'RETAINED_CHECKPOINT']);

/** What identifies the savepoint of one transition. */
interface SavepointQuery {
  /** The job the savepoint was taken of (the job the transition replaced or stopped). */
  jobId: string;
  /** VVP time of the change; the savepoint is created at or after it. */
  sinceMs: number;
}

/**
 * The savepoint taken of `jobId` since the change: the newest COMPLETED one, else the newest
 * in any state (so a FAILED one can be reported). Undefined when there is none (STATELESS, or
 * nothing was running).
 */
export function savepointOfTransition(savepoints: readonly Savepoint[], query: SavepointQuery): Savepoint | undefined {
  const candidates = savepoints
    .filter((s) => s.metadata.jobId === query.jobId && !NOT_TAKEN.has(s.metadata.origin ?? ''))
    .filter((s) => {
      const created = Date.parse(s.metadata.createdAt ?? '');
      return Number.isNaN(created) || created >= query.sinceMs;
    })
    .sort((a, b) => (Date.parse(b.metadata.createdAt ?? '') || 0) - (Date.parse(a.metadata.createdAt ?? '') || 0));
  return candidates.find((s) => s.status?.state === 'COMPLETED') ?? candidates[0];
}

/** The state a job started from (`spec.savepointLocation`); undefined: none restored. */
export function restoredLocation(job: Job | undefined): string | undefined {
  const location = isJsonObject(job?.spec) ? pick(job.spec, 'savepointLocation') : undefined;
  return typeof location === 'string' && location !== '' ? location : undefined;
}

/** The body of `POST /savepoints` that registers a COPIED savepoint of `location` for a deployment. */
export function copiedSavepointBody(deploymentId: string, location: string): { metadata: { deploymentId: string }; spec: { savepointLocation: string } } {
  return { metadata: { deploymentId }, spec: { savepointLocation: location } };
}
