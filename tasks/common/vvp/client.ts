import { maskAndShorten } from '../errors/errors';
import { JsonTransport, type JsonAnswer, type JsonTransportOptions } from '../http/json-transport';
import { HttpRequestError, type HttpMethod } from '../http/http-request-error';
import { acceptedUrlForm, checkServiceUrl, isInsecureRemoteHttp } from '../http/url-policy';
import { maskValues } from '../logging/secret-mask';
import { linkSignals } from '../poll/linked-signal';
import { VvpApiError } from './errors';
import { isJsonObject, withoutNulls, type Deployment, type Job, type JsonObject, type Savepoint, type VvpEvent } from './resources';
import { parseSqlValidation, type SqlValidation } from './sql-validation';
import type { SqlValidationScope, VvpApi, VvpRequestOptions } from './vvp-api';
import { asDeployment, errorText, isDeployment, isSavepoint, itemsOf, networkHint, oneLineStart } from './vvp-answers';

export type { AgentProvider } from '../http/json-transport';

/** The transport settings (agents, logger, timeouts, size limit, retries, clock) and VVP's own. */
interface VvpClientOptions extends Omit<JsonTransportOptions, 'label'> {
  /** Where the token came from, for the 401 hint (e.g. "Key Vault secret 'vvpAPIToken' in vault 'kv'"). */
  tokenSource?: string;
  /**
   * Send the token over plain `http://` to a host other than loopback (the `allowInsecureHttp`
   * input). Without it such a base URL is refused; with it every run warns. Default false.
   */
  allowInsecureHttp?: boolean;
  /**
   * Aborted when the way to VVP is gone for good (the AKS tunnel died and could not be
   * restarted): every call then fails at once with its reason, sending nothing, and calls in
   * flight are stopped.
   */
  connectionLost?: AbortSignal;
}

/** The error a lost connection fails calls with: its reason when that is an Error. */
function lostReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('the connection to VVP was lost');
}

type Access = 'read' | 'write';

interface RequestSpec {
  method: HttpMethod;
  path: string;
  query?: Record<string, string>;
  body?: JsonObject;
  /** Operation for messages ("reading deployment 'x'"). */
  operation: string;
  namespace: string;
  access: Access;
  /** Statuses that are an answer, not an error (e.g. 404 for "does not exist"). */
  acceptStatuses?: readonly number[];
  /** A POST that only reads (SQL validation): retried like a GET, never "outcome unknown". */
  repeatable?: boolean;
  abortSignal?: AbortSignal;
  deadline?: number;
}

/** What a write got back: a status, and the body when one arrived whole. */
interface WriteAnswer {
  status: number;
  body: unknown;
}

/**
 * Client for the VVP AppManager API (`/api/v1/namespaces/{ns}/…`).
 *
 * - The token goes only to `baseUrl`'s origin as `Authorization: Bearer`; redirects are never
 *   followed (a 3xx is reported), so it cannot leak to another host.
 * - Every attempt has a total timeout (default 30 s, body included) and honours `abortSignal`;
 *   answers larger than `maxResponseBytes` are refused.
 * - GETs are retried on network errors, 408, 429 (Retry-After) and 5xx with backoff and jitter.
 *   POST, PATCH, PUT and DELETE are sent once; when their outcome is unknown the error says so
 *   (`VvpApiError.outcomeUnknown`) and the caller reads back. A 2xx answer to a write counts as
 *   applied even when its body is not the resource: the write then resolves undefined and the
 *   caller reads the resource back (the client reads nothing back on its own).
 * - VVP error bodies are not reliably JSON: `message`, `error` or `description`, else the text.
 */
export class VvpClient implements VvpApi {
  private readonly base: URL;
  private readonly transport: JsonTransport;

