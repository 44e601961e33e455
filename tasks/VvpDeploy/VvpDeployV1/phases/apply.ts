import { ServiceError } from '../../../common/errors/errors';
import { artifactNoun, artifactOfSpec, describeArtifact, shownArtifact, type ArtifactContent } from '../../../common/vvp/artifact';
import { containsSubset } from '../../../common/vvp/deployment-spec';
import { changeTime } from '../../../common/vvp/diagnosis';
import { oneLine } from '../../../common/vvp/errors';
import { jarUriOf, type Deployment, type JsonObject, type JsonValue } from '../../../common/vvp/resources';
import { sendOnce } from '../../../common/vvp/send-once';
import { requestOptions, shownJarUri, type FlowContext } from './context';

/** A change VVP accepted. */
export interface AppliedChange {
  /** The deployment as VVP stores it after the write. */
  deployment: Deployment;
  /** VVP's time of the write, minus skew: events and jobs from then on belong to this change. */
  sinceMs: number;
}

/**
 * PATCHes the deployment once (a lost answer is read back, never re-sent) and checks that VVP
 * stores exactly the new artifact (jarUri or SQL script).
 *
 * @throws ServiceError when VVP stores another artifact (an operator or defaults rewriting it).
 */
export async function applyPatch(context: FlowContext, current: Deployment, body: JsonObject): Promise<AppliedChange> {
  const { config, vvp, clock, logger } = context;
  const id = current.metadata.id;
  const name = oneLine(current.metadata.name ?? config.deployment);
  const operation = `updating deployment '${name}' in namespace '${config.namespace}'`;
  const sentAtMs = clock.now();
  const result = await sendOnce(
    {
      method: 'PATCH',
      operation,
      send: () => vvp.patchDeployment(config.namespace, id, body, requestOptions(context)),
      readBack: () => vvp.getDeployment(config.namespace, id, requestOptions(context)),
      applied: (readBack) => readBack !== undefined && holdsPatch(readBack, current, body, config.artifact),
      describe: (readBack) => `the change was NOT applied (VVP still stores ${storedName(readBack)})`,
    },
    { clock, logger, abortSignal: context.abortSignal, onSending: () => context.progress.sending('PATCH') },
  );
  const after = result.value as Deployment;
  context.progress.applied();
  if (!holdsArtifact(after, config.artifact)) {
    throw new ServiceError({
      service: 'Ververica Platform',
      operation,
      serviceMessage: `VVP accepted the PATCH but stores ${storedName(after)} instead of ${config.artifact.kind === 'JAR' ? config.jarUri : describeArtifact(config.artifact)}`,
      hint: 'Check for a process that rewrites the deployment (an operator, GitOps) or VVP deployment defaults',
    });
  }
  logger.info(`PATCH applied: VVP stores the new ${artifactNoun(config.artifact)} (resourceVersion ${oneLine(String(after.metadata.resourceVersion ?? '?'))}).`);
  return { deployment: after, sinceMs: changeTime(after.metadata.modifiedAt, sentAtMs) };
}

/**
 * Whether a read-back holds our PATCH: the new artifact, and (when the deployment held it
 * before) every field the body sets.
 */
function holdsPatch(readBack: Deployment, before: Deployment, body: JsonObject, artifact: ArtifactContent): boolean {
  if (!holdsArtifact(readBack, artifact)) return false;
  if (!holdsArtifact(before, artifact)) return true;
  return containsSubset(readBack.spec, (body.spec ?? {}) as JsonValue);
}

/** Whether the deployment stores the artifact: the jarUri, or the SQL script, exactly. */
function holdsArtifact(deployment: Deployment | undefined, artifact: ArtifactContent): boolean {
  const stored = artifactOfSpec(deployment);
  if (artifact.kind === 'JAR') return jarUriOf(deployment) === artifact.jarUri;
  return stored?.kind === 'SQLSCRIPT' && stored.sqlScript === artifact.sqlScript;
}

/** What a deployment read back stores, for a message: "jarUri <masked>" or the SQL script's hash. */
function storedName(deployment: Deployment | undefined): string {
  const stored = artifactOfSpec(deployment);
  return stored?.kind === 'SQLSCRIPT' ? shownArtifact(stored) : `jarUri ${shownJarUri(jarUriOf(deployment))}`;
}

/** POSTs a new deployment once (a lost answer is read back by name, never re-sent). */
export async function createDeployment(context: FlowContext, body: JsonObject): Promise<AppliedChange> {
  const { config, vvp, clock, logger } = context;
  const sentAtMs = clock.now();
  const result = await sendOnce(
    {
      method: 'POST',
      operation: `creating deployment '${config.deployment}' in namespace '${config.namespace}'`,
      send: () => vvp.createDeployment(config.namespace, body, requestOptions(context)),
      readBack: () => vvp.getDeployment(config.namespace, config.deployment, requestOptions(context)),
      applied: (readBack) => readBack !== undefined && holdsArtifact(readBack, config.artifact),
      describe: (readBack) => (readBack ? `a deployment with ${storedName(readBack)}, not this one` : 'no such deployment: it was NOT created'),
    },
    { clock, logger, abortSignal: context.abortSignal, onSending: () => context.progress.sending('POST') },
  );
  const deployment = result.value as Deployment;
  context.progress.applied();
  logger.info(`Created deployment '${oneLine(deployment.metadata.name ?? config.deployment)}' (id ${oneLine(deployment.metadata.id)}) with ${storedName(deployment)}.`);
  return { deployment, sinceMs: changeTime(deployment.metadata.createdAt ?? deployment.metadata.modifiedAt, sentAtMs) };
}
