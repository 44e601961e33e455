/**
 * The VvpDeploy@1 flow as a short orchestrator over its phases: read → finish what an earlier
 * rollback left → decide (the decision `action: plan` shows) → apply → await the new job →
 * health check → on failure, roll back. Phases return values; this file alone turns them into
 * the result the outputs and the run summary are derived from. Plain TypeScript: no task-lib.
 */
import { CancelledError, isAbortError } from '../../common/errors/errors';
import { inGroup } from '../../common/logging/logger';
import type { UpgradeExpectation } from '../../common/vvp/classify';
import { deepEqual, withAnnotations } from '../../common/vvp/deployment-spec';
import { LOCAL_SKEW_MS } from '../../common/vvp/diagnosis';
import { capitalise, ChangeBlockedError, DeploymentFailedError, formatDuration, HealthCheckFailedError, oneLine, WaitTimeoutError, type RollbackReport } from '../../common/vvp/errors';
import { jarUriOf, runningJobIdOf, type Deployment, type JsonObject } from '../../common/vvp/resources';
import type { DeployOutcome, DeployResult } from './deploy-result';
import type { DeployConfig } from './inputs';
import { runLifecycle } from './lifecycle';
import type { LifecycleAction } from '../../common/vvp/lifecycle';
import { applyPatch, createDeployment, type AppliedChange } from './phases/apply';
import { awaitJob, type JobTarget } from './phases/await-job';
import { explainCancellation } from './phases/cancellation';
import { requestOptions, shownJarUri, WriteStage, type FlowContext } from './phases/context';
import { DIAGNOSTICS_BOUND_MS, explainWait } from './phases/explain';
import { watchHealth } from './phases/health';
import { findTransitionSavepoint } from './phases/savepoint';
import { readBaseline, type Baseline } from './phases/read';
import { decideChange, decideCreate, runAnnotations } from './decide';
import { finishOnceRunning, finishUnfinishedRollback } from './phases/unfinished-rollback';
import { namesSameBlob, unfinishedRollbackOf, type UnfinishedRollback } from '../../common/vvp/rollback-body';
import { rollBack } from './phases/rollback';

export type { DeployOutcome, DeployResult } from './deploy-result';

/** Everything the flow touches outside itself. */
export type DeployDeps = Omit<FlowContext, 'config'>;

const GROUP_READ = 'Read deployment';
const GROUP_APPLY = 'Apply change';
const GROUP_WAIT = 'Wait for the new job';
const GROUP_HEALTH = 'Health check';
const GROUP_ROLLBACK = 'Roll back';
const GROUP_FINISH = 'Finish an unfinished rollback';

/** The facts a run collects; turned into a DeployResult at the end. */
type Facts = Omit<DeployResult, 'outcome' | 'message' | 'error' | 'finishedAtMs'>;

/**
 * Runs the deploy. Never throws for an expected failure: the result carries it (`error`), so the
 * entry can write outputs and the summary first. Cancellation becomes a CancelledError that says
 * what state VVP was left in.
 */
