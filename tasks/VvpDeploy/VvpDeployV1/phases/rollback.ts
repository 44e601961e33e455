import { isAbortError } from '../../../common/errors/errors';
import { changeTime, jobsOfChange, newestFailure } from '../../../common/vvp/diagnosis';
import { oneLine, type RollbackReport } from '../../../common/vvp/errors';
import { jarUriOf, runningJobIdOf, type Deployment } from '../../../common/vvp/resources';
import { changesSinceWrite, differencesFromPrevious, restoreBody } from '../../../common/vvp/rollback-body';
import { sendOnce } from '../../../common/vvp/send-once';
import { awaitJob, type WaitResult } from './await-job';
import { guardJarUri, requestOptions, type FlowContext, type WriteStage } from './context';
import { readJobs } from './explain';

/** What the rollback restores and what it may overwrite. */
export interface RollbackInput {
  /** The deployment as read before the step. */
  previous: Deployment;
  /** The deployment as VVP stored it after this step's write. */
  written: Deployment;
  /** The wait that failed (its last read tells which job has to be replaced). */
  failedWait: WaitResult;
}

/** How many paths a message lists before "and N more". */
const MAX_PATHS = 8;

/**
 * Restores the deployment from before the step exactly: reads it right before writing and
 * refuses when someone changed it after this step; PUTs the previous metadata and spec once;
 * reads back and verifies; then waits (up to `timeoutMinutes` again) until the previous
 * template runs in a job of its own. `succeeded` only when that job is STARTED.
 */
export async function rollBack(context: FlowContext, stage: WriteStage, input: RollbackInput): Promise<RollbackReport> {
  const { config, vvp, clock, logger } = context;
  const { previous, written } = input;
  const id = previous.metadata.id;
  const name = oneLine(previous.metadata.name ?? config.deployment);
  const jarUri = oneLine(guardJarUri(context, jarUriOf(previous)) ?? '(none)');
  stage.stage = 'rollingBack';

  const now = await vvp.getDeployment(config.namespace, id, requestOptions(context));
  if (!now) return { outcome: 'error', jarUri, detail: 'the deployment no longer exists, so there is nothing to roll back' };
  const changed = changesSinceWrite(written, now);
  if (changed.length > 0) {
    return {
      outcome: 'refused',
      jarUri,
      detail:
        `the deployment was changed after this step wrote it (at ${oneLine(now.metadata.modifiedAt ?? 'an unknown time')}, resourceVersion ` +
        `${oneLine(String(now.metadata.resourceVersion ?? '?'))}): ${listPaths(changed)} differ from this step's change. That change is left as it is`,
    };
  }

  logger.info(`Restoring the deployment as it was before this step (jarUri ${jarUri}): a PUT of its metadata and spec.`);
  // Jobs existing now: the rolled-back job is one that is not among them.
  const before = await readJobs(context, id);
  const knownJobIds = before ? new Set(before.map((j) => j.metadata.id)) : undefined;
  const sentAtMs = clock.now();
  try {
    await sendOnce(
      {
        method: 'PUT',
        operation: `restoring deployment '${name}' in namespace '${config.namespace}'`,
        send: () => vvp.replaceDeployment(config.namespace, id, restoreBody(previous), requestOptions(context)),
        readBack: () => vvp.getDeployment(config.namespace, id, requestOptions(context)),
        applied: (readBack) => readBack !== undefined && differencesFromPrevious(previous, readBack).length === 0,
        describe: (readBack) => (readBack ? `${listPaths(differencesFromPrevious(previous, readBack))} still differ` : 'no deployment'),
      },
      { clock, logger, abortSignal: context.abortSignal, onSending: () => stage.sending('PUT') },
    );
  } catch (error) {
    if (isAbortError(error)) throw error;
    return { outcome: 'error', jarUri, detail: `the rollback PUT failed: ${(error as Error).message}` };
  }

  // Verified with a read of its own: the PUT's answer could echo the body rather than what VVP keeps.
  const restored = await vvp.getDeployment(config.namespace, id, requestOptions(context));
  const differences = restored ? differencesFromPrevious(previous, restored) : ['the deployment'];
  if (!restored || differences.length > 0) {
    return { outcome: 'error', jarUri, detail: `after the rollback PUT, VVP stores a deployment whose ${listPaths(differences)} differ from the one before this step` };
  }
  logger.info(`Previous spec, labels and annotations restored exactly (verified by reading back). Waiting for the previous template to run.`);

  // The job the failed wait last saw running, when it is not the original one, must be replaced.
  const lastRunning = input.failedWait.lastDeployment ? runningJobIdOf(input.failedWait.lastDeployment) : undefined;
  const replaceJob = lastRunning !== undefined && lastRunning !== runningJobIdOf(previous);
  const target = {
    deploymentId: id,
    deploymentName: name,
    expectation: { jarUri: jarUriOf(previous) ?? '', baselineJobId: replaceJob ? lastRunning : undefined, baselineState: restored.status?.state, requireNewJob: replaceJob },
    knownJobIds,
    timeoutInMs: config.timeoutInMs,
  };
  const waited = await awaitJob(context, stage, target);
  const { outcome } = waited;
  switch (outcome.kind) {
    case 'succeeded':
      return { outcome: 'succeeded', jarUri, jobId: outcome.result.jobId, state: 'RUNNING' };
    case 'failed': {
      const jobs = await readJobs(context, id);
      const failure = jobs ? newestFailure(jobsOfChange(jobs, { knownJobIds, sinceMs: changeTime(restored.metadata.modifiedAt, sentAtMs) })) : undefined;
      const detail = failure ? `${outcome.reason}; job ${failure.jobId}: ${oneLine(`${failure.reason ?? ''} ${failure.message ?? ''}`)}` : outcome.reason;
      return { outcome: 'failed', jarUri, detail, state: waited.lastDeployment?.status?.state };
    }
    case 'timedOut':
      return { outcome: 'timedOut', jarUri, detail: `${outcome.phase}; last observed: ${oneLine(outcome.state)}`, state: waited.lastDeployment?.status?.state };
    default: {
      const unknown: never = outcome;
      throw new Error(`unknown poll outcome ${JSON.stringify(unknown)}`);
    }
  }
}

function listPaths(paths: readonly string[]): string {
  const shown = paths.slice(0, MAX_PATHS).join(', ');
  return paths.length > MAX_PATHS ? `${shown} and ${paths.length - MAX_PATHS} more` : shown;
}
