import type { AxiosResponse, RawAxiosRequestHeaders } from 'axios';
import { InputError, isAbortError, truncate } from '../errors/errors';
import { axios } from '../lazy/libraries';
import {
  DEFAULT_RETRY_POLICY,
  isRetryableHttpFailure,
  parseRetryAfter,
  RetryExhaustedError,
  withRetry,
  type RetryPolicy,
} from '../http/retry';
import type { NetworkAgents } from '../http/network';
import type { Logger } from '../logging/logger';
import { systemClock, type Clock } from '../poll/clock';
import { VvpApiError } from './errors';
import { isJsonObject, type Deployment, type Job, type JsonObject, type VvpEvent } from './resources';

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
  /** POST a new deployment (sent once). */
  createDeployment(namespace: string, deployment: JsonObject, options?: VvpRequestOptions): Promise<Deployment>;
  /** PATCH a deployment with a partial body (sent once). */
  patchDeployment(namespace: string, nameOrId: string, body: JsonObject, options?: VvpRequestOptions): Promise<Deployment>;
  /** A job by id, or undefined when VVP answers 404. */
  getJob(namespace: string, jobId: string, options?: VvpRequestOptions): Promise<Job | undefined>;
  /** All jobs of a deployment (VVP keeps terminal jobs). */
  listJobs(namespace: string, deploymentId: string, options?: VvpRequestOptions): Promise<Job[]>;
  /** All events of a deployment (VVP has no time filter). */
  listEvents(namespace: string, deploymentId: string, options?: VvpRequestOptions): Promise<VvpEvent[]>;
}

/** Provides the HTTP agent for a URL (proxy + CA). */
export type AgentProvider = Pick<NetworkAgents, 'agentFor'>;

export interface VvpClientOptions {
  /** Proxy and CA handling; without it Node's default agents are used. */
  agents?: AgentProvider;
  /** Debug lines (method, path, status, ms) and retry notes. Never headers or bodies. */
  logger?: Logger;
  /** Bound for each HTTP request. Default 30 000. */
  timeoutInMs?: number;
  /** Retry policy for GETs. Default: 4 attempts, 0.5–8 s backoff with jitter, Retry-After ≤ 60 s. */
  retry?: Partial<RetryPolicy>;
  clock?: Clock;
  random?: () => number;
  /** Where the token came from, for the 401 hint (e.g. "Key Vault secret 'vvpAPIToken' in vault 'kv'"). */
  tokenSource?: string;
  userAgent?: string;
  /**
   * Send the token over plain `http://` to a host other than loopback (the `allowInsecureHttp`
   * input). Without it such a base URL is refused; with it every run warns. Default false.
   */
  allowInsecureHttp?: boolean;
}

type Access = 'read' | 'write';

interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  query?: Record<string, string>;
  body?: JsonObject;
  /** Operation for messages ("reading deployment 'x'"). */
  operation: string;
  namespace: string;
  access: Access;
  /** Statuses that are an answer, not an error (e.g. 404 for "does not exist"). */
  acceptStatuses?: readonly number[];
  abortSignal?: AbortSignal;
  deadline?: number;
}

interface Answer {
  status: number;
  body: unknown;
}

/** Failure of one attempt, before it becomes a VvpApiError. */
class AttemptError extends Error {
  constructor(
    readonly status: number | undefined,
    readonly networkCode: string | undefined,
    readonly serviceMessage: string,
    readonly retryAfterInMs: number | undefined,
    readonly hint: string | undefined,
    cause?: unknown,
  ) {
    super(serviceMessage, { cause });
  }
}

/** Network failures that happen before a request is sent: a write cannot have been applied. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/**
 * Client for the VVP AppManager API (`/api/v1/namespaces/{ns}/…`).
 *
 * - The token goes only to `baseUrl`'s origin as `Authorization: Bearer`; redirects are never
 *   followed (a 3xx is reported), so it cannot leak to another host.
 * - Every request has a timeout (default 30 s) and honours `abortSignal`.
 * - GETs are retried on network errors, 408, 429 (Retry-After) and 5xx with backoff and jitter.
 *   PATCH and POST are sent once; when their outcome is unknown the error says so
 *   (`VvpApiError.outcomeUnknown`) and the caller reads back.
 * - VVP error bodies are not reliably JSON: `message`, `error` or `description`, else the text.
 */
