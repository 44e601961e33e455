import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Environment additions that make a child process report its peak RSS through `rss-preload`,
 * and a reader for the figure (KiB → MB, 1 MB = 10^6 bytes; also MiB).
 */
export function rssProbe(dir: string, name: string): { env: Record<string, string>; read: () => { kib: number; mb: number; mib: number } | undefined } {
  const file = path.join(dir, `${name}.maxrss`);
  fs.rmSync(file, { force: true });
  const preload = path.join(__dirname, 'rss-preload.js');
  return {
    env: { NODE_OPTIONS: `--require ${JSON.stringify(preload)}`, BENCH_RSS_FILE: file },
    read: () => {
      try {
        const kib = Number(fs.readFileSync(file, 'utf8'));
        if (!Number.isFinite(kib) || kib <= 0) return undefined;
        return { kib, mb: (kib * 1024) / 1e6, mib: kib / 1024 };
      } catch {
        return undefined;
      }
    },
  };
}
