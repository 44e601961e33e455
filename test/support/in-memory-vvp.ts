/**
 * The VVP simulator in process, behind the tasks' `VvpApi` interface, on virtual time: flow
 * tests drive the real deploy logic against VVP's documented behaviour (stale RUNNING window,
 * upgrade savepoints, crash loops, restore strategies) without HTTP and without waiting.
 *
 * ```ts
 * const vvp = new InMemoryVvp();
 * vvp.seedDeployment({ name: 'top-speed-windowing', jarUri: JAR_A, behaviour: { outcomeQueue: ['crashLoops'] } });
 * await deploy({ vvp, clock: vvp.clock, ... });          // a 15-minute wait takes milliseconds
 * vvp.truth('default', 'top-speed-windowing');            // what really runs
 * vvp.requests({ method: 'PATCH' });                      // what the flow sent
 * ```
 *
 * Every call goes through the same AppManager handlers as the HTTP simulator (`handleApi`), with
 * the bodies copied as JSON both ways, so the answers are the HTTP simulator's answers and the
 * caller can never reach the stored state. Failures are what `VvpClient` would throw: a
 * `VvpApiError` with VVP's status and message; reads answer `undefined` (or `false` for DELETE)
 * on 404. There is no auth (no token to check) and no transport: a fault rule's match stands
 * for the whole client call, i.e. what a call looks like once `VvpClient`'s retries are used up.
 */
import type { SqlValidationScope, VvpApi, VvpRequestOptions } from '../../tasks/common/vvp/vvp-api';
import { parseSqlValidation, type SqlValidation } from '../../tasks/common/vvp/sql-validation';
import { VvpApiError } from '../../tasks/common/vvp/errors';
import { isJsonObject, withoutNulls, type Deployment, type Job, type JsonObject, type Savepoint, type VvpEvent } from '../../tasks/common/vvp/resources';
import { throwIfAborted } from '../../tasks/common/poll/clock';
import { ApiError } from '../vvp-simulator/api-error';
import { handleApi } from '../vvp-simulator/api-routes';
import { handleSql } from '../vvp-simulator/sql-routes';
import { parseBehaviourPatch, type Behaviour, type BehaviourPatch } from '../vvp-simulator/behaviour';
import { faultTargetOf, parseFault, type FaultAction, type FaultRule } from '../vvp-simulator/faults';
import type { RecordedRequest, RequestFilter } from '../vvp-simulator/request-log';
import type { DeploymentCondition } from '../vvp-simulator/resources';
import {
  parseConfigPatch,
  SimulatorState,
  type DeploymentSeed,
  type DeploymentTruth,
  type SimulatorConfig,
  type SimulatorInit,
} from '../vvp-simulator/simulator-state';
import { VirtualClock } from './virtual-clock';

export type { DeploymentSeed, DeploymentTruth, RecordedRequest, RequestFilter };

/** Options of {@link InMemoryVvp}. */
export interface InMemoryVvpOptions {
  /** Virtual start time, ms since the epoch. Default 2025-01-01T00:00:00Z. */
  startAtInMs?: number;
  /** How long a hanging call waits before it fails like a client timeout. Default 30 000 (VvpClient's). */
  requestTimeoutInMs?: number;
}

/** Which calls a scripted fault applies to (as for the simulator's fault rules). */
export interface CallMatch {
  /** HTTP method the call maps to (GET, POST, PATCH, PUT, DELETE); any when absent. */
  method?: string;
  /** Regex on the request path, e.g. `/deployments/`, `/jobs`, `/savepoints`. */
  path?: string;
  namespace?: string;
  /** Deployment name; matches paths by id or name and `?deploymentId=`. */
  deployment?: string;
  /** How many matching calls the fault applies to. Default 1. */
  times?: number;
}

type Access = 'read' | 'write';

interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** `sql`: the SQL service (`/sql/v1beta1/`); default the AppManager (`/api/v1/`). */
  api?: 'sql';
  /** Reads in effect (SQL validation): access and errors as for a GET. */
  access?: Access;
  namespace: string;
  /** Path segments after `/api/v1/namespaces/{ns}/` (or `/sql/v1beta1/namespaces/{ns}/`). */
  segments: string[];
  query?: Record<string, string>;
  body?: JsonObject;
  /** For messages, as VvpClient words them ("reading deployment 'x' in namespace 'y'"). */
  operation: string;
  /** Statuses that are an answer, not an error (404 for "does not exist"). */
  accept?: readonly number[];
}