export class VvpClient implements VvpApi {
  private readonly base: URL;
  private readonly timeoutInMs: number;
  private readonly policy: RetryPolicy;
  private readonly clock: Clock;

  constructor(
    baseUrl: string | URL,
    private readonly token: string | undefined,
    private readonly options: VvpClientOptions = {},
  ) {
    this.base = new URL(baseUrl.toString());
    this.base.search = '';
    this.base.hash = '';
    if (this.base.protocol === 'http:' && !isLoopbackHost(this.base.hostname) && token) {
      if (!options.allowInsecureHttp) {
        throw new InputError([
          {
            input: 'vvpUrl',
            value: this.base.origin,
            expected: 'an https:// URL (http:// only for 127.0.0.1, localhost or ::1, or with allowInsecureHttp: true): the API token must not travel in clear text',
          },
        ]);
      }
      options.logger?.warn(
        `vvpUrl ${this.base.origin} uses plain HTTP: the VVP API token crosses the network unencrypted (allowInsecureHttp is true). ` +
          'Prefer https, or a port-forward to 127.0.0.1.',
      );
    }
    this.timeoutInMs = options.timeoutInMs ?? 30_000;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.clock = options.clock ?? systemClock;
  }

  async getDeployment(namespace: string, nameOrId: string, options: VvpRequestOptions = {}): Promise<Deployment | undefined> {
    const answer = await this.send({
      method: 'GET',
      path: `${nsPath(namespace)}/deployments/${enc(nameOrId)}`,
      operation: `reading deployment '${nameOrId}' in namespace '${namespace}'`,
      namespace,
      access: 'read',
      acceptStatuses: [404],
      abortSignal: options.abortSignal,
      deadline: options.deadline,
    });
    if (answer.status === 404) return undefined;
    return asDeployment(answer.body, `reading deployment '${nameOrId}'`);
  }

  async createDeployment(namespace: string, deployment: JsonObject, options: VvpRequestOptions = {}): Promise<Deployment> {
    const name = isJsonObject(deployment.metadata) ? String(deployment.metadata.name) : '(unnamed)';
    const answer = await this.send({
      method: 'POST',
      path: `${nsPath(namespace)}/deployments`,
      body: deployment,
      operation: `creating deployment '${name}' in namespace '${namespace}'`,
      namespace,
      access: 'write',
      abortSignal: options.abortSignal,
      deadline: options.deadline,
    });
    if (answer.body === undefined) {
      // 2xx without a usable body: the deployment exists now; read it (a GET, safe to retry).
      const read = await this.getDeployment(namespace, name, options);
      if (!read) throw this.notFound('POST', `deployment '${name}'`, namespace, 'reading the deployment back after creating it');
      return read;
    }
    return asDeployment(answer.body, `creating deployment '${name}'`);
  }

  async patchDeployment(namespace: string, nameOrId: string, body: JsonObject, options: VvpRequestOptions = {}): Promise<Deployment> {
    const answer = await this.send({
      method: 'PATCH',
      path: `${nsPath(namespace)}/deployments/${enc(nameOrId)}`,
      body,
      operation: `updating deployment '${nameOrId}' in namespace '${namespace}'`,
      namespace,
      access: 'write',
      abortSignal: options.abortSignal,
      deadline: options.deadline,
    });
    if (answer.status === 204 || answer.body === undefined) {
      // 204 is documented for PATCH: read the result instead (a GET, safe to retry).
      const read = await this.getDeployment(namespace, nameOrId, options);
      if (!read) throw this.notFound('PATCH', `deployment '${nameOrId}'`, namespace, 'reading the deployment back after the PATCH');
      return read;
    }
    return asDeployment(answer.body, `updating deployment '${nameOrId}'`);
  }

