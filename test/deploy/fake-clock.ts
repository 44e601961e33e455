import type { Clock } from '../../tasks/common/poll/clock';
import { abortReason } from '../../tasks/common/poll/clock';

/**
 * A clock for tests. `sleep` advances time at once (after a microtask) and records the
 * requested delay, so waits of minutes run instantly and their schedule can be asserted.
 */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(private current = Date.parse('2025-01-01T00:00:00Z')) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  async sleep(ms: number, abortSignal?: AbortSignal): Promise<void> {
    if (abortSignal?.aborted) throw abortReason(abortSignal);
    this.sleeps.push(ms);
    this.current += ms;
    await Promise.resolve();
    if (abortSignal?.aborted) throw abortReason(abortSignal);
  }
}

/** A clock whose sleeps never end unless aborted; for "abort mid-sleep" tests. */
export class StuckClock implements Clock {
  sleeping = 0;
  now(): number {
    return 0;
  }
  sleep(_ms: number, abortSignal?: AbortSignal): Promise<void> {
    this.sleeping++;
    return new Promise((_resolve, reject) => {
      if (abortSignal?.aborted) reject(abortReason(abortSignal));
      abortSignal?.addEventListener('abort', () => reject(abortReason(abortSignal)), { once: true });
    });
  }
}
