/**
 * The simulated AppManager controller: drives deployments from their desired state
 * (`spec.state` + template) to an observed state on the simulator's clock (real timers over
 * HTTP, virtual time in memory), writing jobs, savepoints and events in the order documented
 * in API-NOTES §7. Running jobs may then be restarted by "Flink" (the `crashLoops` and
 * `restartsOnce` outcomes) without the deployment leaving RUNNING, as on VVP.
 *
 * Each deployment has at most one run (an async sequence of steps). A spec change
 * that needs a transition aborts the current run and starts a new one, which picks up
 * whatever the old run left (a TERMINATING job, a STARTING job) — as a reconciling
 * controller would.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { BehaviourBook, Behaviour, FailureText, Outcome } from './behaviour';
import { desiredState, jarUriOf, restoreStrategy, upgradeStrategy } from './deployment-spec';
import { deepClone, deepEqual, isPlainObject, type JsonObject } from './plain-object';
import {
  SPEC_VERSION_ANNOTATION,
  TRANSITIONING_ANNOTATION,
  TRANSITIONING_SINCE_ANNOTATION,
  type Deployment,
  type DeploymentCondition,
  type DeploymentState,
  type Job,
  type JobState,
  type Savepoint,
  type SavepointOrigin,
  type SavepointState,
} from './resources';
import type { SimClock, SimTimer } from './sim-clock';
import type { SimStore } from './store';

/** One observed state change, for the standalone simulator's stderr log. */
export interface StateChange {
  at: string;
  namespace: string;
  deployment: string;
  resource: 'Deployment' | 'Job' | 'Savepoint';
  id: string;
  from: string | null;
  to: string;
}

/** What the controller needs from the simulator around it. */
export interface ControllerEnvironment {
  store: SimStore;
  /** Time and timers: every duration, timestamp and annotation time comes from here. */
  clock: SimClock;
  behaviours: BehaviourBook;
  /** Multiplier applied to every duration (read at each step, so changes apply at once). */
  timeScale(): number;
  /** Emulated VVP version; decides the savepoint origin of upgrades (SUSPEND_AND_UPGRADE before 2.6). */
  buildVersion(): string;
  /** Base URI savepoint locations are put under. */
  blobStorageBaseUri(): string;
  /** Why a SQLSCRIPT job with this script cannot start (Flink's message), or undefined when it can. */
  sqlJobFailure(script: string): string | undefined;
  onStateChange(change: StateChange): void;
}

/** The kind of write a deployment just received. */
export interface SpecChange {
  created: boolean;
  templateChanged: boolean;
  stateChanged: boolean;
}

class RunAborted extends Error {}

const ACTIVE_JOB_STATES: readonly JobState[] = ['STARTING', 'STANDBY', 'STARTED', 'TERMINATING'];
/** Origins of the savepoint VVP takes of a job it stops (suspension, STATEFUL upgrade). */
const TEARDOWN_ORIGINS: readonly SavepointOrigin[] = ['SUSPEND', 'SUSPEND_AND_UPGRADE'];
/** An assumed `execution.checkpointing.interval`, only to number a retained checkpoint (`chk-N`). */
const CHECKPOINT_INTERVAL_MS = 10_000;

