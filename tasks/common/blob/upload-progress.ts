import { MIB } from './block-plan';

/** Files up to this size upload in a moment: no progress lines for them. */
export const PROGRESS_THRESHOLD_IN_BYTES = 16 * MIB;

/**
 * Turns a stream of "bytes sent so far" into at most one report per `stepPercent` (10 by
 * default), so a large upload logs about ten lines instead of one per block.
 */
export class ProgressThrottle {
  private lastReported = 0;

  constructor(
    private readonly totalBytes: number,
    private readonly stepPercent: number = 10,
  ) {}

  /**
   * Returns the percentage to report when `sentBytes` crosses the next step (rounded down to a
   * multiple of the step), or undefined when nothing new is worth a line. Never goes backwards.
   */
  update(sentBytes: number): number | undefined {
    if (this.totalBytes <= 0) return undefined;
    const percent = Math.min(100, Math.floor((sentBytes / this.totalBytes) * 100));
    const step = Math.floor(percent / this.stepPercent) * this.stepPercent;
    if (step <= this.lastReported) return undefined;
    this.lastReported = step;
    return step;
  }
}

/** `12.3 MiB` style size for log lines. */
export function formatMiB(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

/** A file size for people: `34 bytes` below 1 MiB, else `12.3 MiB (12 897 485 bytes)`. */
export function formatSize(bytes: number): string {
  if (bytes < MIB) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  return `${formatMiB(bytes)} (${String(bytes).replace(/\B(?=(\d{3})+(?!\d))/g, ' ')} bytes)`;
}

/** MiB per second, for the summary line; 0 for a zero duration. */
export function mibPerSecond(bytes: number, durationInMs: number): number {
  return durationInMs > 0 ? bytes / MIB / (durationInMs / 1000) : 0;
}
