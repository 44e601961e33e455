import { formatDuration } from '../logging/duration';
import type * as http from 'node:http';
import type * as https from 'node:https';
import type { Logger } from '../logging/logger';
import { maskValues } from '../logging/secret-mask';
import { describeFailure, HttpRequestError, type HttpMethod } from './http-request-error';
import { abortReason, systemClock, throwIfAborted, type Clock } from '../poll/clock';
import { linkSignals } from '../poll/linked-signal';
import type { NetworkAgents } from './network';
import { DEFAULT_RETRY_POLICY, isRetryableHttpFailure, parseRetryAfter, withRetry, type RetryPolicy } from './retry';

/**
 * One HTTP/JSON exchange for the REST clients that carry a Bearer token (VVP, Azure Resource
 * Manager), on node:http/https directly:
 *
 * - one TOTAL deadline per attempt (connect, headers and the whole body): a server that
 *   trickles bytes cannot keep a request alive, as it would an idle-socket timer;
 * - a size limit for the answer, checked while reading;
 * - redirects are never followed: a 3xx is an error naming the target, so the token never
 *   reaches another address;
 * - the per-origin agent of {@link NetworkAgents} (proxy and CA);
 * - retries (backoff, jitter, Retry-After) only for requests that are safe to repeat; a write
 *   is sent exactly once and its error says whether it may have arrived.
 *
 * Text from the server or the network stack is scrubbed of the request's token before it is
 * put into an error, and before anything shortens it (half a token would no longer match).
 */


/** Provides the HTTP agent for a URL (proxy + CA). */
export type AgentProvider = Pick<NetworkAgents, 'agentFor'>;

/** Default total time one attempt may take, connect to last byte. */
const DEFAULT_REQUEST_TIMEOUT_IN_MS = 30_000;
/** Default limit for one answer's body. VVP event lists of a long-lived deployment stay far below it. */
const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** How much of an error answer's body is read: enough for any message, never a whole HTML page. */
const ERROR_BODY_BYTES = 64 * 1024;

/** Network failures that happen before a request is sent: a write cannot have been applied. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** `networkCode` of an answer over the size limit. */
const RESPONSE_TOO_LARGE = 'ERR_RESPONSE_TOO_LARGE';

export interface JsonTransportOptions {
  /** The service in log lines: "VVP", "ARM". */
  label: string;
  /** Proxy and CA handling; without it Node's default agents are used. */
  agents?: AgentProvider;
  /** Debug lines (method, path, status, ms) and retry notes. Never headers or bodies. */
  logger?: Logger;
  /** Total time one attempt may take: connecting, the headers and the whole body. Default 30 000. */
  timeoutInMs?: number;
  /** Largest answer body accepted, in bytes; a bigger one fails the request. Default 16 MiB. */
  maxResponseBytes?: number;
  /** Retry policy for repeatable requests. Default: 4 attempts, 0.5–8 s backoff with jitter, Retry-After ≤ 60 s. */
  retry?: Partial<RetryPolicy>;
  clock?: Clock;
  random?: () => number;
  userAgent?: string;
}

/** One request. */
export interface JsonRequest {
  method: HttpMethod;
  url: URL;
  /** How logs and errors name the request: the path (and a query without secrets). */
  display: string;
  /** A JSON body, or a string sent as is (`''` for an empty POST). */
  body?: unknown;
  /** Sent as `Authorization: Bearer`, and masked in every text the error carries. */
  bearerToken?: string;
  /** Statuses besides 2xx that are an answer, not an error (e.g. 404 for "does not exist"). */
  acceptStatuses?: readonly number[];
  /**
   * Whether a failed attempt may be repeated. Default: GET only. A POST that only reads (ARM's
   * `listClusterUserCredential`) may opt in; a write never should.
   */
  repeatable?: boolean;
  abortSignal?: AbortSignal;
  /** Clock time (ms) by which the call must end, retries included: each attempt is cut to the time left and no retry starts after it. */
  deadline?: number;
}

/** An accepted answer (2xx or one of `acceptStatuses`). */
export interface JsonAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as text, `''` when there is none. Not scrubbed: it is data (a kubeconfig, a deployment). */
  text: string;
  /** The body as JSON; undefined when empty or not JSON (see `isJson`). */
  body: unknown;
  /** True when `text` parsed as JSON. */
  isJson: boolean;
}

/**
 * Sends JSON requests to one service. Holds no connection state of its own: agents come from
 * the provider, so one instance per client is enough.
 */
export class JsonTransport {
  private readonly timeoutInMs: number;
  private readonly maxResponseBytes: number;
  private readonly policy: RetryPolicy;
  private readonly clock: Clock;

  constructor(private readonly options: JsonTransportOptions) {
    this.timeoutInMs = options.timeoutInMs ?? DEFAULT_REQUEST_TIMEOUT_IN_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.clock = options.clock ?? systemClock;
  }

  /** Total attempts a repeatable request may take. */
  get maxAttempts(): number {
    return this.policy.maxAttempts;
  }

