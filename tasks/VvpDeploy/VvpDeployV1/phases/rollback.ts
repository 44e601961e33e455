import { isAbortError } from '../../../common/errors/errors';
import { changeTime, jobsOfChange, newestFailure } from '../../../common/vvp/diagnosis';
import { oneLine, type RollbackReport } from '../../../common/vvp/errors';
import { jarUriOf, runningJobIdOf, type Deployment, type JsonObject, type Savepoint } from '../../../common/vvp/resources';
import { changesSinceWrite, differencesFromPrevious, restoreBody } from '../../../common/vvp/rollback-body';
import { copiedSavepointBody, restoredLocation } from '../../../common/vvp/savepoints';
import { sendOnce } from '../../../common/vvp/send-once';
import { awaitJob } from './await-job';
import { guardJarUri, requestOptions, type FlowContext, type WriteStage } from './context';
import { readJobs } from './explain';

/** What the rollback restores and what it may overwrite. */
export interface RollbackInput {
  /** The deployment as read before the step. */
  previous: Deployment;
  /** The deployment as VVP stored it after this step's write. */
  written: Deployment;
  /** A job of this step that runs now and must be replaced (the last one the wait or the health check saw). */
  replaceJobId?: string;
  /** The savepoint VVP took of the previous job for the upgrade, when there is one. */
  upgradeSavepoint?: Savepoint;
}

/** How many paths a message lists before "and N more". */
const MAX_PATHS = 8;

/**
 * Restores the deployment from before the step exactly, and the state from before the upgrade:
 *
 * 1. Reads the deployment right before writing; refuses when anyone changed it after this step.
 * 2. With `rollbackStateFrom: upgradeSavepoint` and a completed upgrade savepoint: registers its
 *    location again as a COPIED savepoint (the newest savepoint now), and restores with
 *    STATELESS + LATEST_SAVEPOINT, so VVP neither savepoints the failed job nor restores its
 *    state or retained checkpoint.
 * 3. PUTs the previous metadata and spec once; reads back and verifies.
 * 4. Waits (up to `timeoutMinutes` again) until the previous template runs in a job of its own.
 * 5. Puts the previous upgrade and restore strategies back (no template change: no restart) and
 *    verifies the deployment equals the one before the step.
 *
 * `succeeded` only when the previous template's job is STARTED and the spec is verified.
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

  const location = input.upgradeSavepoint?.status?.state === 'COMPLETED' ? input.upgradeSavepoint.spec?.savepointLocation : undefined;
  const fromUpgradeSavepoint = config.rollbackStateFrom === 'upgradeSavepoint' && location !== undefined;
  const stateFrom = fromUpgradeSavepoint ? 'upgradeSavepoint' : 'restoreStrategy';
  if (config.rollbackStateFrom === 'upgradeSavepoint' && !fromUpgradeSavepoint) {
    logger.info("No completed upgrade savepoint: the rolled-back job's state is chosen by the deployment's restore strategy.");
  }
  if (fromUpgradeSavepoint) {
    const copied = await copySavepoint(context, stage, id, location);
    if (typeof copied === 'string') return { outcome: 'error', jarUri, detail: copied, stateFrom };
  }

  // Jobs existing now: the rolled-back job is one that is not among them.
  const before = await readJobs(context, id);
  const knownJobIds = before ? new Set(before.map((j) => j.metadata.id)) : undefined;
  const sentAtMs = clock.now();
  const target = fromUpgradeSavepoint ? withStrategies(previous, 'STATELESS', 'LATEST_SAVEPOINT') : previous;
  logger.info(
    fromUpgradeSavepoint
      ? `Restoring the deployment from before this step (jarUri ${jarUri}), once with STATELESS + LATEST_SAVEPOINT so the job starts from ${oneLine(location)}.`
      : `Restoring the deployment as it was before this step (jarUri ${jarUri}): a PUT of its metadata and spec.`,
  );
  const restored = await putAndVerify(context, stage, target, name);
  if (typeof restored === 'string') return { outcome: 'error', jarUri, detail: restored, stateFrom };

  // The job the failed wait or health check last saw, when it is not the original one, must be replaced.
  const replaceJob = input.replaceJobId !== undefined && input.replaceJobId !== runningJobIdOf(previous);
  const waited = await awaitJob(context, stage, {
    deploymentId: id,
    deploymentName: name,
    expectation: { jarUri: jarUriOf(previous) ?? '', baselineJobId: replaceJob ? input.replaceJobId : undefined, baselineState: restored.status?.state, requireNewJob: replaceJob },
    knownJobIds,
    timeoutInMs: config.timeoutInMs,
  });
  const { outcome } = waited;
  const lastState = waited.lastDeployment?.status?.state;
  switch (outcome.kind) {
    case 'succeeded':
      break;
    case 'failed': {
      const jobs = await readJobs(context, id);
      const failure = jobs ? newestFailure(jobsOfChange(jobs, { knownJobIds, sinceMs: changeTime(restored.metadata.modifiedAt, sentAtMs) })) : undefined;
      const detail = failure ? `${outcome.reason}; job ${failure.jobId}: ${oneLine(`${failure.reason ?? ''} ${failure.message ?? ''}`)}` : outcome.reason;
      return { outcome: 'failed', jarUri, detail, state: lastState, stateFrom };
    }
    case 'timedOut':
      return { outcome: 'timedOut', jarUri, detail: `${outcome.phase}; last observed: ${oneLine(outcome.state)}`, state: lastState, stateFrom };
    default: {
      const unknown: never = outcome;
      throw new Error(`unknown poll outcome ${JSON.stringify(unknown)}`);
    }
  }
  const jobId = outcome.result.jobId;
  const job = await vvp.getJob(config.namespace, jobId, requestOptions(context));
  const restoredFrom = restoredLocation(job);
  logger.info(`The previous template runs again in job ${oneLine(jobId)}, ${restoredFrom ? `restored from ${oneLine(restoredFrom)}` : 'without restored state'}.`);
  const report = { jarUri, jobId, state: 'RUNNING', restoredFrom, stateFrom } as const;
  if (fromUpgradeSavepoint) {
    // Not a template change: VVP stores the strategies without touching the running job.
    logger.info('Putting the upgrade and restore strategies back as they were before this step.');
    const final = await putAndVerify(context, stage, previous, name);
    if (typeof final === 'string') return { ...report, outcome: 'error', detail: `the previous job runs, but ${final}` };
  }
  logger.info('Previous spec, labels and annotations restored exactly (verified by reading back).');
  return { ...report, outcome: 'succeeded' };
}

/** `previous` with its upgrade and restore strategy kinds replaced (other restore fields kept). */
function withStrategies(previous: Deployment, upgrade: string, restore: string): Deployment {
  const copy = structuredClone(previous);
  copy.spec.upgradeStrategy = { kind: upgrade };
  const restoreStrategy = (typeof copy.spec.restoreStrategy === 'object' && copy.spec.restoreStrategy !== null && !Array.isArray(copy.spec.restoreStrategy) ? copy.spec.restoreStrategy : {}) as JsonObject;
  copy.spec.restoreStrategy = { ...restoreStrategy, kind: restore };
  return copy;
}