/** Compares dotted versions (`2.4.3` < `2.7.1`). */
export function versionAtLeast(version: string, minimum: string): boolean {
  const a = version.split('.').map((p) => parseInt(p, 10) || 0);
  const b = minimum.split('.').map((p) => parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/** Runs deployment transitions on timers. */
export class DeploymentController {
  private readonly runs = new Map<string, AbortController>();
  /** Timers outside runs: user savepoints and Flink restarts of running jobs. */
  private readonly sideTimers = new Set<SimTimer>();

  constructor(private readonly env: ControllerEnvironment) {}

  /** True while a transition run is in progress for the deployment. */
  isBusy(deploymentId: string): boolean {
    return this.runs.has(deploymentId);
  }

  /**
   * Reacts to a stored write. Creation with `spec.state: RUNNING` shows TRANSITIONING at
   * once; later changes keep the old status for `staleRunningMs` first (the race every
   * naive client falls into).
   */
  specWritten(deployment: Deployment, change: SpecChange): void {
    const spec = deployment.spec;
    if (change.created) {
      // The initial status is part of the create itself (resourceVersion stays 1).
      const initial: DeploymentState = desiredState(spec) === 'RUNNING' ? 'TRANSITIONING' : desiredState(spec);
      deployment.status = { state: initial };
      this.report(deployment, 'Deployment', deployment.metadata.id, null, initial);
      if (initial === 'TRANSITIONING') {
        this.setTransitioning(deployment, true);
        this.startRun(deployment, false);
      }
      return;
    }
    if (!change.templateChanged && !change.stateChanged) return;
    if (!change.stateChanged) {
      // A template change only matters to a deployment that should run.
      if (desiredState(spec) !== 'RUNNING') return;
      // NONE "will not upgrade": the running job keeps the old template.
      if (upgradeStrategy(spec) === 'NONE' && this.activeJobs(deployment).length > 0) return;
    }
    this.startRun(deployment, true);
  }

  /** Stops the deployment's run and terminates its jobs at once (DELETE). */
  deleted(deployment: Deployment): void {
    this.abort(deployment.metadata.id);
    for (const job of this.activeJobs(deployment)) this.setJobState(deployment, job, 'TERMINATED');
  }

  /** Aborts every run and timer (reset, shutdown). */
  stopAll(): void {
    for (const id of [...this.runs.keys()]) this.abort(id);
    for (const timer of this.sideTimers) timer.clear();
    this.sideTimers.clear();
  }

  /**
   * Adds a job that is already STARTED (scenario/control seeding) and points the
   * deployment's status at it.
   */
  seedRunningJob(deployment: Deployment): Job {
    const job = this.createJob(deployment, undefined);
    this.setJobState(deployment, job, 'STARTED');
    this.setRunning(deployment, job);
    return job;
  }

  /** Adds a stopped job and the COMPLETED savepoint it was suspended with (seeding SUSPENDED). */
  seedSuspended(deployment: Deployment): void {
    const job = this.createJob(deployment, undefined);
    this.setJobState(deployment, job, 'STARTED');
    this.createSavepoint(deployment, 'SUSPEND', { job, location: this.newSavepointLocation(deployment, job), state: 'COMPLETED' });
    this.setJobState(deployment, job, 'TERMINATED');
    this.setStatus(deployment, 'SUSPENDED');
  }

  /** Adds a job that failed to start (seeding a FAILED deployment). */
  seedFailedJob(deployment: Deployment): Job {
    const behaviour = this.behaviour(deployment);
    const job = this.createJob(deployment, undefined);
    this.failJob(deployment, job, behaviour.jobFailure);
    this.setStatus(deployment, 'FAILED');
    return job;
  }

  /**
   * Sets (or adds) a condition in `status.running.conditions` (control API). `JobFailing` "True"
   * also counts as one Flink restart of the running job. Returns false when not RUNNING.
   */
  setCondition(deployment: Deployment, condition: { type: string; status: DeploymentCondition['status']; reason?: string; message?: string }): boolean {
    if (!this.writeCondition(deployment, condition)) return false;
    if (condition.type === 'JobFailing' && condition.status === 'True') {
      const job = this.env.store.job(deployment.metadata.namespace, deployment.status.running?.jobId ?? '');
      if (job?.status.started) this.countRestart(deployment, job);
    }
    return true;
  }

  /**
   * Takes a user-requested savepoint of the running job (POST /savepoints): STARTED, then after
   * `savepointMs` COMPLETED, or FAILED with `status.failure` when the deployment's savepoints
   * fail (see BehaviourBook.savepointFails) or the job stopped meanwhile. Returns undefined when
   * no job is running.
   */
  requestSavepoint(deployment: Deployment): Savepoint | undefined {
    const job = this.activeJobs(deployment).find((j) => j.status.state === 'STARTED');
    if (!job) return undefined;
    const { namespace, name } = deployment.metadata;
    const fails = this.env.behaviours.savepointFails(namespace, name, jarUriOf(deployment.spec));
    const savepoint = this.createSavepoint(deployment, 'USER_REQUEST', { job, location: this.newSavepointLocation(deployment, job) });
    this.sideTimer(() => {
      if (savepoint.status.state !== 'STARTED') return;
      if (!fails && job.status.state === 'STARTED') return this.setSavepointState(deployment, savepoint, 'COMPLETED');
      const failure = fails
        ? this.behaviour(deployment).savepointFailure
        : { reason: 'SavepointFailed', message: `Job ${job.metadata.id} stopped before savepoint ${savepoint.metadata.id} completed.` };
      this.failSavepoint(deployment, savepoint, failure);
    }, this.behaviour(deployment).savepointMs);
    return savepoint;
  }

  /**
   * Registers an existing savepoint location (POST /savepoints with `spec.savepointLocation`):
   * origin COPIED, COMPLETED at once, no job.
   */
  copySavepoint(deployment: Deployment, savepointLocation: string): Savepoint {
    return this.createSavepoint(deployment, 'COPIED', { location: savepointLocation, state: 'COMPLETED' });
  }

  /** Non-terminal jobs of a deployment, oldest first. */
  activeJobs(deployment: Deployment): Job[] {
    return this.env.store
      .listJobs(deployment.metadata.namespace, deployment.metadata.id)
      .filter((j) => ACTIVE_JOB_STATES.includes(j.status.state));
  }

  // ---- runs ---------------------------------------------------------------------------

  private startRun(deployment: Deployment, afterStaleWindow: boolean): void {
    const id = deployment.metadata.id;
    this.abort(id);
    const controller = new AbortController();
    this.runs.set(id, controller);
    const { namespace } = deployment.metadata;
    this.run(namespace, id, afterStaleWindow, controller.signal)
      .catch((error: unknown) => {
        if (!(error instanceof RunAborted)) process.stderr.write(`vvp-simulator: controller error: ${String(error)}\n`);
      })
      .finally(() => {
        if (this.runs.get(id) === controller) this.runs.delete(id);
      });
  }

  private abort(deploymentId: string): void {
    this.runs.get(deploymentId)?.abort();
    this.runs.delete(deploymentId);
  }

  private async run(namespace: string, id: string, afterStaleWindow: boolean, signal: AbortSignal): Promise<void> {
    const current = (): Deployment => {
      const deployment = this.env.store.deploymentById(namespace, id);
      if (!deployment || signal.aborted) throw new RunAborted();
      return deployment;
    };
    const sleep = (ms: number): Promise<void> => this.sleep(ms, signal);
    // Always yield first: the write's answer must not include the controller's reaction.
    await sleep(afterStaleWindow ? this.behaviour(current()).staleRunningMs : 0);
    this.settleDanglingSavepoints(current());
    const ctx: RunContext = { current, sleep, signal };
    switch (desiredState(current().spec)) {
      case 'RUNNING':
        return this.toRunning(ctx);
      case 'CANCELLED':
        return this.toStopped(ctx, 'CANCELLED');
      case 'SUSPENDED':
        return this.toStopped(ctx, 'SUSPENDED');
    }
  }

  private async toRunning(ctx: RunContext): Promise<void> {
    const deployment = ctx.current();
    const active = this.activeJobs(deployment);
    const { namespace } = deployment.metadata;
    const upToDate =
      active.length === 1 &&
      active[0].status.state === 'STARTED' &&
      deepEqual(this.env.store.jobTemplate(namespace, active[0].metadata.id), deployment.spec.template);
    if (upToDate) {
      // e.g. RUNNING → CANCELLED → RUNNING within the stale window: nothing to do.
      if (deployment.status.state !== 'RUNNING') {
        this.setRunning(deployment, active[0]);
        this.setTransitioning(deployment, false);
      }
      return;
    }
    const strategy = upgradeStrategy(deployment.spec);
    const running = active.find((j) => j.status.state === 'STARTED');
    if (running && strategy === 'NONE' && deployment.status.state === 'RUNNING') return;

    this.beginTransition(deployment, 'RUNNING');
    if (!this.targetExists(deployment)) return;

    let outcome = this.env.behaviours.takeOutcome(namespace, deployment.metadata.name, jarUriOf(deployment.spec));
    // A SQLSCRIPT job whose script Flink rejects does not start, whatever else was scripted.
    const sqlFailure = this.sqlFailure(deployment);
    if (sqlFailure && outcome !== 'savepointFails') outcome = 'fails';
    // STATEFUL upgrade: the new job resumes from the savepoint just taken. Otherwise (STATELESS
    // upgrade, start from a stopped state) the restore strategy picks the state, after the old
    // job is gone, so its retained checkpoint is a candidate too.
    let upgradeSavepoint: Savepoint | undefined;
    if (running) {
      this.event(deployment, 'USING_AN_UPGRADE_STRATEGY', `Using upgrade strategy ${strategy} to upgrade the Deployment.`);
      if (strategy === 'STATEFUL') {
        const origin: SavepointOrigin = versionAtLeast(this.env.buildVersion(), '2.6') ? 'SUSPEND' : 'SUSPEND_AND_UPGRADE';
        upgradeSavepoint = await this.takeSavepoint(ctx, running, origin, outcome === 'savepointFails', 'upgrade');
        if (!upgradeSavepoint) return;
      }
      for (const job of this.activeJobs(ctx.current())) await this.terminate(ctx, job, 'FOUND_AN_OLD_JOB_AND_WILL_TERMINATE_IT');
    } else {
      for (const job of active) await this.terminate(ctx, job, 'FOUND_A_JOB_TO_TERMINATE');
    }
    const savepointLocation = upgradeSavepoint ? upgradeSavepoint.spec.savepointLocation : this.restoreLocation(ctx.current());
    // A queued savepointFails that met no upgrade savepoint (a start from a stopped state, a
    // STATELESS upgrade) leaves the job to start: a script Flink rejects still fails it.
    await this.startJob(ctx, savepointLocation, sqlFailure ? 'fails' : outcome, sqlFailure);
  }

  /** The job failure of a SQLSCRIPT template whose script does not validate, else undefined. */
  private sqlFailure(deployment: Deployment): FailureText | undefined {
    const template = isPlainObject(deployment.spec.template) ? deployment.spec.template : {};
    const tspec = isPlainObject(template.spec) ? template.spec : {};
    const artifact = isPlainObject(tspec.artifact) ? tspec.artifact : {};
    if (artifact.kind !== 'SQLSCRIPT') return undefined;
    const message = this.env.sqlJobFailure(typeof artifact.sqlScript === 'string' ? artifact.sqlScript : '');
    return message === undefined ? undefined : { reason: this.behaviour(deployment).jobFailure.reason, message };
  }

  private async toStopped(ctx: RunContext, target: 'CANCELLED' | 'SUSPENDED'): Promise<void> {
    const deployment = ctx.current();
    const active = this.activeJobs(deployment);
    if (active.length === 0) {
      if (deployment.status.state !== target) {
        this.setStatus(deployment, target);
        this.setTransitioning(deployment, false);
      }
      return;
    }
    this.beginTransition(deployment, target);
    const running = active.find((j) => j.status.state === 'STARTED');
    if (target === 'SUSPENDED' && running) {
      // Only a queued savepointFails is consumed: other outcomes are meant for the next job start.
      const fails = this.env.behaviours.savepointFails(deployment.metadata.namespace, deployment.metadata.name, jarUriOf(deployment.spec));
      const savepoint = await this.takeSavepoint(ctx, running, 'SUSPEND', fails, 'suspend');
      if (!savepoint) return;
    }
    for (const job of this.activeJobs(ctx.current())) await this.terminate(ctx, job, 'FOUND_A_JOB_TO_TERMINATE');
    const done = ctx.current();
    this.event(done, 'STATE_TRANSITION_IS_COMPLETED', `Transition to ${target} is completed.`);
    this.setStatus(done, target);
    this.setTransitioning(done, false);
  }

  private beginTransition(deployment: Deployment, target: DeploymentState): void {
    const from = deployment.status.state;
    const message =
      from === target
        ? `The Deployment template changed; an upgrade of the ${target} Deployment is needed.`
        : `State transition to ${target} is needed (current state: ${from}).`;
    this.event(deployment, 'STATE_TRANSITION_IS_NEEDED', message);
    this.setStatus(deployment, 'TRANSITIONING');
    this.setTransitioning(deployment, true);
  }

  /** Async target check (API-NOTES §9.6): an unknown target fails the deployment. */
  private targetExists(deployment: Deployment): boolean {
    const ref = deployment.spec.deploymentTargetId ?? deployment.spec.deploymentTargetName;
    if (typeof ref !== 'string' || deployment.spec.sessionClusterName !== undefined) return true;
    if (this.env.store.findTarget(deployment.metadata.namespace, ref)) return true;
    this.event(deployment, 'REFERENCED_DEPLOYMENT_TARGET_DOES_NOT_EXIST', `The referenced Deployment Target '${ref}' does not exist.`);
    this.setStatus(deployment, 'FAILED');
    this.setTransitioning(deployment, false);
    return false;
  }

  /**
   * The state a starting job restores by `restoreStrategy.kind` (VVP docs, "Deployment
   * Upgrades"): LATEST_STATE the newest COMPLETED Savepoint of any origin (retained checkpoints
   * included), LATEST_SAVEPOINT the newest COMPLETED one that is not a RETAINED_CHECKPOINT,
   * NONE nothing. "Newest" is by `createdAt`.
   */
  private restoreLocation(deployment: Deployment): string | undefined {
    const kind = restoreStrategy(deployment.spec).kind;
    if (kind === 'NONE') return undefined;
    const candidates = this.env.store
      .listSavepoints(deployment.metadata.namespace, { deploymentId: deployment.metadata.id })
      .filter((s) => s.status.state === 'COMPLETED' && (kind === 'LATEST_STATE' || s.metadata.origin !== 'RETAINED_CHECKPOINT'));
    const newest = candidates.reduce<Savepoint | undefined>((best, s) => (!best || s.metadata.createdAt >= best.metadata.createdAt ? s : best), undefined);
    return newest?.spec.savepointLocation;
  }

  /**
   * Savepoint before an upgrade or a suspension; with `fail`, every attempt fails and
   * the deployment goes FAILED (the old job keeps running). Returns the completed savepoint.
   */
  private async takeSavepoint(ctx: RunContext, job: Job, origin: SavepointOrigin, fail: boolean, purpose: 'upgrade' | 'suspend'): Promise<Savepoint | undefined> {
    const attempts = fail ? Number(ctx.current().spec.maxSavepointCreationAttempts) || 1 : 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const deployment = ctx.current();
      const jobId = job.metadata.id;
      if (purpose === 'upgrade') this.event(deployment, 'NEED_TO_TRIGGER_A_SAVEPOINT', `Need to trigger a savepoint for job ${jobId} before upgrading.`, jobId);
      else this.event(deployment, 'CREATING_A_SAVEPOINT_BEFORE_SUSPENSION', `Creating a savepoint for job ${jobId} before suspension.`, jobId);
      const savepoint = this.createSavepoint(deployment, origin, { job, location: this.newSavepointLocation(deployment, job) });
      this.event(deployment, 'SUCCESSFULLY_TRIGGERED_A_SAVEPOINT', `Successfully triggered savepoint ${savepoint.metadata.id} for job ${jobId}.`, jobId);
      if (purpose === 'upgrade') this.event(deployment, 'AWAITING_FOR_A_SAVEPOINT_TO_COMPLETE', `Awaiting savepoint ${savepoint.metadata.id} to complete.`, jobId);
      else this.event(deployment, 'AWAITING_SAVEPOINT_COMPLETION_TO_TRANSITION_TO_SUSPENDED', `Awaiting savepoint ${savepoint.metadata.id} to complete before transitioning to SUSPENDED.`, jobId);
      await ctx.sleep(this.behaviour(deployment).savepointMs);
      const after = ctx.current();
      if (!fail) {
        this.setSavepointState(after, savepoint, 'COMPLETED');
        if (purpose === 'suspend') this.event(after, 'FOUND_A_COMPLETED_SAVEPOINT_READY_FOR_SUSPENSION', `Found completed savepoint ${savepoint.metadata.id}, ready for suspension.`, jobId);
        return savepoint;
      }
      const failure = this.behaviour(after).savepointFailure;
      this.failSavepoint(after, savepoint, failure);
      this.event(after, 'RECOVERABLE_FAILURE_WHILE_TRIGGERING_A_SAVEPOINT', `Failed to take savepoint (attempt ${attempt} of ${attempts}): ${failure.message}`, jobId);
    }
    const deployment = ctx.current();
    this.event(deployment, 'TOO_MANY_FAILED_SUSPENSION_ATTEMPTS', `Savepoint creation failed ${attempts} times; giving up.`, job.metadata.id);
    this.event(deployment, 'TRANSITIONING_TO_FAILED_STATE_BECAUSE_SAVEPOINT_FAILED_IN_FLINK', 'Transitioning to FAILED because the savepoint failed in Flink.', job.metadata.id);
    this.setStatus(deployment, 'FAILED');
    this.setTransitioning(deployment, false);
    return undefined;
  }

  private async terminate(ctx: RunContext, job: Job, foundEvent: string): Promise<void> {
    const deployment = ctx.current();
    if (job.status.state !== 'TERMINATING') {
      this.event(deployment, foundEvent, `Found job ${job.metadata.id} (${job.status.state}); it will be terminated.`, job.metadata.id);
      this.event(deployment, 'AWAITING_A_JOB_TO_TERMINATE', `Awaiting job ${job.metadata.id} to terminate.`, job.metadata.id);
      this.setJobState(deployment, job, 'TERMINATING');
    }
    await ctx.sleep(this.behaviour(deployment).terminateMs);
    const after = ctx.current();
    this.setJobState(after, job, 'TERMINATED');
    this.retainCheckpoint(after, job);
  }

  /**
   * A job that ran and was stopped without a savepoint leaves its last checkpoint behind
   * (when retained checkpoints are on): a COMPLETED Savepoint with origin RETAINED_CHECKPOINT.
   */
  private retainCheckpoint(deployment: Deployment, job: Job): void {
    const started = job.status.started;
    if (!started || !this.behaviour(deployment).retainedCheckpoints) return;
    const savepointed = this.env.store
      .listSavepoints(deployment.metadata.namespace, { deploymentId: deployment.metadata.id, jobId: job.metadata.id })
      .some((s) => s.status.state === 'COMPLETED' && TEARDOWN_ORIGINS.includes(s.metadata.origin));
    if (savepointed) return;
    const ranMs = Math.max(0, this.env.clock.now() - (Date.parse(started.startedAt) || this.env.clock.now()));
    const checkpoint = 1 + Math.floor(ranMs / CHECKPOINT_INTERVAL_MS);
    const location = `${this.jobStorage(deployment, job)}/checkpoints/${started.flinkJobId}/chk-${checkpoint}`;
    this.createSavepoint(deployment, 'RETAINED_CHECKPOINT', { job, location, state: 'COMPLETED' });
  }

  private async startJob(ctx: RunContext, savepointLocation: string | undefined, outcome: Outcome, failure?: FailureText): Promise<void> {
    let deployment = ctx.current();
    const behaviour = this.behaviour(deployment);
    const jobFailure = failure ?? behaviour.jobFailure;
    const job = this.createJob(deployment, savepointLocation);
    const jobId = job.metadata.id;
    this.event(deployment, 'CREATING_A_NEW_JOB', `Creating a new job ${jobId}${savepointLocation ? ` restoring from ${savepointLocation}` : ''}.`, jobId);
    this.event(deployment, 'SPINNING_UP_A_CLUSTER_FOR_A_JOB', `Spinning up a Flink cluster for job ${jobId}.`, jobId);
    this.event(deployment, 'AWAITING_A_JOB_TO_START', `Awaiting job ${jobId} to start.`, jobId);
    await ctx.sleep(behaviour.startMs);
    deployment = ctx.current();

    if (outcome === 'stuck') return this.waitForAbort(ctx.signal);
    if (outcome === 'fails') {
      const attempts = Number(deployment.spec.maxJobCreationAttempts) || 1;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        this.event(ctx.current(), 'FAILED_CREATING_A_NEW_JOB', `Failed to create job ${jobId} (attempt ${attempt} of ${attempts}): ${jobFailure.message}`, jobId);
        if (attempt < attempts) await ctx.sleep(behaviour.startMs);
      }
      deployment = ctx.current();
      this.event(deployment, 'TOO_MANY_FAILED_JOB_CREATION_ATTEMPTS', `Job creation failed ${attempts} times; giving up.`, jobId);
      this.failJob(deployment, job, jobFailure);
      this.event(deployment, 'TRANSITIONING_TO_FAILED_STATE_BECAUSE_JOB_NOT_STARTED', `Transitioning to FAILED because job ${jobId} did not start.`, jobId);
      this.setStatus(deployment, 'FAILED');
      this.setTransitioning(deployment, false);
      return;
    }
    this.setJobState(deployment, job, 'STARTED');
    this.event(deployment, 'JOB_SUCCESSFULLY_STARTED', `Job ${jobId} was successfully started.`, jobId);
    this.event(deployment, 'STATE_TRANSITION_IS_COMPLETED', 'Transition to RUNNING is completed.', jobId);
    this.setRunning(deployment, job);
    this.setTransitioning(deployment, false);
    if (outcome === 'crashLoops' || outcome === 'restartsOnce') return this.scheduleRestarts(deployment, job, outcome);
    if (outcome !== 'finishes') return;

    await ctx.sleep(behaviour.finishMs);
    deployment = ctx.current();
    this.setJobState(deployment, job, 'FINISHED');
    this.event(deployment, 'JOB_SUCCESSFULLY_FINISHED', `Job ${jobId} finished successfully.`, jobId);
    this.event(deployment, 'TRANSITIONED_TO_FINISHED_STATE', 'Deployment transitioned to FINISHED.', jobId);
    this.setStatus(deployment, 'FINISHED');
  }

  /** Savepoints a previous (aborted) run left in STARTED would complete in Flink anyway. */
  private settleDanglingSavepoints(deployment: Deployment): void {
    for (const savepoint of this.env.store.listSavepoints(deployment.metadata.namespace, { deploymentId: deployment.metadata.id })) {
      if (savepoint.status.state === 'STARTED' && savepoint.metadata.origin !== 'USER_REQUEST') this.setSavepointState(deployment, savepoint, 'COMPLETED');
    }
  }

  // ---- resource writes ----------------------------------------------------------------

  private createJob(deployment: Deployment, savepointLocation: string | undefined): Job {
    const now = this.env.clock.isoNow();
    const template = deployment.spec.template as JsonObject;
    const tspec = deepClone((template.spec ?? {}) as JsonObject);
    const targetRef = deployment.spec.deploymentTargetId ?? deployment.spec.deploymentTargetName;
    const target = typeof targetRef === 'string' ? this.env.store.findTarget(deployment.metadata.namespace, targetRef) : undefined;
    const job: Job = {
      kind: 'Job',
      apiVersion: 'v1',
      metadata: {
        id: randomUUID(),
        namespace: deployment.metadata.namespace,
        deploymentId: deployment.metadata.id,
        deploymentName: deployment.metadata.name,
        createdAt: now,
        modifiedAt: now,
        annotations: { [SPEC_VERSION_ANNOTATION]: deployment.metadata.annotations[SPEC_VERSION_ANNOTATION] ?? '1' },
        resourceVersion: 1,
      },
      spec: {
        ...tspec,
        userFlinkConfiguration: deepClone(isPlainObject(tspec.flinkConfiguration) ? tspec.flinkConfiguration : {}),
        deploymentTarget: { kubernetes: { namespace: target?.spec.kubernetes.namespace ?? 'vvp-jobs' } },
        ...(savepointLocation ? { savepointLocation } : {}),
        allowNonRestoredState: restoreStrategy(deployment.spec).allowNonRestoredState,
      },
      status: { state: 'STARTING' },
    };
    this.env.store.putJob(job);
    this.env.store.setJobTemplate(deployment.metadata.namespace, job.metadata.id, deployment.spec.template);
    this.report(deployment, 'Job', job.metadata.id, null, 'STARTING');
    return job;
  }

  private setJobState(deployment: Deployment, job: Job, state: JobState): void {
    const from = job.status.state;
    if (from === state) return;
    const now = this.env.clock.isoNow();
    job.status.state = state;
    if (state === 'STARTED') {
      job.status.started = {
        flinkJobId: job.metadata.id.replace(/-/g, ''),
        startedAt: now,
        lastUpdateTime: now,
        observedFlinkJobRestarts: 0,
        observedFlinkJobStatus: 'RUNNING',
      };
    } else if (job.status.started) {
      job.status.started.lastUpdateTime = now;
      job.status.started.observedFlinkJobStatus = state === 'FINISHED' ? 'FINISHED' : state === 'TERMINATED' ? 'CANCELED' : job.status.started.observedFlinkJobStatus;
    }
    if (state === 'TERMINATED' || state === 'FAILED' || state === 'FINISHED') job.metadata.terminatedAt = now;
    job.metadata.modifiedAt = now;
    job.metadata.resourceVersion += 1;
    this.report(deployment, 'Job', job.metadata.id, from, state);
  }

  private failJob(deployment: Deployment, job: Job, failure: { reason: string; message: string }): void {
    job.status.failure = { reason: failure.reason, message: failure.message, failedAt: this.env.clock.isoNow() };
    this.setJobState(deployment, job, 'FAILED');
  }

  /** Adds a Savepoint (of `job`, unless COPIED) at `location`, STARTED unless `state` says otherwise. */
  private createSavepoint(deployment: Deployment, origin: SavepointOrigin, options: { job?: Job; location: string; state?: SavepointState }): Savepoint {
    const now = this.env.clock.isoNow();
    const { namespace, id } = deployment.metadata;
    const { job, location } = options;
    const state = options.state ?? 'STARTED';
    // Only savepoints VVP triggered in Flink have a Flink savepoint id.
    const triggered = origin !== 'COPIED' && origin !== 'RETAINED_CHECKPOINT';
    const savepoint: Savepoint = {
      kind: 'Savepoint',
      apiVersion: 'v1',
      metadata: {
        id: randomUUID(),
        namespace,
        deploymentId: id,
        ...(job ? { jobId: job.metadata.id } : {}),
        origin,
        // VVP cannot know the format of a copied location.
        ...(versionAtLeast(this.env.buildVersion(), '2.7') ? { type: origin === 'COPIED' ? 'UNKNOWN' : 'FULL' } : {}),
        createdAt: now,
        modifiedAt: now,
        annotations: { [SPEC_VERSION_ANNOTATION]: deployment.metadata.annotations[SPEC_VERSION_ANNOTATION] ?? '1' },
        resourceVersion: 1,
      },
      spec: { savepointLocation: location, ...(triggered ? { flinkSavepointId: randomUUID() } : {}) },
      status: { state },
    };
    this.env.store.putSavepoint(savepoint);
    this.report(deployment, 'Savepoint', savepoint.metadata.id, null, state);
    return savepoint;
  }

  /** Where VVP's universal blob storage keeps a job's checkpoints and savepoints. */
  private jobStorage(deployment: Deployment, job: Job): string {
    return `${this.env.blobStorageBaseUri()}/flink-jobs/namespaces/${deployment.metadata.namespace}/jobs/${job.metadata.id}`;
  }

  /** A new savepoint directory of `job`, named as Flink names them: `savepoint-<6 chars of the job id>-<12 hex>`. */
  private newSavepointLocation(deployment: Deployment, job: Job): string {
    return `${this.jobStorage(deployment, job)}/savepoints/savepoint-${job.metadata.id.replace(/-/g, '').slice(0, 6)}-${randomBytes(6).toString('hex')}`;
  }

  private failSavepoint(deployment: Deployment, savepoint: Savepoint, failure: { reason: string; message: string }): void {
    savepoint.status.failure = { reason: failure.reason, message: failure.message, failedAt: this.env.clock.isoNow() };
    this.setSavepointState(deployment, savepoint, 'FAILED');
  }

  private setSavepointState(deployment: Deployment, savepoint: Savepoint, state: SavepointState): void {
    const from = savepoint.status.state;
    savepoint.status.state = state;
    savepoint.metadata.modifiedAt = this.env.clock.isoNow();
    savepoint.metadata.resourceVersion += 1;
    this.report(deployment, 'Savepoint', savepoint.metadata.id, from, state);
  }

  private setStatus(deployment: Deployment, state: DeploymentState): void {
    const from = deployment.status.state ?? null;
    deployment.status = { state };
    this.touch(deployment);
    if (from !== state) this.report(deployment, 'Deployment', deployment.metadata.id, from, state);
  }

  private setRunning(deployment: Deployment, job: Job): void {
    const from = deployment.status.state ?? null;
    const now = this.env.clock.isoNow();
    const condition = (type: string): DeploymentCondition => ({ type, status: 'False', reason: '', message: '', lastTransitionTime: now, lastUpdateTime: now });
    deployment.status = {
      state: 'RUNNING',
      running: { jobId: job.metadata.id, transitionTime: now, conditions: [condition('ClusterUnreachable'), condition('JobFailing')] },
    };
    this.touch(deployment);
    if (from !== 'RUNNING') this.report(deployment, 'Deployment', deployment.metadata.id, from, 'RUNNING');
  }

  private setTransitioning(deployment: Deployment, transitioning: boolean): void {
    const annotations = deployment.metadata.annotations;
    annotations[TRANSITIONING_ANNOTATION] = String(transitioning);
    if (transitioning) annotations[TRANSITIONING_SINCE_ANNOTATION] = String(this.env.clock.now());
  }

  /** Controller writes are writes too: they bump resourceVersion and modifiedAt. */
  private touch(deployment: Deployment): void {
    deployment.metadata.resourceVersion += 1;
    deployment.metadata.modifiedAt = this.env.clock.isoNow();
  }

  private event(deployment: Deployment, name: string, message: string, jobId?: string): void {
    this.env.store.addEvent(deployment.metadata.namespace, deployment.metadata.id, name, message, jobId);
  }

  private report(deployment: Deployment, resource: StateChange['resource'], id: string, from: string | null, to: string): void {
    this.env.onStateChange({ at: this.env.clock.isoNow(), namespace: deployment.metadata.namespace, deployment: deployment.metadata.name, resource, id, from, to });
  }

  // ---- Flink restarts of a running job ------------------------------------------------

  /**
   * `crashLoops`: Flink restarts the job every `restartIntervalMs` while it stays STARTED.
   * `restartsOnce`: one restart, then recovery `restartIntervalMs` later. The deployment stays
   * RUNNING throughout; replacing or stopping the job ends the loop.
   */
  private scheduleRestarts(deployment: Deployment, job: Job, mode: 'crashLoops' | 'restartsOnce'): void {
    const { namespace, id } = deployment.metadata;
    const step = (phase: 'restart' | 'recover'): void => {
      this.sideTimer(() => {
        const current = this.env.store.deploymentById(namespace, id);
        if (!current || job.status.state !== 'STARTED') return;
        if (phase === 'recover') return this.flinkRecovered(current, job);
        this.countRestart(current, job);
        // The condition describes the job the status shows; during TRANSITIONING there is none.
        if (current.status.running?.jobId === job.metadata.id) {
          this.writeCondition(current, { type: 'JobFailing', status: 'True', ...this.behaviour(current).restartFailure });
        }
        step(mode === 'crashLoops' ? 'restart' : 'recover');
      }, this.behaviour(deployment).restartIntervalMs, 1); // ≥ 1 ms: with timeScale 0 a crash loop must still let time pass
    };
    step('restart');
  }

  /** One Flink restart of a job: `observedFlinkJobRestarts` + 1, Flink status RESTARTING. */
  private countRestart(deployment: Deployment, job: Job): void {
    const started = job.status.started;
    if (!started) return;
    started.observedFlinkJobRestarts += 1;
    started.observedFlinkJobStatus = 'RESTARTING';
    started.lastUpdateTime = this.env.clock.isoNow();
    job.metadata.modifiedAt = started.lastUpdateTime;
    job.metadata.resourceVersion += 1;
    this.report(deployment, 'Job', job.metadata.id, 'STARTED', `STARTED (Flink restart ${started.observedFlinkJobRestarts})`);
  }

  /** The restarted job runs again: Flink status RUNNING, JobFailing back to False. */
  private flinkRecovered(deployment: Deployment, job: Job): void {
    const started = job.status.started;
    if (!started) return;
    started.observedFlinkJobStatus = 'RUNNING';
    started.lastUpdateTime = this.env.clock.isoNow();
    job.metadata.modifiedAt = started.lastUpdateTime;
    job.metadata.resourceVersion += 1;
    if (deployment.status.running?.jobId === job.metadata.id) this.writeCondition(deployment, { type: 'JobFailing', status: 'False' });
    this.report(deployment, 'Job', job.metadata.id, 'STARTED (restarting)', 'STARTED (recovered)');
  }

  /**
   * Sets (or adds) a running condition; `lastTransitionTime` moves only when the status changes.
   * Returns false when the deployment is not RUNNING (conditions exist only in `status.running`).
   */
  private writeCondition(deployment: Deployment, condition: { type: string; status: DeploymentCondition['status']; reason?: string; message?: string }): boolean {
    const running = deployment.status.running;
    if (!running) return false;
    const now = this.env.clock.isoNow();
    const existing = running.conditions.find((c) => c.type === condition.type);
    if (existing) {
      if (existing.status !== condition.status) existing.lastTransitionTime = now;
      existing.status = condition.status;
      existing.reason = condition.reason ?? '';
      existing.message = condition.message ?? '';
      existing.lastUpdateTime = now;
    } else {
      running.conditions.push({ type: condition.type, status: condition.status, reason: condition.reason ?? '', message: condition.message ?? '', lastTransitionTime: now, lastUpdateTime: now });
    }
    this.touch(deployment);
    return true;
  }

  // ---- timing -------------------------------------------------------------------------

  private behaviour(deployment: Deployment): Behaviour {
    return this.env.behaviours.get(deployment.metadata.namespace, deployment.metadata.name);
  }

  private scaled(ms: number): number {
    return Math.max(0, Math.round(ms * this.env.timeScale()));
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new RunAborted());
      const timer = this.env.clock.setTimer(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, this.scaled(ms));
      const onAbort = (): void => {
        timer.clear();
        reject(new RunAborted());
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** A timer outside any run (cleared by stopAll); `ms` is scaled, then raised to `minimumMs`. */
  private sideTimer(callback: () => void, ms: number, minimumMs = 0): void {
    const timer = this.env.clock.setTimer(() => {
      this.sideTimers.delete(timer);
      callback();
    }, Math.max(minimumMs, this.scaled(ms)));
    this.sideTimers.add(timer);
  }

  private waitForAbort(signal: AbortSignal): Promise<void> {
    return new Promise((_resolve, reject) => {
      if (signal.aborted) return reject(new RunAborted());
      signal.addEventListener('abort', () => reject(new RunAborted()), { once: true });
    });
  }
}

interface RunContext {
  /** The deployment as stored now; throws when the run was aborted or the deployment deleted. */
  current(): Deployment;
  sleep(ms: number): Promise<void>;
  signal: AbortSignal;
}
