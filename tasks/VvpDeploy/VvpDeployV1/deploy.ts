/**
 * The VvpDeploy@1 flow: read the deployment, PATCH (or create) it once, and wait until VVP runs
 * a NEW job with exactly the new jarUri; on failure or timeout optionally restore the previous
 * template. Plain TypeScript: no task-lib, every outside effect comes in through `DeployDeps`.
 */
import { CancelledError, InputError, isAbortError, ServiceError } from '../../common/errors/errors';
import { inGroup, type Logger } from '../../common/logging/logger';
import type { Clock } from '../../common/poll/clock';
import { adaptiveSchedule, PollAbortedError, pollUntilDone, type PollOutcome } from '../../common/poll/poller';
import { planChange } from '../../common/vvp/change-plan';
import { classifyUpgrade, type UpgradeExpectation, type UpgradeObservation, type UpgradeSuccess } from '../../common/vvp/classify';
import type { VvpApi } from '../../common/vvp/client';
import { buildCreateBody, buildPatchBody, containsSubset, deepEqual } from '../../common/vvp/deployment-spec';
import {
  ChangeBlockedError,
  DeploymentFailedError,
  formatDuration,
  oneLine,
  VvpApiError,
  WaitTimeoutError,
  type EventLine,
  type JobFailure,
  type RollbackReport,
} from '../../common/vvp/errors';
import {
  desiredStateOf,
  isJsonObject,
  jarUriOf,
  jobJarUri,
  upgradeStrategyOf,
  type Deployment,
  type Job,
  type JsonObject,
  type JsonValue,
} from '../../common/vvp/resources';
import type { DeployConfig } from './inputs';

/** Everything the flow touches outside itself. */
export interface DeployDeps {
  vvp: VvpApi;
  clock: Clock;
  logger: Logger;
  /** Cancels the step; the flow stops promptly and says what state VVP was left in. */
  abortSignal?: AbortSignal;
}

/** How the step ended, for outputs and the run summary. */
export type DeployOutcome = 'upToDate' | 'succeeded' | 'applied' | 'failed' | 'timedOut' | 'blocked' | 'cancelled' | 'error';

/**
 * What happened, filled in as the flow goes so the entry can write outputs and a summary even
 * when the flow throws.
 */
export interface DeployReport {
  namespace: string;
  deployment: string;
  /** Where the deployment can be seen; the base VVP URL ('' when unknown: a tunnel without vvpUrl). */
  vvpUrl: string;
  deploymentId?: string;
  /** The deployment's name (from VVP), for links and messages. */
  deploymentName?: string;
  /** jarUri before this step (undefined when created). */
  previousJarUri?: string;
  /** The jarUri this step deploys. */
  targetJarUri: string;
  /** jarUri stored in VVP at the end. */
  jarUri?: string;
  previousJobId?: string;
  /** The job running at the end (when known). */
  jobId?: string;
  /** Last observed `status.state`. */
  state?: string;
  created: boolean;
  /** Whether the PATCH/POST was applied: true, false, or unknown (lost answer, then cancelled). */
  changeApplied: boolean | 'unknown';
  rolledBack: boolean;
  outcome?: DeployOutcome;
  message?: string;
  startedAtMs: number;
  finishedAtMs?: number;
}

/** A fresh report for one run. */
export function newDeployReport(config: DeployConfig, clock: Clock): DeployReport {
  return {
    namespace: config.namespace,
    deployment: config.deployment,
    // Set again once access is resolved (the service connection's URL); empty behind a tunnel without vvpUrl.
    vvpUrl: config.vvpUrl?.href.replace(/\/+$/, '') ?? '',
    targetJarUri: config.jarUri,
    created: false,
    changeApplied: false,
    rolledBack: false,
    startedAtMs: clock.now(),
  };
}

/** Allowed difference between VVP's timestamps of the change and of the events it caused. */
const EVENT_SKEW_MS = 2_000;
/** When VVP gives no modifiedAt, events are taken from this long before our local change time. */
const LOCAL_SKEW_MS = 60_000;
/** The longest a probe may run past the wait's deadline (a poll interval, within these bounds). */
const PROBE_GRACE_MIN_MS = 1_000;
const PROBE_GRACE_MAX_MS = 5_000;
/** Bound for the reads that explain a failure or timeout (events, jobs), retries included. */
const DIAGNOSTICS_BOUND_MS = 10_000;

const GROUP_READ = 'Read deployment';
const GROUP_APPLY = 'Apply change';
const GROUP_WAIT = 'Wait for the new job';
const GROUP_ROLLBACK = 'Roll back';

/** The state of the write, for the cancellation message. */
type ChangeStage = 'notSent' | 'sending' | 'applied' | 'rollingBack';

