import { ServiceError, TaskError, maskAndShorten } from '../errors/errors';
import { formatDuration } from '../logging/duration';
import { neutraliseCommands } from '../logging/neutralise';

export { formatDuration };

/**
 * A VVP API call failed. Besides the HTTP detail it says whether the outcome is unknown: a
 * PATCH/POST whose answer was lost (network error, timeout or 5xx after sending) may or may not
 * have been applied, and the caller must read back before deciding.
 */
export class VvpApiError extends ServiceError {
  readonly method: string;
  readonly path: string;
  /** Node code for failures without an HTTP answer (`ECONNRESET`, `ETIMEDOUT`…). */
  readonly networkCode?: string;
  /** True when a write may have reached VVP although no success answer came back. */
  readonly outcomeUnknown: boolean;

  constructor(details: {
    method: string;
    path: string;
    operation: string;
    status?: number;
    serviceMessage?: string;
    hint?: string;
    attempts?: number;
    networkCode?: string;
    outcomeUnknown?: boolean;
    cause?: unknown;
  }) {
    super({ service: 'Ververica Platform', ...details });
    this.method = details.method;
    this.path = details.path;
    this.networkCode = details.networkCode;
    this.outcomeUnknown = details.outcomeUnknown ?? false;
  }
}

/** One VVP event, reduced to what a message needs. Text is untrusted server content. */
export interface EventLine {
  createdAt?: string;
  name?: string;
  jobId?: string;
  message: string;
}

/** `status.failure` of a job. */
export interface JobFailure {
  jobId: string;
  reason?: string;
  message?: string;
  failedAt?: string;
}

/** What a rollback after a failure achieved. */
export interface RollbackReport {
  /**
   * `succeeded`: the deployment from before the step is restored exactly and its template runs
   * again (a job STARTED); `refused`: someone changed the deployment after this step, so nothing
   * was written; `failed` / `timedOut`: restored, but the previous template did not run (in time);
   * `error`: the restore itself did not complete.
   */
  outcome: 'succeeded' | 'refused' | 'skipped' | 'failed' | 'timedOut' | 'error';
  /** The jarUri restored. */
  jarUri: string;
  /** The job running the previous jarUri, when the rollback succeeded. */
  jobId?: string;
  /** The deployment's `status.state` when the rollback ended, when it was read. */
  state?: string;
  /** Why the rollback did not succeed. */
  detail?: string;
  /** The state the rolled-back job restored (`spec.savepointLocation` of its job); undefined: none. */
  restoredFrom?: string;
  /** Where that state came from, for the log and the summary. */
  stateFrom?: 'upgradeSavepoint' | 'restoreStrategy';
  /** A deployment stopped before the step is restored stopped: SUSPENDED or CANCELLED; no job runs. */
  stopped?: 'SUSPENDED' | 'CANCELLED';
  /** Restarts the health check saw on the rolled-back job (when it ran). */
  healthRestarts?: number;
  /** What an unfinished rollback leaves on the deployment and how it gets finished. */
  left?: string;
}

const MAX_EVENTS_IN_MESSAGE = 12;

/**
 * Renders the events that explain a failure as indented lines, newest last, at most 12 (the
 * latest). `routine` counts the events since the change left out because they describe routine
 * steps (an upgrade's savepoint, the new job starting): the message says so once.
 */
export function renderEvents(events: readonly EventLine[], routine = 0): string {
  const left = routine > 0 ? ` (${routine} routine event${routine === 1 ? '' : 's'} of the change left out: the deployment's event log in the VVP UI has them)` : '';
  if (events.length === 0) return routine > 0 ? `No VVP event since the change reports a failure${left}.` : 'No VVP events since the change.';
  const shown = events.slice(-MAX_EVENTS_IN_MESSAGE);
  const skipped = events.length - shown.length;
  const lines = shown.map((e) => {
    const when = e.createdAt ? `${e.createdAt} ` : '';
    const name = e.name ? `${e.name}: ` : '';
    return `  - ${when}${name}${maskAndShorten(oneLine(e.message), 400)}`;
  });
  return `VVP events that explain the failure${skipped > 0 ? ` (last ${shown.length} of ${events.length})` : ''}${left}:\n${lines.join('\n')}`;
}

/** How much of a Java failure a message keeps at most. */
const MAX_FAILURE_CHARS = 2000;
/** Stack frames kept after the line that names the cause. */
const FRAMES_KEPT = 3;

/**
 * The part of a job's failure text that explains it: everything up to and including the first
 * `Caused by:` line and its first stack frames, each exception's frames cut to the first few,
 * each line on its own, at most MAX_FAILURE_CHARS characters. Server text, masked.
 */
export function failureExcerpt(message: string): string {
  const lines = message.split(/\r?\n/).map(oneLine).filter((l) => l !== '');
  const cause = lines.findIndex((l) => /^Caused by:/.test(l));
  let end = lines.length;
  if (cause >= 0) {
    end = cause + 1;
    while (end < lines.length && end - cause - 1 < FRAMES_KEPT && /^at /.test(lines[end])) end++;
  }
  const kept = withFrames(lines.slice(0, end));
  const more = lines.length - end;
  const text = kept.join('\n') + (more > 0 ? `\n… (${more} more line${more === 1 ? '' : 's'})` : '');
  return maskAndShorten(text, MAX_FAILURE_CHARS);
}

