/**
 * `action: deploy` as a short list of steps over the phases: read → finish what an earlier
 * rollback left → decide (the decision `action: plan` shows) → apply → the new job (wait, health
 * check) → on failure, roll back. Phases return values; the steps turn them into the ending.
 */
import { isAbortError } from '../../common/errors/errors';
import { artifactNoun, describeArtifact, expectedArtifact, shownArtifact, artifactOfSpec } from '../../common/vvp/artifact';
import { deepEqual } from '../../common/vvp/deployment-spec';
import { LOCAL_SKEW_MS } from '../../common/vvp/diagnosis';
import { capitalise, DeploymentFailedError, formatDuration, type RollbackReport } from '../../common/vvp/errors';
import { jarUriOf, runningJobIdOf, type Deployment, type JsonObject } from '../../common/vvp/resources';
import { namesSameBlob, unfinishedRollbackOf, type KeptStrategies, type UnfinishedRollback } from '../../common/vvp/rollback-body';
import { decideChange, decideCreate, runAnnotations, sentBody } from './decide';
import { endedBy, type Ending, type Run, type Steps } from './flow';
import type { DeployConfig } from './inputs';
import { checkScript } from './phases/check-sql';
import { applyPatch, createDeployment, type AppliedChange } from './phases/apply';
import type { JobTarget } from './phases/await-job';
import { requestOptions, shownJarUri } from './phases/context';
import { DIAGNOSTICS_BOUND_MS } from './phases/explain';
import { GROUP_FINISH, healthyFor, newJobFields, runNewJob, type NewJob } from './phases/new-job';
import { readBaseline, type Baseline } from './phases/read';
import { rollBack } from './phases/rollback';
import { finishUnfinishedRollback } from './phases/unfinished-rollback';

const GROUP_CHECK = 'Check the SQL script';
const GROUP_READ = 'Read deployment';
const GROUP_APPLY = 'Apply change';
const GROUP_ROLLBACK = 'Roll back';

const SAME_BLOB_ADVICE = "Give each build its own blob name (VvpUploadArtifact blobName '{name}-{sha256:12}{ext}'";

/** The steps of `action: deploy`. */
export function deploySteps(config: DeployConfig): Steps {
  return { firstGroup: config.artifact.kind === 'SQLSCRIPT' ? GROUP_CHECK : GROUP_READ, change: `the change (${newArtifact(config)})`, run: (run) => deploy(run) };
}

async function deploy(run: Run): Promise<Ending> {
  const { context } = run;
  const { config, logger, clock } = context;
  const keep = keepStrategies(config);
  if (config.artifact.kind === 'SQLSCRIPT') {
    // The script is checked before anything is read or written: offline, then by VVP.
    const checked = await run.group(GROUP_CHECK, () => checkScript(config, context));
    if (checked.error) return { sqlProblems: checked.problems, ...endedBy(checked.error) };
  }
  let baseline = await run.group(GROUP_READ, () => readAndName(run));
  // An earlier rollback's record that could not be finished before the write; finished once this change's job runs.
  let pending: UnfinishedRollback | undefined;
  if (baseline && unfinishedRollbackOf(baseline.deployment)) {
    const left = baseline.deployment;
    pending = (await run.group(GROUP_FINISH, () => finishUnfinishedRollback(context, left, keep))).pending;
    if (!pending) baseline = await run.group(GROUP_READ, () => readAndName(run));
    if (!baseline) throw new Error('the deployment disappeared while an unfinished rollback was finished');
  }
  if (!baseline) return create(run);

  const current = baseline.deployment;
  run.seen(current);
  // The one decision `action: plan` makes too, so a plan and the deploy after it agree.
  const { plan, patch, diff } = decideChange(config, current, baseline.runningJob);
  run.record({
    previousJarUri: jarUriOf(current),
    previousJobId: runningJobIdOf(current),
    jobId: runningJobIdOf(current),
    planChanges: diff.planChanges,
    restartRequired: diff.restartRequired,
    changedFields: config.specFile ? diff.changes.map((c) => c.path) : undefined,
  });
  switch (plan.kind) {
    case 'upToDate':
      await run.group(GROUP_APPLY, async () => logger.info(`${capitalise(plan.reason)}: nothing to send.`));
      return { outcome: 'upToDate', message: `VVP deployment '${run.name()}': ${plan.reason}` };
    case 'blocked':
      return endedBy(new DeploymentFailedError({ kind: 'blocked', deployment: run.name(), namespace: config.namespace, reason: plan.reason, events: [] }));
    case 'wait': {
      const job = await runNewJob(run, {
        ...jobTarget(run, current, { baselineJobId: runningJobIdOf(current), baselineState: current.status?.state, requireNewJob: false }),
        knownJobIds: baseline.knownJobIds,
        sinceMs: clock.now() - LOCAL_SKEW_MS,
        note: capitalise(plan.reason),
        pending,
        keep,
      });
      return conclude(run, job, undefined);
    }
    case 'patch':
      return change(run, baseline, patch, pending);
    default: {
      const unknown: never = plan;
      throw new Error(`unknown plan ${JSON.stringify(unknown)}`);
    }
  }
}

