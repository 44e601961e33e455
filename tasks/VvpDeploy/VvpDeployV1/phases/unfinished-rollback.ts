import { isAbortError } from '../../../common/errors/errors';
import { formatDuration, oneLine } from '../../../common/vvp/errors';
import { desiredStateOf, type Deployment } from '../../../common/vvp/resources';
import { describeStrategies, finishedRollback, unfinishedRollbackOf, UNFINISHED_ROLLBACK_ANNOTATION, type KeptStrategies, type UnfinishedRollback } from '../../../common/vvp/rollback-body';
import { requestOptions, type FlowContext } from './context';
import { DIAGNOSTICS_BOUND_MS } from './explain';
import { pollVvp } from './poll-vvp';
import { putAndVerify } from './rollback';

/** After {@link finishUnfinishedRollback}: the deployment to go on with, and whether the record is still open. */
interface FinishResult {
  deployment: Deployment;
  /** The record of an unfinished rollback that could not be finished yet (no job of it runs). */
  pending?: UnfinishedRollback;
}

/**
 * Finishes what an earlier rollback left (see `UNFINISHED_ROLLBACK_ANNOTATION`) before this run
 * changes anything: once the previous job runs, its temporary STATELESS + LATEST_SAVEPOINT
 * strategies are replaced by the recorded ones and the annotation is removed (one PUT, no
 * restart, verified by reading back). While VVP is still starting that job, this waits for it
 * (within `timeoutMinutes`). When no job runs, the record stays open (`pending`): the temporary
 * strategies make the next job start from the upgrade savepoint, so the caller finishes it once
 * its own job runs.
 *
 * @param keep strategies this step sets itself: those are not put back.
 */
export async function finishUnfinishedRollback(
  context: FlowContext,
  deployment: Deployment,
  keep: KeptStrategies = {},
): Promise<FinishResult> {
  const record = unfinishedRollbackOf(deployment);
  if (!record) return { deployment };
  const { config, logger } = context;
  const by = record.run ? ` (left by ${oneLine(record.run)}${record.at ? ` at ${oneLine(record.at)}` : ''})` : '';
  logger.warn(
    `Deployment '${oneLine(deployment.metadata.name ?? config.deployment)}' carries an unfinished rollback${by}: it keeps the temporary rollback strategies (STATELESS upgrade) until the rolled-back job runs; ` +
      `${record.upgradeStrategy === undefined && record.restoreStrategy === undefined ? 'the strategies to put back are not recorded' : `${describeStrategies(record)} go back`} once it does.`,
  );
  let current = deployment;
  if (current.status?.state === 'TRANSITIONING' && desiredStateOf(current.spec) === 'RUNNING') {
    const settled = await waitWhileTransitioning(context, current);
    if (settled) current = settled;
  }
  if (current.status?.state !== 'RUNNING') {
    logger.info(`No job runs (state ${oneLine(current.status?.state ?? 'unknown')}): the rollback is finished once a job of this deployment runs.`);
    return { deployment: current, pending: record };
  }
  return { deployment: await putBack(context, current, record, keep) };
}

/** The PUT that finishes the record on a RUNNING deployment (sent once, verified by reading back); returns the deployment read. */
async function putBack(
  context: FlowContext,
  current: Deployment,
  record: UnfinishedRollback,
  keep: KeptStrategies = {},
): Promise<Deployment> {
  const read = await putAndVerify(context, finishedRollback(current, record, keep));
  if (typeof read === 'string') throw new Error(`finishing the unfinished rollback: ${read}`);
  context.logger.info(`Finished the unfinished rollback: ${describeStrategies(record)} are back and the annotation ${UNFINISHED_ROLLBACK_ANNOTATION} is removed (no restart).`);
  return read;
}

/** Once this step's own job runs: reads the deployment and finishes the record that stayed open. */
export async function finishOnceRunning(context: FlowContext, deploymentId: string, record: UnfinishedRollback, keep: KeptStrategies): Promise<void> {
  const now = await context.vvp.getDeployment(context.config.namespace, deploymentId, requestOptions(context));
  if (now) await putBack(context, now, record, keep);
}

/** Waits (within `timeoutMinutes`) until the deployment leaves TRANSITIONING; undefined when it could not be read. */
async function waitWhileTransitioning(context: FlowContext, deployment: Deployment): Promise<Deployment | undefined> {
  const { config, vvp, clock } = context;
  const deadline = clock.now() + config.timeoutInMs + DIAGNOSTICS_BOUND_MS;
  let last: Deployment | undefined;
  const outcome = await pollVvp<Deployment | undefined, Deployment>(context, {
    probe: async (signal) => {
      last = await vvp.getDeployment(config.namespace, deployment.metadata.id, { abortSignal: signal, deadline });
      context.progress.observed(last?.status?.state);
      return last;
    },
    classify: (d) =>
      d && d.status?.state !== 'TRANSITIONING'
        ? { status: 'succeeded', state: oneLine(d.status?.state ?? 'unknown'), result: d }
        : { status: 'pending', state: 'TRANSITIONING', phase: `waiting up to ${formatDuration(config.timeoutInMs)} for the rolled-back job to start` },
    timeoutInMs: config.timeoutInMs,
  }).catch((error: unknown) => {
    if (isAbortError(error) || context.abortSignal?.aborted) throw error;
    return undefined;
  });
  return outcome?.kind === 'succeeded' ? outcome.result : last;
}
