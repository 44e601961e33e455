/**
 * Time as the waiting code sees it. Production uses the system clock; tests use a fake one so a
 * 15-minute wait runs in microseconds and deadlines are exact.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds, or rejects with the signal's reason (an abort error) as
   * soon as `abortSignal` fires. Never resolves early.
   */
  sleep(ms: number, abortSignal?: AbortSignal): Promise<void>;
}

/** The real clock: `Date.now` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, abortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (abortSignal?.aborted) {
        reject(abortReason(abortSignal));
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortReason(abortSignal as AbortSignal));
      };
      const timer = setTimeout(() => {
        abortSignal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      abortSignal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * The error an aborted wait rejects with: the signal's reason when it is an Error (the task
 * runner aborts with a CancelledError naming the phase), else a DOMException-like AbortError.
 */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error(typeof reason === 'string' ? reason : 'The operation was aborted');
  error.name = 'AbortError';
  return error;
}

/** Throws the abort reason when `signal` has fired; a cheap check between steps. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}
