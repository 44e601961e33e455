/**
 * Timestamps as VVP writes them: ISO-8601 UTC with microseconds
 * (`2020-08-18T07:04:40.379926Z`).
 */

let lastMicros = 0;

/**
 * Current time in microseconds since the epoch, strictly increasing between calls so
 * resources created in one step still sort in creation order by `createdAt`.
 */
export function nowMicros(): number {
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  lastMicros = Math.max(micros, lastMicros + 1);
  return lastMicros;
}

/** Formats epoch microseconds as `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
export function formatMicros(micros: number): string {
  const millis = Math.floor(micros / 1000);
  const fraction = String(micros % 1_000_000).padStart(6, '0');
  return new Date(millis).toISOString().replace(/\.\d{3}Z$/, `.${fraction}Z`);
}

/** The current time as a VVP timestamp. */
export function isoNow(): string {
  return formatMicros(nowMicros());
}