export async function runDeploy(config: DeployConfig, deps: DeployDeps): Promise<DeployResult> {
  if (isLifecycle(config)) return runLifecycle(config, deps);
  const context: FlowContext = { ...deps, config };
  const stage = new WriteStage();
  let phase = GROUP_READ;
  const facts: Facts = {
    namespace: config.namespace,
    deployment: config.deployment,
    targetJarUri: config.jarUri,
    created: false,
    rolledBack: false,
    build: config.runAnnotations['azure-pipelines/run'],
    startedAtMs: deps.clock.now(),
  };
  const group = <T>(name: string, work: () => Promise<T>): Promise<T> => {
    phase = name;
    return inGroup(deps.logger, name, work);
  };
  const finish = (outcome: DeployOutcome, message: string, error?: Error): DeployResult => ({
    ...facts,
    action: config.action,
    state: facts.state ?? stage.lastState,
    outcome,
    message,
    error,
    finishedAtMs: deps.clock.now(),
  });
  // An earlier rollback's record that could not be finished before the write; finished once this change's job runs.
  let pending: UnfinishedRollback | undefined;
  try {
    let baseline = await group(GROUP_READ, () => readBaseline(context));
    if (baseline && unfinishedRollbackOf(baseline.deployment)) {
      const finished = await group(GROUP_FINISH, () => finishUnfinishedRollback(context, stage, (baseline as Baseline).deployment, keepStrategies(config)));
      pending = finished.pending;
      if (!pending) baseline = await group(GROUP_READ, () => readBaseline(context));
      if (!baseline) throw new Error('the deployment disappeared while an unfinished rollback was finished');
    }
    if (!baseline) {
      const decided = decideCreate(config);
      // The run record is not a field the user changed.
      const runKeys = Object.keys(runAnnotations(config));
      if (config.specFile) facts.changedFields = decided.diff.changes.map((c) => c.path).filter((path) => !runKeys.some((key) => path.includes(key)));
      const created = await group(GROUP_APPLY, () => createDeployment(context, stage, decided.body));
      adopt(facts, created.deployment);
      facts.annotations = runAnnotations(config);
      facts.created = true;
      facts.restartRequired = true;
      if (!config.waitForRunning) return finish('applied', `Created VVP deployment '${nameOf(facts)}' with jarUri ${config.jarUri}; not waiting for the job (waitForRunning: false)`);
      const expectation: UpgradeExpectation = { jarUri: config.jarUri, baselineState: created.deployment.status?.state, requireNewJob: false };
      return await awaitAndConclude(created.deployment, expectation, new Set(), created.sinceMs, undefined, undefined);
    }

    const current = baseline.deployment;
    adopt(facts, current);
    facts.previousJarUri = jarUriOf(current);
    facts.previousJobId = runningJobIdOf(current);
    facts.jobId = facts.previousJobId;
    // The one decision `action: plan` makes too, so a plan and the deploy after it agree.
    const { plan, patch, diff } = decideChange(config, current, baseline.runningJob);
    facts.planChanges = diff.planChanges;
    facts.restartRequired = diff.restartRequired;
    if (config.specFile) facts.changedFields = diff.changes.map((c) => c.path);
    switch (plan.kind) {
      case 'upToDate':
        await group(GROUP_APPLY, async () => deps.logger.info(`${capitalise(plan.reason)}: nothing to send.`));
        facts.jobId = runningJobIdOf(current);
        return finish('upToDate', `VVP deployment '${nameOf(facts)}': ${plan.reason}`);
      case 'blocked':
        throw new ChangeBlockedError(nameOf(facts), config.namespace, plan.reason);
      case 'wait': {
        const expectation: UpgradeExpectation = { jarUri: config.jarUri, baselineJobId: runningJobIdOf(current), baselineState: current.status?.state, requireNewJob: false };
        return await awaitAndConclude(current, expectation, baseline.knownJobIds, deps.clock.now() - LOCAL_SKEW_MS, undefined, capitalise(plan.reason));
      }
      case 'patch':
        break;
      default: {
        const unknown: never = plan;
        throw new Error(`unknown plan ${JSON.stringify(unknown)}`);
      }
    }

    // The run record rides along with the write; it never decides whether there is one.
    const sent = withAnnotations(patch, runAnnotations(config));
    const applied = await group(GROUP_APPLY, async () => {
      if (namesSameBlob(facts.previousJarUri, config.jarUri)) {
        deps.logger.warn(
          `The new jarUri names the same blob as the previous one (only its query differs): the previous JAR was overwritten, so a rollback cannot bring it back. ` +
            `Give each build its own blob name (VvpUploadArtifact blobName '{name}-{sha256:12}{ext}' or one with $(Build.BuildId)).`,
        );
      }
      const done = await applyPatch(context, stage, current, sent);
      // VVP's echo decides whether the template changed (it normalises values the file may spell differently).
      if (config.waitForRunning && deepEqual(done.deployment.spec.template, current.spec.template)) deps.logger.info('VVP reports no template change: no new job is expected; waiting for the running job.');
      return done;
    });
    facts.annotations = runAnnotations(config);
    adopt(facts, applied.deployment);
    if (!config.waitForRunning) return finish('applied', `VVP deployment '${nameOf(facts)}' now holds jarUri ${config.jarUri}; not waiting for the job (waitForRunning: false)`);
    const templateChanged = !deepEqual(applied.deployment.spec.template, current.spec.template);
    const expectation: UpgradeExpectation = { jarUri: config.jarUri, baselineJobId: runningJobIdOf(current), baselineState: current.status?.state, requireNewJob: templateChanged };
    return await awaitAndConclude(current, expectation, baseline.knownJobIds, applied.sinceMs, { previous: current, applied, body: sent }, undefined);
  } catch (error) {
    const final =
      explainCancellation(error, deps.abortSignal, stage, phase, { deployment: nameOf(facts), change: `the change (jarUri ${config.jarUri})`, lastState: facts.state }) ??
      (error as Error);
    return finish(outcomeOf(final), final?.message ?? String(final), final);
  }

  /**
   * Waits for the expected job, then (when asked) watches its health; reports the upgrade
   * savepoint and the state the new job restored; on failure explains it and rolls back when
   * asked and possible.
   */
  async function awaitAndConclude(
    deployment: Deployment,
    expectation: UpgradeExpectation,
    knownJobIds: ReadonlySet<string> | undefined,
    sinceMs: number,
    change: { previous: Deployment; applied: AppliedChange; body: JsonObject } | undefined,
    note: string | undefined,
  ): Promise<DeployResult> {
    const target: JobTarget = {
      deploymentId: deployment.metadata.id,
      deploymentName: nameOf(facts),
      expectation,
      knownJobIds,
      timeoutInMs: config.timeoutInMs,
      // The Read group showed the new jarUri, and the Apply group (a create) or the plan sentence names it.
      jarUriName: 'the new jarUri',
    };
    // Everything about the new job is told in its group: the wait, the upgrade savepoint, the state it restored.
    const { waited, upgradeSavepoint, waitFailure } = await group(GROUP_WAIT, async () => {
      if (note) deps.logger.info(note);
      const result = await awaitJob(context, stage, target);
      // The savepoint VVP took of the job this change replaced (STATEFUL), also when the new job failed.
      const savepoint =
        change && expectation.requireNewJob && expectation.baselineJobId
          ? await findTransitionSavepoint(context, deployment.metadata.id, expectation.baselineJobId, sinceMs, 'the upgrade savepoint of the previous job')
          : undefined;
      if (result.outcome.kind === 'succeeded') {
        const restored = result.outcome.last.runningJob?.restoredFrom;
        const jobId = oneLine(result.outcome.result.jobId);
        const from = restored === undefined ? undefined : restored === savepoint?.spec?.savepointLocation ? 'the upgrade savepoint' : oneLine(restored);
        deps.logger.info(from ? `The new job ${jobId} restored its state from ${from}.` : `The new job ${jobId} started without restored state.`);
      }
      // The failure's explanation is read right after the wait.
      const explained = result.outcome.kind === 'succeeded' ? undefined : await explainWait(context, target, result, sinceMs);
      return { waited: result, upgradeSavepoint: savepoint, waitFailure: explained };
    });
    if (pending && waited.outcome.kind === 'succeeded') {
      // The job of this change runs: what the earlier rollback left can be put back now.
      const left = pending;
      await group(GROUP_FINISH, () => finishOnceRunning(context, stage, deployment.metadata.id, left, keepStrategies(config)));
      pending = undefined;
    }
    if (waited.lastDeployment) adopt(facts, waited.lastDeployment);
    facts.jobId = waited.lastDeployment ? runningJobIdOf(waited.lastDeployment) : facts.jobId;
    if (upgradeSavepoint) facts.savepoint = { id: upgradeSavepoint.metadata.id, location: upgradeSavepoint.spec?.savepointLocation, state: upgradeSavepoint.status?.state };

    let failure: DeploymentFailedError | WaitTimeoutError | HealthCheckFailedError;
    let replaceJobId = facts.jobId;
    if (waited.outcome.kind === 'succeeded') {
      const jobId = waited.outcome.result.jobId;
      facts.jobId = jobId;
      facts.state = 'RUNNING';
      facts.restoredFrom = waited.outcome.last.runningJob?.restoredFrom;
      const waitedFor = formatDuration(waited.outcome.elapsedInMs);
      const health = config.healthCheckInMs > 0 ? await group(GROUP_HEALTH, () => watchHealth(context, stage, { deploymentId: deployment.metadata.id, deploymentName: nameOf(facts), jobId, sinceMs })) : undefined;
      if (health?.kind !== 'failed') {
        if (health) facts.healthRestarts = health.restarts;
        const healthy = health ? `; healthy for ${formatDuration(config.healthCheckInMs)} with ${health.restarts} restart${health.restarts === 1 ? '' : 's'}` : '';
        return finish('succeeded', `VVP deployment '${nameOf(facts)}' runs job ${jobId} with jarUri ${config.jarUri} (after ${waitedFor} of waiting${healthy})`);
      }
      facts.state = stage.lastState ?? facts.state;
      failure = health.error;
      facts.healthFailed = { restarts: health.error.restarts };
      replaceJobId = jobId;
    } else {
      if (!waitFailure) throw new Error('a wait that did not succeed is explained');
      failure = waitFailure;
    }
    const outcome: DeployOutcome = failure instanceof WaitTimeoutError ? 'timedOut' : 'failed';
    if (!config.rollbackOnFailure) return finish(outcome, failure.message, failure);
    if (!change) {
      await group(GROUP_ROLLBACK, async () => deps.logger.info('Nothing to roll back to: the deployment had no previous template before this step.'));
      return finish(outcome, failure.message, failure);
    }
    const previousJar = jarUriOf(change.previous);
    const rollback: RollbackReport = namesSameBlob(previousJar, config.jarUri)
      ? {
          outcome: 'skipped',
          jarUri: shownJarUri(previousJar),
          detail:
            `the previous jarUri ${shownJarUri(previousJar)} names the same blob as the new one, which now holds the new JAR: a rollback would restart the failed code, not the previous one. ` +
            "Give each build its own blob name (VvpUploadArtifact blobName '{name}-{sha256:12}{ext}') so a rollback can bring the previous JAR back",
        }
      : await group(GROUP_ROLLBACK, () =>
          rollBack(context, stage, {
            previous: change.previous,
            written: change.applied.deployment,
            body: change.body,
            replaceJobId,
            upgradeSavepoint,
            newJobRestoredFrom: facts.restoredFrom ?? waited.outcome.last?.runningJob?.restoredFrom,
            newJobStartedWithoutState: waited.outcome.kind === 'succeeded' && facts.restoredFrom === undefined,
          }).catch((error: unknown): RollbackReport => {
            if (isAbortError(error) || deps.abortSignal?.aborted) throw error;
            // The original failure stays the headline; the rollback problem is added to it.
            return { outcome: 'error', jarUri: shownJarUri(previousJar), detail: (error as Error).message };
          }),
        );
    if (rollback.outcome === 'skipped') await group(GROUP_ROLLBACK, async () => deps.logger.warn(`Not rolled back: ${rollback.detail}.`));
    facts.rollback = rollback;
    facts.rolledBack = rollback.outcome === 'succeeded';
    if (rollback.outcome !== 'skipped' && rollback.outcome !== 'refused') {
      // What VVP stores now, whatever the rollback got to (a bounded read; unknown when it fails).
      const now = await deps.vvp.getDeployment(config.namespace, change.previous.metadata.id, requestOptions(context, deps.clock.now() + DIAGNOSTICS_BOUND_MS)).catch((error: unknown) => {
        if (isAbortError(error)) throw error;
        return undefined;
      });
      facts.jarUri = now ? jarUriOf(now) : undefined;
      if (now) facts.state = now.status?.state;
    }
    facts.jobId = rollback.outcome === 'succeeded' ? rollback.jobId : undefined;
    // restoredFrom describes the job in jobId: the rolled-back one, or none (a stopped rollback runs no job).
    facts.restoredFrom = facts.jobId !== undefined ? rollback.restoredFrom : undefined;
    if (rollback.state) facts.state = rollback.state;
    const told = failure.withRollback(rollback);
    return finish(outcome, told.message, told);
  }
}

/** The strategies this step sets itself: an unfinished rollback does not put those back. */
function keepStrategies(config: DeployConfig): { upgradeStrategy: boolean; restoreStrategy: boolean } {
  return { upgradeStrategy: config.upgradeStrategy !== undefined, restoreStrategy: config.restoreStrategy !== undefined };
}

function isLifecycle(config: DeployConfig): config is DeployConfig & { action: LifecycleAction } {
  return config.action !== 'deploy' && config.action !== 'plan';
}

function adopt(facts: Facts, deployment: Deployment): void {
  facts.deploymentId = deployment.metadata.id;
  facts.deploymentName = deployment.metadata.name ?? facts.deploymentName;
  facts.state = deployment.status?.state;
  facts.jarUri = jarUriOf(deployment);
}

function nameOf(facts: Facts): string {
  return oneLine(facts.deploymentName ?? facts.deployment);
}

function outcomeOf(error: unknown): DeployOutcome {
  if (error instanceof CancelledError) return 'cancelled';
  if (error instanceof DeploymentFailedError || error instanceof HealthCheckFailedError) return 'failed';
  if (error instanceof WaitTimeoutError) return 'timedOut';
  if (error instanceof ChangeBlockedError) return 'blocked';
  return 'error';
}