/**
 * Runs the deploy. Resolves with the success message; throws a TaskError (ChangeBlockedError,
 * DeploymentFailedError, WaitTimeoutError, VvpApiError, InputError, CancelledError) otherwise.
 * `report` is updated throughout, also on failure.
 */
export async function runDeploy(config: DeployConfig, deps: DeployDeps, report: DeployReport): Promise<string> {
  const run = new DeployRun(config, deps, report);
  try {
    const message = await run.execute();
    report.message = message;
    return message;
  } catch (error) {
    const final = run.explainCancellation(error) ?? error;
    report.outcome ??= outcomeOf(final);
    report.message = (final as Error)?.message ?? String(final);
    throw final;
  } finally {
    report.finishedAtMs = deps.clock.now();
  }
}

function outcomeOf(error: unknown): DeployOutcome {
  if (error instanceof CancelledError) return 'cancelled';
  if (error instanceof DeploymentFailedError) return 'failed';
  if (error instanceof WaitTimeoutError) return 'timedOut';
  if (error instanceof ChangeBlockedError) return 'blocked';
  return 'error';
}

/** The baseline read before the change. */
interface Baseline {
  deployment: Deployment;
  runningJob?: Job;
  /** Job ids that existed before the change (read when the deployment was not active). */
  knownJobIds?: Set<string>;
}

/** A change VVP accepted. */
interface AppliedChange {
  deployment: Deployment;
  /** VVP's time of the write (metadata.modifiedAt), for event filtering; minus skew applied. */
  eventsSinceMs: number;
}

/** What a wait ended with. */
interface WaitResult {
  outcome: PollOutcome<UpgradeObservation, UpgradeSuccess>;
  /** The deployment as last read by the probe. */
  lastDeployment?: Deployment;
}

class DeployRun {
  private readonly vvp: VvpApi;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly signal?: AbortSignal;
  private phase = GROUP_READ;
  private stage: ChangeStage = 'notSent';
  private writeMethod: 'PATCH' | 'POST' = 'PATCH';
  private lastState?: string;
  /** While set, every VVP call must end by then (see VvpRequestOptions.deadline). */
  private readDeadline?: number;

  constructor(
    private readonly config: DeployConfig,
    deps: DeployDeps,
    private readonly report: DeployReport,
  ) {
    this.vvp = deps.vvp;
    this.logger = deps.logger;
    this.clock = deps.clock;
    this.signal = deps.abortSignal;
  }

  async execute(): Promise<string> {
    const { config, report } = this;
    const baseline = await this.group(GROUP_READ, () => this.readBaseline());
    if (!baseline) return this.createMissing();

    const current = baseline.deployment;
    const patch = buildPatchBody(config.specFile?.document, config.jarUri);
    const plan = planChange({ current, runningJob: baseline.runningJob, patch, waitForRunning: config.waitForRunning });
    switch (plan.kind) {
      case 'upToDate':
        this.logger.info(capitalise(plan.reason));
        report.outcome = 'upToDate';
        report.jarUri = jarUriOf(current);
        report.jobId = current.status?.state === 'RUNNING' ? current.status.running?.jobId : undefined;
        return `VVP deployment '${this.name()}': ${plan.reason}`;
      case 'blocked':
        throw new ChangeBlockedError(this.name(), config.namespace, plan.reason);
      case 'wait': {
        this.logger.info(capitalise(plan.reason));
        report.jarUri = jarUriOf(current);
        const expectation: UpgradeExpectation = {
          jarUri: config.jarUri,
          baselineJobId: runningJobIdOf(current),
          baselineState: current.status?.state,
          requireNewJob: false,
        };
        const sinceMs = this.clock.now() - LOCAL_SKEW_MS;
        return this.waitAndConclude(current, expectation, baseline.knownJobIds, sinceMs, undefined);
      }
      case 'patch':
        break;
      default: {
        const unknown: never = plan;
        throw new Error(`unknown plan ${JSON.stringify(unknown)}`);
      }
    }

    const applied = await this.group(GROUP_APPLY, () => this.applyPatch(current, patch));
    // VVP's echo decides whether the template changed (it normalises values our file may spell differently).
    const templateChanged = !deepEqual(applied.deployment.spec.template, current.spec.template);
    if (!config.waitForRunning) {
      report.outcome = 'applied';
      return `VVP deployment '${this.name()}' now holds jarUri ${config.jarUri}; not waiting for the job (waitForRunning: false)`;
    }
    if (!templateChanged) this.logger.info('VVP reports no template change: no new job is expected; waiting for the running job.');
    const expectation: UpgradeExpectation = {
      jarUri: config.jarUri,
      baselineJobId: runningJobIdOf(current),
      baselineState: current.status?.state,
      requireNewJob: templateChanged,
    };
    return this.waitAndConclude(current, expectation, baseline.knownJobIds, applied.eventsSinceMs, current);
  }

