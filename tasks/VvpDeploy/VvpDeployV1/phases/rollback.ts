import { isAbortError } from '../../../common/errors/errors';
import { artifactNoun, artifactOfSpec, expectedArtifact, shownArtifact } from '../../../common/vvp/artifact';
import { changeTime, jobsOfChange, newestFailure } from '../../../common/vvp/diagnosis';
import { formatDuration, oneLine, type RollbackReport } from '../../../common/vvp/errors';
import { desiredStateOf, runningJobIdOf, type Deployment, type JsonObject, type Savepoint } from '../../../common/vvp/resources';
import { changedBesideTheWrite, changesSinceWrite, describeStrategies, unfinishedRollbackOf, differencesFromPrevious, restoreBody, UNFINISHED_ROLLBACK_ANNOTATION, withTemporaryStrategies } from '../../../common/vvp/rollback-body';
import { sendOnce, type WriteOnce } from '../../../common/vvp/send-once';
import { copiedSavepointBody, restoredLocation } from '../../../common/vvp/savepoints';
import { awaitJob } from './await-job';
import { awaitState } from './await-state';
import { requestOptions, type FlowContext } from './context';
import { DIAGNOSTICS_BOUND_MS, readJobs } from './explain';
import { watchHealth } from './health';

/** What the rollback restores and what it may overwrite. */
interface RollbackInput {
  /** The deployment as read before the step. */
  previous: Deployment;
  /** The deployment as VVP stored it after this step's write. */
  written: Deployment;
  /** The body of this step's write (PATCH), to tell its changes from someone else's made before it. */
  body?: JsonObject;
  /** A job of this step that runs now and must be replaced (the last one the wait or the health check saw). */
  replaceJobId?: string;
  /** The savepoint VVP took of the previous job for the upgrade, when there is one. */
  upgradeSavepoint?: Savepoint;
  /** The state this step's new job started from (for a deployment that was stopped before the step: the state it had). */
  newJobRestoredFrom?: string;
  /** This step saw its new job run and restore nothing: there was no state before the step. */
  newJobStartedWithoutState?: boolean;
}

/** How many paths a message lists before "and N more". */
const MAX_PATHS = 8;

/**
 * Restores the deployment from before the step exactly, and the state from before the upgrade:
 *
 * 1. Reads the deployment; refuses when anyone changed it after this step.
 * 2. A deployment that was running before: with `rollbackStateFrom: upgradeSavepoint` and a
 *    completed upgrade savepoint, registers its location again as a COPIED savepoint (the
 *    newest savepoint now) and restores once with STATELESS + LATEST_SAVEPOINT, so VVP neither
 *    savepoints the failed job nor restores its state. That write also records, in an
 *    annotation, the strategies to put back: a rollback that does not finish leaves no trap.
 * 3. Reads once more right before the PUT ("still ours?"), PUTs, reads back and verifies.
 * 4. Waits (up to `timeoutMinutes` again) until the previous template runs in a job of its own,
 *    puts the previous strategies back (no restart) and verifies the deployment equals the one
 *    before the step; with a health check, watches the rolled-back job like the new one.
 * 5. A deployment that was SUSPENDED or CANCELLED before: the failed job is cancelled (no
 *    savepoint of its state), the state the deployment had is registered again as the newest
 *    savepoint, and the deployment is restored exactly, stopped as it was.
 *
 * `succeeded` only when the previous deployment is verified and, when it ran before, its job
 * STARTED (and passed the health check).
 */