/** The exception lines with at most the first frames after each. */
function withFrames(lines: readonly string[]): string[] {
  const out: string[] = [];
  let frames = 0;
  for (const line of lines) {
    if (!/^at /.test(line)) {
      frames = 0;
      out.push(line);
    } else if (frames++ < FRAMES_KEPT) {
      out.push(line);
    } else if (frames === FRAMES_KEPT + 1) {
      out.push('…');
    }
  }
  return out;
}

/** Renders a job failure: a headline, then the failure text up to its cause, indented, logging commands neutralised (server text). */
function renderFailure(failure: JobFailure): string {
  const head = `Job ${failure.jobId} failed${failure.failedAt ? ` at ${failure.failedAt}` : ''}${failure.reason ? `: ${oneLine(failure.reason)}` : ''}`;
  if (!failure.message) return `${head}; no failure message`;
  return `${head}:\n${failureExcerpt(failure.message).split('\n').map((l) => `    ${neutraliseCommands(l)}`).join('\n')}`;
}

/** Renders the rollback sentence appended to failure messages. */
function renderRollback(rollback: RollbackReport): string {
  switch (rollback.outcome) {
    case 'succeeded':
      if (rollback.stopped) {
        return `Rolled back: the deployment from before this step is restored exactly and is ${rollback.stopped} again (jarUri ${rollback.jarUri}); ${rollback.restoredFrom ? `a resume restores ${rollback.restoredFrom}, the state it had before this step` : 'it had no state to restore'}.`;
      }
      return `Rolled back: the deployment from before this step is restored exactly and job ${rollback.jobId ?? '(unknown)'} runs ${rollback.jarUri} again, ${renderRestoredState(rollback)}${rollback.healthRestarts !== undefined ? `; it passed the health check (${rollback.healthRestarts} restart${rollback.healthRestarts === 1 ? '' : 's'})` : ''}.`;
    case 'refused':
      return `Not rolled back: ${rollback.detail ?? 'no detail'}. Nothing was rolled back.`;
    case 'skipped':
      return `Not rolled back: ${rollback.detail ?? 'no detail'}.`;
    case 'failed':
      return `Rollback to ${rollback.jarUri} FAILED too: the previous deployment is restored but did not run healthily: ${rollback.detail ?? 'no detail'}. The deployment needs attention.${rollback.left ? ` ${rollback.left}.` : ''}`;
    case 'timedOut':
      return `Rollback to ${rollback.jarUri}: the previous deployment is restored but did not reach its state in time: ${rollback.detail ?? 'no detail'}.${rollback.left ? ` ${rollback.left}.` : ''}`;
    case 'error':
      return `Rollback to ${rollback.jarUri} could not be completed: ${rollback.detail ?? 'no detail'}.${rollback.left ? ` ${rollback.left}.` : ''}`;
    default: {
      const unknown: never = rollback.outcome;
      return `Rollback: ${String(unknown)}`;
    }
  }
}

/** "started from <location>, the savepoint taken before the upgrade", or how else its state was chosen. */
export function renderRestoredState(rollback: Pick<RollbackReport, 'restoredFrom' | 'stateFrom'>): string {
  if (!rollback.restoredFrom) return rollback.stateFrom === 'upgradeSavepoint' ? 'started without state (none was restored)' : "started without state (the restore strategy chose none)";
  return rollback.stateFrom === 'upgradeSavepoint'
    ? `started from ${rollback.restoredFrom}, the savepoint taken before the upgrade`
    : `started from ${rollback.restoredFrom}, chosen by the deployment's restore strategy`;
}

/** The text with its first letter upper case, for a reason that starts a log line. */
export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Collapses control characters (newlines included) of server text into single spaces. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s{2,}/g, ' ').trim();
}

interface DeploymentProblem {
  deployment: string;
  namespace: string;
  /** The deployment's last observed `status.state`. */
  state?: string;
  /** The events since the change that explain the failure. */
  events: readonly EventLine[];
  /** Events since the change left out of `events` as routine steps; 0 when none. */
  routineEvents?: number;
  rollback?: RollbackReport;
}

/**
 * Why the deployment did not get where the step leads it:
 * - `job`: VVP did not run the new job (the deployment or the job FAILED, or it reached
 *   CANCELLED / SUSPENDED / FINISHED while RUNNING was wanted); `failure` is the job's;
 * - `health`: the new job ran, but the health check failed (too many restarts, it left STARTED,
 *   the deployment left RUNNING, a JobFailing / ClusterUnreachable condition stayed True);
 * - `action`: a lifecycle action did not reach its state (a suspend whose savepoint failed, a
 *   savepoint that FAILED, a delete that did not complete); `reason` is the whole sentence;
 * - `blocked`: decided before any write, the change could not lead to a running job.
 */