  /** Reads the deployment before any change; undefined when it does not exist. */
  private async readBaseline(): Promise<Baseline | undefined> {
    const { config, report } = this;
    const deployment = await this.vvp.getDeployment(config.namespace, config.deployment, this.opts());
    if (!deployment) {
      this.logger.info(`Deployment '${config.deployment}' does not exist in namespace '${config.namespace}'.`);
      return undefined;
    }
    this.adopt(deployment);
    report.previousJarUri = jarUriOf(deployment);
    report.previousJobId = runningJobIdOf(deployment);
    report.jobId = report.previousJobId;
    const state = deployment.status?.state ?? 'unknown';
    let runningJob: Job | undefined;
    if (state === 'RUNNING' && report.previousJobId) {
      runningJob = await this.vvp.getJob(config.namespace, report.previousJobId, this.opts());
    }
    let knownJobIds: Set<string> | undefined;
    if (state !== 'RUNNING' && state !== 'TRANSITIONING') {
      // A stopped or failed deployment keeps reporting its old state for a moment after the
      // change; a job that did not exist before proves VVP has acted.
      const jobs = await this.vvp.listJobs(config.namespace, deployment.metadata.id, this.opts());
      knownJobIds = new Set(jobs.map((j) => j.metadata.id));
    }
    this.logger.info(`Deployment '${this.name()}' (id ${deployment.metadata.id}) in namespace '${config.namespace}'`);
    this.logger.info(`  state: ${state} (desired ${desiredStateOf(deployment.spec) ?? 'unset'})`);
    if (report.previousJobId) {
      this.logger.info(`  running job: ${report.previousJobId}${runningJob ? ` (${runningJob.status?.state ?? 'state unknown'})` : ''}`);
    }
    this.logger.info(`  jarUri: ${report.previousJarUri ?? '(none)'}`);
    this.logger.info(`  upgrade strategy: ${upgradeStrategyOf(deployment.spec) ?? '(default)'}`);
    this.logger.info(`New jarUri: ${config.jarUri}`);
    return { deployment, runningJob, knownJobIds };
  }

  /**
   * Sends a write (PATCH or POST) exactly once. When its answer is lost (`outcomeUnknown`: the
   * request may have been applied), reads back and asks `applied` instead of sending it again.
   * Leaves `stage` at 'notSent' when the write certainly did not happen.
   */
  private async writeOnce(write: {
    method: 'PATCH' | 'POST';
    operation: string;
    send: () => Promise<Deployment>;
    lostAnswer: (error: VvpApiError) => string;
    readBack: () => Promise<Deployment | undefined>;
    applied: (readBack: Deployment) => boolean;
    notApplied: (readBack: Deployment | undefined) => string;
  }): Promise<Deployment> {
    const { report } = this;
    this.stage = 'sending';
    this.writeMethod = write.method;
    try {
      return await write.send();
    } catch (error) {
      // Cancelled mid-write: the outcome is unknown and stays so ('sending').
      if (isAbortError(error)) throw error;
      if (!(error instanceof VvpApiError) || !error.outcomeUnknown) {
        this.stage = 'notSent';
        throw error;
      }
      report.changeApplied = 'unknown';
      this.logger.warn(write.lostAnswer(error));
      const readBack = await write.readBack();
      if (!readBack || !write.applied(readBack)) {
        this.stage = 'notSent';
        report.changeApplied = false;
        throw new ServiceError({
          service: 'Ververica Platform',
          operation: write.operation,
          status: error.status,
          serviceMessage: `${error.serviceMessage ?? error.message}; reading back shows ${write.notApplied(readBack)}`,
          hint: 'Nothing was changed; re-run the step',
          cause: error,
        });
      }
      this.logger.info(`Read back: the ${write.method} was applied.`);
      return readBack;
    }
  }

