/**
 * The simulation's throughput for `npm run bench`: the real harness (scenario, fault-injecting
 * in-memory VVP, the flow, the invariants, the next deploy) over the CI seeds.
 */
import { ciSeeds, simulateSeed } from './simulate';

export interface SimFigures {
  seeds: number;
  seconds: number;
  seedsPerSecond: number;
  /** The slowest seed, ms of real time. */
  slowestSeedMs: number;
  slowestSeed: number;
  /** Seeds with a violation no known defect explains. */
  failing: number;
}

export async function benchSimulation(seedCount: number): Promise<SimFigures> {
  const seeds = ciSeeds(seedCount);
  let slowestSeedMs = 0;
  let slowestSeed = 0;
  let failing = 0;
  const started = performance.now();
  for (const seed of seeds) {
    const t0 = performance.now();
    const outcome = await simulateSeed(seed);
    const ms = performance.now() - t0;
    if (ms > slowestSeedMs) [slowestSeedMs, slowestSeed] = [ms, seed];
    if (outcome.failures.length > 0) failing += 1;
  }
  const seconds = (performance.now() - started) / 1000;
  return { seeds: seeds.length, seconds, seedsPerSecond: seeds.length / seconds, slowestSeedMs, slowestSeed, failing };
}