  /**
   * Sends `request`: once, or with retries when it is repeatable.
   *
   * @throws HttpRequestError for a refused, redirected, failed or timed-out request (with `attempts`).
   * @throws the abort reason when `abortSignal` fires.
   */
  async send(request: JsonRequest): Promise<JsonAnswer> {
    const repeatable = request.repeatable ?? request.method === 'GET';
    if (!repeatable) return this.attempt(request);
    let attempts = 0;
    try {
      return await withRetry(
        (attempt) => {
          attempts = attempt;
          return this.attempt(request);
        },
        {
        policy: this.policy,
        clock: this.clock,
        random: this.options.random,
        abortSignal: request.abortSignal,
        deadline: request.deadline,
        isRetryable: (error) =>
          error instanceof HttpRequestError
            ? {
                // A redirect or an oversized answer comes back the same; a broken body may not.
                retry:
                  error.kind !== 'redirect' &&
                  error.kind !== 'tooLarge' &&
                  // Retried like a GET: the caller said the request is safe to repeat.
                  isRetryableHttpFailure({ method: 'GET', status: error.kind === 'status' ? error.status : undefined, networkCode: error.networkCode }),
                retryAfterInMs: error.retryAfterInMs,
              }
            : { retry: false },
        onRetry: ({ error, attempt, delayInMs }) =>
          this.options.logger?.info(
            `${this.options.label} ${request.method} ${request.display}: ${describeFailure(error)}; retry ${attempt} of ${this.policy.maxAttempts - 1} in ${formatDuration(delayInMs)}`,
          ),
        },
      );
    } catch (error) {
      if (error instanceof HttpRequestError) error.attempts = attempts;
      throw error;
    }
  }

  /** One exchange, bounded by the total timeout (cut to the deadline). */
  private async attempt(request: JsonRequest): Promise<JsonAnswer> {
    throwIfAborted(request.abortSignal);
    const started = this.clock.now();
    const timeoutInMs = request.deadline === undefined ? this.timeoutInMs : Math.max(1, Math.min(this.timeoutInMs, request.deadline - started));
    const log = (outcome: string): void =>
      this.options.logger?.debug(`${this.options.label} ${request.method} ${request.display} → ${outcome} in ${this.clock.now() - started} ms`);
    let raw: RawAnswer;
    try {
      raw = await exchange(request, {
        timeoutInMs,
        maxResponseBytes: this.maxResponseBytes,
        agent: this.options.agents?.agentFor(request.url),
        userAgent: this.options.userAgent,
      });
    } catch (error) {
      if (error instanceof HttpRequestError) log(error.status !== undefined ? `${error.status}, then ${error.networkCode ?? error.kind}` : (error.networkCode ?? error.kind));
      throw error;
    }
    log(String(raw.status));
    const { status, headers, text } = raw;
    const scrub = (value: string): string => maskValues(value, [request.bearerToken]);
    const base = { method: request.method, display: request.display, host: request.url.host, status, mayHaveArrived: true };
    if (status >= 300 && status < 400) {
      const location = redirectTarget(headerValue(headers, 'location'), request.url);
      throw new HttpRequestError({
        ...base,
        kind: 'redirect',
        message: scrub(location ? `a redirect (HTTP ${status}) to ${location}` : `a redirect (HTTP ${status}) without a Location`),
        location: location && scrub(location),
      });
    }
    if ((status >= 200 && status < 300) || request.acceptStatuses?.includes(status)) {
      const parsed = parseJson(text);
      return { status, headers, text, body: parsed.value, isJson: parsed.ok };
    }
    throw new HttpRequestError({
      ...base,
      kind: 'status',
      message: `HTTP ${status}`,
      text: scrub(text),
      retryAfterInMs: parseRetryAfter(headerValue(headers, 'retry-after'), this.clock.now()),
    });
  }
}

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

interface ExchangeOptions {
  timeoutInMs: number;
  maxResponseBytes: number;
  agent?: http.Agent;
  userAgent?: string;
}

/**
 * The HTTP exchange itself. One signal ends it: the caller's abort or the total timeout
 * ({@link linkSignals}: held strongly until the exchange settles), whichever comes first, at
 * any phase. Resolves with the status, headers and body (all of a 2xx answer, none of a 3xx,
 * the first 64 KiB of an error answer); rejects with an HttpRequestError or the abort reason.
 */
