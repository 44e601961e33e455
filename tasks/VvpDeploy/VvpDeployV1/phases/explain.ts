import { isAbortError } from '../../../common/errors/errors';
import { eventsSince, explainingEvents, jobsOfChange, newestFailure, newestJobNote, type ChangeJobs } from '../../../common/vvp/diagnosis';
import { DeploymentFailedError, oneLine, WaitTimeoutError, type EventLine } from '../../../common/vvp/errors';
import type { Deployment, Job } from '../../../common/vvp/resources';
import { requestOptions, type FlowContext } from './context';
import type { JobTarget, WaitResult } from './await-job';

/** Bound for the reads that explain a failure or timeout (events, jobs), retries included. */
export const DIAGNOSTICS_BOUND_MS = 10_000;

/**
 * Builds the failure or timeout error of a wait that did not succeed: the failed job's
 * `status.failure` and the deployment's events since the change. The reads are bounded: a VVP
 * that hangs must not stretch the step by minutes of retries after the wait ended.
 */
export async function explainWait(
  context: FlowContext,
  target: JobTarget,
  outcome: Exclude<WaitResult['outcome'], { kind: 'succeeded' }>,
  lastDeployment: Deployment | undefined,
  sinceMs: number,
): Promise<DeploymentFailedError | WaitTimeoutError> {
  const { config, clock, logger } = context;
  const deadline = clock.now() + DIAGNOSTICS_BOUND_MS;
  const [all, jobs] = await Promise.all([readEvents(context, target.deploymentId, sinceMs, deadline), readJobs(context, target.deploymentId, deadline)]);
  const { events, routine } = explainingEvents(all);
  const change: ChangeJobs = { baselineJobId: target.expectation.baselineJobId, knownJobIds: target.knownJobIds, sinceMs };
  const fresh = jobs ? jobsOfChange(jobs, change) : undefined;
  const common = { deployment: target.deploymentName, namespace: config.namespace, state: lastDeployment?.status?.state, events, routineEvents: routine };
  if (outcome.kind === 'timedOut') {
    return new WaitTimeoutError({
      ...common,
      phase: outcome.phase,
      lastObserved: `${oneLine(outcome.state)}${fresh ? newestJobNote(fresh) : ''}`,
      timeoutInMs: target.timeoutInMs,
    });
  }
  const failure = fresh ? newestFailure(fresh) : undefined;
  // The failure text and the events are told once, in the step's error message.
  if (failure) logger.info(`The new job failed (${oneLine(failure.reason ?? 'no reason given')}): the step's error message has its failure and the events that explain it.`);
  return new DeploymentFailedError({ ...common, kind: 'job', reason: outcome.reason, failure });
}

/** The deployment's events since `sinceMs`; a line saying why when they cannot be read. */
export async function readEvents(context: FlowContext, deploymentId: string, sinceMs: number, deadline: number): Promise<EventLine[]> {
  try {
    return eventsSince(await context.vvp.listEvents(context.config.namespace, deploymentId, requestOptions(context, deadline)), sinceMs);
  } catch (error) {
    if (isAbortError(error)) throw error;
    context.logger.warn(`Could not read the deployment's events: ${(error as Error).message}`);
    return [{ message: `(events could not be read: ${(error as Error).message})` }];
  }
}

/** The deployment's jobs; undefined when they cannot be read (the message then goes without them). */
export async function readJobs(context: FlowContext, deploymentId: string, deadline?: number): Promise<Job[] | undefined> {
  try {
    return await context.vvp.listJobs(context.config.namespace, deploymentId, requestOptions(context, deadline));
  } catch (error) {
    if (isAbortError(error)) throw error;
    context.logger.warn(`Could not list the deployment's jobs: ${(error as Error).message}`);
    return undefined;
  }
}