export async function rollBack(context: FlowContext, input: RollbackInput): Promise<RollbackReport> {
  const { config, vvp } = context;
  const { previous, written } = input;
  const jarUri = shownArtifact(artifactOfSpec(previous));
  context.progress.rollingBack();

  const between = input.body ? changedBesideTheWrite(previous, input.body, written) : [];
  if (between.length > 0) {
    return {
      outcome: 'refused',
      jarUri,
      detail: `the deployment was changed by someone else between this step's read and its write (${listPaths(between)}); a rollback to the deployment as read would revert that change`,
    };
  }
  const refusal = await changedSinceWrite(context, written);
  if (refusal) return { outcome: refusal.gone ? 'error' : 'refused', jarUri, detail: refusal.detail };
  const desiredBefore = desiredStateOf(previous.spec) ?? 'RUNNING';
  if (desiredBefore !== 'RUNNING') return rollBackStopped(context, input, desiredBefore, jarUri);

  const id = previous.metadata.id;
  // The state from before the upgrade: the savepoint VVP took of the previous job; without one
  // (a STATELESS upgrade), the state the new job started from, else the newest savepoint from
  // before the step. VVP's restore strategy would pick the failed job's own checkpoints.
  const upgradeLocation = input.upgradeSavepoint?.status?.state === 'COMPLETED' ? input.upgradeSavepoint.spec?.savepointLocation : undefined;
  const writtenAtMs = changeTime(written.metadata.modifiedAt, context.clock.now());
  // Jobs existing now (a bounded read): the rolled-back job is one that is not among them.
  const before = await readJobs(context, id, context.clock.now() + DIAGNOSTICS_BOUND_MS);
  const knownJobIds = before ? new Set(before.map((j) => j.metadata.id)) : undefined;
  const firstJobOfStep = before ? jobsOfChange(before, { baselineJobId: runningJobIdOf(previous), sinceMs: writtenAtMs }).at(-1) : undefined;
  const location =
    config.rollbackStateFrom !== 'upgradeSavepoint'
      ? undefined
      : (upgradeLocation ?? input.newJobRestoredFrom ?? restoredLocation(firstJobOfStep) ?? (await newestSavepointBefore(context, id, writtenAtMs)));
  const fromUpgradeSavepoint = location !== undefined;
  // No state before the step (the new job started without any): the previous job starts without state too.
  const withoutState =
    config.rollbackStateFrom === 'upgradeSavepoint' && !fromUpgradeSavepoint && (input.newJobStartedWithoutState === true || (firstJobOfStep !== undefined && restoredLocation(firstJobOfStep) === undefined));
  if (config.rollbackStateFrom === 'upgradeSavepoint' && !fromUpgradeSavepoint && !withoutState && before === undefined) {
    // The jobs could not be read: whether this step's job checkpointed is unknown, and the restore
    // strategy could start the previous job from the failed job's state. Nothing is better than that.
    return {
      outcome: 'refused',
      jarUri,
      detail:
        "the state from before this step could not be established (no upgrade savepoint, no savepoint from before the step, and VVP did not list the deployment's jobs), " +
        "so the deployment's restore strategy could start the previous job from the failed job's state. Restore the previous deployment by hand, from a savepoint you choose",
    };
  }
  const temporary = fromUpgradeSavepoint || withoutState;
  const stateFrom = temporary ? 'upgradeSavepoint' : 'restoreStrategy';
  if (config.rollbackStateFrom === 'upgradeSavepoint' && !upgradeLocation) {
    context.logger.info(
      location
        ? `No completed upgrade savepoint: the rolled-back job starts from ${oneLine(location)}, the state from before this step.`
        : withoutState
          ? 'There was no state before this step (its new job started without any): the rolled-back job starts without state, never from the failed job\'s.'
          : "No state from before this step (no upgrade savepoint, no savepoint, and no job of this step): the rolled-back job's state is chosen by the deployment's restore strategy, which cannot pick a state of this step.",
    );
  }
  if (fromUpgradeSavepoint) {
    // The log shows the location once: here for the upgrade savepoint, above for any other state.
    const copied = await copySavepoint(context, id, location, upgradeLocation ? `the upgrade savepoint ${oneLine(location)}` : 'that state');
    if (typeof copied === 'string') return { outcome: 'error', jarUri, detail: copied, stateFrom };
  }
  const record = { run: config.runAnnotations['azure-pipelines/runuri'], at: new Date(context.clock.now()).toISOString() };
  const target = temporary ? withTemporaryStrategies(previous, record, fromUpgradeSavepoint ? 'LATEST_SAVEPOINT' : 'NONE') : previous;
  const sentAtMs = context.clock.now();
  const restored = await putIfStillOurs(context, written, target, {
    what: fromUpgradeSavepoint
      ? `Restoring the deployment from before this step (${named(input.previous, jarUri)}), once with STATELESS + LATEST_SAVEPOINT so the job starts from that savepoint.`
      : withoutState
        ? `Restoring the deployment from before this step (${named(input.previous, jarUri)}), once with STATELESS + NONE so the job starts without state.`
        : `Restoring the deployment as it was before this step (${named(input.previous, jarUri)}): a PUT of its metadata and spec.`,
    copied: fromUpgradeSavepoint ? location : undefined,
  });
  if (isPutProblem(restored)) return { ...restored, jarUri, stateFrom };
  const left = temporary ? leftBehind(target, fromUpgradeSavepoint ? 'LATEST_SAVEPOINT' : 'NONE') : undefined;
  if (left) context.progress.leaves(left);

  // The job the failed wait or health check last saw, when it is not the original one, must be replaced.
  const replaceJob = input.replaceJobId !== undefined && input.replaceJobId !== runningJobIdOf(previous);
  const name = oneLine(previous.metadata.name ?? config.deployment);
  const waited = await awaitJob(context, {
    deploymentId: id,
    deploymentName: name,
    expectation: { ...expectedArtifact(artifactOfSpec(previous)), baselineJobId: replaceJob ? input.replaceJobId : undefined, baselineState: restored.status?.state, requireNewJob: replaceJob },
    knownJobIds,
    timeoutInMs: config.timeoutInMs,
    jarUriName: `the previous ${artifactNoun(artifactOfSpec(previous))}`,
  });
  const { outcome } = waited;
  const lastState = waited.lastDeployment?.status?.state;
  switch (outcome.kind) {
    case 'succeeded':
      break;
    case 'failed': {
      const jobs = await readJobs(context, id, context.clock.now() + DIAGNOSTICS_BOUND_MS);
      const failure = jobs ? newestFailure(jobsOfChange(jobs, { knownJobIds, sinceMs: changeTime(restored.metadata.modifiedAt, sentAtMs) })) : undefined;
      const detail = failure ? `${outcome.reason}; job ${failure.jobId}: ${oneLine(`${failure.reason ?? ''} ${failure.message ?? ''}`)}` : outcome.reason;
      return { outcome: 'failed', jarUri, detail, state: lastState, stateFrom, left };
    }
    case 'timedOut':
      return { outcome: 'timedOut', jarUri, detail: `${outcome.phase}; last observed: ${oneLine(outcome.state)}`, state: lastState, stateFrom, left };
    default: {
      const unknown: never = outcome;
      throw new Error(`unknown poll outcome ${JSON.stringify(unknown)}`);
    }
  }
  const jobId = outcome.result.jobId;
  const job = await vvp.getJob(config.namespace, jobId, requestOptions(context, context.clock.now() + DIAGNOSTICS_BOUND_MS)).catch((error: unknown) => {
    if (isAbortError(error)) throw error;
    return undefined;
  });
  const restoredFrom = restoredLocation(job) ?? outcome.last.runningJob?.restoredFrom;
  const restoredText = restoredFrom === undefined ? 'without restored state' : restoredFrom === location ? 'restored from that savepoint' : `restored from ${oneLine(restoredFrom)}`;
  context.logger.info(`The previous template runs again in job ${oneLine(jobId)}, ${restoredText}.`);
  const report: RollbackReport = { outcome: 'succeeded', jarUri, jobId, state: 'RUNNING', restoredFrom, stateFrom };
  if (temporary) {
    // Not a template change: VVP stores the strategies without touching the running job.
    const final = await putIfStillOurs(context, restored, previous, { what: 'Putting the upgrade and restore strategies back as they were before this step.' });
    if (isPutProblem(final)) return { ...report, outcome: 'error', detail: `the previous job runs, but ${final.outcome === 'refused' ? 'the strategies were not put back: ' : ''}${final.detail}`, left };
    context.progress.leaves(undefined);
  }
  context.logger.info('Previous spec, labels and annotations restored exactly (verified by reading back).');
  if (config.healthCheckInMs > 0) {
    const health = await watchHealth(context, { deploymentId: id, deploymentName: name, jobId, jobName: 'the rolled-back job', sinceMs: changeTime(restored.metadata.modifiedAt, sentAtMs) });
    if (health.kind === 'failed') return { ...report, outcome: 'failed', detail: `the rolled-back job failed its health check: ${health.error.reason}`, state: context.progress.lastState };
    report.healthRestarts = health.restarts;
  }
  return report;
}