function exchange(request: JsonRequest, options: ExchangeOptions): Promise<RawAnswer> {
  const { url, method } = request;
  const host = url.host;
  const secrets = [request.bearerToken];
  const display = request.display;
  const payload = request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  const headers: http.OutgoingHttpHeaders = {
    Accept: 'application/json',
    'User-Agent': options.userAgent ?? 'vvp-azure-pipelines',
  };
  if (request.bearerToken) headers.Authorization = `Bearer ${request.bearerToken}`;
  if (payload !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = Buffer.byteLength(payload);
  }
  const link = linkSignals({ signals: [request.abortSignal], timeoutInMs: options.timeoutInMs });
  const signal = link.signal;

  return new Promise<RawAnswer>((resolve, reject) => {
    let settled = false;
    let status: number | undefined;
    let received = 0;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      link.dispose();
      outcome();
    };
    const fail = (error: unknown): void =>
      settle(() => {
        reject(error);
        // Whatever is still open (a trickling body, a pending connect) is of no use now.
        req.destroy();
      });

    const onAbort = (): void => {
      if (request.abortSignal?.aborted) {
        fail(abortReason(request.abortSignal));
        return;
      }
      const seconds = formatDuration(options.timeoutInMs);
      fail(
        new HttpRequestError({
          kind: 'timeout',
          method,
          display,
          host,
          status,
          networkCode: 'ETIMEDOUT',
          message:
            status === undefined
              ? `no answer from ${host} within ${seconds}`
              : `no complete answer from ${host} within ${seconds} (HTTP ${status}, ${received} bytes of the body received)`,
          timeoutInMs: options.timeoutInMs,
          // Before the headers the request may or may not have been read; after them it was.
          mayHaveArrived: true,
        }),
      );
    };

    // Loaded with the first request: a step that fails on its inputs never loads HTTP or TLS.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const send = url.protocol === 'https:' ? (require('node:https') as typeof https).request : (require('node:http') as typeof http).request;
    const req = send(url, { method, headers, agent: options.agent }, (response) => {
      status = response.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        // A redirect is reported, never followed: its headers say all there is to say.
        settle(() => {
          resolve({ status: status as number, headers: response.headers, text: '' });
          req.destroy();
        });
        return;
      }
      const accepted = status < 400;
      const limit = accepted ? options.maxResponseBytes : ERROR_BODY_BYTES;
      const declared = Number(response.headers['content-length']);
      if (accepted && Number.isFinite(declared) && declared > limit) {
        fail(tooLarge(request, status, limit, declared));
        return;
      }
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = limit - received;
        received += chunk.length;
        if (received <= limit) {
          chunks.push(chunk);
          return;
        }
        if (accepted) {
          fail(tooLarge(request, status as number, limit));
          return;
        }
        // An error page: its start is enough for the message.
        chunks.push(chunk.subarray(0, Math.max(0, room)));
        settle(() => {
          resolve({ status: status as number, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') });
          req.destroy();
        });
      });
      response.on('end', () => settle(() => resolve({ status: status as number, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') })));
      response.on('error', (error) => fail(networkError(request, error, secrets, status)));
      // A connection that closes mid-body ends neither with 'end' nor always with 'error'.
      response.on('close', () => {
        if (!response.complete) fail(networkError(request, Object.assign(new Error('the connection closed before the answer was complete'), { code: 'ECONNRESET' }), secrets, status));
      });
    });
    req.on('error', (error) => fail(networkError(request, error, secrets, status)));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    req.end(payload);
  });
}

function tooLarge(request: JsonRequest, status: number, limit: number, declared?: number): HttpRequestError {
  return new HttpRequestError({
    kind: 'tooLarge',
    method: request.method,
    display: request.display,
    host: request.url.host,
    status,
    networkCode: RESPONSE_TOO_LARGE,
    message: `the answer from ${request.url.host} is larger than ${formatBytes(limit)}${declared !== undefined ? ` (${formatBytes(declared)} announced)` : ''}, the limit for one answer`,
    mayHaveArrived: true,
  });
}

function networkError(request: JsonRequest, error: unknown, secrets: (string | undefined)[], status: number | undefined): HttpRequestError {
  if (error instanceof HttpRequestError) return error;
  const e = error as { code?: string; message?: string };
  const code = e.code;
  const detail = `${code && !(e.message ?? '').includes(code) ? `${code}: ` : ''}${e.message ?? String(error)}`;
  const text = status === undefined ? detail : `the connection broke after the answer's headers (HTTP ${status}): ${detail}`;
  return new HttpRequestError({
    kind: 'network',
    method: request.method,
    display: request.display,
    host: request.url.host,
    status,
    networkCode: code,
    message: maskValues(text, secrets),
    mayHaveArrived: status !== undefined || !NOT_SENT_CODES.has(code ?? ''),
    cause: error,
  });
}

/** `https://host/path` of a Location header, resolved against the request URL; the query is dropped. */
function redirectTarget(location: string | undefined, base: URL): string | undefined {
  if (!location) return undefined;
  try {
    const resolved = new URL(location, base);
    return `${resolved.origin}${resolved.pathname}`;
  } catch {
    return location.replace(/[?#].*$/s, '').slice(0, 200);
  }
}

function headerValue(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseJson(text: string): { ok: boolean; value: unknown } {
  if (text.trim() === '') return { ok: false, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, value: undefined };
  }
}



function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB`;
  if (bytes >= 1024) return `${Math.round((bytes / 1024) * 10) / 10} KiB`;
  return `${bytes} bytes`;
}
