/**
 * Runs seeds and sorts their violations into known defects (excused) and failures.
 */
import { runSeed, type RunRecord } from './harness';
import { checkInvariants, type Violation } from './invariants';
import { excuseOf, type KnownDefect } from './known-defects';
import { describeScenario } from './scenario';

export interface SeedOutcome {
  seed: number;
  run: RunRecord;
  failures: Violation[];
  excused: { violation: Violation; defect: KnownDefect }[];
}

export async function simulateSeed(seed: number): Promise<SeedOutcome> {
  const run = await runSeed(seed);
  const failures: Violation[] = [];
  const excused: SeedOutcome['excused'] = [];
  for (const violation of checkInvariants(run)) {
    const defect = excuseOf(run, violation);
    if (defect) excused.push({ violation, defect });
    else failures.push(violation);
  }
  return { seed, run, failures, excused };
}

/** The fixed seed list CI runs. */
export function ciSeeds(count = 2000): number[] {
  return Array.from({ length: count }, (_, i) => i + 1);
}

/** The report of a failing seed: one replay line, the invariants broken, the scenario and the last log lines. */
export function failureReport(outcome: SeedOutcome, logLines = 15): string {
  const { run } = outcome;
  const lines = [
    `replay: npm run sim -- --seed ${outcome.seed}`,
    ...outcome.failures.map((v) => `  invariant ${v.invariant} [${v.code}]: ${v.message}`),
    `  scenario: ${describeScenario(run.scenario)}`,
    `  outcome: ${run.step.result?.outcome ?? (run.step.hung ? 'hung' : 'threw')} — ${oneLineOf(run.step.result?.message ?? String(run.step.thrown ?? ''))}`,
    `  faults injected: ${run.injected.length === 0 ? 'none' : run.injected.map((f) => `${f.call}:${f.fault}`).join(', ')}`,
    `  last log lines:`,
    ...run.step.logs.slice(-logLines).map((l) => `    ${l}`),
  ];
  return lines.join('\n');
}

function oneLineOf(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}
