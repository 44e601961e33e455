import { artifactNoun, artifactOfSpec, jobArtifact, sameArtifact, shownArtifact } from './artifact';
import { containsSubset, deepEqual, deepMerge } from './deployment-spec';
import {
  desiredStateOf,
  isJsonObject,
  upgradeStrategyOf,
  type Deployment,
  type Job,
  type JsonObject,
} from './resources';

/**
 * What to do with an existing deployment, decided before any write:
 * - `upToDate`: nothing to change; succeed without a PATCH.
 * - `wait`: the stored spec already is what we want but VVP is still bringing it up; no PATCH.
 * - `patch`: send the PATCH; `templateChanges` says whether a new job must replace the old one.
 * - `blocked`: a PATCH would not lead to a running new job; fail before writing.
 */
export type ChangePlan =
  | { kind: 'upToDate'; reason: string }
  | { kind: 'wait'; reason: string }
  | { kind: 'patch'; templateChanges: boolean; restartExpected: boolean }
  | { kind: 'blocked'; reason: string };

interface PlanInput {
  /** The deployment as read before the change. */
  current: Deployment;
  /** The job `status.running.jobId` points at, when the deployment is RUNNING. */
  runningJob?: Job;
  /** The PATCH body we would send. */
  patch: JsonObject;
  waitForRunning: boolean;
}

const ACTIVE_STATES = new Set(['RUNNING', 'TRANSITIONING']);

/**
 * Decides whether and how to change a deployment. Pure; table-tested.
 *
 * Rules: a PATCH that changes the template under `upgradeStrategy: NONE` while a job is active
 * is blocked (VVP would keep the old job forever). With `waitForRunning`, a PATCH that leaves
 * `spec.state` other than RUNNING, or that cannot start a job (no template or state change on a
 * stopped deployment), is blocked too. When nothing would change: up to date if the running job
 * is STARTED with the artifact (jarUri or SQL script), else wait (still coming up) or blocked (stopped; the same template
 * does not restart it).
 */
export function planChange(input: PlanInput): ChangePlan {
  const { current, runningJob, patch, waitForRunning } = input;
  const patchSpec = isJsonObject(patch.spec) ? patch.spec : {};
  const merged = deepMerge(current.spec, patchSpec) as JsonObject;
  const specChanges = !deepEqual(merged, current.spec);
  const metadataChanges = isJsonObject(patch.metadata) && !containsSubset(current.metadata as JsonObject, patch.metadata);
  const templateChanges = !deepEqual(merged.template, current.spec.template);
  const observed = current.status?.state ?? 'unknown';
  const desiredBefore = desiredStateOf(current.spec);
  const desiredAfter = desiredStateOf(merged) ?? 'RUNNING';
  const artifact = artifactOfSpec({ spec: merged });
  const noun = artifactNoun(artifact);

  if (specChanges || metadataChanges) {
    const startsJob = desiredAfter === 'RUNNING' && desiredBefore !== 'RUNNING';
    const restartExpected = templateChanges || startsJob;
    if (templateChanges && upgradeStrategyOf(merged) === 'NONE' && ACTIVE_STATES.has(observed)) {
      return {
        kind: 'blocked',
        reason:
          `the deployment's upgradeStrategy is NONE, so VVP would store the new template but keep running the old job ` +
          `(no new job would start). Set spec.upgradeStrategy.kind to STATEFUL or STATELESS (in VVP or in the deployment spec file)`,
      };
    }
    if (waitForRunning && desiredAfter !== 'RUNNING') {
      return {
        kind: 'blocked',
        reason:
          `the deployment's desired state (spec.state) would be ${desiredAfter}, so no job will run. ` +
          `Set spec.state: RUNNING in the deployment spec file, or set waitForRunning: false to only store the change`,
      };
    }
    if (waitForRunning && !restartExpected && !ACTIVE_STATES.has(observed)) {
      return {
        kind: 'blocked',
        reason:
          `the change does not touch the template and the deployment is ${observed}, so VVP will not start a job. ` +
          `Use a new ${noun === 'jarUri' ? 'jarUri or commitId' : 'SQL script'}, or set waitForRunning: false`,
      };
    }
    return { kind: 'patch', templateChanges, restartExpected };
  }

  const runsIt =
    observed === 'RUNNING' &&
    runningJob?.metadata.id === current.status?.running?.jobId &&
    runningJob?.status?.state === 'STARTED' &&
    sameArtifact(jobArtifact(runningJob), artifact);
  if (runsIt) {
    return { kind: 'upToDate', reason: `already up to date: job ${runningJob?.metadata.id} runs ${artifact?.kind === 'JAR' ? artifact.jarUri : shownArtifact(artifact)}` };
  }
  if (!waitForRunning) {
    return { kind: 'upToDate', reason: `the deployment already holds this spec (state ${observed}); nothing to change` };
  }
  if (desiredAfter !== 'RUNNING') {
    return {
      kind: 'blocked',
      reason: `the deployment already holds this ${noun} but its desired state (spec.state) is ${desiredAfter}, so no job will run`,
    };
  }
  if (ACTIVE_STATES.has(observed)) {
    return { kind: 'wait', reason: `the deployment already holds this ${noun} and is ${observed}; waiting for its job to run` };
  }
  return {
    kind: 'blocked',
    reason:
      `the deployment already holds ${noun} ${artifact?.kind === 'JAR' ? artifact.jarUri : shownArtifact(artifact)} but is ${observed}; PATCHing the same template does not restart it. ` +
      `${noun === 'jarUri' ? 'Use a new commitId (or jarUri)' : 'Change the script'}, or restart the deployment in VVP`,
  };
}
