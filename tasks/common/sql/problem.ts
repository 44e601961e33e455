import type { Position } from './positions';

/**
 * A problem found in a file, with where it is when known. The pipeline adapter turns it into an
 * error annotation at that line and column (`##vso[task.logissue …]`); without a position the
 * annotation names the file only (never "line 0").
 */
export interface SourceProblem {
  message: string;
  /** Where the problem starts in the file (1-based), when known. */
  position?: Position;
  /** Where it ends, when known (VVP reports a range; annotations use the start only). */
  endPosition?: Position;
}
