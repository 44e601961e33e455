/**
 * A client-side bound for each try of an Azure SDK request. The SDKs have none by default
 * (core-rest-pipeline's `timeout` is 0, storage's `tryTimeoutInMs` is only a server-side query
 * parameter), so a peer that accepts the connection and never answers (a dead proxy, a stuck
 * token endpoint) would hang the step until the agent's job timeout.
 */
import { formatDuration } from '../logging/duration';
import { withTimeout } from '../poll/timeout';

/** What the SDKs accept as an abort signal (`AbortSignalLike`); a platform AbortSignal is one. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** The structural shape of a core-rest-pipeline request, so no SDK type leaks in. */
interface TimedRequest {
  url: string;
  abortSignal?: AbortSignalLike;
}

/** The structural shape of a core-rest-pipeline policy (what `additionalPolicies` takes). */
interface TryTimeoutPolicy {
  name: string;
  sendRequest<Q extends TimedRequest, R>(request: Q, next: (request: Q) => Promise<R>): Promise<R>;
}

/**
 * A per-retry pipeline policy (add it with `position: 'perRetry'`) that aborts a try after
 * `tryTimeoutInMs` and fails it as a network timeout (`RestError`, code `ETIMEDOUT`) whose
 * message names the host: "no answer from login.microsoftonline.com within 30 s". The SDKs'
 * own retry policies treat `ETIMEDOUT` as transient, so a lost request is tried again within
 * their retry budget, and the step fails with that message when the budget is spent.
 * The caller's abort signal still works: a cancelled request fails as an abort, not a timeout.
 * `onTimeout` hears each timeout's message, for callers whose SDK replaces the error (MSAL
 * reports every network failure as a bare `network_error`).
 */
export function tryTimeoutPolicy(tryTimeoutInMs: number, onTimeout?: (message: string) => void): TryTimeoutPolicy {
  return {
    name: 'vvpTryTimeout',
    async sendRequest(request, next) {
      const outer = request.abortSignal;
      const caller = asAbortSignal(outer);
      try {
        return await withTimeout(
          (signal) => {
            request.abortSignal = signal;
            return next(request);
          },
          {
            timeoutInMs: tryTimeoutInMs,
            abortSignal: caller.signal,
            timeoutError: () => {
              const timeout = tryTimeoutError(request.url, tryTimeoutInMs);
              onTimeout?.(timeout.message);
              return timeout;
            },
          },
        );
      } finally {
        caller.dispose();
        // Later tries (and the retry policy's own abort check) must see the caller's signal.
        request.abortSignal = outer;
      }
    },
  };
}

/**
 * The caller's signal as a platform AbortSignal. core-rest-pipeline already hands policies one
 * (its wrapAbortSignalLikePolicy), so the bridge is only for a bare `AbortSignalLike`.
 */
function asAbortSignal(like: AbortSignalLike | undefined): { signal: AbortSignal | undefined; dispose: () => void } {
  if (like === undefined || like instanceof AbortSignal) return { signal: like, dispose: () => undefined };
  if (like.aborted) return { signal: AbortSignal.abort(like.reason), dispose: () => undefined };
  const bridge = new AbortController();
  const onAbort = (): void => bridge.abort(like.reason);
  like.addEventListener('abort', onAbort, { once: true });
  return { signal: bridge.signal, dispose: () => like.removeEventListener('abort', onAbort) };
}

/** Shaped like the SDK's RestError (`isRestError` checks the name), so the retry policies see a network error. */
function tryTimeoutError(url: string, tryTimeoutInMs: number): Error {
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    // Keep the raw value; it is only used in the message.
  }
  const error = new Error(`no answer from ${host} within ${formatDuration(tryTimeoutInMs)}`) as Error & { code: string };
  error.name = 'RestError';
  error.code = 'ETIMEDOUT';
  return error;
}

