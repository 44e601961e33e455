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


export const KNOWN_DEFECTS: readonly KnownDefect[] = [
  {
    defect:
      "An offline plan of a SQL deployment logs (and puts in its summary) the PATCH body with the script as is: the values of sensitive WITH options (e.g. 'password') show. plan.ts's JSON replacer `maskedJarUris` masks jarUri and sensitive keys only; fix: `if (key === 'sqlScript' && typeof value === 'string') return maskSensitiveOptions(value);` (tasks/common/sql/mask-options.ts).",
    seed: 143,
    matches: (run, violation) =>
      violation.code.startsWith('I6-sqlPassword-') && run.step.config.action === 'plan' && /^Plan \(offline\)/.test(run.step.result?.message ?? '') && run.step.logs.includes('The PATCH body a deploy would send:'),
  },
];

export function excuseOf(run: RunRecord, violation: Violation): KnownDefect | undefined {
  return KNOWN_DEFECTS.find((d) => d.matches(run, violation));
}