  async getJob(namespace: string, jobId: string, options: VvpRequestOptions = {}): Promise<Job | undefined> {
    const answer = await this.send({
      method: 'GET',
      path: `${nsPath(namespace)}/jobs/${enc(jobId)}`,
      operation: `reading job ${jobId} in namespace '${namespace}'`,
      namespace,
      access: 'read',
      acceptStatuses: [404],
      abortSignal: options.abortSignal,
      deadline: options.deadline,
    });
    if (answer.status === 404) return undefined;
    if (!isJsonObject(answer.body) || !isJsonObject(answer.body.metadata)) {
      throw this.malformed('GET', `reading job ${jobId}`, 'a Job object');
    }
    return answer.body as unknown as Job;
  }

  async listJobs(namespace: string, deploymentId: string, options: VvpRequestOptions = {}): Promise<Job[]> {
    return this.listOfDeployment<Job>('jobs', namespace, deploymentId, options);
  }

  async listEvents(namespace: string, deploymentId: string, options: VvpRequestOptions = {}): Promise<VvpEvent[]> {
    return this.listOfDeployment<VvpEvent>('events', namespace, deploymentId, options);
  }

  /** `GET /jobs` or `/events` filtered by deployment id; both only filter by query parameter. */
  private async listOfDeployment<T>(kind: 'jobs' | 'events', namespace: string, deploymentId: string, options: VvpRequestOptions): Promise<T[]> {
    const answer = await this.send({
      method: 'GET',
      path: `${nsPath(namespace)}/${kind}`,
      query: { deploymentId },
      operation: `listing the ${kind} of deployment ${deploymentId} in namespace '${namespace}'`,
      namespace,
      access: 'read',
      abortSignal: options.abortSignal,
      deadline: options.deadline,
    });
    return itemsOf<T>(answer.body);
  }

  /** Sends one request (GETs with retries) and maps failures to VvpApiError. */
  private async send(spec: RequestSpec): Promise<Answer> {
    const url = this.urlFor(spec.path, spec.query);
    const display = `${url.pathname}${url.search}`;
    if (spec.method !== 'GET') {
      // Writes are sent exactly once: never through the retry loop.
      try {
        return await this.attempt(spec, url, display);
      } catch (error) {
        throw this.toApiError(spec, display, error, 1);
      }
    }
    try {
      return await withRetry(() => this.attempt(spec, url, display), {
        policy: this.policy,
        clock: this.clock,
        random: this.options.random,
        abortSignal: spec.abortSignal,
        deadline: spec.deadline,
        isRetryable: (error) =>
          error instanceof AttemptError
            ? {
                retry: isRetryableHttpFailure({ method: spec.method, status: error.status, networkCode: error.networkCode }),
                retryAfterInMs: error.retryAfterInMs,
              }
            : { retry: false },
        onRetry: ({ error, attempt, delayInMs }) =>
          this.options.logger?.info(
            `VVP ${spec.method} ${display}: ${describeAttempt(error)}; retry ${attempt} of ${this.policy.maxAttempts - 1} in ${(delayInMs / 1000).toFixed(1)} s`,
          ),
      });
    } catch (error) {
      if (error instanceof RetryExhaustedError) throw this.toApiError(spec, display, error.lastError, error.attempts);
      throw this.toApiError(spec, display, error, 1);
    }
  }

