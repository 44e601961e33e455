/**
 * The one decision of a deploy, made before any write: what the change is, whether it can lead
 * to a running job, and the diff it makes. `action: plan` is this decision stopped before the
 * first write, so a plan and the deploy after it cannot disagree. Pure.
 */
import { InputError } from '../../common/errors/errors';
import { artifactKindSwitch, artifactOfSpec } from '../../common/vvp/artifact';
import { planChange, type ChangePlan } from '../../common/vvp/change-plan';
import { buildCreateBody, buildPatchBody, withAnnotations } from '../../common/vvp/deployment-spec';
import { DeploymentFailedError, VvpApiError } from '../../common/vvp/errors';
import { desiredStateOf, isJsonObject, pick, type Deployment, type Job, type JsonObject } from '../../common/vvp/resources';
import { planDeploymentChange, type DeploymentPlan } from '../../common/vvp/spec-diff';
import type { DeployConfig } from './inputs';

/** The change to an existing deployment: what to do, the PATCH body (without run annotations) and its diff. */
interface ChangeDecision {
  plan: ChangePlan;
  patch: JsonObject;
  diff: DeploymentPlan;
}

/** Decides the change to `current` (the deployment as read, and the job it runs when RUNNING). */
export function decideChange(config: DeployConfig, current: Deployment, runningJob: Job | undefined): ChangeDecision {
  const patch = withoutNeedlessEmptyList(changeBody(config), current);
  // A merge PATCH cannot turn a JAR deployment into a SQL one (or back): it would keep the old kind's fields.
  const kindSwitch = artifactKindSwitch(artifactOfSpec(current), config.artifact);
  return {
    plan: kindSwitch ? { kind: 'blocked', reason: kindSwitch } : planChange({ current, runningJob, patch, waitForRunning: config.waitForRunning }),
    patch,
    diff: planDeploymentChange({ current, change: patch }),
  };
}

/**
 * The POST body for a missing deployment (run annotations included) and its diff.
 *
 * @throws VvpApiError (404) when createIfMissing is false; InputError when the deployment is
 *   named by id or no spec file is given; DeploymentFailedError (`blocked`) when the new deployment would not run.
 */
export function decideCreate(config: DeployConfig): { body: JsonObject; diff: DeploymentPlan } {
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
    throw new InputError([{ input: 'deployment', value: config.deployment, expected: 'the name of the deployment to create (ids are assigned by VVP), since no deployment has this id' }]);
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
  const body = withAnnotations(
    buildCreateBody(config.specFile.document, { name: config.deployment, namespace: config.namespace, artifact: config.artifact, upgradeStrategy: config.upgradeStrategy, restoreStrategy: config.restoreStrategy }),
    runAnnotations(config),
  );
  const desired = desiredStateOf(body.spec);
  if (config.waitForRunning && desired !== 'RUNNING') {
    throw new DeploymentFailedError({
      kind: 'blocked',
      deployment: config.deployment,
      namespace: config.namespace,
      reason: `the spec file sets spec.state ${String(desired)}, so the new deployment would not run; set spec.state: RUNNING or waitForRunning: false`,
      events: [],
    });
  }
  return { body, diff: planDeploymentChange({ current: undefined, change: body }) };
}

/**
 * A SQL write sends `additionalDependencies: []` so that removing the last dependency sticks; to
 * a deployment that has none, that empty list is no change (and must not restart the job).
 */
function withoutNeedlessEmptyList(patch: JsonObject, current: Deployment): JsonObject {
  const artifact = pick(patch, 'spec', 'template', 'spec', 'artifact');
  const sent = isJsonObject(artifact) ? artifact.additionalDependencies : undefined;
  if (!Array.isArray(sent) || sent.length > 0 || (artifactOfSpec(current)?.additionalDependencies.length ?? 0) > 0) return patch;
  const copy = structuredClone(patch);
  delete (pick(copy, 'spec', 'template', 'spec', 'artifact') as JsonObject).additionalDependencies;
  return copy;
}

/** The PATCH body of the change, without the run annotations (they ride along with the write: {@link sentBody}). */
function changeBody(config: DeployConfig): JsonObject {
  return buildPatchBody(config.specFile?.document, config.artifact, { upgradeStrategy: config.upgradeStrategy, restoreStrategy: config.restoreStrategy });
}

/** The PATCH body a deploy sends: the change with the run annotations; what a plan shows. */
export function sentBody(config: DeployConfig, patch: JsonObject = changeBody(config)): JsonObject {
  return withAnnotations(patch, runAnnotations(config));
}

/** The pipeline annotations this run writes (none with `annotateDeployment: false`). */
export function runAnnotations(config: DeployConfig): Readonly<Record<string, string>> {
  return config.annotateDeployment ? config.runAnnotations : {};
}
