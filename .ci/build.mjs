// Bundles each task version into one index.js (esbuild) next to a copy of its task.json and
// icon, under dist/tasks/<Task>/<Task>V<major>/. Type checking is `tsc` (see package.json).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outRoot = join(root, 'dist', 'tasks');

/** Every tasks/<Task>/<Task>V<n>/ folder that has a task.json and an index.ts. */
export function taskVersionFolders() {
  const found = [];
  for (const task of readdirSync(join(root, 'tasks'))) {
    const taskDir = join(root, 'tasks', task);
    if (!statSync(taskDir).isDirectory()) continue;
    for (const version of readdirSync(taskDir)) {
      const dir = join(taskDir, version);
      if (existsSync(join(dir, 'task.json')) && existsSync(join(dir, 'index.ts'))) {
        found.push({ task, version, dir, rel: `${task}/${version}` });
      }
    }
  }
  return found;
}

async function main() {
  rmSync(outRoot, { recursive: true, force: true });
  const folders = taskVersionFolders();
  if (folders.length === 0) throw new Error('no task folders found under tasks/');
  for (const f of folders) {
    const out = join(outRoot, f.task, f.version);
    mkdirSync(out, { recursive: true });
    const result = await build({
      entryPoints: [join(f.dir, 'index.ts')],
      outfile: join(out, 'index.js'),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: true,
      keepNames: true,
      legalComments: 'eof',
      sourcemap: false,
      metafile: true,
      logLevel: 'warning',
      // ESM builds of some dependencies (storage-common's CRC64 wasm loader) read
      // import.meta.url, which is empty in a CommonJS bundle: give them this file's URL.
      define: { 'import.meta.url': '__bundleFileUrl' },
      banner: { js: "var __bundleFileUrl = require('node:url').pathToFileURL(__filename).href;" },
    });
    copyFileSync(join(f.dir, 'task.json'), join(out, 'task.json'));
    copyFileSync(join(f.dir, 'icon.png'), join(out, 'icon.png'));
    const bytes = statSync(join(out, 'index.js')).size;
    console.log(`bundled ${f.rel}/index.js: ${(bytes / 1024).toFixed(0)} KiB (${Object.keys(result.metafile.inputs).length} modules)`);
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('build.mjs')) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
