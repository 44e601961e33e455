import { isAbortError } from '../../../common/errors/errors';
import { DeploymentFailedError, formatDuration, oneLine } from '../../../common/vvp/errors';
import { classifyHealth, concludeHealth, type HealthExpectation, type HealthObservation, type HealthSuccess } from '../../../common/vvp/health';
import { runningJobIdOf } from '../../../common/vvp/resources';
import type { FlowContext } from './context';
import { DIAGNOSTICS_BOUND_MS, readEvents } from './explain';
import { explainingEvents } from '../../../common/vvp/diagnosis';
import { pollVvp } from './poll-vvp';

/** The job to watch. */
interface HealthTarget {
  deploymentId: string;
  deploymentName: string;
  jobId: string;
  /** How the log names the job when its group already showed its id ("the rolled-back job"); else the id is shown. */
  jobName?: string;
  /** Events from then on explain a failure. */
  sinceMs: number;
}

/** A passed check, or the failure to report (and roll back on). */
type HealthResult = { kind: 'healthy'; restarts: number } | { kind: 'failed'; error: DeploymentFailedError };

/**
 * Watches the new job for `healthCheckSeconds` with the one poller (the deployment and the
 * job each probe), logging a line whenever the restart count or a condition changes. Fails at
 * the first probe that sees too many restarts, the deployment leaving RUNNING or the job
 * leaving STARTED; at the end of the window, a JobFailing / ClusterUnreachable condition still
 * True fails it too.
 */
export async function watchHealth(context: FlowContext, target: HealthTarget): Promise<HealthResult> {
  const { config, vvp, clock, logger } = context;
  // The job is new, so every restart it has (observedFlinkJobRestarts counts from its start)
  // happened since it started: one that came before the first probe counts too.
  const expectation: HealthExpectation = { jobId: target.jobId, baselineRestarts: 0, maxJobRestarts: config.maxJobRestarts };
  const startedAtMs = clock.now();
  const deadline = startedAtMs + config.healthCheckInMs + DIAGNOSTICS_BOUND_MS;
  let lastAnswerAtMs = startedAtMs;
  let lastRestarts: number | undefined;
  const probe = async (signal: AbortSignal | undefined): Promise<HealthObservation> => {
    const options = { abortSignal: signal, deadline };
    const d = await vvp.getDeployment(config.namespace, target.deploymentId, options);
    context.progress.observed(d?.status?.state);
    const job = await vvp.getJob(config.namespace, target.jobId, options);
    lastAnswerAtMs = clock.now();
    if (job) lastRestarts = job.status?.started?.observedFlinkJobRestarts ?? 0;
    return {
      deploymentState: d ? d.status?.state : 'deleted',
      runningJobId: d ? runningJobIdOf(d) : undefined,
      job: job ? { id: job.metadata.id, state: job.status?.state, restarts: job.status?.started?.observedFlinkJobRestarts ?? 0 } : undefined,
      conditions: d?.status?.running?.conditions ?? [],
    };
  };
  logger.info(
    `Watching ${target.jobName ?? `job ${oneLine(target.jobId)}`} for ${formatDuration(config.healthCheckInMs)} (health check; ${config.maxJobRestarts} restart${config.maxJobRestarts === 1 ? '' : 's'} tolerated).`,
  );
  const outcome = await pollVvp<HealthObservation, HealthSuccess>(context, { probe, classify: (obs) => classifyHealth(obs, expectation), timeoutInMs: config.healthCheckInMs });
  let verdict;
  let watchedInMs = outcome.elapsedInMs;
  switch (outcome.kind) {
    case 'failed':
      verdict = { status: 'failed' as const, reason: outcome.reason };
      break;
    case 'timedOut': {
      // The window ended. The verdict needs VVP's answer at its end: an earlier reading says
      // nothing about the restarts since, so a VVP that went silent fails the check.
      const closing = await probe(context.abortSignal).catch((error: unknown) => {
        if (isAbortError(error) || context.abortSignal?.aborted) throw error;
        return undefined;
      });
      verdict = closing
        ? concludeHealth(closing, expectation)
        : {
            status: 'failed' as const,
            reason: `the job's health could not be verified: VVP did not answer at the end of the window (no answer for the last ${formatDuration(clock.now() - lastAnswerAtMs)}; last observed: ${oneLine(outcome.state)})`,
          };
      watchedInMs = config.healthCheckInMs;
      break;
    }
    case 'succeeded':
      // classifyHealth never succeeds during the window; a success can only come from concludeHealth.
      verdict = { status: 'succeeded' as const, result: outcome.result };
      break;
    default: {
      const unknown: never = outcome;
      throw new Error(`unknown poll outcome ${JSON.stringify(unknown)}`);
    }
  }
  if (verdict.status === 'succeeded') {
    logger.info(`Health check passed: the job ran ${formatDuration(config.healthCheckInMs)} with ${verdict.result.restarts} restart${verdict.result.restarts === 1 ? '' : 's'}.`);
    return { kind: 'healthy', restarts: verdict.result.restarts };
  }
  const { events, routine } = explainingEvents(await readEvents(context, target.deploymentId, target.sinceMs, clock.now() + DIAGNOSTICS_BOUND_MS));
  return {
    kind: 'failed',
    error: new DeploymentFailedError({
      kind: 'health',
      deployment: target.deploymentName,
      namespace: config.namespace,
      state: context.progress.lastState,
      jobId: oneLine(target.jobId),
      reason: verdict.reason,
      watchedInMs,
      restarts: lastRestarts,
      events,
      routineEvents: routine,
    }),
  };
}
