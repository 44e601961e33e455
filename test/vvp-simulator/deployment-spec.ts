/**
 * Validation and default expansion of deployment bodies, as the AppManager does on every
 * write ("optional fields will be expanded with their default values").
 */
import { badRequest } from './api-error';
import { deepClone, isPlainObject, type JsonObject } from './plain-object';
import {
  ARTIFACT_KINDS,
  DESIRED_STATES,
  RESTORE_STRATEGIES,
  UPGRADE_STRATEGIES,
  type DesiredState,
  type UpgradeStrategy,
} from './resources';
import type { SimStore } from './store';

const NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const URI_SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/;

/**
 * Checks a deployment name (VVP 2.4+ rules).
 * @throws ApiError 400 quoting the name and the accepted form.
 */
export function validateName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw badRequest('metadata.name is required.');
  if (name.length > 63 || !NAME_PATTERN.test(name)) {
    throw badRequest(
      `Invalid deployment name '${name}': must be at most 63 characters of [-a-z0-9], ` +
        'starting and ending with a letter or digit (regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$).',
    );
  }
  return name;
}

/** Returns `obj[key]` as an object, creating it when absent. */
function child(obj: JsonObject, key: string): JsonObject {
  if (!isPlainObject(obj[key])) obj[key] = {};
  return obj[key] as JsonObject;
}

/**
 * Fills optional spec fields with VVP-like deployment defaults (state RUNNING, STATEFUL,
 * LATEST_STATE, 4 attempts, the namespace's default target, resources, logging).
 * Returns a new object.
 */
export function expandDefaults(specIn: JsonObject, namespace: string, store: SimStore, defaultTargetId: string): JsonObject {
  const spec = deepClone(specIn);
  spec.state ??= 'RUNNING';
  spec.upgradeStrategy = { kind: 'STATEFUL', ...(isPlainObject(spec.upgradeStrategy) ? spec.upgradeStrategy : {}) };
  spec.restoreStrategy = {
    kind: 'LATEST_STATE',
    allowNonRestoredState: false,
    ...(isPlainObject(spec.restoreStrategy) ? spec.restoreStrategy : {}),
  };
  spec.maxSavepointCreationAttempts ??= 4;
  spec.maxJobCreationAttempts ??= 4;
  if (spec.deploymentTargetId === undefined && spec.deploymentTargetName === undefined && spec.sessionClusterName === undefined) {
    spec.deploymentTargetId = defaultTargetId;
  }
  if (typeof spec.deploymentTargetName === 'string' && spec.deploymentTargetId === undefined) {
    const target = store.findTarget(namespace, spec.deploymentTargetName);
    if (target) spec.deploymentTargetId = target.metadata.id;
  }
  const template = child(spec, 'template');
  child(child(template, 'metadata'), 'annotations');
  const tspec = child(template, 'spec');
  tspec.parallelism ??= 1;
  const resources = child(tspec, 'resources');
  resources.jobmanager = { cpu: 1, memory: '1G', ...(isPlainObject(resources.jobmanager) ? resources.jobmanager : {}) };
  resources.taskmanager = { cpu: 1, memory: '2G', ...(isPlainObject(resources.taskmanager) ? resources.taskmanager : {}) };
  child(tspec, 'flinkConfiguration');
  const logging = child(tspec, 'logging');
  logging.loggingProfile ??= 'default';
  logging.log4jLoggers ??= { '': 'INFO' };
  const artifact = child(tspec, 'artifact');
  if (artifact.kind === 'JAR' || artifact.kind === 'SQLSCRIPT') {
    artifact.flinkVersion ??= '1.15';
    artifact.flinkImageRegistry ??= 'registry.ververica.com/v2.7';
    artifact.flinkImageRepository ??= 'flink';
    artifact.flinkImageTag ??= '1.15.2-stream4-scala_2.12-java11';
  }
  return spec;
}