type FailureKind =
  | { kind: 'job'; reason: string; failure?: JobFailure }
  | { kind: 'health'; reason: string; jobId: string; watchedInMs: number; restarts?: number }
  | { kind: 'action'; reason: string }
  | { kind: 'blocked'; reason: string };

type FailureDetails = DeploymentProblem & FailureKind & { cause?: unknown };

/** What both deployment errors carry; the message is theirs. Not a kind of its own: no caller handles it. */
abstract class DeploymentProblemError extends TaskError implements DeploymentProblem {
  readonly deployment: string;
  readonly namespace: string;
  readonly state?: string;
  readonly events: readonly EventLine[];
  readonly routineEvents?: number;
  readonly rollback?: RollbackReport;

  protected constructor(message: string, details: DeploymentProblem & { cause?: unknown }) {
    super(message, { cause: details.cause });
    this.deployment = details.deployment;
    this.namespace = details.namespace;
    this.state = details.state;
    this.events = details.events;
    this.routineEvents = details.routineEvents;
    this.rollback = details.rollback;
  }
}

/** The deployment did not get where the step leads it; `kind` says how (see {@link FailureKind}). */
export class DeploymentFailedError extends DeploymentProblemError {
  readonly kind: FailureKind['kind'];
  /** Why, e.g. "the deployment is FAILED" (for `action`: the whole sentence). */
  readonly reason: string;
  /** `job`: the failed job's `status.failure`, when one was found. */
  readonly failure?: JobFailure;
  /** `health`: the watched job. */
  readonly jobId?: string;
  /** `health`: how long the job was watched before the verdict. */
  readonly watchedInMs?: number;
  /** `health`: the job's restarts (`observedFlinkJobRestarts`) at the last reading; undefined when none answered. */
  readonly restarts?: number;
  private readonly details: FailureDetails;

  constructor(details: FailureDetails) {
    super(renderFailed(details), details);
    this.details = details;
    this.kind = details.kind;
    this.reason = details.reason;
    if (details.kind === 'job') this.failure = details.failure;
    if (details.kind === 'health') {
      this.jobId = details.jobId;
      this.watchedInMs = details.watchedInMs;
      this.restarts = details.restarts;
    }
  }

  /** The same failure, told together with what the rollback achieved. */
  withRollback(rollback: RollbackReport): DeploymentFailedError {
    return new DeploymentFailedError({ ...this.details, rollback, cause: this.cause });
  }
}

function renderFailed(d: FailureDetails): string {
  switch (d.kind) {
    case 'blocked':
      return `Not changing VVP deployment '${d.deployment}' in namespace '${d.namespace}': ${d.reason}.`;
    case 'action':
      return d.reason;
    case 'job':
    case 'health': {
      const parts =
        d.kind === 'job'
          ? [`VVP deployment '${d.deployment}' in namespace '${d.namespace}' did not run the new job: ${d.reason}.`, ...(d.failure ? [renderFailure(d.failure)] : [])]
          : [`VVP deployment '${d.deployment}' in namespace '${d.namespace}' started job ${d.jobId}, but the health check failed after ${formatDuration(d.watchedInMs)}: ${d.reason}.`];
      if (d.rollback) parts.push(renderRollback(d.rollback));
      parts.push(renderEvents(d.events, d.routineEvents));
      return parts.join('\n');
    }
    default: {
      const unknown: never = d;
      return String(unknown);
    }
  }
}

/** The wait ran out of time; names the phase that stalled and the last observed state. */
export class WaitTimeoutError extends DeploymentProblemError {
  /** What the wait was doing, e.g. "waiting for VVP to start the upgrade". */
  readonly phase: string;
  /** The last observation, described ("RUNNING, still job 8f0b… from before the change"). */
  readonly lastObserved: string;
  readonly timeoutInMs: number;

  constructor(details: DeploymentProblem & { phase: string; lastObserved: string; timeoutInMs: number; cause?: unknown }) {
    super(WaitTimeoutError.render(details), details);
    this.phase = details.phase;
    this.lastObserved = details.lastObserved;
    this.timeoutInMs = details.timeoutInMs;
  }

  /** The same timeout, told together with what the rollback achieved. */
  withRollback(rollback: RollbackReport): WaitTimeoutError {
    return new WaitTimeoutError({ ...this, rollback, cause: this.cause });
  }

  private static render(d: DeploymentProblem & { phase: string; lastObserved: string; timeoutInMs: number }): string {
    const parts = [
      `Timed out after ${formatDuration(d.timeoutInMs)} ${d.phase} for VVP deployment '${d.deployment}' in namespace '${d.namespace}'. ` +
        `Last observed: ${d.lastObserved}.`,
    ];
    if (d.rollback) parts.push(renderRollback(d.rollback));
    else parts.push('Check the deployment and its events in the VVP UI; raise timeoutMinutes if the upgrade is just slow.');
    parts.push(renderEvents(d.events, d.routineEvents));
    return parts.join('\n');
  }
}
