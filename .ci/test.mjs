// Runs the compiled test files (out/test/**/*.test.js) with node's test runner. Files are
// listed explicitly: given a directory, node would also run every helper under a `test/` folder.
//
//   node .ci/test.mjs                   every test file, then the end-to-end files a second time
//                                       with the bundled tasks run by Node 24 (what `npm test` runs)
//   node .ci/test.mjs <substring>...    only the files whose path contains one of them, once
//   node .ci/test.mjs --node24 [<substring>...]
//                                       only the end-to-end files (those matching), tasks on Node 24
//
// The test runner itself always runs on this node (Node 20 in CI). The rig starts each task with
// the binary in VVP_TASK_NODE (test/rig/run-task.ts), defaulting to this node; the Node 24 leg
// sets it to the binary .ci/node24.mjs fetched from the npm registry into .cache/.
// Every file runs with --expose-gc, so tests can force collections (test/rig/force-gc.ts).
// Closes with one line `N passed, N failed` over all legs.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { node24 } from './node24.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const node24Only = args.includes('--node24');
const filter = args.filter((a) => a !== '--node24');

/** The end-to-end files: they start the bundled tasks (or the SDK probe) as the agent does, through the rig. */
const END_TO_END = /(-e2e|[\\/]end-to-end)\.test\.js$/;

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
const endToEnd = files.filter((f) => END_TO_END.test(f));

const legs = [];
if (!node24Only) legs.push({ title: `tasks on ${process.version}`, files, taskNode: process.env.VVP_TASK_NODE });
if (node24Only || filter.length === 0) {
  if (endToEnd.length === 0) {
    console.error('no end-to-end test files match');
    process.exit(1);
  }
  let binary;
  try {
    binary = node24();
  } catch (error) {
    console.error(`Node 24 for the end-to-end leg cannot be had: ${error.message}`);
    console.error('It comes from the npm registry (see README.md, "Node 24"). Without it: node .ci/test.mjs <substring> runs files on this node only.');
    process.exit(1);
  }
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.trim();
  legs.push({ title: `end-to-end files again, tasks on ${version} (${relative(root, binary)})`, files: endToEnd, taskNode: binary });
}

// Most tests wait on child processes and timers, not CPU: run a few files at once.
const concurrency = process.env.TEST_CONCURRENCY ?? '3';
// What node prints by default: spec on a terminal, TAP otherwise. A TAP copy goes to a file for the totals.
const reporter = process.stdout.isTTY ? 'spec' : 'tap';
let passed = 0;
let failed = 0;
let status = 0;
for (const [index, leg] of legs.entries()) {
  console.log(`\n# leg ${index + 1} of ${legs.length}: ${leg.files.length} files, ${leg.title}`);
  const tap = join(tmpdir(), `vvp-tests-${process.pid}-${index}.tap`);
  const env = { ...process.env };
  if (leg.taskNode) env.VVP_TASK_NODE = leg.taskNode;
  else delete env.VVP_TASK_NODE;
  const started = Date.now();
  const result = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--test',
      `--test-concurrency=${concurrency}`,
      `--test-reporter=${reporter}`,
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...leg.files,
    ],
    { cwd: root, stdio: 'inherit', env },
  );
  const counts = tapCounts(tap);
  rmSync(tap, { force: true });
  passed += counts.passed;
  failed += counts.failed;
  if (result.status !== 0) status = result.status ?? 1;
  if (result.status !== 0 && counts.failed === 0) failed += 1; // the runner itself failed
  console.log(`# leg ${index + 1}: ${counts.passed} passed, ${counts.failed} failed in ${Math.round((Date.now() - started) / 1000)} s`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(status);

/** The closing counts of a TAP report (`# pass N`, `# fail N`, `# cancelled N`). */
function tapCounts(file) {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { passed: 0, failed: 0 };
  }
  const last = (name) => {
    const all = [...text.matchAll(new RegExp(`^# ${name} (\\d+)$`, 'gm'))];
    return all.length > 0 ? Number(all[all.length - 1][1]) : 0;
  };
  return { passed: last('pass'), failed: last('fail') + last('cancelled') };
}