/** The deployment before the change (as read and logged by the baseline read), then what this step deploys. */
async function readAndName(run: Run): Promise<Baseline | undefined> {
  const { config, logger } = run.context;
  const baseline = await readBaseline(run.context);
  if (baseline) logger.info(config.artifact.kind === 'JAR' ? `New jarUri: ${config.jarUri}` : `New SQL script: ${describeArtifact(config.artifact)}`);
  return baseline;
}

/** POSTs the deployment from the spec file, then waits for its first job. */
async function create(run: Run): Promise<Ending> {
  const { context } = run;
  const { config } = context;
  const decided = decideCreate(config);
  // The run record is not a field the user changed.
  const runKeys = Object.keys(runAnnotations(config));
  run.record({ changedFields: config.specFile ? decided.diff.changes.map((c) => c.path).filter((path) => !runKeys.some((key) => path.includes(key))) : undefined });
  const created = await run.group(GROUP_APPLY, () => createDeployment(context, decided.body));
  run.seen(created.deployment);
  run.record({ annotations: runAnnotations(config), created: true, restartRequired: true });
  if (!config.waitForRunning) {
    return { outcome: 'applied', message: `Created VVP deployment '${run.name()}' with ${newArtifact(config)}; not waiting for the job (waitForRunning: false)` };
  }
  const job = await runNewJob(run, { ...jobTarget(run, created.deployment, { baselineState: created.deployment.status?.state, requireNewJob: false }), knownJobIds: new Set(), sinceMs: created.sinceMs });
  return conclude(run, job, undefined);
}

/** PATCHes the change (with the run record), then waits for the job it leads to. */
async function change(run: Run, baseline: Baseline, patch: JsonObject, pending: UnfinishedRollback | undefined): Promise<Ending> {
  const { context } = run;
  const { config, logger } = context;
  const current = baseline.deployment;
  // The run record rides along with the write; it never decides whether there is one.
  const sent = sentBody(config, patch);
  const applied = await run.group(GROUP_APPLY, async () => {
    if (config.artifact.kind === 'JAR' && namesSameBlob(jarUriOf(current), config.jarUri)) {
      logger.warn(`The new jarUri names the same blob as the previous one (only its query differs): the previous JAR was overwritten, so a rollback cannot bring it back. ${SAME_BLOB_ADVICE} or one with $(Build.BuildId)).`);
    }
    const done = await applyPatch(context, current, sent);
    // VVP's echo decides whether the template changed (it normalises values the file may spell differently).
    if (config.waitForRunning && deepEqual(done.deployment.spec.template, current.spec.template)) logger.info('VVP reports no template change: no new job is expected; waiting for the running job.');
    return done;
  });
  run.seen(applied.deployment);
  run.record({ annotations: runAnnotations(config) });
  if (!config.waitForRunning) {
    return { outcome: 'applied', message: `VVP deployment '${run.name()}' now holds ${newArtifact(config)}; not waiting for the job (waitForRunning: false)` };
  }
  const templateChanged = !deepEqual(applied.deployment.spec.template, current.spec.template);
  const baselineJobId = runningJobIdOf(current);
  const job = await runNewJob(run, {
    ...jobTarget(run, current, { baselineJobId, baselineState: current.status?.state, requireNewJob: templateChanged }),
    knownJobIds: baseline.knownJobIds,
    sinceMs: applied.sinceMs,
    replacedJobId: templateChanged ? baselineJobId : undefined,
    pending,
    keep: keepStrategies(config),
  });
  return conclude(run, job, { previous: current, applied, body: sent });
}

/** The wait's target for the deployment as read: the new artifact, as the Read group showed it. */
function jobTarget(run: Run, deployment: Deployment, expectation: { baselineJobId?: string; baselineState?: string; requireNewJob: boolean }): JobTarget {
  const { config } = run.context;
  return {
    deploymentId: deployment.metadata.id,
    deploymentName: run.name(),
    expectation: { ...expectedArtifact(config.artifact), ...expectation },
    timeoutInMs: config.timeoutInMs,
    // The Read group showed the new artifact, and the Apply group (a create) or the plan sentence names it.
    jarUriName: `the new ${artifactNoun(config.artifact)}`,
  };
}

