import { abortReason } from './clock';
import { linkSignals } from './linked-signal';

/** How long an operation may take and what its caller may cancel. */
interface TimeoutOptions {
  /** Milliseconds the operation may take; negative counts as 0. `Infinity` means no deadline. */
  timeoutInMs: number;
  /** Cancels the operation; the call then rejects with the signal's reason (see `abortReason`). */
  abortSignal?: AbortSignal;
  /**
   * The error the call rejects with when time is up. Called once, at that moment, so it can
   * describe what was seen so far (kubectl's last output, the host that did not answer).
   */
  timeoutError: () => Error;
}

/**
 * Runs `operation` with a deadline and a cancel signal, the one way this project bounds a wait.
 *
 * The operation gets a signal that aborts when time is up (reason: the `timeoutError`) or when
 * `abortSignal` fires (its reason), so it can stop its own work. The call settles as soon as
 * the first of three things happens: the operation settles (its value or error), the deadline
 * passes (rejects with `timeoutError()`), or `abortSignal` fires (rejects with its reason). It
 * never waits for an operation that ignores its signal (a download that cannot be cancelled);
 * that operation's later outcome is dropped without an unhandled rejection. The timer and every
 * listener are removed when the call settles, so nothing keeps the process alive.
 *
 * @throws the `timeoutError()`, the abort reason, or whatever the operation throws.
 */
export function withTimeout<T>(operation: (signal: AbortSignal) => Promise<T>, options: TimeoutOptions): Promise<T> {
  const outer = options.abortSignal;
  if (outer?.aborted) return Promise.reject(abortReason(outer));
  const link = linkSignals({ signals: [outer], timeoutInMs: options.timeoutInMs, timeoutReason: options.timeoutError });
  const signal = link.signal;
  return new Promise<T>((resolve, reject) => {
    const cleanUp = (): void => {
      link.dispose();
      signal.removeEventListener('abort', onAbort);
    };
    function onAbort(): void {
      cleanUp();
      // The deadline's reason is the caller's timeout error; the outer reason is normalised.
      reject(link.timedOut ? signal.reason : abortReason(outer as AbortSignal));
    }
    signal.addEventListener('abort', onAbort, { once: true });
    let work: Promise<T>;
    try {
      work = operation(signal);
    } catch (error) {
      // A synchronous throw is the operation's failure too.
      work = Promise.reject(error);
    }
    work.then(
      (value) => {
        if (signal.aborted) return;
        cleanUp();
        resolve(value);
      },
      (error: unknown) => {
        if (signal.aborted) return;
        cleanUp();
        reject(error);
      },
    );
  });
}
