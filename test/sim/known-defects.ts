/**
 * Defects of the production code the simulation finds today, each excused by a predicate that
 * matches the violations it causes (and only those), so the committed simulation test stays green
 * while the fixes land. Delete an entry with its fix: the seeds it excused must then pass.
 * `npm run sim -- --seed S` shows excused violations too; `--strict` counts them as failures.
 */
import type { RunRecord } from './harness';
import type { Violation } from './invariants';

export interface KnownDefect {
  /** One sentence: what is wrong in the production code (and where). */
  defect: string;
  /** A seed that shows it (`npm run sim -- --seed <seed>`). */
  seed: number;
  /** True when `violation` of `run` is caused by this defect. */
  matches(run: RunRecord, violation: Violation): boolean;
}


export const KNOWN_DEFECTS: readonly KnownDefect[] = [];

export function excuseOf(run: RunRecord, violation: Violation): KnownDefect | undefined {
  return KNOWN_DEFECTS.find((d) => d.matches(run, violation));
}