function checkEnum(value: unknown, allowed: readonly string[], field: string): void {
  if (value !== undefined && (typeof value !== 'string' || !allowed.includes(value))) {
    throw badRequest(`Invalid value ${JSON.stringify(value)} for ${field}; accepted: ${allowed.join(', ')}.`);
  }
}

function checkPositiveInt(value: unknown, field: string): void {
  if (value !== undefined && (!Number.isInteger(value) || (value as number) < 1)) {
    throw badRequest(`Invalid value ${JSON.stringify(value)} for ${field}; expected an integer >= 1.`);
  }
}

/**
 * Checks an expanded spec: enums, counts, and an artifact a job could be built from.
 * @throws ApiError 400 naming the field.
 */
export function validateSpec(spec: JsonObject): void {
  checkEnum(spec.state, DESIRED_STATES, 'spec.state');
  checkEnum(isPlainObject(spec.upgradeStrategy) ? spec.upgradeStrategy.kind : spec.upgradeStrategy, UPGRADE_STRATEGIES, 'spec.upgradeStrategy.kind');
  checkEnum(isPlainObject(spec.restoreStrategy) ? spec.restoreStrategy.kind : spec.restoreStrategy, RESTORE_STRATEGIES, 'spec.restoreStrategy.kind');
  checkPositiveInt(spec.maxJobCreationAttempts, 'spec.maxJobCreationAttempts');
  checkPositiveInt(spec.maxSavepointCreationAttempts, 'spec.maxSavepointCreationAttempts');
  if (!isPlainObject(spec.template) || !isPlainObject(spec.template.spec)) throw badRequest('spec.template.spec is required.');
  const tspec = spec.template.spec;
  checkPositiveInt(tspec.parallelism, 'spec.template.spec.parallelism');
  checkPositiveInt(tspec.numberOfTaskManagers, 'spec.template.spec.numberOfTaskManagers');
  const artifact = isPlainObject(tspec.artifact) ? tspec.artifact : {};
  if (artifact.kind === undefined) throw badRequest('spec.template.spec.artifact.kind is required.');
  checkEnum(artifact.kind, ARTIFACT_KINDS, 'spec.template.spec.artifact.kind');
  if (artifact.kind === 'JAR') {
    if (typeof artifact.jarUri !== 'string' || artifact.jarUri.length === 0) {
      throw badRequest('spec.template.spec.artifact.jarUri is required for artifact kind JAR.');
    }
    if (!URI_SCHEME.test(artifact.jarUri)) {
      throw badRequest(`Invalid jarUri '${artifact.jarUri}': expected an absolute URI such as wasbs://container@account.blob.core.windows.net/path.jar.`);
    }
  }
  if (artifact.kind === 'SQLSCRIPT' && (typeof artifact.sqlScript !== 'string' || artifact.sqlScript.trim() === '')) {
    throw badRequest('spec.template.spec.artifact.sqlScript is required for artifact kind SQLSCRIPT.');
  }
}

/** `spec.state` of an expanded spec. */
export function desiredState(spec: JsonObject): DesiredState {
  return spec.state as DesiredState;
}

/** `spec.upgradeStrategy.kind` of an expanded spec. */
export function upgradeStrategy(spec: JsonObject): UpgradeStrategy {
  return (spec.upgradeStrategy as JsonObject).kind as UpgradeStrategy;
}

/** `spec.restoreStrategy` of an expanded spec. */
export function restoreStrategy(spec: JsonObject): { kind: string; allowNonRestoredState: boolean } {
  const strategy = spec.restoreStrategy as JsonObject;
  return { kind: String(strategy.kind), allowNonRestoredState: strategy.allowNonRestoredState === true };
}

/** `spec.template.spec.artifact.jarUri`, if any. */
export function jarUriOf(spec: JsonObject): string | undefined {
  const template = isPlainObject(spec.template) ? spec.template : {};
  const tspec = isPlainObject(template.spec) ? template.spec : {};
  const artifact = isPlainObject(tspec.artifact) ? tspec.artifact : {};
  return typeof artifact.jarUri === 'string' ? artifact.jarUri : undefined;
}