  /** PATCHes once; when the answer is lost, reads back and compares instead of resending. */
  private async applyPatch(current: Deployment, body: JsonObject): Promise<AppliedChange> {
    const { config, report } = this;
    const id = current.metadata.id;
    const sentAtMs = this.clock.now();
    const after = await this.writeOnce({
      method: 'PATCH',
      operation: `updating deployment '${this.name()}' in namespace '${config.namespace}'`,
      send: () => this.vvp.patchDeployment(config.namespace, id, body, this.opts()),
      lostAnswer: (error) =>
        `The answer to the PATCH was lost (${error.status !== undefined ? `HTTP ${error.status}` : (error.networkCode ?? 'network error')}); ` +
        'reading the deployment back to see whether it was applied. The PATCH is not sent again.',
      readBack: () => this.vvp.getDeployment(config.namespace, id, this.opts()),
      applied: (readBack) => this.holdsChange(readBack, current, body),
      notApplied: (readBack) => `the change was NOT applied (VVP still stores jarUri ${jarUriOf(readBack) ?? '(none)'})`,
    });
    this.stage = 'applied';
    report.changeApplied = true;
    this.adopt(after);
    const stored = jarUriOf(after);
    report.jarUri = stored;
    if (stored !== config.jarUri) {
      throw new ServiceError({
        service: 'Ververica Platform',
        operation: `updating deployment '${this.name()}' in namespace '${config.namespace}'`,
        serviceMessage: `VVP accepted the PATCH but stores jarUri ${stored ?? '(none)'} instead of ${config.jarUri}`,
        hint: 'Check for a process that rewrites the deployment (an operator, GitOps) or VVP deployment defaults',
      });
    }
    this.logger.info(`PATCH applied: jarUri is now ${stored} (resourceVersion ${String(after.metadata.resourceVersion ?? '?')}).`);
    return { deployment: after, eventsSinceMs: serverTime(after.metadata.modifiedAt, sentAtMs) };
  }

  /** Whether a read-back deployment holds our PATCH. */
  private holdsChange(readBack: Deployment, before: Deployment, body: JsonObject): boolean {
    if (jarUriOf(readBack) !== this.config.jarUri) return false;
    if (jarUriOf(before) !== this.config.jarUri) return true;
    return containsSubset(readBack.spec, (body.spec ?? {}) as JsonValue);
  }

  /** Creates a missing deployment from the spec file (POST once), then waits for it to run. */
  private async createMissing(): Promise<string> {
    const { config, report } = this;
    if (!config.createIfMissing) {
      throw new VvpApiError({
        method: 'GET',
        path: `/api/v1/namespaces/${config.namespace}/deployments/${config.deployment}`,
        operation: `reading deployment '${config.deployment}' in namespace '${config.namespace}'`,
        status: 404,
        serviceMessage: `deployment '${config.deployment}' not found in namespace '${config.namespace}'`,
        hint: 'Check the deployment name and namespace, or set createIfMissing: true with a deploymentSpecFile holding the full Deployment',
      });
    }
    if (config.deploymentIsId) {
      throw new InputError([
        { input: 'deployment', value: config.deployment, expected: 'the name of the deployment to create (ids are assigned by VVP), since no deployment has this id' },
      ]);
    }
    if (!config.specFile) {
      throw new InputError([
        {
          input: 'deploymentSpecFile',
          value: '',
          expected: `a YAML or JSON file with the full Deployment, needed to create deployment '${config.deployment}', which does not exist in namespace '${config.namespace}'`,
        },
      ]);
    }
    const body = buildCreateBody(config.specFile.document, { name: config.deployment, namespace: config.namespace, jarUri: config.jarUri });
    const desired = desiredStateOf(body.spec);
    if (config.waitForRunning && desired !== 'RUNNING') {
      throw new ChangeBlockedError(
        config.deployment,
        config.namespace,
        `the spec file sets spec.state ${String(desired)}, so the new deployment would not run; set spec.state: RUNNING or waitForRunning: false`,
      );
    }
    const created = await this.group(GROUP_APPLY, async () => {
      const sentAtMs = this.clock.now();
      const deployment = await this.writeOnce({
        method: 'POST',
        operation: `creating deployment '${config.deployment}' in namespace '${config.namespace}'`,
        send: () => this.vvp.createDeployment(config.namespace, body, this.opts()),
        lostAnswer: () => `The answer to the POST was lost; reading back whether deployment '${config.deployment}' was created. The POST is not sent again.`,
        readBack: () => this.vvp.getDeployment(config.namespace, config.deployment, this.opts()),
        applied: (readBack) => jarUriOf(readBack) === config.jarUri,
        notApplied: () => 'the deployment was NOT created',
      });
      this.stage = 'applied';
      report.changeApplied = true;
      report.created = true;
      this.adopt(deployment);
      report.jarUri = jarUriOf(deployment);
      this.logger.info(`Created deployment '${this.name()}' (id ${deployment.metadata.id}) with jarUri ${report.jarUri}.`);
      return { deployment, eventsSinceMs: serverTime(deployment.metadata.createdAt ?? deployment.metadata.modifiedAt, sentAtMs) };
    });
    if (!config.waitForRunning) {
      report.outcome = 'applied';
      return `Created VVP deployment '${this.name()}' with jarUri ${config.jarUri}; not waiting for the job (waitForRunning: false)`;
    }
    const expectation: UpgradeExpectation = {
      jarUri: config.jarUri,
      baselineState: created.deployment.status?.state,
      requireNewJob: false,
    };
    return this.waitAndConclude(created.deployment, expectation, new Set(), created.eventsSinceMs, undefined);
  }

