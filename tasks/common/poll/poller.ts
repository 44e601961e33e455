import { isAbortError } from '../errors/errors';
import { abortReason, systemClock, type Clock } from './clock';

/**
 * What one observation means. `state` is a short human description ("TRANSITIONING",
 * "RUNNING, new job 1a2b… STARTING"); the poller reports it whenever it changes, so it must
 * not contain counters or timestamps. `phase` names what the wait is stuck on for timeouts.
 */
export type Verdict<R> =
  | {
      status: 'pending';
      state: string;
      phase: string;
      /**
       * The decisive change is expected soon (e.g. VVP is mid-transition): the next pause is at
       * most `schedule.shortPauseInMs`, so the outcome is seen quickly.
       */
      shortPause?: boolean;
    }
  | { status: 'succeeded'; state: string; result: R }
  | { status: 'failed'; state: string; reason: string };

/**
 * When to probe again. The pause after the first probe is `initialIntervalInMs`; the next
 * `steadyProbes` pauses are `steadyIntervalInMs`; after that each pause is `growthFactor` times
 * the one before, up to `maxIntervalInMs`. A long wait so costs well under one request per
 * second, while the window in which the outcome usually comes is watched closely.
 */
interface PollSchedule {
  /** Pause after the first probe. */
  initialIntervalInMs: number;
  /** Pause after each of the next `steadyProbes` probes. Default: `initialIntervalInMs`. */
  steadyIntervalInMs?: number;
  /** How many pauses stay at `steadyIntervalInMs` before growing. Default 0. */
  steadyProbes?: number;
  /** Factor applied to the pause after each probe once the steady pauses are used up. */
  growthFactor: number;
  /** Longest pause (the user's poll interval). */
  maxIntervalInMs: number;
  /** Longest pause after a pending verdict marked `shortPause`. Default: `maxIntervalInMs`. */
  shortPauseInMs?: number;
}

/** First pause of a VVP wait: a read right after a change still shows the state from before it. */
const VVP_FIRST_PAUSE_IN_MS = 2500;
/** Pause while the outcome may come any moment: verdict on average ~0.6 s after it, 0.8 reads/s. */
const VVP_STEADY_PAUSE_IN_MS = 1250;
/** Steady pauses before backing off: the first ~30 s after a change, when upgrades usually finish. */
const VVP_STEADY_PROBES = 22;

/**
 * The schedule of every VVP wait, judged by every request VVP gets (a probe reads the
 * deployment, and its job when it runs a new one). First read at once; then a pause of 2.5 s
 * (a read just after the PATCH still describes the old job, and VVP needs a few seconds for the
 * savepoint and the new job); then every 1.25 s for the first ~30 s, then longer pauses (x1.5)
 * up to `maxIntervalInMs`; while VVP is mid-transition (`shortPause`) at most 1.25 s. So a new job is
 * seen within 1.25 s of running, about 0.6 s on average, at under one request per second even
 * when the job starts 5 s after the PATCH, and at 1/`maxIntervalInMs` in long waits.
 */
export function adaptiveSchedule(maxIntervalInMs: number): PollSchedule {
  return {
    initialIntervalInMs: Math.min(VVP_FIRST_PAUSE_IN_MS, maxIntervalInMs),
    steadyIntervalInMs: Math.min(VVP_STEADY_PAUSE_IN_MS, maxIntervalInMs),
    steadyProbes: VVP_STEADY_PROBES,
    growthFactor: 1.5,
    maxIntervalInMs,
    shortPauseInMs: Math.min(VVP_STEADY_PAUSE_IN_MS, maxIntervalInMs),
  };
}

/** The pause after probe number `probe` (1-based). */
function intervalAfter(probe: number, schedule: PollSchedule): number {
  if (probe <= 1) return Math.round(Math.min(schedule.maxIntervalInMs, schedule.initialIntervalInMs));
  const steady = schedule.steadyIntervalInMs ?? schedule.initialIntervalInMs;
  const later = probe - 1; // pauses after the first
  const grown = later <= (schedule.steadyProbes ?? 0) ? steady : steady * schedule.growthFactor ** (later - (schedule.steadyProbes ?? 0));
  return Math.round(Math.min(schedule.maxIntervalInMs, grown));
}

/** One reported state change. */
export interface PollProgress<T, R> {
  /** Undefined when the probe failed with a tolerated error (`error` is then set). */
  observation: T | undefined;
  error?: unknown;
  verdict: Verdict<R>;
  /** Milliseconds since polling began. */
  elapsedInMs: number;
  /** Probes made so far, this one included. */
  probes: number;
}

