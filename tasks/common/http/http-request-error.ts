import { isAbortError } from '../errors/errors';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * What went wrong:
 * - `status`: the answer's status is an error (4xx, 5xx, or an unexpected 1xx);
 * - `redirect`: a 3xx, not followed;
 * - `timeout`: the total deadline passed (before the headers, or while the body arrived);
 * - `network`: the connection failed or broke (before or after the headers);
 * - `tooLarge`: the body is bigger than `maxResponseBytes`.
 */
type HttpFailureKind = 'status' | 'redirect' | 'timeout' | 'network' | 'tooLarge';

/** A failed request (after any retries), with what a client needs to explain it. */
export class HttpRequestError extends Error {
  readonly kind: HttpFailureKind;
  readonly method: HttpMethod;
  readonly display: string;
  /** Host and port the request went to. */
  readonly host: string;
  /**
   * The status line, whenever an answer arrived. For `timeout`, `network` and `tooLarge` it
   * says the headers came but the body did not arrive whole.
   */
  readonly status?: number;
  /** Node's code for `network` (`ECONNRESET`…), `ETIMEDOUT` for `timeout`, `ERR_RESPONSE_TOO_LARGE` for an answer over the size limit. */
  readonly networkCode?: string;
  /** The start of the error answer's body, token scrubbed (`''` when none). */
  readonly text: string;
  /** For `redirect`: the target as origin and path (no query: it may carry a code or token). */
  readonly location?: string;
  /** Server-requested delay (Retry-After), in ms. */
  readonly retryAfterInMs?: number;
  /** The timeout this attempt ran with, for `timeout`. */
  readonly timeoutInMs?: number;
  /** False when the request certainly never reached the server (refused, DNS, TLS): a write was not applied. */
  readonly mayHaveArrived: boolean;
  /** Attempts made, including the first. */
  attempts = 1;

  constructor(details: {
    kind: HttpFailureKind;
    method: HttpMethod;
    display: string;
    host: string;
    message: string;
    status?: number;
    networkCode?: string;
    text?: string;
    location?: string;
    retryAfterInMs?: number;
    timeoutInMs?: number;
    mayHaveArrived: boolean;
    cause?: unknown;
  }) {
    super(details.message, { cause: details.cause });
    this.name = 'HttpRequestError';
    this.kind = details.kind;
    this.method = details.method;
    this.display = details.display;
    this.host = details.host;
    this.status = details.status;
    this.networkCode = details.networkCode;
    this.text = details.text ?? '';
    this.location = details.location;
    this.retryAfterInMs = details.retryAfterInMs;
    this.timeoutInMs = details.timeoutInMs;
    this.mayHaveArrived = details.mayHaveArrived;
  }
}

/** "HTTP 503", "ECONNRESET", "ETIMEDOUT": what a retry note says about the failed attempt. */
export function describeFailure(error: unknown): string {
  if (error instanceof HttpRequestError) {
    if (error.kind === 'status' || error.kind === 'redirect') return `HTTP ${error.status}`;
    return error.networkCode ?? 'network error';
  }
  if (isAbortError(error)) return 'cancelled';
  return (error as Error)?.message ?? String(error);
}