  /**
   * The input parsers check every URL the client is given against the URL policy; the client
   * still refuses one that breaks it, so the token can never go where the policy forbids.
   *
   * @throws Error when the base URL breaks the URL policy (see url-policy.ts): a caller's bug.
   */
  constructor(
    baseUrl: string | URL,
    private readonly token: string | undefined,
    private readonly options: VvpClientOptions = {},
  ) {
    const checked = checkServiceUrl(baseUrl, { allowInsecureHttp: options.allowInsecureHttp, baseUrlOnly: true });
    if (checked.problem) {
      throw new Error(`VvpClient refuses the base URL '${checked.problem.value}': it must be ${acceptedUrlForm(checked.problem.kind, 'vvp')}`);
    }
    this.base = new URL(checked.url.href);
    if (isInsecureRemoteHttp(this.base) && token) {
      options.logger?.warn(
        `vvpUrl ${this.base.origin} uses plain HTTP: the VVP API token crosses the network unencrypted (allowInsecureHttp is true). ` +
          'Prefer https, or a port-forward to 127.0.0.1.',
      );
    }
    this.transport = new JsonTransport({
      label: 'VVP',
      agents: options.agents,
      logger: options.logger,
      timeoutInMs: options.timeoutInMs,
      maxResponseBytes: options.maxResponseBytes,
      retry: options.retry,
      clock: options.clock,
      random: options.random,
      userAgent: options.userAgent,
    });
  }

  async getDeployment(namespace: string, nameOrId: string, options: VvpRequestOptions = {}): Promise<Deployment | undefined> {
    const answer = await this.read({
      method: 'GET',
      path: `${nsPath(namespace)}/deployments/${enc(nameOrId)}`,
      operation: `reading deployment '${nameOrId}' in namespace '${namespace}'`,
      namespace,
      access: 'read',
      acceptStatuses: [404],
      ...options,
    });
    if (answer.status === 404) return undefined;
    return asDeployment(answer.body, `reading deployment '${nameOrId}'`);
  }

  async listDeployments(namespace: string, options: VvpRequestOptions = {}): Promise<Deployment[]> {
    const operation = `listing the deployments in namespace '${namespace}'`;
    const answer = await this.read({ method: 'GET', path: `${nsPath(namespace)}/deployments`, operation, namespace, access: 'read', ...options });
    if (!isJsonObject(answer.body) || !Array.isArray(answer.body.items)) throw this.malformed('GET', operation, 'a list of VVP deployments');
    return (answer.body.items as unknown[]).filter(isDeployment);
  }

  async createDeployment(namespace: string, deployment: JsonObject, options: VvpRequestOptions = {}): Promise<Deployment | undefined> {
    const name = isJsonObject(deployment.metadata) && typeof deployment.metadata.name === 'string' ? deployment.metadata.name : undefined;
    return this.writeDeployment({
        method: 'POST',
        path: `${nsPath(namespace)}/deployments`,
        body: deployment,
        operation: `creating deployment '${name ?? '(unnamed)'}' in namespace '${namespace}'`,
        namespace,
        access: 'write',
        ...options,
    });
  }

  async patchDeployment(namespace: string, nameOrId: string, body: JsonObject, options: VvpRequestOptions = {}): Promise<Deployment | undefined> {
    return this.writeDeployment({
        method: 'PATCH',
        path: `${nsPath(namespace)}/deployments/${enc(nameOrId)}`,
        body,
        operation: `updating deployment '${nameOrId}' in namespace '${namespace}'`,
        namespace,
        access: 'write',
        ...options,
    });
  }

  async replaceDeployment(namespace: string, nameOrId: string, body: JsonObject, options: VvpRequestOptions = {}): Promise<Deployment | undefined> {
    return this.writeDeployment({
        method: 'PUT',
        path: `${nsPath(namespace)}/deployments/${enc(nameOrId)}`,
        body,
        operation: `replacing deployment '${nameOrId}' in namespace '${namespace}'`,
        namespace,
        access: 'write',
        ...options,
    });
  }

  async deleteDeployment(namespace: string, nameOrId: string, options: VvpRequestOptions = {}): Promise<boolean> {
    const answer = await this.write({
      method: 'DELETE',
      path: `${nsPath(namespace)}/deployments/${enc(nameOrId)}`,
      operation: `deleting deployment '${nameOrId}' in namespace '${namespace}'`,
      namespace,
      access: 'write',
      acceptStatuses: [404],
      ...options,
    });
    // 200 with the deleted deployment, or 204: either way it is gone; the body is not needed.
    return answer.status !== 404;
  }

