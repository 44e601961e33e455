/**
 * Deployment writes with AppManager semantics: create, merge-PATCH, create-or-replace
 * PUT, and DELETE. Every accepted write bumps `resourceVersion` and `modifiedAt`; a spec
 * change bumps the `spec.version` annotation; only a template or `spec.state` change
 * makes the controller act.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, badRequest, conflict, notFound } from './api-error';
import { expandDefaults, validateName, validateSpec } from './deployment-spec';
import { deepClone, deepEqual, isPlainObject, mergePatch, type JsonObject } from './plain-object';
import { SPEC_VERSION_ANNOTATION, TRANSITIONING_ANNOTATION, type Deployment } from './resources';
import type { SimulatorState } from './simulator-state';
import { isUuid } from './store';

const SYSTEM_ANNOTATION_PREFIX = 'com.dataartisans.appmanager.controller.';

function requireObject(body: unknown): JsonObject {
  if (!isPlainObject(body)) throw badRequest('Request body must be a Deployment object.');
  return body;
}

function metadataOf(body: JsonObject): JsonObject {
  if (body.metadata === undefined || body.metadata === null) return {};
  if (!isPlainObject(body.metadata)) throw badRequest('metadata must be an object.');
  return body.metadata;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw badRequest(`${field} must be a map of strings.`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw badRequest(`${field}.${k} must be a string, got ${JSON.stringify(v)}.`);
  }
  return value as Record<string, string>;
}

/** User annotations only: system ones are owned by the controller and never taken from a body. */
function userAnnotations(value: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => !k.startsWith(SYSTEM_ANNOTATION_PREFIX)));
}

function systemAnnotations(value: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => k.startsWith(SYSTEM_ANNOTATION_PREFIX)));
}

function prepareSpec(sim: SimulatorState, namespace: string, spec: unknown): JsonObject {
  if (!isPlainObject(spec)) throw badRequest('spec is required and must be an object.');
  const expanded = expandDefaults(spec, namespace, sim.store, sim.defaultTargetId(namespace));
  validateSpec(expanded);
  if (sim.config.strictDeploymentTarget) {
    const ref = expanded.deploymentTargetId ?? expanded.deploymentTargetName;
    if (typeof ref === 'string' && !sim.store.findTarget(namespace, ref)) {
      throw badRequest(`Deployment target '${ref}' does not exist in namespace '${namespace}'.`);
    }
  }
  return expanded;
}

function duplicate(sim: SimulatorState, namespace: string, name: string): ApiError {
  const message = `Deployment name '${name}' is already in use in namespace '${namespace}'.`;
  return sim.config.duplicateNameStatus === 409 ? conflict(message) : badRequest(message);
}

/**
 * Finds a deployment or throws 404.
 * @throws ApiError 404
 */
export function requireDeployment(sim: SimulatorState, namespace: string, nameOrId: string): Deployment {
  const deployment = sim.store.findDeployment(namespace, nameOrId, sim.config.addressing);
  if (!deployment) throw notFound(`Deployment '${nameOrId}' does not exist in namespace '${namespace}'.`);
  return deployment;
}

/**
 * POST /deployments (and PUT of a new name). Returns the stored deployment.
 * @throws ApiError 400 invalid body/name/spec, 409 duplicate name.
 */
export function createDeployment(sim: SimulatorState, namespace: string, bodyIn: unknown, pathName?: string): Deployment {
  const body = requireObject(bodyIn);
  const metadata = metadataOf(body);
  if (pathName !== undefined && metadata.name !== undefined && metadata.name !== pathName) {
    throw badRequest(`metadata.name '${String(metadata.name)}' does not match the name in the path '${pathName}'.`);
  }
  if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
    throw badRequest(`metadata.namespace '${String(metadata.namespace)}' does not match the namespace in the path '${namespace}'.`);
  }
  const name = validateName(metadata.name ?? pathName);
  if (sim.store.findDeployment(namespace, name)) throw duplicate(sim, namespace, name);
  const spec = prepareSpec(sim, namespace, body.spec);
  const now = sim.clock.isoNow();
  const deployment: Deployment = {
    kind: 'Deployment',
    apiVersion: 'v1',
    metadata: {
      id: randomUUID(),
      name,
      displayName: typeof metadata.displayName === 'string' ? metadata.displayName : name,
      namespace,
      labels: { ...stringMap(metadata.labels, 'metadata.labels') },
      annotations: {
        ...userAnnotations(stringMap(metadata.annotations, 'metadata.annotations')),
        [SPEC_VERSION_ANNOTATION]: '1',
        [TRANSITIONING_ANNOTATION]: 'false',
      },
      createdAt: now,
      modifiedAt: now,
      resourceVersion: 1,
    },
    spec,
    status: { state: 'CANCELLED' },
  };
  sim.store.putDeployment(deployment);
  sim.controller.specWritten(deployment, { created: true, templateChanged: true, stateChanged: true });
  return deployment;
}

