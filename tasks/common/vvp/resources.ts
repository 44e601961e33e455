/**
 * The parts of VVP AppManager resources (API v1, VVP 2.x) the tasks read. Everything else is
 * kept as free JSON: VVP adds fields between releases and the tasks must pass them through.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Observed deployment state (`status.state`). */
export type DeploymentState = 'RUNNING' | 'SUSPENDED' | 'CANCELLED' | 'TRANSITIONING' | 'FAILED' | 'FINISHED';
/** Job state (`status.state` of a Job). */
export type JobState = 'STARTING' | 'STANDBY' | 'STARTED' | 'TERMINATING' | 'FAILED' | 'TERMINATED' | 'FINISHED';


export interface Deployment {
  kind?: string;
  apiVersion?: string;
  metadata: {
    id: string;
    name?: string;
    namespace?: string;
    createdAt?: string;
    modifiedAt?: string;
    resourceVersion?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: JsonValue | undefined;
  };
  /** Free JSON; see the accessors below for the fields the tasks use. */
  spec: JsonObject;
  status?: {
    /** A DeploymentState, or a state a newer VVP introduced. */
    state?: string;
    running?: { jobId?: string; transitionTime?: string; conditions?: DeploymentCondition[] };
  };
}

/** `status.running.conditions[]`: `JobFailing`, `ClusterUnreachable` (status "True" | "False" | "Unknown"). */
export interface DeploymentCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
}

export interface Job {
  metadata: { id: string; deploymentId?: string; createdAt?: string; terminatedAt?: string };
  /** The frozen template; `savepointLocation` is the state the job restored ('' or absent: none). */
  spec?: JsonObject;
  status?: {
    /** A JobState, or one a newer VVP introduced. */
    state?: string;
    failure?: { reason?: string; message?: string; failedAt?: string };
    started?: { flinkJobId?: string; startedAt?: string; lastUpdateTime?: string; observedFlinkJobRestarts?: number; observedFlinkJobStatus?: string };
  };
}


export interface Savepoint {
  kind?: string;
  apiVersion?: string;
  metadata: {
    id: string;
    namespace?: string;
    deploymentId?: string;
    jobId?: string;
    /** A SavepointOrigin, or one a newer VVP introduced. */
    origin?: string;
    createdAt?: string;
    modifiedAt?: string;
    annotations?: Record<string, string>;
  };
  spec?: { savepointLocation?: string; flinkSavepointId?: string };
  status?: {
    /** A SavepointState, or one a newer VVP introduced. */
    state?: string;
    failure?: { reason?: string; message?: string; failedAt?: string };
  };
}

export interface VvpEvent {
  metadata: { id: string; name?: string; jobId?: string; createdAt?: string };
  spec?: { message?: string };
}

/**
 * `value` without the object keys whose value is `null`, at any depth (array items are kept).
 * VVP serialises unset optional fields as explicit nulls (Jackson); for the tasks an absent field
 * and a `null` one mean the same, and a write never sends back a `null` it read (outside the
 * swagger schema: maps of strings, enums). Every answer the VVP client reads passes through it.
 */
export function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => withoutNulls(item)) as T;
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) if (item !== null) out[key] = withoutNulls(item);
  return out as T;
}

/** True for a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a nested field, undefined when any step is missing or not an object. */
export function pick(value: unknown, ...path: string[]): JsonValue | undefined {
  let current: unknown = value;
  for (const key of path) {
    if (!isJsonObject(current)) return undefined;
    current = current[key];
  }
  return current as JsonValue | undefined;
}

function stringAt(value: unknown, ...path: string[]): string | undefined {
  const v = pick(value, ...path);
  return typeof v === 'string' ? v : undefined;
}

/** `spec.template.spec.artifact.jarUri` of a deployment or deployment spec. */
export function jarUriOf(deploymentOrSpec: { spec?: unknown } | undefined): string | undefined {
  return stringAt(deploymentOrSpec?.spec, 'template', 'spec', 'artifact', 'jarUri');
}

/** `spec.artifact.jarUri` of a job (its frozen template). */
export function jobJarUri(job: Job | undefined): string | undefined {
  return stringAt(job?.spec, 'artifact', 'jarUri');
}

/** `spec.upgradeStrategy.kind`, upper case; undefined when unset. */
export function upgradeStrategyOf(spec: unknown): string | undefined {
  return stringAt(spec, 'upgradeStrategy', 'kind')?.toUpperCase();
}

/** `spec.state` (desired state), upper case; undefined when unset. */
export function desiredStateOf(spec: unknown): string | undefined {
  return stringAt(spec, 'state')?.toUpperCase();
}

/** `status.running.jobId` when the deployment is RUNNING (a stale id outside RUNNING is ignored). */
export function runningJobIdOf(deployment: Deployment): string | undefined {
  return deployment.status?.state === 'RUNNING' ? deployment.status.running?.jobId : undefined;
}