/**
 * The rollback of a deployment that was SUSPENDED or CANCELLED before the step. A PUT of the old
 * spec would make VVP suspend the failed job, i.e. savepoint the broken state the next resume
 * restores. So: cancel the failed job (no savepoint), register the state the deployment had as
 * the newest savepoint, then PUT the deployment from before the step and wait for its state.
 */
async function rollBackStopped(context: FlowContext, input: RollbackInput, desiredBefore: string, jarUri: string): Promise<RollbackReport> {
  const { config, vvp, logger } = context;
  const { previous, written } = input;
  const id = previous.metadata.id;
  const name = oneLine(previous.metadata.name ?? config.deployment);
  // The state the deployment had: what this step's job restored, else its newest savepoint from before the step.
  const location = input.newJobRestoredFrom ?? (await newestSavepointBefore(context, id, changeTime(written.metadata.modifiedAt, context.clock.now())));
  logger.info(`The deployment was ${oneLine(desiredBefore)} before this step: cancelling the failed job first, so that no savepoint of its state is taken.`);
  const cancelled = await sendOnceOrDetail(context, {
    method: 'PATCH',
    operation: `cancelling the failed job of deployment '${name}' in namespace '${config.namespace}'`,
    send: () => vvp.patchDeployment(config.namespace, id, { spec: { state: 'CANCELLED' } }, requestOptions(context)),
    readBack: () => vvp.getDeployment(config.namespace, id, requestOptions(context)),
    applied: (readBack) => desiredStateOf((readBack as Deployment | undefined)?.spec) === 'CANCELLED',
    describe: () => 'spec.state is not CANCELLED',
  });
  if (typeof cancelled === 'string') return { outcome: 'error', jarUri, detail: cancelled };
  const reached = await waitForState(context, id, 'CANCELLED', (cancelled as Deployment).status?.state);
  if (reached) return { outcome: 'timedOut', jarUri, detail: `the failed job was not cancelled: ${reached}`, state: context.progress.lastState };
  if (location) {
    const copied = await copySavepoint(context, id, location, `the state it had, ${oneLine(location)},`);
    if (typeof copied === 'string') return { outcome: 'error', jarUri, detail: copied, state: 'CANCELLED' };
  }
  // What this step wrote, with the cancel: the PUT goes ahead only while the deployment is still that.
  const afterCancel: Deployment = { ...written, spec: { ...written.spec, state: 'CANCELLED' } };
  const restored = await putIfStillOurs(context, afterCancel, previous, { what: `Restoring the deployment as it was before this step (${oneLine(desiredBefore)}, ${named(input.previous, jarUri)}).`, copied: location });
  if (isPutProblem(restored)) return { ...restored, jarUri, state: 'CANCELLED' };
  const wanted = desiredBefore === 'SUSPENDED' ? 'SUSPENDED' : 'CANCELLED';
  const stalled = await waitForState(context, id, wanted, 'CANCELLED');
  if (stalled) return { outcome: 'timedOut', jarUri, detail: stalled, state: context.progress.lastState };
  logger.info(`The deployment is ${wanted} again with the spec from before this step${location ? '; a resume restores the state it had before this step' : ''}.`);
  return { outcome: 'succeeded', jarUri, state: wanted, stopped: wanted, restoredFrom: location, stateFrom: 'restoreStrategy' };
}