  /**
   * Waits for the expected job; on success fills the report and returns the message, on
   * failure/timeout collects the job failure and events, rolls back when asked (and possible:
   * `previous` is the deployment before a PATCH), and throws.
   */
  private async waitAndConclude(
    deployment: Deployment,
    expectation: UpgradeExpectation,
    knownJobIds: Set<string> | undefined,
    eventsSinceMs: number,
    previous: Deployment | undefined,
  ): Promise<string> {
    const { config, report } = this;
    const result = await this.group(GROUP_WAIT, () => this.waitFor(deployment.metadata.id, expectation, knownJobIds));
    const { outcome } = result;
    if (outcome.kind === 'succeeded') {
      report.outcome = 'succeeded';
      report.jobId = outcome.result.jobId;
      report.state = 'RUNNING';
      return (
        `VVP deployment '${this.name()}' runs job ${outcome.result.jobId} with jarUri ${config.jarUri}` +
        ` (after ${formatDuration(outcome.elapsedInMs)} of waiting)`
      );
    }
    // A VVP that hangs must not stretch the step by minutes of retries after the wait ended.
    this.readDeadline = this.clock.now() + DIAGNOSTICS_BOUND_MS;
    let failure: DeploymentFailedError | WaitTimeoutError;
    try {
      failure = await this.explainFailure(deployment.metadata.id, result, expectation, knownJobIds, eventsSinceMs);
    } finally {
      this.readDeadline = undefined;
    }
    report.outcome = failure instanceof WaitTimeoutError ? 'timedOut' : 'failed';
    const supersededBy = result.lastDeployment ? jarUriOf(result.lastDeployment) : undefined;
    if (config.rollbackOnFailure && supersededBy !== undefined && supersededBy !== expectation.jarUri) {
      // Restoring the old template would undo the other change too.
      this.logger.info(`Not rolling back: another change (jarUri ${supersededBy}) replaced this one and is left as it is.`);
      throw failure;
    }
    if (!config.rollbackOnFailure || !previous) {
      if (config.rollbackOnFailure && !previous) this.logger.info('Nothing to roll back to: the deployment had no previous template.');
      throw failure;
    }
    let rollback: RollbackReport;
    try {
      rollback = await this.group(GROUP_ROLLBACK, () => this.rollBack(previous, result));
    } catch (error) {
      if (isAbortError(error) || this.signal?.aborted) throw error;
      // The original failure stays the headline; the rollback problem is added to it.
      rollback = { outcome: 'error', jarUri: jarUriOf(previous) ?? '(none)', detail: (error as Error).message };
    }
    throw failure.withRollback(rollback);
  }

