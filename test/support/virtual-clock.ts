/**
 * Virtual time for fast, deterministic flow tests: one clock that is both the tasks' `Clock`
 * (`now`, `sleep`) and the VVP simulator's `SimClock` (timestamps, timers).
 *
 * Time only moves while somebody sleeps. Every sleeper and every simulator timer is one entry
 * in a single queue ordered by due time (then by scheduling order); while at least one sleep is
 * pending, the clock jumps to the earliest entry, runs it, and lets the code it woke run to its
 * next wait before taking the next entry. Concurrent sleeps therefore overlap as they would in
 * real time (two parallel 1 s sleeps take 1 s, not 2 s), and a 15-minute wait runs in
 * milliseconds, the same way every time. A sleep that nobody aborts (say, the losing side of a
 * `Promise.race`) keeps time moving until it ends, as a forgotten real timer would keep the
 * process alive.
 */
import { abortReason, type Clock } from '../../tasks/common/poll/clock';
import { MicrosecondStamps, type SimClock, type SimTimer } from '../vvp-simulator/sim-clock';

interface Entry {
  due: number;
  seq: number;
  run: () => void;
}

/** Lets every microtask queued so far (and those they queue) run first. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A clock whose time advances only through `sleep` (and `advance`). */
export class VirtualClock implements Clock, SimClock {
  private current: number;
  private nextSeq = 0;
  private queue: Entry[] = [];
  private sleepers = 0;
  private driving = false;
  private readonly stamps: MicrosecondStamps;

  /** @param startInMs Virtual start time, ms since the epoch. Default 2025-01-01T00:00:00Z. */
  constructor(startInMs = Date.parse('2025-01-01T00:00:00Z')) {
    this.current = startInMs;
    this.stamps = new MicrosecondStamps(() => this.current);
  }

  now(): number {
    return this.current;
  }

  isoNow(): string {
    return this.stamps.next();
  }

  setTimer(callback: () => void, delayInMs: number): SimTimer {
    const entry = this.schedule(callback, delayInMs);
    return { clear: () => void this.remove(entry) };
  }

  /**
   * Resolves when virtual time reaches now + `ms`, after every simulator timer due before then
   * (in order). Rejects with the signal's reason as soon as `abortSignal` fires.
   */
  sleep(ms: number, abortSignal?: AbortSignal): Promise<void> {
    if (abortSignal?.aborted) return Promise.reject(abortReason(abortSignal));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.remove(entry)) return;
        this.sleepers -= 1;
        reject(abortReason(abortSignal as AbortSignal));
      };
      const entry = this.schedule(() => {
        this.sleepers -= 1;
        abortSignal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      this.sleepers += 1;
      abortSignal?.addEventListener('abort', onAbort, { once: true });
      void this.drive();
    });
  }

  /** Lets `ms` of virtual time pass (a sleep nobody else waits for). */
  advance(ms: number): Promise<void> {
    return this.sleep(ms);
  }

  /** Simulator timers still scheduled (sleepers not counted). */
  pendingTimers(): number {
    return this.queue.length - this.sleepers;
  }

  private schedule(run: () => void, delayInMs: number): Entry {
    const entry: Entry = { due: this.current + Math.max(0, delayInMs), seq: this.nextSeq++, run };
    // Sorted insert: by due time, then first scheduled first.
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1].due > entry.due) i--;
    this.queue.splice(i, 0, entry);
    return entry;
  }

  private remove(entry: Entry): boolean {
    const i = this.queue.indexOf(entry);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    return true;
  }

  /** Runs due entries in order while somebody sleeps; one driver at a time. */
  private async drive(): Promise<void> {
    if (this.driving) return;
    this.driving = true;
    try {
      for (;;) {
        // Whoever was just woken (or just went to sleep) runs to its next wait first, so
        // every entry it schedules is in the queue before time moves on.
        await settle();
        const next = this.queue[0];
        if (this.sleepers === 0 || !next) return;
        this.queue.shift();
        this.current = Math.max(this.current, next.due);
        try {
          next.run();
        } catch (error) {
          // As with a real timer: a throwing callback is an uncaught exception, not silence.
          queueMicrotask(() => {
            throw error;
          });
        }
      }
    } finally {
      this.driving = false;
    }
  }
}
