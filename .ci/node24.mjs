// The Node 24 binary the second leg of `npm test` runs the bundled tasks with (the agent runs
// tasks on Node 20 or 24). Fetched once from the npm registry, the only registry this project
// may rely on, as the platform package `node-<os>-<arch>@24` (the binary ships inside it; no
// install script runs), and kept in .cache/node24/<os>-<arch>/ (git-ignored) for later runs.
//
//   node .ci/node24.mjs      prints the binary's path, fetching it first when needed
//
// Exits non-zero with the reason when it cannot be had.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MAJOR = '24';
const OS = { linux: 'linux', darwin: 'darwin', win32: 'win' };

/** Runs the binary; its version when it is a Node 24, else undefined. */
function versionOf(binary) {
  if (!existsSync(binary)) return undefined;
  const run = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  const version = (run.stdout ?? '').trim();
  return run.status === 0 && version.startsWith(`v${MAJOR}.`) ? version : undefined;
}

/** The binary's path inside an unpacked platform package (`package/bin/node`, `package/node.exe` on Windows). */
function binaryIn(dir) {
  return ['bin/node', 'bin/node.exe', 'node.exe'].map((p) => join(dir, 'package', p)).find((p) => existsSync(p));
}

/**
 * The path of a Node 24 binary for this machine: the cached one, or one fetched now.
 * @throws Error saying what failed and what to do.
 */
export function node24() {
  const os = OS[process.platform];
  const pkg = `node-${os}-${process.arch}`;
  if (!os) throw new Error(`no Node ${MAJOR} package on the npm registry for ${process.platform}`);
  const cache = join(root, '.cache', `node${MAJOR}`, `${os}-${process.arch}`);
  const cached = existsSync(cache) ? binaryIn(cache) : undefined;
  if (cached && versionOf(cached)) return cached;

  mkdirSync(dirname(cache), { recursive: true });
  const work = mkdtempSync(join(dirname(cache), '.fetch-'));
  try {
    process.stderr.write(`fetching ${pkg}@${MAJOR} from the npm registry into ${cache} (once)\n`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const pack = spawnSync(npm, ['pack', `${pkg}@${MAJOR}`, '--pack-destination', work, '--json', '--silent'], {
      encoding: 'utf8',
      shell: process.platform === 'win32',
    });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (pack.status !== 0 || !tarball) {
      throw new Error(`npm pack ${pkg}@${MAJOR} failed (exit ${pack.status}): ${(pack.stderr || pack.stdout || String(pack.error ?? '')).trim().slice(-800)}`);
    }
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    // Only the binary (and the licence) out of the 50 MB package: headers and docs are not
    // needed. The Windows package's layout differs: there everything is unpacked.
    const members = process.platform === 'win32' ? [] : ['package/LICENSE', 'package/bin/node'];
    const tar = spawnSync('tar', ['-xzf', join(work, tarball), '-C', unpacked, ...members], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`unpacking ${tarball} with tar failed: ${(tar.stderr || String(tar.error ?? '')).trim()}`);
    const binary = binaryIn(unpacked);
    if (!binary || !versionOf(binary)) throw new Error(`${tarball} holds no runnable Node ${MAJOR} binary`);
    rmSync(cache, { recursive: true, force: true });
    renameSync(unpacked, cache);
    return binaryIn(cache);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(node24());
  } catch (error) {
    console.error(`Node ${MAJOR} for the task runs cannot be had: ${error.message}`);
    process.exit(1);
  }
}