  /** One HTTP exchange. Resolves for 2xx and accepted statuses; throws AttemptError otherwise. */
  private async attempt(spec: RequestSpec, url: URL, display: string): Promise<Answer> {
    const headers: RawAxiosRequestHeaders = {
      Accept: 'application/json',
      'User-Agent': this.options.userAgent ?? 'vvp-azure-pipelines',
    };
    // Only ever to this.base's origin (checked in urlFor); redirects are not followed.
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (spec.body !== undefined) headers['Content-Type'] = 'application/json';
    const agent = this.options.agents?.agentFor(url);
    const started = this.clock.now();
    // The request timeout, cut to what is left before the caller's deadline (at least 1 ms).
    const timeoutInMs = spec.deadline === undefined ? this.timeoutInMs : Math.max(1, Math.min(this.timeoutInMs, spec.deadline - started));
    let response: AxiosResponse<string>;
    try {
      response = await axios().request<string>({
        url: url.href,
        method: spec.method,
        headers,
        data: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        timeout: timeoutInMs,
        signal: spec.abortSignal,
        maxRedirects: 0,
        proxy: false,
        httpAgent: agent,
        httpsAgent: agent,
        responseType: 'text',
        transformResponse: [(data: unknown) => data],
        validateStatus: () => true,
        transitional: { clarifyTimeoutError: true },
      });
    } catch (error) {
      if (isAbortError(error) || spec.abortSignal?.aborted) throw error;
      const code = (error as { code?: string }).code;
      this.options.logger?.debug(`VVP ${spec.method} ${display} → ${code ?? 'network error'} in ${this.clock.now() - started} ms`);
      throw new AttemptError(undefined, code, this.scrub(networkMessage(error, url, timeoutInMs)), undefined, networkHint(code, url), error);
    }
    const status = response.status;
    this.options.logger?.debug(`VVP ${spec.method} ${display} → ${status} in ${this.clock.now() - started} ms`);
    const text = typeof response.data === 'string' ? response.data : '';
    if ((status >= 200 && status < 300) || spec.acceptStatuses?.includes(status)) {
      if (status === 204 || text.trim() === '') return { status, body: undefined };
      try {
        return { status, body: JSON.parse(text) as unknown };
      } catch {
        // A write that got 2xx was applied whatever the body says: the caller reads it back.
        if (spec.method !== 'GET') return { status, body: undefined };
        if (status >= 200 && status < 300) {
          throw new AttemptError(
            status,
            undefined,
            `the answer is not JSON (it starts with '${truncate(this.scrub(text).trim().slice(0, 80), 80)}')`,
            undefined,
            `Check that vvpUrl (${this.base.origin}${this.base.pathname}) points at Ververica Platform itself, not a login page or another service`,
          );
        }
        return { status, body: undefined };
      }
    }
    const retryAfter = headerValue(response.headers, 'retry-after');
    throw new AttemptError(
      status,
      undefined,
      // Scrubbed before errorText shortens it: a token cut in half would no longer match.
      this.scrub(status >= 300 && status < 400 ? redirectMessage(status, headerValue(response.headers, 'location'), url) : errorText(this.scrub(text))),
      parseRetryAfter(retryAfter, this.clock.now()),
      this.hintFor(status, spec),
    );
  }

  /**
   * Masks the API token in text that came from the server or the network stack: a gateway or
   * debug page that echoes request headers must not put the token into an error message.
   */
  private scrub(text: string): string {
    return this.token && this.token.length >= 4 ? text.split(this.token).join('***') : text;
  }

