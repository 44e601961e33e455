/**
 * `npm run sim -- --seeds N [--from S]`: explores N seeds from S (default: after the CI list) and
 * prints seeds per second; `npm run sim -- --seed S` replays one seed with its full log. A
 * failing seed prints one line that replays it, the invariants it broke and the last log lines.
 * `--strict` also reports violations the known-defect list excuses. Exit code 1 on failures.
 */
import { ciSeeds, failureReport, simulateSeed } from './simulate';

interface Args {
  seeds: number[];
  strict: boolean;
  verbose: boolean;
}

function parseArgs(argv: string[]): Args {
  let count: number | undefined;
  let from: number | undefined;
  let single: number | undefined;
  let strict = false;
  for (let i = 0; i < argv.length; i++) {
    const value = (): number => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${argv[i - 1]} needs a whole number, got ${argv[i]}`);
      return n;
    };
    switch (argv[i]) {
      case '--seeds':
        count = value();
        break;
      case '--from':
        from = value();
        break;
      case '--seed':
        single = value();
        break;
      case '--strict':
        strict = true;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}; usage: npm run sim -- --seeds N [--from S] [--strict] | --seed S`);
    }
  }
  if (single !== undefined) return { seeds: [single], strict: true, verbose: true };
  const start = from ?? ciSeeds().length + 1;
  return { seeds: Array.from({ length: count ?? 2000 }, (_, i) => start + i), strict, verbose: false };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  let failed = 0;
  let excused = 0;
  const byCode = new Map<string, { count: number; firstSeed: number }>();
  for (const seed of args.seeds) {
    const outcome = await simulateSeed(seed);
    if (args.strict) {
      outcome.failures.push(...outcome.excused.map((e) => e.violation));
      outcome.excused = [];
    }
    excused += outcome.excused.length > 0 ? 1 : 0;
    for (const v of [...outcome.failures, ...outcome.excused.map((e) => e.violation)]) {
      const entry = byCode.get(v.code) ?? { count: 0, firstSeed: seed };
      entry.count += 1;
      byCode.set(v.code, entry);
    }
    if (outcome.failures.length > 0) {
      failed += 1;
      console.log(failureReport(outcome, args.verbose ? 10_000 : 15));
    } else if (args.verbose) {
      console.log(`seed ${seed}: every invariant holds (${outcome.run.step.result?.outcome ?? 'no result'})`);
      for (const e of outcome.excused) console.log(`  excused [${e.violation.code}] ${e.violation.message} — known defect: ${e.defect.defect}`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const codes = [...byCode.entries()].sort((a, b) => b[1].count - a[1].count);
  if (codes.length > 0) console.log(`violations by kind: ${codes.map(([code, e]) => `${code} ×${e.count} (first seed ${e.firstSeed})`).join(', ')}`);
  console.log(
    `${args.seeds.length} seeds in ${seconds.toFixed(1)} s: ${(args.seeds.length / seconds).toFixed(0)} seeds/s; ${failed} failing, ${excused} with known defects only`,
  );
  process.exitCode = failed > 0 ? 1 : 0;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 2;
});