/**
 * The ending of the new job: success, or its failure told with what the rollback (when asked and
 * possible) achieved.
 */
async function conclude(run: Run, job: NewJob, change: { previous: Deployment; applied: AppliedChange; body: JsonObject } | undefined): Promise<Ending> {
  const { context } = run;
  const { config, logger, vvp, clock } = context;
  const savepoint = job.upgradeSavepoint;
  if (savepoint) run.record({ savepoint: { id: savepoint.metadata.id, location: savepoint.spec?.savepointLocation, state: savepoint.status?.state } });
  const observed = newJobFields(job, context.progress);
  if (job.kind === 'running') {
    return { ...observed, outcome: 'succeeded', message: `VVP deployment '${run.name()}' runs job ${job.jobId} with ${newArtifact(config)} (after ${formatDuration(job.waitedInMs)} of waiting${healthyFor(config.healthCheckInMs, job)})` };
  }
  const failure = job.error;
  if (!config.rollbackOnFailure) return { ...observed, ...endedBy(failure) };
  if (!change) {
    await run.group(GROUP_ROLLBACK, async () => logger.info('Nothing to roll back to: the deployment had no previous template before this step.'));
    return { ...observed, ...endedBy(failure) };
  }
  const previousJar = jarUriOf(change.previous);
  const rollback: RollbackReport = config.artifact.kind === 'JAR' && namesSameBlob(previousJar, config.jarUri)
    ? {
        outcome: 'skipped',
        jarUri: shownJarUri(previousJar),
        detail:
          `the previous jarUri ${shownJarUri(previousJar)} names the same blob as the new one, which now holds the new JAR: a rollback would restart the failed code, not the previous one. ` +
          `${SAME_BLOB_ADVICE}) so a rollback can bring the previous JAR back`,
      }
    : await run.group(GROUP_ROLLBACK, () =>
        rollBack(context, {
          previous: change.previous,
          written: change.applied.deployment,
          body: change.body,
          replaceJobId: job.jobId ?? (job.last ? runningJobIdOf(job.last) : runningJobIdOf(change.previous)),
          upgradeSavepoint: savepoint,
          newJobRestoredFrom: job.restoredFrom,
          newJobStartedWithoutState: job.startedWithoutState,
        }).catch((error: unknown): RollbackReport => {
          if (isAbortError(error) || context.abortSignal?.aborted) throw error;
          // The original failure stays the headline; the rollback problem is added to it.
          return { outcome: 'error', jarUri: shownArtifact(artifactOfSpec(change.previous)), detail: (error as Error).message };
        }),
      );
  if (rollback.outcome === 'skipped') await run.group(GROUP_ROLLBACK, async () => logger.warn(`Not rolled back: ${rollback.detail}.`));
  // What VVP stores now, whatever the rollback got to (a bounded read; unknown when it fails).
  let now: Deployment | undefined;
  if (rollback.outcome !== 'skipped' && rollback.outcome !== 'refused') {
    now = await vvp.getDeployment(config.namespace, change.previous.metadata.id, requestOptions(context, clock.now() + DIAGNOSTICS_BOUND_MS)).catch((error: unknown) => {
      if (isAbortError(error)) throw error;
      return undefined;
    });
  }
  const jobId = rollback.outcome === 'succeeded' ? rollback.jobId : undefined;
  const stored = rollback.outcome !== 'skipped' && rollback.outcome !== 'refused' ? { jarUri: now ? jarUriOf(now) : undefined, ...(now ? { state: now.status?.state } : {}) } : {};
  return {
    ...observed,
    ...stored,
    ...(rollback.state ? { state: rollback.state } : {}),
    jobId,
    // restoredFrom describes the job in jobId: the rolled-back one, or none (a stopped rollback runs no job).
    restoredFrom: jobId !== undefined ? rollback.restoredFrom : undefined,
    rollback,
    rolledBack: rollback.outcome === 'succeeded',
    ...endedBy(failure.withRollback(rollback)),
  };
}

/** "jarUri <uri>" or "SQL script orders.sql (sha256 …, N statements)": what this step deploys. */
function newArtifact(config: DeployConfig): string {
  return config.artifact.kind === 'JAR' ? `jarUri ${config.jarUri}` : describeArtifact(config.artifact);
}

/** The strategies this step sets itself: an unfinished rollback does not put those back. */
function keepStrategies(config: DeployConfig): KeptStrategies {
  return { upgradeStrategy: config.upgradeStrategy !== undefined, restoreStrategy: config.restoreStrategy !== undefined };
}