  async getJob(namespace: string, jobId: string, options: VvpRequestOptions = {}): Promise<Job | undefined> {
    const answer = await this.read({
      method: 'GET',
      path: `${nsPath(namespace)}/jobs/${enc(jobId)}`,
      operation: `reading job ${jobId} in namespace '${namespace}'`,
      namespace,
      access: 'read',
      acceptStatuses: [404],
      ...options,
    });
    if (answer.status === 404) return undefined;
    if (!isJsonObject(answer.body) || !isJsonObject(answer.body.metadata)) {
      throw this.malformed('GET', `reading job ${jobId}`, 'a Job object');
    }
    return answer.body as unknown as Job;
  }

  async listJobs(namespace: string, deploymentId: string, options: VvpRequestOptions = {}): Promise<Job[]> {
    return this.listOfDeployment<Job>('jobs', namespace, { deploymentId }, options);
  }

  async listEvents(namespace: string, deploymentId: string, options: VvpRequestOptions = {}): Promise<VvpEvent[]> {
    return this.listOfDeployment<VvpEvent>('events', namespace, { deploymentId }, options);
  }

  async listSavepoints(namespace: string, filter: { deploymentId: string; jobId?: string }, options: VvpRequestOptions = {}): Promise<Savepoint[]> {
    const query: Record<string, string> = { deploymentId: filter.deploymentId };
    if (filter.jobId !== undefined) query.jobId = filter.jobId;
    return this.listOfDeployment<Savepoint>('savepoints', namespace, query, options);
  }

  async getSavepoint(namespace: string, savepointId: string, options: VvpRequestOptions = {}): Promise<Savepoint | undefined> {
    const answer = await this.read({
      method: 'GET',
      path: `${nsPath(namespace)}/savepoints/${enc(savepointId)}`,
      operation: `reading savepoint ${savepointId} in namespace '${namespace}'`,
      namespace,
      access: 'read',
      acceptStatuses: [404],
      ...options,
    });
    if (answer.status === 404) return undefined;
    if (!isSavepoint(answer.body)) throw this.malformed('GET', `reading savepoint ${savepointId}`, 'a Savepoint object');
    return answer.body;
  }

  async createSavepoint(namespace: string, body: JsonObject, options: VvpRequestOptions = {}): Promise<Savepoint> {
    const deploymentId = isJsonObject(body.metadata) && typeof body.metadata.deploymentId === 'string' ? body.metadata.deploymentId : '(none)';
    const copied = isJsonObject(body.spec) && typeof body.spec.savepointLocation === 'string';
    const spec: RequestSpec = {
      method: 'POST',
      path: `${nsPath(namespace)}/savepoints`,
      body,
      operation: `${copied ? 'registering a copied savepoint for' : 'taking a savepoint of'} deployment ${deploymentId} in namespace '${namespace}'`,
      namespace,
      access: 'write',
      ...options,
    };
    const answer = await this.write(spec);
    if (isSavepoint(answer.body)) return answer.body;
    // Applied (2xx), but a savepoint has no name to read it back by: say so, so the caller
    // looks at the deployment's savepoints instead of assuming nothing happened.
    throw new VvpApiError({
      method: spec.method,
      path: this.display(spec),
      operation: spec.operation,
      serviceMessage: `VVP accepted the request (HTTP ${answer.status}), but its answer is not a Savepoint, so which savepoint it made is unknown`,
      hint: `List the savepoints of deployment ${deploymentId} to find it`,
      outcomeUnknown: true,
    });
  }

