/**
 * Preloaded into a measured process with `NODE_OPTIONS=--require <this file>`: at exit it writes
 * the process's peak resident set size (`process.resourceUsage().maxRSS`, KiB) to the file named
 * by `BENCH_RSS_FILE`. Nothing else changes in the process.
 */
import * as fs from 'node:fs';

const target = process.env.BENCH_RSS_FILE;
if (target) {
  process.on('exit', () => {
    try {
      fs.writeFileSync(target, String(process.resourceUsage().maxRSS));
    } catch {
      // A benchmark probe must never change how the measured process ends.
    }
  });
}