/** The location of the deployment's newest COMPLETED savepoint created before `beforeMs` (VVP time); undefined when none. */
async function newestSavepointBefore(context: FlowContext, deploymentId: string, beforeMs: number): Promise<string | undefined> {
  const savepoints = await context.vvp.listSavepoints(context.config.namespace, { deploymentId }, requestOptions(context, context.clock.now() + DIAGNOSTICS_BOUND_MS));
  const newest = savepoints
    .filter((s) => s.status?.state === 'COMPLETED' && s.spec?.savepointLocation && (Date.parse(s.metadata.createdAt ?? '') || Number.POSITIVE_INFINITY) < beforeMs)
    .sort((a, b) => Date.parse(b.metadata.createdAt ?? '') - Date.parse(a.metadata.createdAt ?? ''))[0];
  return newest?.spec?.savepointLocation;
}

/** Waits until the deployment's status is `wanted`; undefined when it is, else why not. */
async function waitForState(context: FlowContext, deploymentId: string, wanted: 'SUSPENDED' | 'CANCELLED', baselineState: string | undefined): Promise<string | undefined> {
  const outcome = await awaitState(context, deploymentId, wanted, baselineState);
  if (outcome.kind === 'succeeded') return undefined;
  return outcome.kind === 'failed' ? outcome.reason : `${wanted} not reached within ${formatDuration(context.config.timeoutInMs)}; last observed: ${oneLine(outcome.state)}`;
}

