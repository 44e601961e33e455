/**
 * Counts of the reliability suite, kept per test process and printed at its end as test
 * diagnostics, so the numbers quoted in the closing note come from a run, not from memory.
 */
export interface ReliabilityLedger {
  /** Fault-injection, hygiene, cancellation and bounded-wait scenarios that ran to their asserts. */
  scenarios: number;
  /** Bad-input cases run against the bundled tasks. */
  badInputs: number;
  /** Task runs whose stdout/stderr/summaries/outputs went through the secret scanner. */
  runsScanned: number;
  /** Distinct secret values the scanner looked for, over all scans. */
  secrets: Set<string>;
  /** Deploy runs whose verdict was compared with the simulator's truth. */
  deployVerdictsChecked: number;
  /** Of those, runs that reported Succeeded (each confirmed by the truth, or counted below). */
  successesConfirmed: number;
  /** Runs that reported Succeeded although the new job with the requested jarUri did not run. */
  falseSuccesses: number;
}

export const ledger: ReliabilityLedger = {
  scenarios: 0,
  badInputs: 0,
  runsScanned: 0,
  secrets: new Set(),
  deployVerdictsChecked: 0,
  successesConfirmed: 0,
  falseSuccesses: 0,
};

/** One line per count, for `t.diagnostic`. */
export function ledgerLines(l: ReliabilityLedger = ledger): string[] {
  return [
    `scenarios: ${l.scenarios}`,
    `bad inputs: ${l.badInputs}`,
    `secrets scanned: ${l.secrets.size} distinct values over ${l.runsScanned} task runs`,
    `deploy verdicts checked against the simulator: ${l.deployVerdictsChecked} (${l.successesConfirmed} successes confirmed)`,
    `false successes: ${l.falseSuccesses}`,
  ];
}
