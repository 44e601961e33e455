/**
 * The one way the tasks write a duration: "0.3 s", "2.5 s", "45 s", "15 min", "1 min 30 s".
 * Below 10 s with one decimal (a request timeout of 0.3 s must not read "0 s").
 */
export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${Math.round(ms / 100) / 10} s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 60) return `${totalSeconds} s`;
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  return seconds === 0 ? `${minutes} min` : `${minutes} min ${seconds} s`;
}