  /** Polls the deployment (and its running job) until the expectation is met, fails, or times out. */
  private async waitFor(deploymentId: string, expectation: UpgradeExpectation, knownJobIds: Set<string> | undefined): Promise<WaitResult> {
    const { config } = this;
    let changeObserved = false;
    let lastDeployment: Deployment | undefined;
    // Each probe ends by the wait's deadline (plus a little for the final probe), retries
    // included: a hanging VVP cannot stretch timeoutMinutes by 4 x 30 s per request.
    const graceInMs = Math.min(PROBE_GRACE_MAX_MS, Math.max(PROBE_GRACE_MIN_MS, config.pollIntervalInMs));
    const probeDeadline = this.clock.now() + config.timeoutInMs + graceInMs;
    const probe = async (signal: AbortSignal | undefined): Promise<UpgradeObservation> => {
      const options = { abortSignal: signal, deadline: probeDeadline };
      const d = await this.vvp.getDeployment(config.namespace, deploymentId, options);
      if (!d) {
        throw new VvpApiError({
          method: 'GET',
          path: '',
          operation: `waiting for deployment '${this.name()}'`,
          status: 404,
          serviceMessage: `the deployment disappeared from namespace '${config.namespace}' during the wait`,
        });
      }
      lastDeployment = d;
      const state = d.status?.state;
      const runningJobId = runningJobIdOf(d);
      this.lastState = state;
      this.report.state = state;
      this.report.jobId = runningJobId;
      if (state !== expectation.baselineState || (runningJobId !== undefined && runningJobId !== expectation.baselineJobId)) {
        changeObserved = true;
      }
      // Outside RUNNING/TRANSITIONING the jobs tell whether VVP acted on the change, and whether
      // a bad state is being left: VVP creates the new job before it updates the status.
      let newJobActive = false;
      if (knownJobIds && state !== 'RUNNING' && state !== 'TRANSITIONING') {
        const jobs = await this.vvp.listJobs(config.namespace, deploymentId, options);
        const fresh = jobs.filter((j) => !knownJobIds.has(j.metadata.id));
        if (fresh.length > 0) changeObserved = true;
        newJobActive = fresh.some((j) => ['STARTING', 'STANDBY', 'STARTED'].includes(j.status?.state ?? ''));
      }
      let runningJob: UpgradeObservation['runningJob'];
      if (state === 'RUNNING' && runningJobId && !(expectation.requireNewJob && runningJobId === expectation.baselineJobId)) {
        const job = await this.vvp.getJob(config.namespace, runningJobId, options);
        if (job) runningJob = { id: job.metadata.id, state: job.status?.state, jarUri: jobJarUri(job) };
      }
      return { state, desiredState: desiredStateOf(d.spec), specJarUri: jarUriOf(d), runningJobId, runningJob, changeObserved, newJobActive };
    };
    this.logger.info(
      `Waiting up to ${formatDuration(config.timeoutInMs)} for ${expectation.requireNewJob ? 'a new job' : 'a job'} running ${expectation.jarUri}` +
        ` (first checks within a second, then every ${formatDuration(config.pollIntervalInMs)} at most).`,
    );
    const outcome = await pollUntilDone<UpgradeObservation, UpgradeSuccess>({
      probe,
      classify: (obs) => classifyUpgrade(obs, expectation),
      schedule: adaptiveSchedule(config.pollIntervalInMs),
      timeoutInMs: config.timeoutInMs,
      clock: this.clock,
      abortSignal: this.signal,
      isTransientProbeError: isTransientVvpError,
      describeProbeError: (e) => `status unreadable (${e instanceof VvpApiError && e.status !== undefined ? `HTTP ${e.status}` : ((e as VvpApiError).networkCode ?? 'network error')})`,
      onProgress: ({ verdict, elapsedInMs }) => this.logger.info(`  [${(elapsedInMs / 1000).toFixed(1)} s] ${verdict.state}`),
    });
    return { outcome, lastDeployment };
  }

  /** Builds the failure or timeout error with the failed job's failure and the events since the change. */
  private async explainFailure(
    deploymentId: string,
    result: WaitResult,
    expectation: UpgradeExpectation,
    knownJobIds: Set<string> | undefined,
    eventsSinceMs: number,
  ): Promise<DeploymentFailedError | WaitTimeoutError> {
    const { config } = this;
    const { outcome } = result;
    const events = await this.eventsSince(deploymentId, eventsSinceMs);
    const common = { deployment: this.name(), namespace: config.namespace, state: result.lastDeployment?.status?.state, events };
    if (outcome.kind === 'timedOut') {
      const note = await this.newestJobNote(deploymentId, expectation, knownJobIds, eventsSinceMs);
      return new WaitTimeoutError({ ...common, phase: outcome.phase, lastObserved: `${outcome.state}${note}`, timeoutInMs: config.timeoutInMs });
    }
    if (outcome.kind !== 'failed') throw new Error('explainFailure called on success');
    const failure = await this.newestFailure(deploymentId, expectation, knownJobIds, eventsSinceMs);
    const error = new DeploymentFailedError({ ...common, reason: outcome.reason, failure });
    if (failure) this.logger.info(`  ${oneLine(`Job ${failure.jobId} failure: ${failure.reason ?? ''} ${failure.message ?? ''}`)}`);
    return error;
  }

  /** Jobs created by the change (not known before it, or created after it), newest first; undefined when unreadable. */
  private async freshJobs(
    deploymentId: string,
    expectation: UpgradeExpectation,
    knownJobIds: Set<string> | undefined,
    sinceMs: number,
  ): Promise<Job[] | undefined> {
    let jobs: Job[];
    try {
      jobs = await this.vvp.listJobs(this.config.namespace, deploymentId, this.opts());
    } catch (error) {
      if (isAbortError(error)) throw error;
      this.logger.warn(`Could not list the deployment's jobs for details: ${(error as Error).message}`);
      return undefined;
    }
    return jobs
      .filter((j) => {
        if (j.metadata.id === expectation.baselineJobId) return false;
        if (knownJobIds) return !knownJobIds.has(j.metadata.id);
        const created = Date.parse(j.metadata.createdAt ?? '');
        return Number.isNaN(created) || created >= sinceMs;
      })
      .sort((a, b) => (Date.parse(b.metadata.createdAt ?? '') || 0) - (Date.parse(a.metadata.createdAt ?? '') || 0));
  }