/** What an unfinished rollback leaves on the deployment, said once for the step's message. */
function leftBehind(written: Deployment, restoreKind: 'LATEST_SAVEPOINT' | 'NONE'): string {
  return (
    `The deployment keeps the temporary STATELESS + ${restoreKind} strategies (annotation ${UNFINISHED_ROLLBACK_ANNOTATION}), so the previous job starts from ${restoreKind === 'NONE' ? 'no state' : 'the state from before the upgrade'} and never from the failed job's state. ` +
    `The next run of VvpDeploy on this deployment (any action) puts back ${describeStrategies(unfinishedRollbackOf(written) ?? {})} once the previous job runs; ` +
    'by hand: set them in VVP and remove the annotation'
  );
}

/** Where the deployment differs from what this step wrote; undefined when it is still ours. */
async function changedSinceWrite(context: FlowContext, written: Deployment): Promise<{ detail: string; gone?: boolean } | undefined> {
  const { config, vvp } = context;
  const now = await vvp.getDeployment(config.namespace, written.metadata.id, requestOptions(context, context.clock.now() + DIAGNOSTICS_BOUND_MS));
  if (!now) return { detail: 'the deployment no longer exists, so there is nothing to roll back', gone: true };
  const changed = changesSinceWrite(written, now);
  if (changed.length === 0) return undefined;
  return {
    detail:
      `the deployment was changed after this step wrote it (at ${oneLine(now.metadata.modifiedAt ?? 'an unknown time')}, resourceVersion ` +
      `${oneLine(String(now.metadata.resourceVersion ?? '?'))}): ${listPaths(changed)} ${differ(changed)} from this step's change. That change is left as it is`,
  };
}

/** A rollback PUT that did not happen or did not verify: refused (someone changed the deployment) or failed. */
interface PutProblem {
  outcome: 'refused' | 'error';
  detail: string;
}

/**
 * Reads the deployment right before the PUT and writes only when it is still what this step
 * wrote (`expected`): between that read and the PUT nothing else is awaited. Returns the
 * verified deployment, or the problem: refused when someone changed it, else what went wrong.
 */
async function putIfStillOurs(context: FlowContext, expected: Deployment, target: Deployment, say: { what: string; copied?: string }): Promise<Deployment | PutProblem> {
  const refusal = await changedSinceWrite(context, expected);
  if (refusal) {
    const copiedNote = say.copied ? ` The COPIED savepoint of ${oneLine(say.copied)} registered for the rollback stays in VVP (it is the newest savepoint of the deployment; take a new savepoint before relying on LATEST_SAVEPOINT)` : '';
    return { outcome: 'refused', detail: `${refusal.detail}.${copiedNote}` };
  }
  context.logger.info(say.what);
  const put = await putAndVerify(context, target);
  if (typeof put !== 'string') return put;
  const copiedNote = say.copied
    ? `. The COPIED savepoint of ${oneLine(say.copied)} registered for the rollback stays in VVP as the newest savepoint of the deployment: take a new savepoint of the running job before relying on LATEST_SAVEPOINT`
    : '';
  return { outcome: 'error', detail: `${put}${copiedNote}` };
}

function isPutProblem(result: Deployment | PutProblem): result is PutProblem {
  return !('metadata' in result);
}

/**
 * PUTs `target` once (a lost answer read back, never re-sent) and verifies with a read of its
 * own that VVP stores it (the PUT's answer could echo the body). Returns the deployment read,
 * or what went wrong.
 */