  private urlFor(path: string, query?: Record<string, string>): URL {
    const url = new URL(this.base.href);
    url.pathname = `${this.base.pathname.replace(/\/+$/, '')}${path}`;
    for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, value);
    if (url.origin !== this.base.origin) throw new Error(`refusing to send the VVP token to ${url.origin}`);
    return url;
  }

  private hintFor(status: number, spec: RequestSpec): string | undefined {
    if (status >= 300 && status < 400) {
      return 'The API token is never sent to a redirect target: set vvpUrl to the final address (https, path), or check for a login proxy in front of VVP';
    }
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
        return 'Another change conflicts with this one; check the deployment in VVP and re-run';
      default:
        return undefined;
    }
  }

  private toApiError(spec: RequestSpec, display: string, error: unknown, attempts: number): unknown {
    if (!(error instanceof AttemptError)) return error;
    const write = spec.method !== 'GET';
    const outcomeUnknown =
      write && (error.status === undefined ? !NOT_SENT_CODES.has(error.networkCode ?? '') : error.status >= 500);
    return new VvpApiError({
      method: spec.method,
      path: display,
      operation: spec.operation,
      status: error.status,
      serviceMessage: error.serviceMessage,
      hint: error.hint,
      attempts,
      networkCode: error.networkCode,
      outcomeUnknown,
      cause: error.cause,
    });
  }

  private notFound(method: string, what: string, namespace: string, operation: string): VvpApiError {
    return new VvpApiError({
      method,
      path: '',
      operation,
      status: 404,
      serviceMessage: `${what} not found in namespace '${namespace}'`,
      hint: 'Check the deployment name and namespace',
    });
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

/** Loopback hosts (a kubectl port-forward), where plain HTTP never leaves the machine. */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function nsPath(namespace: string): string {
  return `/api/v1/namespaces/${enc(namespace)}`;
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function asDeployment(body: unknown, operation: string): Deployment {
  if (!isJsonObject(body) || !isJsonObject(body.metadata) || typeof body.metadata.id !== 'string' || !isJsonObject(body.spec)) {
    throw new VvpApiError({
      method: '',
      path: '',
      operation,
      serviceMessage: 'the answer is not a Deployment (metadata.id and spec missing)',
      hint: 'Check that vvpUrl points at Ververica Platform (AppManager API v1)',
    });
  }
  return body as unknown as Deployment;
}

function itemsOf<T>(body: unknown): T[] {
  if (isJsonObject(body) && Array.isArray(body.items)) return body.items.filter(isJsonObject) as unknown as T[];
  return [];
}

function headerValue(headers: unknown, name: string): string | undefined {
  const h = headers as { get?: (n: string) => unknown } & Record<string, unknown>;
  const value = typeof h?.get === 'function' ? h.get(name) : h?.[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? String(value[0]) : undefined;
}

/**
 * The human text of a VVP error body: `message`, `error` or `description` of a JSON body (VVP,
 * Spring and the Platform API use different shapes), else the raw text, shortened.
 */
export function errorText(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return 'no details in the answer';
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (isJsonObject(parsed)) {
      for (const key of ['message', 'error', 'description']) {
        const value = parsed[key];
        if (typeof value === 'string' && value.trim() !== '') return truncate(value.trim(), 1000);
      }
    }
  } catch {
    // Not JSON: fall through to the text.
  }
  const withoutTags = /^\s*</.test(trimmed) ? trimmed.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim() : trimmed;
  return truncate(withoutTags || trimmed, 500);
}

function redirectMessage(status: number, location: string | undefined, url: URL): string {
  if (!location) return `VVP answered with a redirect (HTTP ${status}) without a Location`;
  let target = location;
  try {
    const resolved = new URL(location, url);
    target = `${resolved.origin}${resolved.pathname}`;
  } catch {
    target = truncate(location, 200);
  }
  return `VVP answered with a redirect to ${target}`;
}

function networkMessage(error: unknown, url: URL, timeoutInMs: number): string {
  const e = error as { code?: string; message?: string };
  if (e.code === 'ETIMEDOUT' || e.code === 'ECONNABORTED') return `no answer from ${url.host} within ${Math.round(timeoutInMs / 100) / 10} s`;
  return `${e.code ? `${e.code}: ` : ''}${e.message ?? String(error)}`;
}

function networkHint(code: string | undefined, url: URL): string | undefined {
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `The host ${url.hostname} could not be resolved: check vvpUrl and the agent's DNS`;
    case 'ECONNREFUSED':
      return `Nothing accepts connections at ${url.host}: check vvpUrl, the port, and that VVP is reachable from the agent`;
    case 'CERT_HAS_EXPIRED':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS verification of ${url.host} failed: add the issuing CA to the agent (Agent.CAInfo or NODE_EXTRA_CA_CERTS); verification is never switched off`;
    default:
      return `Check that the agent can reach ${url.host} (proxy settings, firewall)`;
  }
}

function describeAttempt(error: unknown): string {
  if (error instanceof AttemptError) return error.status !== undefined ? `HTTP ${error.status}` : (error.networkCode ?? 'network error');
  return (error as Error)?.message ?? String(error);
}
