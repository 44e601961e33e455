/**
 * The simulated AppManager REST API (`/api/v1/...`). Handlers are synchronous over the
 * in-memory state and return a status + body; the server does auth, faults and encoding.
 */
import { withJacksonNulls } from './jackson-nulls';
import { ApiError, badRequest, notFound } from './api-error';
import { createDeployment, deleteDeployment, patchDeployment, putDeployment, requireDeployment } from './deployment-writes';
import { deepClone, isPlainObject } from './plain-object';
import { resourceList, type Savepoint } from './resources';
import type { SimulatorState } from './simulator-state';
import { isUuid } from './store';

/** A parsed AppManager request. */
export interface ApiRequest {
  method: string;
  /** Decoded path segments after `/api/v1/`. */
  segments: string[];
  query: URLSearchParams;
  body: unknown;
}

/** What a handler answers. */
export interface ApiResponse {
  status: number;
  body: unknown;
}

const ok = (body: unknown): ApiResponse => ({ status: 200, body: deepClone(body) });

function methodNotAllowed(method: string): ApiError {
  return new ApiError(405, 'Method Not Allowed', `Request method '${method}' not supported`);
}

/** Reads an optional UUID query parameter; Spring answers 400 when it does not convert. */
function uuidParam(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!isUuid(value)) throw badRequest(`Failed to convert value '${value}' of parameter '${name}' to UUID.`);
  return value.toLowerCase();
}

function uuidPath(value: string, what: string): string {
  if (!isUuid(value)) throw badRequest(`Failed to convert '${value}' to a UUID ${what} id.`);
  return value;
}

/**
 * `k=v,k2==v2,k3!=v3,k4` (k8s-style equality selectors; the exact VVP syntax is undocumented).
 * @throws ApiError 400 for a malformed selector.
 */
export function matchesLabelSelector(labels: Record<string, string>, selector: string): boolean {
  return selector
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .every((part) => {
      const m = /^([A-Za-z0-9._/-]+)\s*(!=|==|=)?\s*([A-Za-z0-9._-]*)$/.exec(part);
      if (!m) throw badRequest(`Invalid labelSelector '${selector}': expected key=value[,key2=value2].`);
      const [, key, op, value] = m;
      if (!op) return key in labels;
      return op === '!=' ? labels[key] !== value : labels[key] === value;
    });
}

/** Payload of `GET /api/v1/status/system-info`. */
function systemInfo(sim: SimulatorState): unknown {
  const version = sim.config.buildVersion;
  return {
    kind: 'SystemInformation',
    apiVersion: 'v1',
    status: {
      revisionInformation: {
        buildVersion: version,
        buildTime: '2022-09-01T12:00:00Z',
        commitShaShort: 'a1b2c3d',
        commitShaLong: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
      },
      jvmVersion: '11.0.16',
    },
  };
}

/**
 * Routes one request.
 * @throws ApiError for every 4xx answer.
 */
export function handleApi(sim: SimulatorState, req: ApiRequest): ApiResponse {
  const response = route(sim, req);
  return sim.config.explicitNulls ? { ...response, body: withJacksonNulls(response.body) } : response;
}

function route(sim: SimulatorState, req: ApiRequest): ApiResponse {
  const [first, ns, collection, id, ...rest] = req.segments;
  if (first === 'status') {
    if (req.method !== 'GET') throw methodNotAllowed(req.method);
    if (req.segments.length === 1) return ok({});
    if (req.segments.length === 2 && req.segments[1] === 'system-info') return ok(systemInfo(sim));
    throw notFound(`No handler for /api/v1/${req.segments.join('/')}`);
  }
  if (first !== 'namespaces' || ns === undefined || collection === undefined || rest.length > 0) {
    throw notFound(`No handler for /api/v1/${req.segments.join('/')}`);
  }
  sim.store.requireNamespace(ns);
  switch (collection) {
    case 'deployments':
      return id === undefined ? deploymentsCollection(sim, ns, req) : deploymentItem(sim, ns, id, req);
    case 'jobs':
      return jobs(sim, ns, id, req);
    case 'events':
      if (id !== undefined) throw notFound(`No handler for /api/v1/${req.segments.join('/')}`);
      if (req.method !== 'GET') throw methodNotAllowed(req.method);
      return ok(resourceList(sim.store.listEvents(ns, { deploymentId: uuidParam(req.query, 'deploymentId'), jobId: uuidParam(req.query, 'jobId') })));
    case 'savepoints':
      return savepoints(sim, ns, id, req);
    case 'deployment-targets':
      if (req.method !== 'GET') throw methodNotAllowed(req.method);
      if (id === undefined) return ok(resourceList(sim.store.listTargets(ns)));
      {
        const target = sim.store.findTarget(ns, id);
        if (!target) throw notFound(`Deployment target '${id}' does not exist in namespace '${ns}'.`);
        return ok(target);
      }
    default:
      throw notFound(`No handler for /api/v1/${req.segments.join('/')}`);
  }
}