export async function putAndVerify(context: FlowContext, target: Deployment): Promise<Deployment | string> {
  const { config, vvp } = context;
  const id = target.metadata.id;
  const name = oneLine(target.metadata.name ?? config.deployment);
  const sent = await sendOnceOrDetail(context, {
    method: 'PUT',
    operation: `restoring deployment '${name}' in namespace '${config.namespace}'`,
    send: () => vvp.replaceDeployment(config.namespace, id, restoreBody(target), requestOptions(context)),
    readBack: () => vvp.getDeployment(config.namespace, id, requestOptions(context)),
    applied: (readBack) => readBack !== undefined && differencesFromPrevious(target, readBack as Deployment).length === 0,
    describe: (readBack) => (readBack ? stillDiffer(differencesFromPrevious(target, readBack as Deployment)) : 'no deployment'),
  });
  if (typeof sent === 'string') return `the rollback PUT failed: ${sent}`;
  const read = await vvp.getDeployment(config.namespace, id, requestOptions(context));
  const differences = read ? differencesFromPrevious(target, read) : ['the deployment'];
  if (!read || differences.length > 0) return `after the rollback PUT, VVP stores a deployment whose ${listPaths(differences)} ${differ(differences)} from the one before this step`;
  return read;
}

/** One write through the send-once helper; its value, or the failure as text (an abort is rethrown). */
async function sendOnceOrDetail<T, R>(context: FlowContext, write: WriteOnce<T, R>): Promise<T | R | true | string> {
  try {
    const result = await sendOnce(write, { clock: context.clock, logger: context.logger, abortSignal: context.abortSignal, onSending: () => context.progress.sending(write.method) });
    return result.value ?? true;
  } catch (error) {
    if (isAbortError(error)) throw error;
    return (error as Error).message;
  }
}

/** Registers `location` as a COPIED savepoint of the deployment (POST once); its id, or what went wrong. `shown` names it in the log. */
async function copySavepoint(context: FlowContext, deploymentId: string, location: string, shown: string): Promise<Savepoint | string> {
  const { config, vvp, clock, logger } = context;
  const sentAtMs = clock.now();
  const isCopy = (s: Savepoint): boolean =>
    s.spec?.savepointLocation === location && s.metadata.origin === 'COPIED' && (Date.parse(s.metadata.createdAt ?? '') || sentAtMs) >= changeTime(undefined, sentAtMs);
  const result = await sendOnceOrDetail(context, {
    method: 'POST',
    operation: `registering the savepoint ${oneLine(location)} again for deployment ${oneLine(deploymentId)} in namespace '${config.namespace}'`,
    send: () => vvp.createSavepoint(config.namespace, copiedSavepointBody(deploymentId, location), requestOptions(context)),
    readBack: async () => (await vvp.listSavepoints(config.namespace, { deploymentId }, requestOptions(context))).find(isCopy),
    applied: (readBack) => readBack !== undefined,
    describe: () => `no COPIED savepoint of ${oneLine(location)}`,
  });
  if (typeof result === 'string') return `registering the savepoint ${oneLine(location)} as a COPIED savepoint failed, so nothing was rolled back: ${result}`;
  const savepoint = result as Savepoint;
  logger.info(`Registered ${shown} again as COPIED savepoint ${oneLine(savepoint.metadata.id)}, the newest savepoint of the deployment.`);
  return savepoint;
}

/** "differs" for one path, "differ" for several. */
function differ(paths: readonly string[]): string {
  return paths.length === 1 ? 'differs' : 'differ';
}

function stillDiffer(paths: readonly string[]): string {
  return `${listPaths(paths)} still ${differ(paths)}`;
}

function listPaths(paths: readonly string[]): string {
  const shown = paths.slice(0, MAX_PATHS).join(', ');
  return paths.length > MAX_PATHS ? `${shown} and ${paths.length - MAX_PATHS} more` : shown;
}

/** "jarUri <uri>" for a JAR deployment; a SQL script names itself. */
function named(deployment: Deployment, shown: string): string {
  return artifactOfSpec(deployment)?.kind === 'SQLSCRIPT' ? shown : `jarUri ${shown}`;
}