/** Applies a new metadata/spec to a stored deployment and tells the controller. */
function applyWrite(sim: SimulatorState, deployment: Deployment, next: { spec: JsonObject; labels: Record<string, string>; annotations: Record<string, string>; displayName?: string }): void {
  const before = deployment.spec;
  const templateChanged = !deepEqual(before.template, next.spec.template);
  const stateChanged = before.state !== next.spec.state;
  const specChanged = !deepEqual(before, next.spec);
  const system = systemAnnotations(deployment.metadata.annotations);
  if (specChanged) system[SPEC_VERSION_ANNOTATION] = String((parseInt(system[SPEC_VERSION_ANNOTATION] ?? '1', 10) || 1) + 1);
  deployment.spec = next.spec;
  deployment.metadata.labels = next.labels;
  deployment.metadata.annotations = { ...next.annotations, ...system };
  if (next.displayName !== undefined) deployment.metadata.displayName = next.displayName;
  // Every accepted write counts, even when nothing changed (VVP bumps the version anyway).
  deployment.metadata.resourceVersion += 1;
  deployment.metadata.modifiedAt = sim.clock.isoNow();
  sim.controller.specWritten(deployment, { created: false, templateChanged, stateChanged });
}

function checkImmutables(sim: SimulatorState, deployment: Deployment, metadata: JsonObject): void {
  if (metadata.name !== undefined && metadata.name !== deployment.metadata.name) {
    throw badRequest(`metadata.name cannot be changed (is '${deployment.metadata.name}', got '${String(metadata.name)}').`);
  }
  if (metadata.id !== undefined && metadata.id !== deployment.metadata.id) {
    throw badRequest(`metadata.id cannot be changed (is '${deployment.metadata.id}', got '${String(metadata.id)}').`);
  }
  if (metadata.namespace !== undefined && metadata.namespace !== deployment.metadata.namespace) {
    throw badRequest(`metadata.namespace '${String(metadata.namespace)}' does not match the namespace in the path '${deployment.metadata.namespace}'.`);
  }
  if (sim.config.strictResourceVersion && metadata.resourceVersion !== undefined && metadata.resourceVersion !== deployment.metadata.resourceVersion) {
    throw conflict(`Stale resourceVersion ${String(metadata.resourceVersion)}; current is ${deployment.metadata.resourceVersion}.`);
  }
}

/**
 * PATCH: deep merge of the body into the stored deployment; `status`, `kind` and
 * `apiVersion` in the body are ignored.
 * @throws ApiError 400 invalid body / name change, 404 unknown.
 */
export function patchDeployment(sim: SimulatorState, namespace: string, nameOrId: string, bodyIn: unknown): Deployment {
  const deployment = requireDeployment(sim, namespace, nameOrId);
  const body = requireObject(bodyIn);
  const metadata = metadataOf(body);
  checkImmutables(sim, deployment, metadata);
  const mergedSpec = body.spec === undefined ? deployment.spec : mergePatch(deployment.spec, body.spec);
  const spec = prepareSpec(sim, namespace, mergedSpec);
  const labels = metadata.labels === undefined ? deployment.metadata.labels : stringMap(mergePatch(deployment.metadata.labels, metadata.labels), 'metadata.labels');
  const annotations =
    metadata.annotations === undefined
      ? userAnnotations(deployment.metadata.annotations)
      : userAnnotations(stringMap(mergePatch(userAnnotations(deployment.metadata.annotations), userAnnotations(stringMap(metadata.annotations, 'metadata.annotations'))), 'metadata.annotations'));
  applyWrite(sim, deployment, {
    spec,
    labels: { ...labels },
    annotations,
    displayName: typeof metadata.displayName === 'string' ? metadata.displayName : undefined,
  });
  return deployment;
}

/**
 * PUT: create or replace. Returns the deployment and whether it was created (201).
 * @throws ApiError 400 invalid body or name mismatch, 409 duplicate name.
 */
export function putDeployment(sim: SimulatorState, namespace: string, nameOrId: string, bodyIn: unknown): { deployment: Deployment; created: boolean } {
  const existing = sim.store.findDeployment(namespace, nameOrId, sim.config.addressing);
  if (!existing) {
    const pathName = isUuid(nameOrId) ? undefined : nameOrId;
    return { deployment: createDeployment(sim, namespace, bodyIn, pathName), created: true };
  }
  const body = requireObject(bodyIn);
  const metadata = metadataOf(body);
  checkImmutables(sim, existing, metadata);
  const spec = prepareSpec(sim, namespace, body.spec);
  applyWrite(sim, existing, {
    spec,
    labels: { ...stringMap(metadata.labels, 'metadata.labels') },
    annotations: userAnnotations(stringMap(metadata.annotations, 'metadata.annotations')),
    displayName: typeof metadata.displayName === 'string' ? metadata.displayName : existing.metadata.name,
  });
  return { deployment: existing, created: false };
}

/**
 * DELETE: only when the desired state is CANCELLED or SUSPENDED.
 * @throws ApiError 404 unknown, 409 still meant to run.
 */
export function deleteDeployment(sim: SimulatorState, namespace: string, nameOrId: string): Deployment {
  const deployment = requireDeployment(sim, namespace, nameOrId);
  const state = deployment.spec.state;
  if (state !== 'CANCELLED' && state !== 'SUSPENDED') {
    throw conflict(`Deployment '${deployment.metadata.name}' has desired state ${String(state)}; set spec.state to CANCELLED or SUSPENDED before deleting it.`);
  }
  sim.controller.deleted(deployment);
  sim.store.removeDeployment(namespace, deployment.metadata.id);
  return deepClone(deployment);
}