/**
 * PUTs `target` once (a lost answer read back, never re-sent) and verifies with a read of its
 * own that VVP stores it (the PUT's answer could echo the body). Returns the deployment read,
 * or what went wrong.
 */
async function putAndVerify(context: FlowContext, stage: WriteStage, target: Deployment, name: string): Promise<Deployment | string> {
  const { config, vvp, clock, logger } = context;
  const id = target.metadata.id;
  try {
    await sendOnce(
      {
        method: 'PUT',
        operation: `restoring deployment '${name}' in namespace '${config.namespace}'`,
        send: () => vvp.replaceDeployment(config.namespace, id, restoreBody(target), requestOptions(context)),
        readBack: () => vvp.getDeployment(config.namespace, id, requestOptions(context)),
        applied: (readBack) => readBack !== undefined && differencesFromPrevious(target, readBack).length === 0,
        describe: (readBack) => (readBack ? `${listPaths(differencesFromPrevious(target, readBack))} still differ` : 'no deployment'),
      },
      { clock, logger, abortSignal: context.abortSignal, onSending: () => stage.sending('PUT') },
    );
  } catch (error) {
    if (isAbortError(error)) throw error;
    return `the rollback PUT failed: ${(error as Error).message}`;
  }
  const read = await vvp.getDeployment(config.namespace, id, requestOptions(context));
  const differences = read ? differencesFromPrevious(target, read) : ['the deployment'];
  if (!read || differences.length > 0) return `after the rollback PUT, VVP stores a deployment whose ${listPaths(differences)} differ from the one before this step`;
  return read;
}

/** Registers `location` as a COPIED savepoint of the deployment (POST once); its id, or what went wrong. */
async function copySavepoint(context: FlowContext, stage: WriteStage, deploymentId: string, location: string): Promise<Savepoint | string> {
  const { config, vvp, clock, logger } = context;
  const sentAtMs = clock.now();
  const isCopy = (s: Savepoint): boolean =>
    s.spec?.savepointLocation === location && s.metadata.origin === 'COPIED' && (Date.parse(s.metadata.createdAt ?? '') || sentAtMs) >= changeTime(undefined, sentAtMs);
  try {
    const result = await sendOnce(
      {
        method: 'POST',
        operation: `registering the upgrade savepoint again for deployment ${oneLine(deploymentId)} in namespace '${config.namespace}'`,
        send: () => vvp.createSavepoint(config.namespace, copiedSavepointBody(deploymentId, location), requestOptions(context)),
        readBack: async () => (await vvp.listSavepoints(config.namespace, { deploymentId }, requestOptions(context))).find(isCopy),
        applied: (readBack) => readBack !== undefined,
        describe: () => `no COPIED savepoint of ${oneLine(location)}`,
      },
      { clock, logger, abortSignal: context.abortSignal, onSending: () => stage.sending('POST') },
    );
    const savepoint = result.value as Savepoint;
    logger.info(`Registered the upgrade savepoint ${oneLine(location)} again as COPIED savepoint ${oneLine(savepoint.metadata.id)}, the newest savepoint of the deployment.`);
    return savepoint;
  } catch (error) {
    if (isAbortError(error)) throw error;
    return `registering the upgrade savepoint ${oneLine(location)} as a COPIED savepoint failed, so nothing was rolled back: ${(error as Error).message}`;
  }
}

function listPaths(paths: readonly string[]): string {
  const shown = paths.slice(0, MAX_PATHS).join(', ');
  return paths.length > MAX_PATHS ? `${shown} and ${paths.length - MAX_PATHS} more` : shown;
}
