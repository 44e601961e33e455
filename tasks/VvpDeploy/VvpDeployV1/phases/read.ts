import { artifactOfSpec, shownArtifact } from '../../../common/vvp/artifact';
import { oneLine } from '../../../common/vvp/errors';
import { desiredStateOf, jarUriOf, runningJobIdOf, upgradeStrategyOf, type Deployment, type Job } from '../../../common/vvp/resources';
import { shownJarUri, type FlowContext } from './context';

/** The deployment before the change. */
export interface Baseline {
  deployment: Deployment;
  /** The job `status.running.jobId` points at, when RUNNING. */
  runningJob?: Job;
  /** Jobs that existed before the change; read when the deployment was neither RUNNING nor TRANSITIONING. */
  knownJobIds?: Set<string>;
}

/**
 * Reads the deployment before any change and logs what it holds. Undefined when it does not
 * exist. Every server string is put on one line before it is logged.
 */
export async function readBaseline(context: Pick<FlowContext, 'config' | 'vvp' | 'logger' | 'abortSignal'>, deadline?: number): Promise<Baseline | undefined> {
  const { config, vvp, logger } = context;
  const options = { abortSignal: context.abortSignal, deadline };
  const deployment = await vvp.getDeployment(config.namespace, config.deployment, options);
  if (!deployment) {
    logger.info(`Deployment '${config.deployment}' does not exist in namespace '${config.namespace}'.`);
    return undefined;
  }
  const state = deployment.status?.state ?? 'unknown';
  const jobId = runningJobIdOf(deployment);
  const runningJob = state === 'RUNNING' && jobId ? await vvp.getJob(config.namespace, jobId, options) : undefined;
  let knownJobIds: Set<string> | undefined;
  if (state !== 'RUNNING' && state !== 'TRANSITIONING') {
    // A stopped or failed deployment keeps reporting its old state for a moment after the
    // change; a job that did not exist before proves VVP has acted.
    const jobs = await vvp.listJobs(config.namespace, deployment.metadata.id, options);
    knownJobIds = new Set(jobs.map((j) => j.metadata.id));
  }
  const name = oneLine(deployment.metadata.name ?? config.deployment);
  logger.info(`Deployment '${name}' (id ${oneLine(deployment.metadata.id)}) in namespace '${config.namespace}'`);
  logger.info(`  state: ${oneLine(state)} (desired ${oneLine(desiredStateOf(deployment.spec) ?? 'unset')})`);
  if (jobId) logger.info(`  running job: ${oneLine(jobId)}${runningJob ? ` (${oneLine(runningJob.status?.state ?? 'state unknown')})` : ''}`);
  const stored = artifactOfSpec(deployment);
  logger.info(stored?.kind === 'SQLSCRIPT' ? `  SQL script: ${shownArtifact(stored)}` : `  jarUri: ${shownJarUri(jarUriOf(deployment))}`);
  logger.info(`  upgrade strategy: ${oneLine(upgradeStrategyOf(deployment.spec) ?? '(default)')}`);
  return { deployment, runningJob, knownJobIds };
}
