/**
 * Defects of the production code the simulation finds today, each excused by a predicate that
 * matches exactly the violations it causes, so the committed simulation test stays green while
 * the fixes land. Delete an entry with its fix: the seeds it excused must then pass.
 */
import type { RunRecord } from './harness';
import type { Violation } from './invariants';

export interface KnownDefect {
  /** One sentence: what is wrong in the production code. */
  defect: string;
  /** True when `violation` of `run` is caused by this defect. */
  matches(run: RunRecord, violation: Violation): boolean;
}

export const KNOWN_DEFECTS: readonly KnownDefect[] = [];

/** The known defect that explains `violation`, if any. */
export function excuseOf(run: RunRecord, violation: Violation): KnownDefect | undefined {
  return KNOWN_DEFECTS.find((d) => d.matches(run, violation));
}
