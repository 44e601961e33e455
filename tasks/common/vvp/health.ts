/**
 * The health check after the new job runs, as pure decisions. VVP keeps a deployment RUNNING
 * while Flink restarts its job, so "STARTED" is not "healthy": restarts show as growth of the
 * job's `status.started.observedFlinkJobRestarts` and as the running condition `JobFailing`.
 * Table-tested.
 */
import type { Verdict } from '../poll/poller';
import { failureExcerpt, oneLine } from './errors';
import type { DeploymentCondition } from './resources';

/** Conditions that, still True at the end of the window, mean the job did not recover. */
const UNHEALTHY_CONDITIONS = ['JobFailing', 'ClusterUnreachable'] as const;

/** One probe: the deployment and the job the health check watches. */
export interface HealthObservation {
  deploymentState?: string;
  /** `status.running.jobId` (RUNNING only). */
  runningJobId?: string;
  /** The watched job; undefined when VVP no longer has it. */
  job?: { id: string; state?: string; restarts: number };
  /** `status.running.conditions`. */
  conditions: readonly DeploymentCondition[];
}

/** What healthy means for this step. */
export interface HealthExpectation {
  jobId: string;
  /** `observedFlinkJobRestarts` when the check began. */
  baselineRestarts: number;
  maxJobRestarts: number;
}

/** What a passed check saw. */
export interface HealthSuccess {
  restarts: number;
}

const short = (id: string): string => oneLine(id).slice(0, 8);

/** Restarts since the check began. */
function restartsOf(obs: HealthObservation, exp: HealthExpectation): number {
  return Math.max(0, (obs.job?.restarts ?? exp.baselineRestarts) - exp.baselineRestarts);
}

/** The unhealthy conditions that are True, as `JobFailing: True (reason) — message` (the message up to its cause, bounded). */
function trueConditions(conditions: readonly DeploymentCondition[]): string[] {
  return conditions
    .filter((c) => (UNHEALTHY_CONDITIONS as readonly string[]).includes(c.type ?? '') && c.status === 'True')
    .map((c) => `${oneLine(c.type ?? '')}: True${c.reason ? ` (${oneLine(c.reason)})` : ''}${c.message ? ` — ${oneLine(failureExcerpt(c.message))}` : ''}`);
}

/**
 * Decides one probe during the window: `failed` at once when the job restarted more than
 * allowed, the deployment left RUNNING, another job runs, or the job left STARTED; otherwise
 * `pending` with a state that changes only when the restart count or a condition changes.
 */
export function classifyHealth(obs: HealthObservation, exp: HealthExpectation): Verdict<HealthSuccess> {
  const restarts = restartsOf(obs, exp);
  const conditions = trueConditions(obs.conditions);
  const detail = `${restarts} restart${restarts === 1 ? '' : 's'}${conditions.length > 0 ? `, ${conditions.join(', ')}` : ''}`;
  const job = `job ${oneLine(exp.jobId)}`;
  if (restarts > exp.maxJobRestarts) {
    return { status: 'failed', state: `job ${short(exp.jobId)} restarted (${detail})`, reason: `${job} restarted ${restarts} time${restarts === 1 ? '' : 's'} (maxJobRestarts ${exp.maxJobRestarts})${conditions.length > 0 ? `; ${conditions.join('; ')}` : ''}` };
  }
  if (obs.deploymentState !== 'RUNNING') {
    return { status: 'failed', state: `deployment ${oneLine(obs.deploymentState ?? 'without state')}`, reason: `the deployment left RUNNING (now ${oneLine(obs.deploymentState ?? 'without state')}) while ${job} was watched` };
  }
  if (obs.runningJobId !== exp.jobId) {
    return { status: 'failed', state: `another job runs`, reason: `VVP replaced ${job} with job ${oneLine(obs.runningJobId ?? '(none)')} during the health check` };
  }
  if (obs.job?.state !== 'STARTED') {
    return { status: 'failed', state: `job ${short(exp.jobId)} ${oneLine(obs.job?.state ?? 'gone')}`, reason: `${job} left STARTED (now ${oneLine(obs.job?.state ?? 'gone')})` };
  }
  const label = restarts === 0 && conditions.length === 0 ? `${job} STARTED, no restarts` : `${job} restarted (${detail})`;
  return { status: 'pending', state: label.replace(job, `job ${short(exp.jobId)}`), phase: 'watching the new job (health check)' };
}

/**
 * The verdict at the end of the window, on the last probe: healthy unless a `JobFailing` or
 * `ClusterUnreachable` condition is still True (the job did not recover).
 */
export function concludeHealth(obs: HealthObservation, exp: HealthExpectation): Exclude<Verdict<HealthSuccess>, { status: 'pending' }> {
  const during = classifyHealth(obs, exp);
  if (during.status !== 'pending') return during;
  const conditions = trueConditions(obs.conditions);
  const restarts = restartsOf(obs, exp);
  if (conditions.length > 0) {
    return { status: 'failed', state: during.state, reason: `job ${oneLine(exp.jobId)} did not recover by the end of the health check (${restarts} restart${restarts === 1 ? '' : 's'}; ${conditions.join('; ')})` };
  }
  return { status: 'succeeded', state: during.state, result: { restarts } };
}
