import { shownArtifact } from './artifact';
import { maskJarUriQuery } from './jar-uri-secrets';
import type { Verdict } from '../poll/poller';
import type { DeploymentState, JobState } from './resources';

/**
 * Phases of a wait, named for timeout messages. The poller reports the phase of the last
 * pending verdict, so a timeout says which step stalled.
 */
const WAIT_PHASES = {
  notStarted: 'waiting for VVP to start the upgrade',
  transitioning: 'waiting for VVP to finish the transition',
  jobStarting: 'waiting for the new job to start',
} as const;

/** What the wait expects, fixed before the change. */
export interface UpgradeExpectation {
  /** The jarUri the new job must run, exactly (query string included); ignored when `sqlScript` is set. */
  jarUri: string;
  /** A SQL deployment: the script the new job must run, exactly. */
  sqlScript?: string;
  /** The job VVP reported running before the change (`status.running.jobId`), if any. */
  baselineJobId?: string;
  /** `status.state` before the change; a bad state equal to it may be stale. */
  baselineState?: string;
  /**
   * Whether a job other than `baselineJobId` is required. True when the template changed: a
   * RUNNING read right after the PATCH still describes the old job, which is not success.
   */
  requireNewJob: boolean;
}

/** One probe of the deployment (and, when relevant, of its running job). */
export interface UpgradeObservation {
  /** `status.state`; a string because a newer VVP may report a state unknown here. */
  state: string | undefined;
  /** `spec.state`, the desired state, upper case. */
  desiredState: string | undefined;
  /**
   * `spec.template.spec.artifact.jarUri` as VVP stores it now. Another value than the expected
   * one means another change (a concurrent run, a user) replaced ours. Undefined: not read.
   */
  specJarUri?: string;
  /** `spec.template.spec.artifact.sqlScript` as VVP stores it now (SQL deployments); undefined: not read or none. */
  specSqlScript?: string;
  /** `status.running.jobId`. */
  runningJobId: string | undefined;
  /** The running job, read only when it may be the one we wait for. */
  runningJob?: { id: string; state: string | undefined; jarUri: string | undefined; sqlScript?: string; restoredFrom?: string };
  /**
   * Whether VVP has visibly acted since the change: a state or job id other than the baseline,
   * or a job that did not exist before. Until then a bad state equal to the baseline is stale.
   */
  changeObserved: boolean;
  /**
   * A job created after the change is still starting or running. A bad state read next to it
   * is about to change (VVP creates the job first and updates the deployment status after), so
   * it is not a verdict yet.
   */
  newJobActive?: boolean;
}

/** The success result: the job that now runs the expected jarUri. */
export interface UpgradeSuccess {
  jobId: string;
}

const short = (id: string | undefined): string => (id ? id.slice(0, 8) : '(none)');

/**
 * Decides one observation of an upgrade: `succeeded` only when the deployment is RUNNING, its
 * running job is new (when required) and that job is STARTED with exactly the expected jarUri;
 * `failed` on FAILED, on CANCELLED/SUSPENDED/FINISHED (RUNNING is wanted), on a failed or
 * finished new job, or when the desired state is no longer RUNNING; otherwise `pending` with
 * the phase it is in. Pure; table-tested.
 */