  async validateSqlScript(namespace: string, statement: string, scope: SqlValidationScope = {}, options: VvpRequestOptions = {}): Promise<SqlValidation> {
    const query: Record<string, string> = {};
    if (scope.catalog) query.catalog = scope.catalog;
    if (scope.database) query.database = scope.database;
    const answer = await this.read({
      method: 'POST',
      path: `/sql/v1beta1/namespaces/${enc(namespace)}/sqlscripts:validate`,
      query,
      body: { statement },
      operation: `validating the SQL script in namespace '${namespace}'`,
      namespace,
      access: 'read',
      // Validation changes nothing in VVP, so a lost answer is simply asked again.
      repeatable: true,
      acceptStatuses: [404],
      ...options,
    });
    if (answer.status === 404) return { available: false };
    return parseSqlValidation(answer.body);
  }

  /** `GET /jobs`, `/events` or `/savepoints` filtered by deployment id; they only filter by query parameter. */
  private async listOfDeployment<T>(
    kind: 'jobs' | 'events' | 'savepoints',
    namespace: string,
    query: Record<string, string>,
    options: VvpRequestOptions,
  ): Promise<T[]> {
    const answer = await this.read({
      method: 'GET',
      path: `${nsPath(namespace)}/${kind}`,
      query,
      operation: `listing the ${kind} of deployment ${query.deploymentId} in namespace '${namespace}'`,
      namespace,
      access: 'read',
      ...options,
    });
    return itemsOf<T>(answer.body);
  }

  /**
   * Sends a write and returns the Deployment VVP answered with, or undefined when a 2xx answer
   * does not hold one (204 is documented for PATCH): the write was applied all the same, and the
   * caller's read-back (`sendOnce`) reads what VVP stores. Not read here: one read-back per write.
   */
  private async writeDeployment(spec: RequestSpec): Promise<Deployment | undefined> {
    const answer = await this.write(spec);
    if (isDeployment(answer.body)) return answer.body;
    this.options.logger?.debug(`VVP ${spec.method} ${this.display(spec)} answered HTTP ${answer.status} without a Deployment`);
    return undefined;
  }

  /** A GET (with retries). A 2xx answer that is not JSON fails: VVP always answers JSON. */
  private async read(spec: RequestSpec): Promise<JsonAnswer> {
    const answer = await this.send(spec);
    if (answer.status >= 200 && answer.status < 300 && answer.text.trim() !== '' && !answer.isJson) {
      throw new VvpApiError({
        method: spec.method,
        path: this.display(spec),
        operation: spec.operation,
        status: answer.status,
        serviceMessage: `the answer is not JSON (it starts with '${maskAndShorten(oneLineStart(this.scrub(answer.text)), 80)}')`,
        hint: `Check that vvpUrl (${this.base.origin}${this.base.pathname}) points at Ververica Platform itself, not a login page or another service`,
      });
    }
    return { ...answer, body: withoutNulls(answer.body) };
  }

  /**
   * A write, sent exactly once. A 2xx answer arrived whole; one that broke off after its status
   * line fails as outcome unknown (like any lost answer), so the caller reads back and compares.
   */
  private async write(spec: RequestSpec): Promise<WriteAnswer> {
    const answer = await this.send(spec);
    return { status: answer.status, body: answer.isJson ? withoutNulls(answer.body) : undefined };
  }

  /** One call through the transport (GETs with retries); failures become VvpApiErrors. */
  private async send(spec: RequestSpec): Promise<JsonAnswer> {
    const url = this.urlFor(spec.path, spec.query);
    const lost = this.options.connectionLost;
    // A dead tunnel: nothing is sent, so the token never reaches a local port someone else may now hold.
    if (lost?.aborted) throw lostReason(lost);
    const link = lost && spec.abortSignal ? linkSignals({ signals: [spec.abortSignal, lost] }) : undefined;
    try {
      return await this.transport.send({
        method: spec.method,
        url,
        display: pathAndQuery(url),
        body: spec.body,
        bearerToken: this.token,
        acceptStatuses: spec.acceptStatuses,
        repeatable: spec.repeatable,
        abortSignal: link?.signal ?? lost ?? spec.abortSignal,
        deadline: spec.deadline,
      });
    } catch (error) {
      if (lost?.aborted && !spec.abortSignal?.aborted) throw lostReason(lost);
      throw this.toApiError(spec, url, error);
    } finally {
      link?.dispose();
    }
  }

