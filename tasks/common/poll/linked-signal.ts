/**
 * One abort signal for a piece of work that must stop when any of several things happens: a
 * caller's signal fires, or its time is up. The only way this project combines signals or
 * puts a deadline on one.
 *
 * Why not `AbortSignal.timeout()` and `AbortSignal.any()`: on Node 20 the signal
 * `AbortSignal.any()` returns, and the timeout signals given to it, are held only weakly. After
 * a garbage collection the timeout never fires and the combined signal never aborts, so a
 * request to a server that accepts the connection and never answers waits forever (Node 24 is
 * not affected, the agent still runs tasks on 20). Here the deadline is a plain `setTimeout`
 * whose callback holds the controller, and the callers' signals hold plain listeners: every
 * link is a strong reference until {@link LinkedSignal.dispose} removes it.
 */

/** What {@link linkSignals} links. */
interface LinkOptions {
  /** Signals whose abort aborts the linked signal, with the same reason. `undefined` entries are skipped. */
  signals?: readonly (AbortSignal | undefined)[];
  /** Milliseconds until the linked signal aborts by itself; negative counts as 0. Absent or `Infinity`: no deadline. */
  timeoutInMs?: number;
  /**
   * The reason the linked signal aborts with when time is up. Called once, at that moment.
   * Default: a `TimeoutError` DOMException, as `AbortSignal.timeout` gives.
   */
  timeoutReason?: () => unknown;
}

/** A linked signal and the means to unlink it. */
interface LinkedSignal {
  /** Aborts with the first source's reason, or the timeout reason; never un-aborts. */
  readonly signal: AbortSignal;
  /** True when the deadline, not a source, aborted the signal. */
  readonly timedOut: boolean;
  /**
   * Clears the deadline and removes the listeners from the sources; the signal stays as it is
   * (not aborted by a later source abort). Call it when the work ends, however it ends, so a
   * long-lived source (the step's cancel signal) does not collect one listener per request.
   * Safe to call more than once; done by itself when the signal aborts.
   */
  dispose(): void;
}

/**
 * Links `signals` and an optional deadline into one signal (see {@link LinkedSignal}).
 * A source that has already fired aborts the result at once, with its reason.
 */
export function linkSignals(options: LinkOptions): LinkedSignal {
  const controller = new AbortController();
  const sources = (options.signals ?? []).filter((s): s is AbortSignal => s !== undefined);
  const listeners: { source: AbortSignal; listener: () => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;

  const dispose = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    for (const { source, listener } of listeners.splice(0)) source.removeEventListener('abort', listener);
  };
  const abort = (reason: unknown): void => {
    if (controller.signal.aborted) return;
    dispose();
    controller.abort(reason);
  };

  for (const source of sources) {
    if (source.aborted) {
      abort(source.reason);
      break;
    }
    const listener = (): void => abort(source.reason);
    source.addEventListener('abort', listener, { once: true });
    listeners.push({ source, listener });
  }
  const timeoutInMs = options.timeoutInMs;
  if (!controller.signal.aborted && timeoutInMs !== undefined && Number.isFinite(timeoutInMs)) {
    timer = setTimeout(
      () => {
        timer = undefined;
        timedOut = true;
        abort(options.timeoutReason ? options.timeoutReason() : new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
      },
      Math.max(0, timeoutInMs),
    );
  }
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    dispose,
  };
}