export function classifyUpgrade(obs: UpgradeObservation, exp: UpgradeExpectation): Verdict<UpgradeSuccess> {
  if (obs.desiredState !== undefined && obs.desiredState !== 'RUNNING') {
    return {
      status: 'failed',
      state: `${obs.state ?? 'unknown'}, desired state ${obs.desiredState}`,
      reason: `the deployment's desired state (spec.state) is now ${obs.desiredState}, so no job will run; someone or something changed it during the wait`,
    };
  }
  if (exp.sqlScript !== undefined && obs.specSqlScript !== exp.sqlScript) {
    const now = obs.specSqlScript === undefined ? 'no SQL script' : shownArtifact({ kind: 'SQLSCRIPT', sqlScript: obs.specSqlScript, additionalDependencies: [] });
    return {
      status: 'failed',
      state: `${obs.state ?? 'unknown'}, SQL script replaced by ${now}`,
      reason: `the deployment's SQL script was changed to ${now} during the wait, so the script of this step will not run; another run or user replaced this change (that change was left as it is)`,
    };
  }
  if (exp.sqlScript === undefined && obs.specJarUri !== undefined && obs.specJarUri !== exp.jarUri) {
    return {
      status: 'failed',
      state: `${obs.state ?? 'unknown'}, jarUri replaced by ${shown(obs.specJarUri)}`,
      reason:
        `the deployment's jarUri was changed to ${shown(obs.specJarUri)} during the wait, so ${shown(exp.jarUri)} will not run; ` +
        'another run or user replaced this change (that change was left as it is)',
    };
  }
  const state = obs.state as DeploymentState | undefined;
  switch (state) {
    case 'RUNNING':
      return classifyRunning(obs, exp);
    case 'TRANSITIONING':
      return { status: 'pending', state: 'TRANSITIONING', phase: WAIT_PHASES.transitioning, shortPause: true };
    case 'FAILED':
      if (stale(obs, exp)) return staleBadState(obs);
      if (obs.newJobActive) return badStateWithActiveJob(obs);
      return { status: 'failed', state: 'FAILED', reason: 'the deployment is FAILED' };
    case 'CANCELLED':
    case 'SUSPENDED':
    case 'FINISHED':
      if (stale(obs, exp)) return staleBadState(obs);
      if (obs.newJobActive) return badStateWithActiveJob(obs);
      return { status: 'failed', state, reason: `the deployment is ${state} while RUNNING is wanted` };
    case undefined:
      return { status: 'pending', state: 'no status yet', phase: WAIT_PHASES.notStarted };
    default: {
      // A state this code does not know (newer VVP): keep waiting; the timeout will name it.
      const unknown: never = state;
      return { status: 'pending', state: `unknown state ${String(unknown)}`, phase: WAIT_PHASES.transitioning };
    }
  }
}

function stale(obs: UpgradeObservation, exp: UpgradeExpectation): boolean {
  return !obs.changeObserved && obs.state === exp.baselineState;
}

function staleBadState(obs: UpgradeObservation): Verdict<UpgradeSuccess> {
  return { status: 'pending', state: `${obs.state} (as before the change)`, phase: WAIT_PHASES.notStarted };
}

function badStateWithActiveJob(obs: UpgradeObservation): Verdict<UpgradeSuccess> {
  return { status: 'pending', state: `${obs.state}, but a new job is starting`, phase: WAIT_PHASES.transitioning };
}

function classifyRunning(obs: UpgradeObservation, exp: UpgradeExpectation): Verdict<UpgradeSuccess> {
  const jobId = obs.runningJobId;
  if (!jobId) return { status: 'pending', state: 'RUNNING, no job id yet', phase: WAIT_PHASES.jobStarting };
  if (exp.requireNewJob && jobId === exp.baselineJobId) {
    return {
      status: 'pending',
      state: `RUNNING, still job ${short(jobId)} from before the change`,
      phase: WAIT_PHASES.notStarted,
    };
  }
  const job = obs.runningJob;
  if (!job || job.id !== jobId) {
    return { status: 'pending', state: `RUNNING, job ${short(jobId)} not readable yet`, phase: WAIT_PHASES.jobStarting };
  }
  const jobState = job.state as JobState | undefined;
  const label = `RUNNING, job ${short(jobId)} ${jobState ?? 'without state'}`;
  switch (jobState) {
    case 'STARTED':
      if (exp.sqlScript !== undefined ? job.sqlScript === exp.sqlScript : job.jarUri === exp.jarUri) {
        return { status: 'succeeded', state: `${label} with the expected ${exp.sqlScript !== undefined ? 'SQL script' : 'jarUri'}`, result: { jobId } };
      }
      // Another artifact: VVP may still be replacing it, or someone else changed the template.
      // Not success; keep waiting and let the timeout tell the story.
      if (exp.sqlScript !== undefined) return { status: 'pending', state: `${label} with another SQL script, not the expected one`, phase: WAIT_PHASES.jobStarting };
      return { status: 'pending', state: `${label} with jarUri ${shown(job.jarUri)}, not the expected one`, phase: WAIT_PHASES.jobStarting };
    case 'STARTING':
    case 'STANDBY':
    case 'TERMINATING':
    case 'TERMINATED':
    case undefined:
      return { status: 'pending', state: label, phase: WAIT_PHASES.jobStarting };
    case 'FAILED':
      return { status: 'failed', state: label, reason: `the new job ${jobId} FAILED` };
    case 'FINISHED':
      return { status: 'failed', state: label, reason: `the new job ${jobId} FINISHED while RUNNING is wanted` };
    default: {
      const unknown: never = jobState;
      return { status: 'pending', state: `${label} (unknown job state ${String(unknown)})`, phase: WAIT_PHASES.jobStarting };
    }
  }
}

/** A jarUri read from VVP as a message shows it: its query values other than `commit` masked. */
function shown(jarUri: string | undefined): string {
  return jarUri === undefined ? '(none)' : maskJarUriQuery(jarUri);
}
