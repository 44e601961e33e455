import { DeploymentFailedError, formatDuration, oneLine, WaitTimeoutError } from '../../../common/vvp/errors';
import type { Deployment, Savepoint } from '../../../common/vvp/resources';
import type { UnfinishedRollback } from '../../../common/vvp/rollback-body';
import type { Run } from '../flow';
import { awaitJob, type JobTarget } from './await-job';
import { explainWait } from './explain';
import { watchHealth } from './health';
import { findTransitionSavepoint } from './savepoint';
import { finishOnceRunning } from './unfinished-rollback';

const GROUP_WAIT = 'Wait for the new job';
const GROUP_HEALTH = 'Health check';
export const GROUP_FINISH = 'Finish an unfinished rollback';

/** The job a write should lead to, and what to do around the wait. */
interface NewJobTarget extends JobTarget {
  /** VVP's time of the write: events, jobs and savepoints from then on belong to it. */
  sinceMs: number;
  /** A line to log first in the wait's group. */
  note?: string;
  /** The job the write replaces: the savepoint VVP took of it (STATEFUL) is looked up and reported. */
  replacedJobId?: string;
  /** An earlier rollback's record still open: finished once the new job runs. */
  pending?: UnfinishedRollback;
  /** Strategies this step sets itself: finishing `pending` does not put those back. */
  keep?: { upgradeStrategy?: boolean; restoreStrategy?: boolean };
}

/** How the new job did: running (and healthy, when checked), or why not. */
export type NewJob = {
  /** The deployment as the wait last read it. */
  last?: Deployment;
  /** The savepoint VVP took of the replaced job, when asked for and found. */
  upgradeSavepoint?: Savepoint;
  /** The state the new job restored (`spec.savepointLocation`); undefined: none or not seen. */
  restoredFrom?: string;
} & (
  | { kind: 'running'; jobId: string; waitedInMs: number; healthRestarts?: number }
  | { kind: 'failed'; error: DeploymentFailedError | WaitTimeoutError; jobId?: string; startedWithoutState: boolean }
);

/**
 * Waits for the new job, reports the upgrade savepoint and the state the job restored, finishes
 * an earlier rollback's record once it runs, then (with `healthCheckSeconds`) watches it. The
 * deploy and the resume end the same way.
 */
export async function runNewJob(run: Run, target: NewJobTarget): Promise<NewJob> {
  const { context } = run;
  const { config, logger } = context;
  const { waited, upgradeSavepoint, waitFailure } = await run.group(GROUP_WAIT, async () => {
    if (target.note) logger.info(target.note);
    const result = await awaitJob(context, target);
    // The savepoint VVP took of the job this change replaced (STATEFUL), also when the new job failed.
    const savepoint = target.replacedJobId
      ? await findTransitionSavepoint(context, target.deploymentId, target.replacedJobId, target.sinceMs, 'the upgrade savepoint of the previous job')
      : undefined;
    if (result.outcome.kind === 'succeeded') {
      const restored = result.outcome.last.runningJob?.restoredFrom;
      const jobId = oneLine(result.outcome.result.jobId);
      const from = restored === undefined ? undefined : restored === savepoint?.spec?.savepointLocation ? 'the upgrade savepoint' : oneLine(restored);
      logger.info(from ? `The new job ${jobId} restored its state from ${from}.` : `The new job ${jobId} started without restored state.`);
    }
    // The failure's explanation is read right after the wait.
    const explained = result.outcome.kind === 'succeeded' ? undefined : await explainWait(context, target, result, target.sinceMs);
    return { waited: result, upgradeSavepoint: savepoint, waitFailure: explained };
  });
  if (waited.lastDeployment) run.seen(waited.lastDeployment);
  const restoredFrom = waited.outcome.last?.runningJob?.restoredFrom;
  const common = { last: waited.lastDeployment, upgradeSavepoint, restoredFrom };
  if (waited.outcome.kind !== 'succeeded') {
    if (!waitFailure) throw new Error('a wait that did not succeed is explained');
    return { ...common, kind: 'failed', error: waitFailure, startedWithoutState: false };
  }
  const jobId = waited.outcome.result.jobId;
  if (target.pending) {
    // The job of this change runs: what the earlier rollback left can be put back now.
    const record = target.pending;
    await run.group(GROUP_FINISH, () => finishOnceRunning(context, target.deploymentId, record, target.keep ?? {}));
  }
  const waitedInMs = waited.outcome.elapsedInMs;
  if (config.healthCheckInMs <= 0) return { ...common, kind: 'running', jobId, waitedInMs };
  const health = await run.group(GROUP_HEALTH, () => watchHealth(context, { deploymentId: target.deploymentId, deploymentName: target.deploymentName, jobId, sinceMs: target.sinceMs }));
  if (health.kind === 'healthy') return { ...common, kind: 'running', jobId, waitedInMs, healthRestarts: health.restarts };
  return { ...common, kind: 'failed', error: health.error, jobId, startedWithoutState: restoredFrom === undefined };
}

/** "; healthy for 2 min with 0 restarts", or nothing without a health check. */
export function healthyFor(healthCheckInMs: number, job: { healthRestarts?: number }): string {
  if (job.healthRestarts === undefined) return '';
  return `; healthy for ${formatDuration(healthCheckInMs)} with ${job.healthRestarts} restart${job.healthRestarts === 1 ? '' : 's'}`;
}
