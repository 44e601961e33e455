// Bundles each task version into one index.js (esbuild) next to a copy of its task.json and
// icon, under dist/tasks/<Task>/<Task>V<major>/. Type checking is `tsc` (see package.json).
//
// Start-up: most of a bundle is the Azure SDKs, axios and yaml, and V8 parses every function of
// a script when it loads it, called or not. The libraries a task loads on first use
// (tasks/common/lazy/libraries.ts) are therefore bundled apart into one chunk that is embedded
// in index.js and compiled the first time one of them is required: a step that fails on its
// inputs, or never needs Key Vault or AKS, does not parse them at all. The chunk is stored
// brotli-compressed in base64: V8 scans even a string literal at every start, and 900 KB of
// JavaScript in a string cost 7 ms there, 210 KB of base64 under 2 ms (decompressing it when
// first needed: 3 ms). index.js stays one self-contained file.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlibConstants } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outRoot = join(root, 'dist', 'tasks');
const LAZY_DIR = join(root, 'tasks', 'common', 'lazy');

const COMMON = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  keepNames: true,
  legalComments: 'eof',
  sourcemap: false,
  logLevel: 'warning',
  // ESM builds of some dependencies (storage-common's CRC64 wasm loader) read
  // import.meta.url, which is empty in a CommonJS bundle: give them this file's URL.
  define: { 'import.meta.url': '__bundleFileUrl' },
};

/**
 * Modules the chunk must share with the start-up code instead of bundling its own copy:
 * task-lib keeps the step's state (secrets moved out of the environment, masking, the result),
 * so tool-lib must use the task's one instance.
 */
const SHARED = ['azure-pipelines-task-lib/task'];

// Set before anything else runs. `__deferredLibrary(name)` compiles the embedded chunk once
// (placeholder __DEFERRED_SOURCE__, filled in after the chunk is built) and returns one facade;
// the chunk's require() answers the SHARED modules from `__deferredShared`.
const BANNER = [
  "var __bundleFileUrl = require('node:url').pathToFileURL(__filename).href;",
  'var __deferredShared = {};',
  'var __deferredLibraries;',
  'function __deferredLibrary(name) {',
  '  if (!__deferredLibraries) {',
  '    var chunk = { exports: {} };',
  "    var source = require('node:zlib').brotliDecompressSync(Buffer.from(__DEFERRED_SOURCE__, 'base64')).toString('utf8');",
  '    var chunkRequire = function (id) { return Object.prototype.hasOwnProperty.call(__deferredShared, id) ? __deferredShared[id] : require(id); };',
  "    require('node:vm').compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname', '__bundleFileUrl'], { filename: __filename })(chunk.exports, chunkRequire, chunk, __filename, __dirname, __bundleFileUrl);",
  '    __deferredLibraries = chunk.exports;',
  '  }',
  '  return __deferredLibraries[name];',
  '}',
].join('\n');

/**
 * Replaces each `require('./<facade>')` inside tasks/common/lazy/ by a call into the deferred
 * chunk. Which facades a task really uses shows in the output, after tree shaking.
 */
function deferredLibraries(entry) {
  return {
    name: 'deferred-libraries',
    setup(b) {
      // The entry first registers the SHARED modules (the task loads them at start-up anyway).
      b.onLoad({ filter: /[\\/]index\.ts$/ }, async (args) => {
        if (args.path !== entry) return undefined;
        const register = SHARED.map((id) => `__deferredShared[${JSON.stringify(id)}] = require(${JSON.stringify(id)});`).join('\n');
        return { contents: `${register}\n${await readFile(args.path, 'utf8')}`, loader: 'ts' };
      });
      b.onResolve({ filter: /^\.\/[\w-]+$/ }, (args) => {
        if (args.kind !== 'require-call' || dirname(args.importer) !== LAZY_DIR) return undefined;
        const file = join(LAZY_DIR, `${args.path.slice(2)}.ts`);
        return existsSync(file) ? { path: file, namespace: 'deferred' } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'deferred' }, (args) => {
        return { contents: `module.exports = __deferredLibrary(${JSON.stringify(basename(args.path, '.ts'))});`, loader: 'js' };
      });
    },
  };
}

/** The chunk: every used facade, each evaluated when first read. */
async function buildChunk(facades) {
  if (facades.length === 0) return { code: '', modules: 0 };
  const contents = facades
    .map((f) => `Object.defineProperty(exports, ${JSON.stringify(basename(f, '.ts'))}, { enumerable: true, get: () => require(${JSON.stringify(f)}) });`)
    .join('\n');
  const result = await build({
    ...COMMON,
    stdin: { contents, resolveDir: LAZY_DIR, sourcefile: 'deferred-libraries.js', loader: 'js' },
    external: SHARED,
    write: false,
    metafile: true,
  });
  return { code: result.outputFiles[0].text, modules: Object.keys(result.metafile.inputs).length };
}

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
      ...COMMON,
      entryPoints: [join(f.dir, 'index.ts')],
      outfile: join(out, 'index.js'),
      write: false,
      metafile: true,
      banner: { js: BANNER },
      plugins: [deferredLibraries(join(f.dir, 'index.ts'))],
    });
    const main = result.outputFiles[0].text;
    const used = new Set([...main.matchAll(/__deferredLibrary\("([\w-]+)"\)/g)].map((m) => join(LAZY_DIR, `${m[1]}.ts`)));
    const chunk = await buildChunk([...used].sort());
    if (main.split('__DEFERRED_SOURCE__').length !== 2) throw new Error(`${f.rel}: expected one __DEFERRED_SOURCE__ placeholder in the bundle`);
    const packed = brotliCompressSync(Buffer.from(chunk.code, 'utf8'), { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } }).toString('base64');
    writeFileSync(join(out, 'index.js'), main.replace('__DEFERRED_SOURCE__', () => `'${packed}'`));
    copyFileSync(join(f.dir, 'task.json'), join(out, 'task.json'));
    copyFileSync(join(f.dir, 'icon.png'), join(out, 'icon.png'));
    const bytes = statSync(join(out, 'index.js')).size;
    const startup = Buffer.byteLength(main);
    console.log(
      `bundled ${f.rel}/index.js: ${(bytes / 1024).toFixed(0)} KiB (${Object.keys(result.metafile.inputs).length + chunk.modules} modules); ` +
        `parsed at start-up ${(startup / 1024).toFixed(0)} KiB, on first use of ${used.size} librar${used.size === 1 ? 'y' : 'ies'} ` +
        `${(Buffer.byteLength(chunk.code) / 1024).toFixed(0)} KiB (stored as ${(packed.length / 1024).toFixed(0)} KiB)`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('build.mjs')) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