interface PollOptions<T, R> {
  /** Reads the current state. Called first, before any sleep. */
  probe: (abortSignal: AbortSignal | undefined) => Promise<T>;
  /** Pure decision on one observation. */
  classify: (observation: T) => Verdict<R>;
  schedule: PollSchedule;
  /** Overall bound, measured on `clock` from the first probe. */
  timeoutInMs: number;
  clock?: Clock;
  abortSignal?: AbortSignal;
  /** Called on the first observation and whenever `verdict.state` changes; not on every tick. */
  onProgress?: (progress: PollProgress<T, R>) => void;
  /**
   * Probe errors that count as "still pending" (e.g. the service briefly unreachable after the
   * client's own retries). Anything else ends the poll by propagating. Default: none tolerated.
   */
  isTransientProbeError?: (error: unknown) => boolean;
  /** Describes a tolerated probe error as a state, e.g. "status unreadable: HTTP 503". */
  describeProbeError?: (error: unknown) => string;
}

/** How a poll ended (abort is an exception: PollAbortedError). */
export type PollOutcome<T, R> =
  | { kind: 'succeeded'; result: R; last: T; state: string; elapsedInMs: number; probes: number }
  | { kind: 'failed'; reason: string; last: T; state: string; elapsedInMs: number; probes: number }
  | {
      kind: 'timedOut';
      /** The last successful observation, if any. */
      last: T | undefined;
      /** What the last probe said, including a tolerated error. */
      state: string;
      phase: string;
      elapsedInMs: number;
      probes: number;
    };

/** The wait was aborted; carries what was last seen so the caller can say where things stand. */
export class PollAbortedError<T = unknown> extends Error {
  constructor(
    readonly last: T | undefined,
    readonly state: string | undefined,
    cause: unknown,
  ) {
    super(`Polling aborted${state ? ` (last state: ${state})` : ''}`, { cause });
    // Named like a platform abort so isAbortError() and the task runner treat it as cancellation.
    this.name = 'AbortError';
  }
}

/**
 * The one poller for every wait: probe first, classify, report state changes, then sleep for
 * the schedule's next interval (never past the deadline) and probe again. A final probe happens
 * at the deadline before giving up, so a change right at the end is not missed.
 *
 * Abort stops polling promptly (mid-sleep or mid-probe) and never undoes anything on the server.
 *
 * @throws PollAbortedError when `abortSignal` fires.
 * @throws whatever `probe` throws when `isTransientProbeError` does not accept it.
 */
export async function pollUntilDone<T, R>(options: PollOptions<T, R>): Promise<PollOutcome<T, R>> {
  const clock = options.clock ?? systemClock;
  const signal = options.abortSignal;
  const start = clock.now();
  const deadline = start + options.timeoutInMs;
  let last: T | undefined;
  let lastState: string | undefined;
  let lastPhase = 'waiting';
  let probes = 0;

  const aborted = (cause: unknown): PollAbortedError<T> => new PollAbortedError<T>(last, lastState, cause);

  for (;;) {
    if (signal?.aborted) throw aborted(abortReason(signal));
    probes++;
    let observation: T | undefined;
    let error: unknown;
    let verdict: Verdict<R>;
    try {
      observation = await options.probe(signal);
      verdict = options.classify(observation);
      last = observation;
    } catch (e) {
      if (signal?.aborted || isAbortError(e)) throw aborted(e);
      if (!options.isTransientProbeError?.(e)) throw e;
      error = e;
      const described = options.describeProbeError?.(e) ?? `status unreadable: ${(e as Error)?.message ?? String(e)}`;
      verdict = { status: 'pending', state: described, phase: lastPhase };
    }
    const elapsedInMs = clock.now() - start;
    if (verdict.state !== lastState) {
      options.onProgress?.({ observation, error, verdict, elapsedInMs, probes });
      lastState = verdict.state;
    }
    switch (verdict.status) {
      case 'succeeded':
        return { kind: 'succeeded', result: verdict.result, last: observation as T, state: verdict.state, elapsedInMs, probes };
      case 'failed':
        return { kind: 'failed', reason: verdict.reason, last: observation as T, state: verdict.state, elapsedInMs, probes };
      case 'pending':
        lastPhase = verdict.phase;
        break;
      default: {
        const unexpected: never = verdict;
        throw new Error(`unknown verdict ${JSON.stringify(unexpected)}`);
      }
    }
    const now = clock.now();
    if (now >= deadline) {
      return { kind: 'timedOut', last, state: verdict.state, phase: verdict.phase, elapsedInMs: now - start, probes };
    }
    try {
      const soon = verdict.status === 'pending' && verdict.shortPause === true;
      const interval = intervalAfter(probes, options.schedule);
      const pause = soon ? Math.min(interval, options.schedule.shortPauseInMs ?? interval) : interval;
      await clock.sleep(Math.min(pause, deadline - now), signal);
    } catch (e) {
      throw aborted(e);
    }
  }
}
