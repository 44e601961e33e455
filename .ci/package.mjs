// Packages the extension: stages exactly the files the marketplace needs under
// dist/extension/, runs `tfx extension create` (offline) and fails on any tfx warning.
// Leaves exactly one dist/*.vsix.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const stage = join(dist, 'extension');
const args = process.argv.slice(2);

for (const f of readdirSync(dist)) if (f.endsWith('.vsix')) rmSync(join(dist, f));
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });

for (const f of ['vss-extension.json', 'overview.md', 'LICENSE']) copyFileSync(join(root, f), join(stage, f));
mkdirSync(join(stage, 'images'));
copyFileSync(join(root, 'images', 'extension-icon.png'), join(stage, 'images', 'extension-icon.png'));
// Only the bundle, task.json and icon of each task version (dist/tasks is built by build.mjs).
cpSync(join(dist, 'tasks'), join(stage, 'tasks'), {
  recursive: true,
  filter: (src) => !/\.(map|ts)$/.test(src),
});

const tfx = join(root, 'node_modules', 'tfx-cli', '_build', 'tfx-cli.js');
const result = spawnSync(
  process.execPath,
  [tfx, 'extension', 'create', '--root', stage, '--manifest-globs', 'vss-extension.json', '--output-path', dist, '--no-prompt', '--no-color', ...args],
  { cwd: root, encoding: 'utf8', env: { ...process.env, TFX_TRACE: '' } },
);
const output = `${result.stdout}\n${result.stderr}`;
process.stdout.write(output);
if (result.status !== 0) {
  console.error(`tfx extension create failed (exit ${result.status})`);
  process.exit(1);
}
if (/warning:/i.test(output)) {
  console.error('tfx printed a warning: the build treats warnings as errors');
  process.exit(1);
}
const vsix = readdirSync(dist).filter((f) => f.endsWith('.vsix'));
if (vsix.length !== 1) {
  console.error(`expected exactly one .vsix in dist/, found ${vsix.length}`);
  process.exit(1);
}
console.log(`packaged dist/${vsix[0]}`);
