import { isAbortError } from '../errors/errors';
import { abortReason, systemClock, throwIfAborted, type Clock } from '../poll/clock';

/**
 * When a failed call is tried again. Only idempotent reads go through this helper: a PATCH or
 * POST is sent once, and an unknown outcome is settled by reading back (see VvpClient).
 */
export interface RetryPolicy {
  /** Total attempts including the first. Default 4. */
  maxAttempts: number;
  /** Delay before the first retry, before jitter. Default 500. */
  baseDelayInMs: number;
  /** Upper bound of one backoff delay, before jitter. Default 8 000. */
  maxDelayInMs: number;
  /**
   * The longest `Retry-After` we wait for. A server asking for more is not retried: the caller
   * gets the error now instead of a silent multi-minute pause. Default 60 000.
   */
  maxRetryAfterInMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayInMs: 500,
  maxDelayInMs: 8_000,
  maxRetryAfterInMs: 60_000,
};

/** What a failed attempt looked like, in transport-neutral terms. */
interface FailedAttempt {
  /** HTTP method of the request, upper case. */
  method: string;
  /** HTTP status when the server answered; undefined for network errors and timeouts. */
  status?: number;
  /** Node's error code for failures without a response (`ECONNRESET`, `ETIMEDOUT`…). */
  networkCode?: string;
}

/** Methods that are safe to repeat. PATCH and POST are deliberately absent. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Network failures worth another try (transient by nature). `ENOTFOUND` is not: a wrong host stays wrong. */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED', // a connection aborted by the peer or a library timeout
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN', // temporary DNS failure
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_NETWORK',
  'UND_ERR_SOCKET',
]);

/** True for 408, 429 and every 5xx. Other 4xx are the caller's mistake and stay failed. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/** True for transient network error codes (connection reset/refused, timeouts, temporary DNS). */
export function isRetryableNetworkCode(code: string | undefined): boolean {
  return code !== undefined && RETRYABLE_NETWORK_CODES.has(code);
}

/**
 * The retry predicate for HTTP calls: only idempotent methods, and only on transient network
 * errors, 408, 429 and 5xx. Never 400/401/403/404/409: repeating them cannot help.
 */
export function isRetryableHttpFailure(attempt: FailedAttempt): boolean {
  if (!IDEMPOTENT_METHODS.has(attempt.method.toUpperCase())) return false;
  if (attempt.status !== undefined) return isRetryableStatus(attempt.status);
  return isRetryableNetworkCode(attempt.networkCode);
}

/**
 * Parses a `Retry-After` header (delta-seconds or an HTTP date) into milliseconds from `nowInMs`.
 * Undefined when absent or unreadable; 0 for a date in the past.
 */
export function parseRetryAfter(value: string | undefined, nowInMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowInMs);
}

/**
 * Backoff before retry number `retry` (1 for the first retry): exponential from
 * `baseDelayInMs`, capped at `maxDelayInMs`, with "equal jitter" so the delay lies in
 * [cap/2, cap] — bounded below (no hammering) and spread out (no thundering herd).
 */
function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponential = policy.baseDelayInMs * 2 ** Math.max(0, retry - 1);
  const capped = Math.min(policy.maxDelayInMs, exponential);
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(capped / 2 + (capped / 2) * r);
}

/** What the retry loop needs to know about one failure. */
interface RetryVerdict {
  retry: boolean;
  /** Server-requested delay (Retry-After), in ms. */
  retryAfterInMs?: number;
}

interface RetryOptions {
  /** Decides per error whether another attempt may help. */
  isRetryable: (error: unknown) => RetryVerdict;
  policy?: Partial<RetryPolicy>;
  clock?: Clock;
  /** Source of jitter; injectable for tests. Default `Math.random`. */
  random?: () => number;
  abortSignal?: AbortSignal;
  /** Clock time (ms) after which no retry starts: a retry whose wait would end later is not made. */
  deadline?: number;
  /** Called before each wait, e.g. to log "retrying in 2 s". */
  onRetry?: (info: { error: unknown; attempt: number; delayInMs: number }) => void;
}

/**
 * Runs `operation` until it succeeds, a non-retryable error occurs, or the attempts run out.
 * The delay is the larger of the backoff and the server's `Retry-After`; a `Retry-After`
 * beyond `maxRetryAfterInMs` ends the retries. Abort stops at once (also mid-wait).
 *
 * @throws the last error as it was, once no further attempt is made (the caller counts the
 * attempts through `operation`'s argument); the abort reason when `abortSignal` fires.
 */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const clock = options.clock ?? systemClock;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(options.abortSignal);
    try {
      return await operation(attempt);
    } catch (error) {
      if (options.abortSignal?.aborted) throw abortReason(options.abortSignal);
      if (isAbortError(error)) throw error;
      const verdict = options.isRetryable(error);
      const last = attempt >= policy.maxAttempts;
      const tooLong = verdict.retryAfterInMs !== undefined && verdict.retryAfterInMs > policy.maxRetryAfterInMs;
      if (!verdict.retry || last || tooLong) throw error;
      const delayInMs = Math.max(backoffDelay(attempt, policy, options.random), verdict.retryAfterInMs ?? 0);
      if (options.deadline !== undefined && clock.now() + delayInMs >= options.deadline) throw error;
      options.onRetry?.({ error, attempt, delayInMs });
      await clock.sleep(delayInMs, options.abortSignal);
    }
  }
}
