/**
 * The only logging surface the core code sees. The pipeline adapter implements it with
 * task-lib (`##[group]`, `##[warning]`, debug lines); tests implement it with an array.
 */
export interface Logger {
  /** A normal log line, shown to the user. */
  info(message: string): void;
  /** A warning annotation on the step. */
  warn(message: string): void;
  /** Only visible with `System.Debug=true`. Never pass tokens, headers or bodies here. */
  debug(message: string): void;
  /** Opens a collapsible group; `endGroup` closes it. Groups do not nest. */
  startGroup(name: string): void;
  endGroup(): void;
  /** Reports progress of the whole step in percent (0-100). */
  progress(percent: number, label: string): void;
}

/** Runs `work` inside a log group and closes the group whatever happens. */
export async function inGroup<T>(logger: Logger, name: string, work: () => Promise<T>): Promise<T> {
  logger.startGroup(name);
  try {
    return await work();
  } finally {
    logger.endGroup();
  }
}
