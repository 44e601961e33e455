/**
 * Time as the simulator sees it: the current time, VVP-style timestamps and timers. The HTTP
 * simulator runs on the real clock; the in-memory VVP (test/support/in-memory-vvp.ts) injects a
 * virtual one, so a 15-minute wait runs in milliseconds and in a fixed order.
 */

/** A scheduled callback that can still be cancelled. */
export interface SimTimer {
  /** Cancels the callback; no effect once it ran. */
  clear(): void;
}

/** The simulator's source of time. Every timestamp and timer of the controller goes through it. */
export interface SimClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * The current time as a VVP timestamp (ISO-8601 UTC with microseconds,
   * `2020-08-18T07:04:40.379926Z`), strictly increasing between calls so resources created in
   * one step still sort in creation order by `createdAt`.
   */
  isoNow(): string;
  /** Runs `callback` once after `delayInMs` (0 or more). */
  setTimer(callback: () => void, delayInMs: number): SimTimer;
}

/** Formats epoch microseconds as `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
export function formatMicros(micros: number): string {
  const millis = Math.floor(micros / 1000);
  const fraction = String(micros % 1_000_000).padStart(6, '0');
  return new Date(millis).toISOString().replace(/\.\d{3}Z$/, `.${fraction}Z`);
}

/**
 * Strictly increasing microsecond timestamps from a millisecond time source: two resources
 * written in the same microsecond still get distinct, ordered `createdAt` values.
 */
export class MicrosecondStamps {
  private last = 0;

  constructor(private readonly nowInMs: () => number) {}

  /** The next timestamp, at least 1 µs after the previous one. */
  next(): string {
    const micros = Math.floor(this.nowInMs() * 1000);
    this.last = Math.max(micros, this.last + 1);
    return formatMicros(this.last);
  }
}

/** The real clock: `performance` for sub-millisecond timestamps, `setTimeout` for timers. */
export function realSimClock(): SimClock {
  const now = (): number => performance.timeOrigin + performance.now();
  const stamps = new MicrosecondStamps(now);
  return {
    now: () => Math.floor(now()),
    isoNow: () => stamps.next(),
    setTimer: (callback, delayInMs) => {
      const timer = setTimeout(callback, Math.max(0, delayInMs));
      return { clear: () => clearTimeout(timer) };
    },
  };
}
