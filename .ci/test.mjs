// Runs every compiled test file (out/test/**/*.test.js) with node's test runner. Files are
// listed explicitly: given a directory, node would also run every helper under a `test/` folder.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filter = process.argv.slice(2);

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return findTests(full);
    return e.name.endsWith('.test.js') ? [full] : [];
  });
}

const files = findTests(join(root, 'out', 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)))
  .sort();
if (files.length === 0) {
  console.error('no test files found under out/test (run `npm run build` first)');
  process.exit(1);
}
// Most tests wait on child processes and timers, not CPU: run a few files at once.
const concurrency = process.env.TEST_CONCURRENCY ?? '3';
const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