  /** The newest job created by the change that carries a `status.failure`. */
  private async newestFailure(
    deploymentId: string,
    expectation: UpgradeExpectation,
    knownJobIds: Set<string> | undefined,
    sinceMs: number,
  ): Promise<JobFailure | undefined> {
    const jobs = await this.freshJobs(deploymentId, expectation, knownJobIds, sinceMs);
    const failed = jobs?.find((j) => j.status?.failure);
    if (!failed?.status?.failure) return undefined;
    const f = failed.status.failure;
    return { jobId: failed.metadata.id, reason: f.reason, message: f.message, failedAt: f.failedAt };
  }

  /** "newest job 1a2b… is STARTING" for timeout messages, or "no new job was created". */
  private async newestJobNote(
    deploymentId: string,
    expectation: UpgradeExpectation,
    knownJobIds: Set<string> | undefined,
    sinceMs: number,
  ): Promise<string> {
    const jobs = await this.freshJobs(deploymentId, expectation, knownJobIds, sinceMs);
    if (!jobs) return '';
    const newest = jobs[0];
    if (!newest) return '; VVP has not created a new job';
    return `; the newest job ${newest.metadata.id} is ${newest.status?.state ?? 'in an unknown state'}`;
  }

  /** Events of the deployment created at or after `sinceMs` (VVP time), oldest first. */
  private async eventsSince(deploymentId: string, sinceMs: number): Promise<EventLine[]> {
    try {
      const events = await this.vvp.listEvents(this.config.namespace, deploymentId, this.opts());
      return events
        .map((e) => ({ event: e, at: Date.parse(e.metadata.createdAt ?? '') }))
        .filter(({ at }) => Number.isNaN(at) || at >= sinceMs)
        .sort((a, b) => (a.at || 0) - (b.at || 0))
        .map(({ event }) => ({
          createdAt: event.metadata.createdAt,
          name: event.metadata.name,
          jobId: event.metadata.jobId,
          message: oneLine(event.spec?.message ?? ''),
        }));
    } catch (error) {
      if (isAbortError(error)) throw error;
      this.logger.warn(`Could not read the deployment's events: ${(error as Error).message}`);
      return [{ message: `(events could not be read: ${(error as Error).message})` }];
    }
  }

  /**
   * Restores the template read before the change (PATCH once, read back if the answer is lost),
   * then waits for a job running the previous jarUri with the same poller.
   */
  private async rollBack(previous: Deployment, failed: WaitResult): Promise<RollbackReport> {
    const { config, report } = this;
    const previousJarUri = jarUriOf(previous) ?? '(none)';
    const template = previous.spec.template;
    if (!isJsonObject(template)) {
      return { outcome: 'error', jarUri: previousJarUri, detail: 'the previous template could not be read' };
    }
    this.stage = 'rollingBack';
    this.logger.info(`Rolling back to the previous template (jarUri ${previousJarUri}).`);
    const id = previous.metadata.id;
    // Jobs existing now: a job not among them proves the rollback started.
    let knownJobIds: Set<string> | undefined;
    try {
      knownJobIds = new Set((await this.vvp.listJobs(config.namespace, id, this.opts())).map((j) => j.metadata.id));
    } catch (error) {
      if (isAbortError(error)) throw error;
      knownJobIds = undefined;
    }
    let after: Deployment | undefined;
    try {
      after = await this.vvp.patchDeployment(config.namespace, id, { spec: { template: structuredClone(template) } }, this.opts());
    } catch (error) {
      if (isAbortError(error)) throw error;
      if (error instanceof VvpApiError && error.outcomeUnknown) {
        this.logger.warn('The answer to the rollback PATCH was lost; reading back. The PATCH is not sent again.');
        const readBack = await this.vvp.getDeployment(config.namespace, id, this.opts()).catch((e: unknown) => {
          if (isAbortError(e)) throw e;
          return undefined;
        });
        if (readBack && jarUriOf(readBack) === jarUriOf(previous)) after = readBack;
      }
      if (!after) return { outcome: 'error', jarUri: previousJarUri, detail: `the rollback PATCH failed: ${(error as Error).message}` };
    }
    report.jarUri = jarUriOf(after);
    if (jarUriOf(after) !== jarUriOf(previous)) {
      return { outcome: 'error', jarUri: previousJarUri, detail: `VVP stores jarUri ${jarUriOf(after) ?? '(none)'} after the rollback PATCH` };
    }
    report.rolledBack = true;
    this.logger.info(`Previous template restored (jarUri ${previousJarUri}).`);
    if (!previousJarUri || previousJarUri === '(none)') return { outcome: 'error', jarUri: previousJarUri, detail: 'the previous template has no jarUri to wait for' };
    // The job the failed wait last saw running, when it is not the original one, must be replaced.
    const lastRunning = failed.lastDeployment ? runningJobIdOf(failed.lastDeployment) : undefined;
    const originalJob = runningJobIdOf(previous);
    const replaceJob = lastRunning !== undefined && lastRunning !== originalJob;
    const expectation: UpgradeExpectation = {
      jarUri: previousJarUri,
      baselineJobId: replaceJob ? lastRunning : undefined,
      baselineState: after.status?.state,
      requireNewJob: replaceJob,
    };
    const sinceMs = serverTime(after.metadata.modifiedAt, this.clock.now());
    const result = await this.waitFor(id, expectation, knownJobIds);
    const { outcome } = result;
    switch (outcome.kind) {
      case 'succeeded':
        report.jobId = outcome.result.jobId;
        report.state = 'RUNNING';
        return { outcome: 'succeeded', jarUri: previousJarUri, jobId: outcome.result.jobId };
      case 'failed': {
        const failure = await this.newestFailure(id, expectation, knownJobIds, sinceMs);
        const detail = failure ? `${outcome.reason}; job ${failure.jobId}: ${oneLine(`${failure.reason ?? ''} ${failure.message ?? ''}`)}` : outcome.reason;
        return { outcome: 'failed', jarUri: previousJarUri, detail };
      }
      case 'timedOut':
        return { outcome: 'timedOut', jarUri: previousJarUri, detail: `${outcome.phase}; last observed: ${outcome.state}` };
      default: {
        const unknown: never = outcome;
        throw new Error(`unknown poll outcome ${JSON.stringify(unknown)}`);
      }
    }
  }