function deploymentsCollection(sim: SimulatorState, ns: string, req: ApiRequest): ApiResponse {
  if (req.method === 'GET') {
    const selector = req.query.get('labelSelector');
    const items = sim.store.listDeployments(ns).filter((d) => !selector || matchesLabelSelector(d.metadata.labels, selector));
    return ok(resourceList(items));
  }
  if (req.method === 'POST') return { status: 201, body: deepClone(createDeployment(sim, ns, req.body)) };
  throw methodNotAllowed(req.method);
}

function deploymentItem(sim: SimulatorState, ns: string, nameOrId: string, req: ApiRequest): ApiResponse {
  switch (req.method) {
    case 'GET':
      return ok(requireDeployment(sim, ns, nameOrId));
    case 'PATCH':
      return ok(patchDeployment(sim, ns, nameOrId, req.body));
    case 'PUT': {
      const result = putDeployment(sim, ns, nameOrId, req.body);
      return { status: result.created ? 201 : 200, body: deepClone(result.deployment) };
    }
    case 'DELETE':
      return ok(deleteDeployment(sim, ns, nameOrId));
    default:
      throw methodNotAllowed(req.method);
  }
}

function jobs(sim: SimulatorState, ns: string, id: string | undefined, req: ApiRequest): ApiResponse {
  if (req.method !== 'GET') throw methodNotAllowed(req.method);
  if (id === undefined) return ok(resourceList(sim.store.listJobs(ns, uuidParam(req.query, 'deploymentId'))));
  const job = sim.store.job(ns, uuidPath(id, 'job'));
  if (!job) throw notFound(`Job '${id}' does not exist in namespace '${ns}'.`);
  return ok(job);
}

/**
 * POST /savepoints. `{metadata: {deploymentId}}` triggers a savepoint of the deployment's running
 * job (origin USER_REQUEST, STARTED, then COMPLETED or FAILED); with `spec.savepointLocation` it
 * registers that existing location instead (origin COPIED, COMPLETED at once, no job), which is
 * how a deployment is made to start from a chosen state.
 * @throws ApiError 400 bad body, 404 unknown deployment, 409 nothing running to savepoint.
 */
function createSavepoint(sim: SimulatorState, ns: string, body: unknown): Savepoint {
  if (!isPlainObject(body)) throw badRequest('Request body must be a Savepoint object.');
  const metadata = isPlainObject(body.metadata) ? body.metadata : {};
  if (typeof metadata.deploymentId !== 'string') throw badRequest('metadata.deploymentId is required.');
  const deployment = sim.store.deploymentById(ns, uuidPath(metadata.deploymentId, 'deployment').toLowerCase());
  if (!deployment) throw notFound(`Deployment '${metadata.deploymentId}' does not exist in namespace '${ns}'.`);
  const spec = body.spec === undefined || body.spec === null ? {} : body.spec;
  if (!isPlainObject(spec)) throw badRequest('spec must be an object.');
  const location = spec.savepointLocation;
  if (location !== undefined && location !== null) {
    if (typeof location !== 'string' || !/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/\S+$/.test(location)) {
      throw badRequest(`Invalid spec.savepointLocation ${JSON.stringify(location)}: expected a URI such as s3://bucket/savepoints/savepoint-abc123.`);
    }
    return sim.controller.copySavepoint(deployment, location);
  }
  const savepoint = sim.controller.requestSavepoint(deployment);
  if (!savepoint) throw new ApiError(409, 'Conflict', `Deployment '${deployment.metadata.name}' has no running job to take a savepoint of.`);
  return savepoint;
}

function savepoints(sim: SimulatorState, ns: string, id: string | undefined, req: ApiRequest): ApiResponse {
  if (id === undefined) {
    if (req.method === 'GET') {
      return ok(resourceList(sim.store.listSavepoints(ns, { deploymentId: uuidParam(req.query, 'deploymentId'), jobId: uuidParam(req.query, 'jobId') })));
    }
    if (req.method === 'POST') return { status: 201, body: deepClone(createSavepoint(sim, ns, req.body)) };
    throw methodNotAllowed(req.method);
  }
  if (req.method !== 'GET') throw methodNotAllowed(req.method);
  const savepoint = sim.store.savepoint(ns, uuidPath(id, 'savepoint'));
  if (!savepoint) throw notFound(`Savepoint '${id}' does not exist in namespace '${ns}'.`);
  return ok(savepoint);
}