interface Answer {
  status: number;
  body: unknown;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** A JSON round trip: what crosses the wire, and nothing that stays shared. */
function jsonCopy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

function itemsOf<T>(body: unknown): T[] {
  const items = (body as { items?: unknown })?.items;
  return Array.isArray(items) ? (items as T[]) : [];
}

/** The simulated VVP AppManager in process, on a {@link VirtualClock}. */
export class InMemoryVvp implements VvpApi {
  /** Virtual time: pass it as the flow's `Clock`; its sleeps run the simulator. */
  readonly clock: VirtualClock;
  /** The simulator's state (store, controller, behaviours, faults, request log), for what the helpers below do not cover. */
  readonly state: SimulatorState;
  private readonly requestTimeoutInMs: number;

  /**
   * @param init Startup state as for the HTTP simulator (namespaces, config, behaviour, seeded
   *   deployments, fault rules); `reset` returns to it. Durations are virtual: defaults are real VVP-like timings.
   */
  constructor(init: SimulatorInit = {}, options: InMemoryVvpOptions = {}) {
    this.clock = new VirtualClock(options.startAtInMs);
    this.state = new SimulatorState(init, { clock: this.clock });
    this.requestTimeoutInMs = options.requestTimeoutInMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  // ---- VvpApi ---------------------------------------------------------------------------

  async getDeployment(namespace: string, nameOrId: string, options?: VvpRequestOptions): Promise<Deployment | undefined> {
    const answer = await this.call(
      { method: 'GET', namespace, segments: ['deployments', nameOrId], operation: `reading deployment '${nameOrId}' in namespace '${namespace}'`, accept: [404] },
      options,
    );
    return answer.status === 404 ? undefined : (answer.body as Deployment);
  }

  async listDeployments(namespace: string, options?: VvpRequestOptions): Promise<Deployment[]> {
    const answer = await this.call({ method: 'GET', namespace, segments: ['deployments'], operation: `listing the deployments in namespace '${namespace}'` }, options);
    return itemsOf<Deployment>(answer.body);
  }

  async createDeployment(namespace: string, body: JsonObject, options?: VvpRequestOptions): Promise<Deployment> {
    const name = isJsonObject(body.metadata) ? String(body.metadata.name) : '(unnamed)';
    const answer = await this.call({ method: 'POST', namespace, segments: ['deployments'], body, operation: `creating deployment '${name}' in namespace '${namespace}'` }, options);
    return answer.body as Deployment;
  }

  async patchDeployment(namespace: string, nameOrId: string, body: JsonObject, options?: VvpRequestOptions): Promise<Deployment> {
    const answer = await this.call(
      { method: 'PATCH', namespace, segments: ['deployments', nameOrId], body, operation: `updating deployment '${nameOrId}' in namespace '${namespace}'` },
      options,
    );
    return answer.body as Deployment;
  }

  async replaceDeployment(namespace: string, nameOrId: string, body: JsonObject, options?: VvpRequestOptions): Promise<Deployment> {
    const answer = await this.call(
      { method: 'PUT', namespace, segments: ['deployments', nameOrId], body, operation: `replacing deployment '${nameOrId}' in namespace '${namespace}'` },
      options,
    );
    return answer.body as Deployment;
  }

  async deleteDeployment(namespace: string, nameOrId: string, options?: VvpRequestOptions): Promise<boolean> {
    const answer = await this.call(
      { method: 'DELETE', namespace, segments: ['deployments', nameOrId], operation: `deleting deployment '${nameOrId}' in namespace '${namespace}'`, accept: [404] },
      options,
    );
    return answer.status !== 404;
  }

  async getJob(namespace: string, jobId: string, options?: VvpRequestOptions): Promise<Job | undefined> {
    const answer = await this.call({ method: 'GET', namespace, segments: ['jobs', jobId], operation: `reading job ${jobId} in namespace '${namespace}'`, accept: [404] }, options);
    return answer.status === 404 ? undefined : (answer.body as Job);
  }

  async listJobs(namespace: string, deploymentId: string, options?: VvpRequestOptions): Promise<Job[]> {
    return itemsOf<Job>((await this.listOf('jobs', namespace, { deploymentId }, options)).body);
  }

  async listEvents(namespace: string, deploymentId: string, options?: VvpRequestOptions): Promise<VvpEvent[]> {
    return itemsOf<VvpEvent>((await this.listOf('events', namespace, { deploymentId }, options)).body);
  }

  async listSavepoints(namespace: string, filter: { deploymentId: string; jobId?: string }, options?: VvpRequestOptions): Promise<Savepoint[]> {
    const query: Record<string, string> = { deploymentId: filter.deploymentId, ...(filter.jobId !== undefined ? { jobId: filter.jobId } : {}) };
    return itemsOf<Savepoint>((await this.listOf('savepoints', namespace, query, options)).body);
  }

  async getSavepoint(namespace: string, savepointId: string, options?: VvpRequestOptions): Promise<Savepoint | undefined> {
    const answer = await this.call(
      { method: 'GET', namespace, segments: ['savepoints', savepointId], operation: `reading savepoint ${savepointId} in namespace '${namespace}'`, accept: [404] },
      options,
    );
    return answer.status === 404 ? undefined : (answer.body as Savepoint);
  }

  async createSavepoint(namespace: string, body: JsonObject, options?: VvpRequestOptions): Promise<Savepoint> {
    const deploymentId = isJsonObject(body.metadata) ? String(body.metadata.deploymentId) : '(none)';
    const answer = await this.call(
      { method: 'POST', namespace, segments: ['savepoints'], body, operation: `creating a savepoint of deployment ${deploymentId} in namespace '${namespace}'` },
      options,
    );
    return answer.body as Savepoint;
  }

  async validateSqlScript(namespace: string, statement: string, scope: SqlValidationScope = {}, options?: VvpRequestOptions): Promise<SqlValidation> {
    const query: Record<string, string> = {};
    if (scope.catalog) query.catalog = scope.catalog;
    if (scope.database) query.database = scope.database;
    const answer = await this.call(
      {
        method: 'POST',
        api: 'sql',
        access: 'read',
        namespace,
        segments: ['sqlscripts:validate'],
        query,
        body: { statement },
        operation: `validating the SQL script in namespace '${namespace}'`,
        accept: [404],
      },
      options,
    );
    return answer.status === 404 ? { available: false } : parseSqlValidation(answer.body);
  }

  // ---- control (as the simulator's /__sim/ API) -------------------------------------------

  /** Creates a deployment directly in the seed's state (RUNNING with a STARTED job by default). */
  seedDeployment(seed: DeploymentSeed): Deployment {
    return jsonCopy(this.state.seedDeployment(seed)) as unknown as Deployment;
  }

  /** What really runs: jobs (with restarts), savepoints (with job, origin, location), conditions, events. */
  truth(namespace: string, nameOrId: string): DeploymentTruth {
    return jsonCopy(this.state.truth(namespace, nameOrId));
  }

  /** Merges into the global default behaviour; returns it. */
  setBehaviour(patch: BehaviourPatch): Behaviour {
    this.state.behaviours.setGlobal(parseBehaviourPatch(patch));
    return this.state.behaviours.getGlobal();
  }

  /** Merges into one deployment's behaviour (by name; may precede its creation); returns the effective one. */
  setDeploymentBehaviour(namespace: string, name: string, patch: BehaviourPatch): Behaviour {
    this.state.behaviours.setFor(namespace, name, parseBehaviourPatch(patch));
    return this.state.behaviours.get(namespace, name);
  }

  /** Changes simulator settings (buildVersion, addressing, duplicateNameStatus, ...); returns them all. */
  setConfig(patch: Partial<SimulatorConfig>): SimulatorConfig {
    this.state.config = { ...this.state.config, ...parseConfigPatch(patch) };
    return { ...this.state.config };
  }

  addNamespace(name: string): void {
    this.state.store.addNamespace(name);
  }

  /**
   * Sets a `status.running.conditions` entry (e.g. `ClusterUnreachable` True).
   * @throws Error when the deployment is unknown or not RUNNING.
   */
  setCondition(namespace: string, nameOrId: string, condition: { type: string; status: DeploymentCondition['status']; reason?: string; message?: string }): void {
    const deployment = this.state.store.findDeployment(namespace, nameOrId);
    if (!deployment) throw new Error(`no deployment '${nameOrId}' in namespace '${namespace}'`);
    if (!this.state.controller.setCondition(deployment, condition)) throw new Error(`deployment '${nameOrId}' is not RUNNING; conditions exist only while running`);
  }

  /** Calls made so far (as the HTTP simulator records them; no headers), oldest first. */
  requests(filter: RequestFilter = {}): RecordedRequest[] {
    return jsonCopy(this.state.requests.query(filter));
  }

  clearRequests(): void {
    this.state.requests.clear();
  }

  /** Adds a fault rule in the simulator's format, e.g. `{method: 'GET', path: '/jobs/', status: 503}`. */
  addFault(rule: Record<string, unknown>): FaultRule {
    const parsed = parseFault(rule);
    this.state.faults.add(parsed);
    return { ...parsed };
  }

  faults(): FaultRule[] {
    return this.state.faults.list();
  }

  clearFaults(): void {
    this.state.faults.clear();
  }

  /**
   * The next matching write is applied but its answer is lost: the call throws a `VvpApiError`
   * with `outcomeUnknown: true` (a read throws a plain network error), as VvpClient does when
   * the connection drops after sending.
   */
  loseNextAnswer(match: CallMatch = {}): FaultRule {
    return this.addFault({ ...match, action: 'lostResponse' });
  }

  /** The next matching reads fail with `status` (default 503) — a transient VVP or gateway failure. */
  failReads(match: CallMatch & { status?: number } = {}): FaultRule {
    const { status, ...rest } = match;
    return this.addFault({ ...rest, method: 'GET', status: status ?? 503 });
  }

  /** Back to the startup state (seeded deployments unless `deployments: false`); clears faults and the request log. Time keeps its value. */
  reset(options: { deployments?: boolean } = {}): void {
    this.state.reset(options.deployments !== false);
  }

  /** Stops every simulator timer (the virtual queue keeps nothing alive, but a test may want a clean end). */
  dispose(): void {
    this.state.stop();
  }

  // ---- the call path ------------------------------------------------------------------

  private listOf(kind: 'jobs' | 'events' | 'savepoints', namespace: string, query: Record<string, string>, options: VvpRequestOptions | undefined): Promise<Answer> {
    return this.call(
      { method: 'GET', namespace, segments: [kind], query, operation: `listing the ${kind} of deployment ${query.deploymentId} in namespace '${namespace}'` },
      options,
    );
  }

  /** Records the call, applies a scripted fault, runs the AppManager handler, maps errors as VvpClient does. */
  private async call(call: Call, options: VvpRequestOptions = {}): Promise<Answer> {
    throwIfAborted(options.abortSignal);
    const prefix = call.api === 'sql' ? '/sql/v1beta1' : '/api/v1';
    const path = `${prefix}/namespaces/${encodeURIComponent(call.namespace)}/${call.segments.map((s) => encodeURIComponent(s).replace(/%3A/gi, ':')).join('/')}`;
    const query = new URLSearchParams(call.query);
    const display = `${path}${query.size > 0 ? `?${query.toString()}` : ''}`;
    const access: Access = call.access ?? (call.method === 'GET' ? 'read' : 'write');
    const body = jsonCopy(call.body);
    const started = this.clock.now();
    const entry = this.state.requests.begin({ at: this.clock.isoNow(), method: call.method, path, query: Object.fromEntries(query), headers: {}, body });
    const fault = this.state.faults.take(faultTargetOf(this.state.store, call.method, path, query));
    if (fault) entry.fault = fault.type;
    const fail = (error: VvpApiError, status: number | null): never => {
      entry.status = status;
      entry.durationMs = this.clock.now() - started;
      throw error;
    };
    const context = { call, display, access };

    const early = fault ? await this.beforeHandling(fault, context, options, fail) : undefined;
    if (early) {
      entry.status = early.status;
      entry.durationMs = this.clock.now() - started;
      return early;
    }
    let answer: Answer;
    try {
      const route = call.api === 'sql' ? handleSql : handleApi;
      answer = route(this.state, { method: call.method, segments: ['namespaces', call.namespace, ...call.segments], query, body });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (fault?.type === 'lostResponse') return fail(this.networkError(context, 'ECONNRESET', 'socket hang up'), null);
      if (call.accept?.includes(error.statusCode)) answer = { status: error.statusCode, body: undefined };
      else return fail(this.statusError(context, error.statusCode, error.message), error.statusCode);
    }
    // The change is applied; only the answer goes missing (the caller must read back).
    if (fault?.type === 'lostResponse') return fail(this.networkError(context, 'ECONNRESET', 'socket hang up'), null);
    entry.status = answer.status;
    entry.durationMs = this.clock.now() - started;
    // As VvpClient reads every answer: an explicit null (Jackson's unset field) is an absent field.
    return { status: answer.status, body: withoutNulls(jsonCopy(answer.body)) };
  }

  /**
   * Faults that act before the request is handled: answer a status, drop, delay, hang. Returns
   * the answer when the fault is one the caller accepts (an injected 404 on a read).
   */
  private async beforeHandling(
    fault: FaultAction,
    context: { call: Call; display: string; access: Access },
    options: VvpRequestOptions,
    fail: (error: VvpApiError, status: number | null) => never,
  ): Promise<Answer | undefined> {
    switch (fault.type) {
      case 'status':
        if (context.call.accept?.includes(fault.status)) return { status: fault.status, body: undefined };
        return fail(this.statusError(context, fault.status, fault.body ?? `Injected fault: HTTP ${fault.status}`), fault.status);
      case 'dropRequest':
        fail(this.networkError(context, 'ECONNRESET', 'socket hang up'), null);
        break;
      case 'delay':
        await this.waitWithinTimeout(fault.delayMs, context, options, fail);
        break;
      case 'hang':
        await this.waitWithinTimeout(Number.POSITIVE_INFINITY, context, options, fail);
        break;
      case 'lostResponse':
        break;
    }
    return undefined;
  }

  /**
   * Waits `ms` of virtual time, unless the call's timeout (the request timeout, cut to the
   * deadline as VvpClient does) ends first: then the call fails like an unanswered request.
   */
  private async waitWithinTimeout(
    ms: number,
    context: { call: Call; display: string; access: Access },
    options: VvpRequestOptions,
    fail: (error: VvpApiError, status: number | null) => never,
  ): Promise<void> {
    const now = this.clock.now();
    const timeout = options.deadline === undefined ? this.requestTimeoutInMs : Math.max(1, Math.min(this.requestTimeoutInMs, options.deadline - now));
    if (ms <= timeout) return this.clock.sleep(ms, options.abortSignal);
    await this.clock.sleep(timeout, options.abortSignal);
    fail(this.networkError(context, 'ECONNABORTED', `no answer from the in-memory VVP within ${Math.round(timeout / 100) / 10} s`), null);
  }

  private statusError(context: { call: Call; display: string; access: Access }, status: number, message: string): VvpApiError {
    const { call, display, access } = context;
    return new VvpApiError({
      method: call.method,
      path: display,
      operation: call.operation,
      status,
      serviceMessage: message,
      hint: hintFor(status, access, call.namespace),
      // As VvpClient: a 5xx after a write was sent leaves its outcome open.
      outcomeUnknown: access === 'write' && status >= 500,
    });
  }

  private networkError(context: { call: Call; display: string; access: Access }, code: string, message: string): VvpApiError {
    const { call, display, access } = context;
    return new VvpApiError({
      method: call.method,
      path: display,
      operation: call.operation,
      serviceMessage: `${code}: ${message}`,
      networkCode: code,
      hint: 'Check that the agent can reach the in-memory VVP (proxy settings, firewall)',
      outcomeUnknown: access === 'write',
    });
  }
}

/** The hints VvpClient adds for the statuses a flow reacts to. */
function hintFor(status: number, access: Access, namespace: string): string | undefined {
  switch (status) {
    case 403:
      return access === 'write'
        ? `The token needs the editor role in namespace '${namespace}' (VVP API tokens are scoped to one namespace)`
        : `The token needs at least the viewer role in namespace '${namespace}' (editor to change deployments; tokens are scoped to one namespace)`;
    case 404:
      return `Check the namespace '${namespace}' and the deployment name, and that vvpUrl points at Ververica Platform`;
    case 409:
      return 'Another change conflicts with this one; check the deployment in VVP and re-run';
    default:
      return undefined;
  }
}