  /**
   * Turns an abort into a CancelledError that says what state VVP was left in. Abort never
   * undoes VVP's work. Returns undefined for other errors.
   */
  explainCancellation(error: unknown): CancelledError | undefined {
    const cancelled = this.signal?.aborted === true && (isAbortError(error) || error instanceof PollAbortedError);
    if (!cancelled) return undefined;
    const state = this.lastState ?? this.report.state ?? (error instanceof PollAbortedError ? error.state : undefined);
    const seen = state ? `; last observed state: ${state}` : '';
    let detail: string;
    switch (this.stage) {
      case 'notSent':
        detail = 'nothing was changed in VVP';
        break;
      case 'sending':
        detail = `the ${this.writeMethod} was sent but its answer did not arrive, so VVP may or may not have applied it; check deployment '${this.name()}' in VVP`;
        break;
      case 'applied':
        detail = `the change (jarUri ${this.config.jarUri}) was applied and VVP keeps working on it${seen}; nothing was undone`;
        break;
      case 'rollingBack':
        detail = `during the rollback to the previous template${seen}; VVP keeps working on it; nothing was undone`;
        break;
      default: {
        const unknown: never = this.stage;
        detail = String(unknown);
      }
    }
    this.report.outcome = 'cancelled';
    return new CancelledError(this.phase.toLowerCase(), detail);
  }

  private async group<T>(name: string, work: () => Promise<T>): Promise<T> {
    this.phase = name;
    return inGroup(this.logger, name, work);
  }

  private adopt(deployment: Deployment): void {
    this.report.deploymentId = deployment.metadata.id;
    this.report.deploymentName = deployment.metadata.name ?? this.report.deploymentName;
    this.report.state = deployment.status?.state;
  }

  private name(): string {
    return this.report.deploymentName ?? this.config.deployment;
  }

  private opts(): { abortSignal?: AbortSignal; deadline?: number } {
    return { abortSignal: this.signal, deadline: this.readDeadline };
  }
}

/** `status.running.jobId` when the deployment is RUNNING. */
function runningJobIdOf(deployment: Deployment): string | undefined {
  return deployment.status?.state === 'RUNNING' ? deployment.status.running?.jobId : undefined;
}

/** Errors a wait tolerates as "still pending": VVP briefly unreachable or overloaded (after the client's retries). */
export function isTransientVvpError(error: unknown): boolean {
  if (!(error instanceof VvpApiError)) return false;
  if (error.status === undefined) return error.networkCode !== 'ENOTFOUND';
  return error.status === 408 || error.status === 429 || error.status >= 500;
}

/** VVP's timestamp of a write (minus skew), or the local send time minus a wider skew. */
function serverTime(timestamp: string | undefined, localFallbackMs: number): number {
  const parsed = Date.parse(timestamp ?? '');
  return Number.isNaN(parsed) ? localFallbackMs - LOCAL_SKEW_MS : parsed - EVENT_SKEW_MS;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
