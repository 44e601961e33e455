/**
 * The VVP operations the flows need, as an interface: the flows depend on it, not on the HTTP
 * client (`VvpClient`) or the in-memory simulator that implement it.
 */
import type { Deployment, Job, JsonObject, Savepoint, VvpEvent } from './resources';
import type { SqlValidation } from './sql-validation';

/** Per-call options; every method takes one. */
export interface VvpRequestOptions {
  /** Aborts the request (and any retry wait) at once. */
  abortSignal?: AbortSignal;
  /**
   * Clock time (ms since the epoch) by which the call must end, retries included: each attempt's
   * timeout is cut to the time left and no retry starts after it. The call then fails like a
   * timeout ("no answer from <host> within …"). Waits use it so a hanging VVP cannot stretch
   * `timeoutMinutes` by the per-request retries. Default: no deadline.
   */
  deadline?: number;
}

/** The VVP operations the deploy flow needs; the flow depends on this, not on the class. */
export interface VvpApi {
  /** The deployment by name (VVP 2.4+) or id, or undefined when VVP answers 404. */
  getDeployment(namespace: string, nameOrId: string, options?: VvpRequestOptions): Promise<Deployment | undefined>;
  /**
   * All deployments of a namespace. A 404 or an answer that is not a VVP resource list fails:
   * the list is how a 404 for one deployment is told from a wrong address.
   */
  listDeployments(namespace: string, options?: VvpRequestOptions): Promise<Deployment[]>;
  /**
   * POST a new deployment (sent once). Deployment writes resolve with the Deployment VVP answered,
   * or undefined when a 2xx answer holds none (applied all the same: `sendOnce` reads it back).
   */
  createDeployment(namespace: string, deployment: JsonObject, options?: VvpRequestOptions): Promise<Deployment | undefined>;
  /** PATCH a deployment with a partial body (sent once). */
  patchDeployment(namespace: string, nameOrId: string, body: JsonObject, options?: VvpRequestOptions): Promise<Deployment | undefined>;
  /** PUT: create or replace the whole deployment (metadata + spec; VVP ignores status). Sent once. */
  replaceDeployment(namespace: string, nameOrId: string, body: JsonObject, options?: VvpRequestOptions): Promise<Deployment | undefined>;
  /** DELETE, sent once. Resolves false when VVP answers 404 (nothing to delete); a 409 (not CANCELLED/SUSPENDED) is a VvpApiError. */
  deleteDeployment(namespace: string, nameOrId: string, options?: VvpRequestOptions): Promise<boolean>;
  /** A job by id, or undefined when VVP answers 404. */
  getJob(namespace: string, jobId: string, options?: VvpRequestOptions): Promise<Job | undefined>;
  /** All jobs of a deployment (VVP keeps terminal jobs). */
  listJobs(namespace: string, deploymentId: string, options?: VvpRequestOptions): Promise<Job[]>;
  /** All events of a deployment (VVP has no time filter). */
  listEvents(namespace: string, deploymentId: string, options?: VvpRequestOptions): Promise<VvpEvent[]>;
  /** GET /savepoints?deploymentId=[&jobId=]. */
  listSavepoints(namespace: string, filter: { deploymentId: string; jobId?: string }, options?: VvpRequestOptions): Promise<Savepoint[]>;
  /** A savepoint by id, or undefined on 404. */
  getSavepoint(namespace: string, savepointId: string, options?: VvpRequestOptions): Promise<Savepoint | undefined>;
  /** POST /savepoints (sent once): `{metadata:{deploymentId}}` savepoints the running job; with `spec.savepointLocation` it registers a COPIED savepoint of that location. */
  createSavepoint(namespace: string, body: JsonObject, options?: VvpRequestOptions): Promise<Savepoint>;
  /**
   * Asks VVP's SQL service to validate `statement` (`POST /sql/v1beta1/namespaces/{ns}/sqlscripts:validate`).
   * A read in effect: retried like a GET. `{available: false}` when VVP answers 404 (no SQL service).
   */
  validateSqlScript(namespace: string, statement: string, scope?: SqlValidationScope, options?: VvpRequestOptions): Promise<SqlValidation>;
}

/** Where unqualified table names are looked up during SQL validation; VVP's defaults (`vvp`, `default`) when absent. */
export interface SqlValidationScope {
  catalog?: string;
  database?: string;
}
