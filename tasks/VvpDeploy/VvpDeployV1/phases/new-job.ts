import { DeploymentFailedError, formatDuration, oneLine, WaitTimeoutError } from '../../../common/vvp/errors';
import { runningJobIdOf, type Deployment, type Savepoint } from '../../../common/vvp/resources';
import type { KeptStrategies, UnfinishedRollback } from '../../../common/vvp/rollback-body';
import type { DeployResult } from '../deploy-result';
import type { Run } from '../flow';
import type { Progress } from './context';
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
  keep?: KeptStrategies;
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
  const waited = await run.group(GROUP_WAIT, async () => {
    if (target.note) logger.info(target.note);
    const { outcome, lastDeployment } = await awaitJob(context, target);
    // The savepoint VVP took of the job this change replaced (STATEFUL), also when the new job failed.
    const upgradeSavepoint = target.replacedJobId
      ? await findTransitionSavepoint(context, target.deploymentId, target.replacedJobId, target.sinceMs, 'the upgrade savepoint of the previous job')
      : undefined;
    const common = { last: lastDeployment, upgradeSavepoint, restoredFrom: outcome.last?.runningJob?.restoredFrom };
    if (outcome.kind !== 'succeeded') {
      // The failure's explanation is read right after the wait.
      return { ...common, kind: 'failed' as const, error: await explainWait(context, target, outcome, lastDeployment, target.sinceMs), startedWithoutState: false };
    }
    const jobId = outcome.result.jobId;
    const restored = common.restoredFrom;
    const from = restored === undefined ? undefined : restored === upgradeSavepoint?.spec?.savepointLocation ? 'the upgrade savepoint' : oneLine(restored);
    logger.info(from ? `The new job ${oneLine(jobId)} restored its state from ${from}.` : `The new job ${oneLine(jobId)} started without restored state.`);
    return { ...common, kind: 'running' as const, jobId, waitedInMs: outcome.elapsedInMs };
  });
  if (waited.last) run.seen(waited.last);
  if (waited.kind === 'failed') return waited;
  const { jobId, restoredFrom } = waited;
  if (target.pending) {
    // The job of this change runs: what the earlier rollback left can be put back now.
    const record = target.pending;
    await run.group(GROUP_FINISH, () => finishOnceRunning(context, target.deploymentId, record, target.keep ?? {}));
  }
  if (config.healthCheckInMs <= 0) return waited;
  const health = await run.group(GROUP_HEALTH, () => watchHealth(context, { deploymentId: target.deploymentId, deploymentName: target.deploymentName, jobId, sinceMs: target.sinceMs }));
  if (health.kind === 'healthy') return { ...waited, healthRestarts: health.restarts };
  return { ...waited, kind: 'failed', error: health.error, startedWithoutState: restoredFrom === undefined };
}

/**
 * The result fields that describe the new job: the one that runs (and passed the health check),
 * the one the health check failed (the state it saw last), or the job VVP ran when the wait ended.
 */
export function newJobFields(job: NewJob, progress: Progress): Pick<DeployResult, 'jobId' | 'state' | 'restoredFrom' | 'healthRestarts' | 'healthFailed'> {
  if (job.kind === 'running') return { jobId: job.jobId, state: 'RUNNING', restoredFrom: job.restoredFrom, healthRestarts: job.healthRestarts };
  if (job.error instanceof DeploymentFailedError && job.error.kind === 'health') {
    return { jobId: job.jobId, restoredFrom: job.restoredFrom, state: progress.lastState ?? 'RUNNING', healthFailed: { restarts: job.error.restarts } };
  }
  return job.last ? { jobId: runningJobIdOf(job.last) } : {};
}

/** "; healthy for 2 min with 0 restarts", or nothing without a health check. */
export function healthyFor(healthCheckInMs: number, job: { healthRestarts?: number }): string {
  if (job.healthRestarts === undefined) return '';
  return `; healthy for ${formatDuration(healthCheckInMs)} with ${job.healthRestarts} restart${job.healthRestarts === 1 ? '' : 's'}`;
}
