import type { PollOutcome } from '../../../common/poll/poller';
import { artifactOfSpec, jobArtifact, shownArtifact, type SpecArtifact } from '../../../common/vvp/artifact';
import { classifyUpgrade, type UpgradeExpectation, type UpgradeObservation, type UpgradeSuccess } from '../../../common/vvp/classify';
import { formatDuration, VvpApiError } from '../../../common/vvp/errors';
import { desiredStateOf, jarUriOf, jobJarUri, runningJobIdOf, type Deployment } from '../../../common/vvp/resources';
import { restoredLocation } from '../../../common/vvp/savepoints';
import { shownJarUri, type FlowContext } from './context';
import { pollVvp } from './poll-vvp';

/** The longest a probe may run past the wait's deadline (a poll interval, within these bounds). */
const PROBE_GRACE_MIN_MS = 1_000;
const PROBE_GRACE_MAX_MS = 5_000;

/** What to wait for. */
export interface JobTarget {
  deploymentId: string;
  /** For messages. */
  deploymentName: string;
  expectation: UpgradeExpectation;
  /** Jobs that existed before the change (see Baseline.knownJobIds). */
  knownJobIds?: ReadonlySet<string>;
  timeoutInMs: number;
  /** How the log names the expected artifact when the group already showed it ("the new jarUri"); else it is shown. */
  jarUriName?: string;
}

/** How a wait ended, with the deployment as the last probe read it. */
export interface WaitResult {
  outcome: PollOutcome<UpgradeObservation, UpgradeSuccess>;
  lastDeployment?: Deployment;
}

/**
 * Polls the deployment (and its running job) with the one poller until a job runs the expected
 * jarUri, the deployment fails, or the time is up. Every probe ends by the wait's deadline,
 * retries included, so a hanging VVP cannot stretch the wait.
 */
export async function awaitJob(context: FlowContext, target: JobTarget): Promise<WaitResult> {
  const { config, vvp, clock, logger } = context;
  const { expectation, knownJobIds } = target;
  let changeObserved = false;
  let lastDeployment: Deployment | undefined;
  const graceInMs = Math.min(PROBE_GRACE_MAX_MS, Math.max(PROBE_GRACE_MIN_MS, config.pollIntervalInMs));
  const probeDeadline = clock.now() + target.timeoutInMs + graceInMs;
  const probe = async (signal: AbortSignal | undefined): Promise<UpgradeObservation> => {
    const options = { abortSignal: signal, deadline: probeDeadline };
    const d = await vvp.getDeployment(config.namespace, target.deploymentId, options);
    if (!d) {
      throw new VvpApiError({
        method: 'GET',
        path: '',
        operation: `waiting for deployment '${target.deploymentName}'`,
        status: 404,
        serviceMessage: `the deployment disappeared from namespace '${config.namespace}' during the wait`,
      });
    }
    lastDeployment = d;
    const state = d.status?.state;
    const runningJobId = runningJobIdOf(d);
    context.progress.observed(state);
    if (state !== expectation.baselineState || (runningJobId !== undefined && runningJobId !== expectation.baselineJobId)) changeObserved = true;
    // Outside RUNNING/TRANSITIONING the jobs tell whether VVP acted on the change, and whether a
    // bad state is being left: VVP creates the new job before it updates the status.
    let newJobActive = false;
    if (knownJobIds && state !== 'RUNNING' && state !== 'TRANSITIONING') {
      const fresh = (await vvp.listJobs(config.namespace, target.deploymentId, options)).filter((j) => !knownJobIds.has(j.metadata.id));
      if (fresh.length > 0) changeObserved = true;
      newJobActive = fresh.some((j) => ['STARTING', 'STANDBY', 'STARTED'].includes(j.status?.state ?? ''));
    }
    let runningJob: UpgradeObservation['runningJob'];
    if (state === 'RUNNING' && runningJobId && !(expectation.requireNewJob && runningJobId === expectation.baselineJobId)) {
      const job = await vvp.getJob(config.namespace, runningJobId, options);
      if (job) runningJob = { id: job.metadata.id, state: job.status?.state, jarUri: jobJarUri(job), sqlScript: sqlScriptOf(jobArtifact(job)), restoredFrom: restoredLocation(job) };
    }
    return { state, desiredState: desiredStateOf(d.spec), specJarUri: jarUriOf(d), specSqlScript: sqlScriptOf(artifactOfSpec(d)), runningJobId, runningJob, changeObserved, newJobActive };
  };
  logger.info(
    `Waiting up to ${formatDuration(target.timeoutInMs)} for ${expectation.requireNewJob ? 'a new job' : 'a job'} running ${target.jarUriName ?? (expectation.sqlScript !== undefined ? shownArtifact({ kind: 'SQLSCRIPT', sqlScript: expectation.sqlScript, additionalDependencies: [] }) : shownJarUri(expectation.jarUri))}` +
      ` (first checks within a second, then every ${formatDuration(config.pollIntervalInMs)} at most).`,
  );
  const outcome = await pollVvp<UpgradeObservation, UpgradeSuccess>(context, { probe, classify: (obs) => classifyUpgrade(obs, expectation), timeoutInMs: target.timeoutInMs });
  return { outcome, lastDeployment };
}

/** The script of a SQL artifact; undefined for any other. */
function sqlScriptOf(artifact: SpecArtifact | undefined): string | undefined {
  return artifact?.kind === 'SQLSCRIPT' ? artifact.sqlScript : undefined;
}
