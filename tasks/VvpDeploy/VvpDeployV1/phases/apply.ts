import { ServiceError } from '../../../common/errors/errors';
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
 * stores exactly the new jarUri.
 *
 * @throws ServiceError when VVP stores another jarUri (an operator or defaults rewriting it).
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
      applied: (readBack) => readBack !== undefined && holdsPatch(readBack, current, body, config.jarUri),
      describe: (readBack) => `the change was NOT applied (VVP still stores jarUri ${shownJarUri(jarUriOf(readBack))})`,
    },
    { clock, logger, abortSignal: context.abortSignal, onSending: () => context.progress.sending('PATCH') },
  );
  const after = result.value as Deployment;
  context.progress.applied();
  const stored = jarUriOf(after);
  if (stored !== config.jarUri) {
    throw new ServiceError({
      service: 'Ververica Platform',
      operation,
      serviceMessage: `VVP accepted the PATCH but stores jarUri ${shownJarUri(stored)} instead of ${config.jarUri}`,
      hint: 'Check for a process that rewrites the deployment (an operator, GitOps) or VVP deployment defaults',
    });
  }
  logger.info(`PATCH applied: VVP stores the new jarUri (resourceVersion ${oneLine(String(after.metadata.resourceVersion ?? '?'))}).`);
  return { deployment: after, sinceMs: changeTime(after.metadata.modifiedAt, sentAtMs) };
}

/**
 * Whether a read-back holds our PATCH: the new jarUri, and (when the jarUri was already the
 * new one before) every field the body sets.
 */
function holdsPatch(readBack: Deployment, before: Deployment, body: JsonObject, jarUri: string): boolean {
  if (jarUriOf(readBack) !== jarUri) return false;
  if (jarUriOf(before) !== jarUri) return true;
  return containsSubset(readBack.spec, (body.spec ?? {}) as JsonValue);
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
      applied: (readBack) => readBack !== undefined && jarUriOf(readBack) === config.jarUri,
      describe: (readBack) => (readBack ? `a deployment with jarUri ${shownJarUri(jarUriOf(readBack))}, not this one` : 'no such deployment: it was NOT created'),
    },
    { clock, logger, abortSignal: context.abortSignal, onSending: () => context.progress.sending('POST') },
  );
  const deployment = result.value as Deployment;
  context.progress.applied();
  logger.info(`Created deployment '${oneLine(deployment.metadata.name ?? config.deployment)}' (id ${oneLine(deployment.metadata.id)}) with jarUri ${shownJarUri(jarUriOf(deployment))}.`);
  return { deployment, sinceMs: changeTime(deployment.metadata.createdAt ?? deployment.metadata.modifiedAt, sentAtMs) };
}