  /** Path and query as logs and errors show them. */
  private display(spec: RequestSpec): string {
    return pathAndQuery(this.urlFor(spec.path, spec.query));
  }

  /**
   * Masks the API token in text that came from the server (a gateway echoing headers), in every
   * form the transport masks it in an error answer (verbatim, URL-encoded, JSON-escaped, base64).
   */
  private scrub(text: string): string {
    return maskValues(text, [this.token]);
  }

  private urlFor(path: string, query?: Record<string, string>): URL {
    const url = new URL(this.base.href);
    url.pathname = `${this.base.pathname.replace(/\/+$/, '')}${path}`;
    for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, value);
    if (url.origin !== this.base.origin) throw new Error(`refusing to send the VVP token to ${url.origin}`);
    return url;
  }

  private hintFor(status: number, spec: RequestSpec): string | undefined {
    switch (status) {
      case 401:
        return `Check the API token${this.options.tokenSource ? ` (${this.options.tokenSource})` : ''}: it may be wrong, expired or deleted in VVP`;
      case 403:
        return spec.access === 'write'
          ? `The token needs the editor role in namespace '${spec.namespace}' (VVP API tokens are scoped to one namespace)`
          : `The token needs at least the viewer role in namespace '${spec.namespace}' (editor to change deployments; tokens are scoped to one namespace)`;
      case 404:
        return `Check the namespace '${spec.namespace}' and the deployment name, and that vvpUrl points at Ververica Platform`;
      case 409:
        return spec.method === 'DELETE'
          ? 'VVP deletes a deployment only when its desired state (spec.state) is CANCELLED or SUSPENDED'
          : 'Another change conflicts with this one; check the deployment in VVP and re-run';
      default:
        return undefined;
    }
  }

  private toApiError(spec: RequestSpec, url: URL, error: unknown): unknown {
    if (!(error instanceof HttpRequestError)) return error;
    const write = spec.method !== 'GET' && !spec.repeatable;
    const details = { method: spec.method, path: pathAndQuery(url), operation: spec.operation, attempts: error.attempts, cause: error };
    switch (error.kind) {
      case 'status':
        return new VvpApiError({
          ...details,
          status: error.status,
          // The transport scrubbed the token before errorText shortens the text.
          serviceMessage: errorText(error.text),
          hint: this.hintFor(error.status as number, spec),
          // A 5xx may come from a gateway after VVP applied the write.
          outcomeUnknown: write && (error.status as number) >= 500,
        });
      case 'redirect':
        return new VvpApiError({
          ...details,
          status: error.status,
          serviceMessage: error.location ? `VVP answered with a redirect to ${error.location}` : `VVP answered with a redirect (HTTP ${error.status}) without a Location`,
          hint: 'The API token is never sent to a redirect target: set vvpUrl to the final address (https, path), or check for a login proxy in front of VVP',
        });
      case 'tooLarge':
        return new VvpApiError({
          ...details,
          networkCode: error.networkCode,
          serviceMessage: error.message,
          hint: `Check that vvpUrl (${this.base.origin}${this.base.pathname}) points at Ververica Platform`,
          outcomeUnknown: write,
        });
      case 'timeout':
      case 'network':
        return new VvpApiError({
          ...details,
          networkCode: error.networkCode,
          serviceMessage: error.message,
          hint: networkHint(error.networkCode, url),
          outcomeUnknown: write && error.mayHaveArrived,
        });
      default: {
        const unknown: never = error.kind;
        return new Error(`unknown HTTP failure ${String(unknown)}`);
      }
    }
  }

  private malformed(method: string, operation: string, expected: string): VvpApiError {
    return new VvpApiError({
      method,
      path: '',
      operation,
      serviceMessage: `the answer is not ${expected}`,
      hint: 'Check that vvpUrl points at Ververica Platform (AppManager API v1)',
    });
  }
}

/** Path and query of `url`, as logs and errors show a request. */
function pathAndQuery(url: URL): string {
  return `${url.pathname}${url.search}`;
}

function nsPath(namespace: string): string {
  return `/api/v1/namespaces/${enc(namespace)}`;
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}
