/**
 * The bundled tasks `npm run build` writes to dist/, for end-to-end runs exactly as the VSIX
 * ships them. `npm test` builds first; when running a test file by hand after editing a
 * source, a stale bundle is refused rather than silently tested.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Repository root, from out/test/rig/ or test/rig/. */
export const ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}out${path.sep}`) ? '../../..' : '../..');

export type TaskName = 'VvpUploadArtifact' | 'VvpDeploy';

/** Folder holding `index.js`, `task.json` and `icon.png` of the bundled task's major version 1. */
export function bundledTaskDir(task: TaskName): string {
  const dir = path.join(ROOT, 'dist', 'tasks', task, `${task}V1`);
  const entry = path.join(dir, 'index.js');
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  const built = fs.statSync(entry).mtimeMs;
  const newer = newestSource(path.join(ROOT, 'tasks'));
  if (newer.mtimeMs > built) {
    throw new Error(`${entry} is older than ${path.relative(ROOT, newer.file)}: run \`npm run build\` first`);
  }
  return dir;
}

function newestSource(dir: string): { file: string; mtimeMs: number } {
  let best = { file: dir, mtimeMs: 0 };
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const candidate = entry.isDirectory()
      ? newestSource(full)
      : /\.(ts|json)$/.test(entry.name)
        ? { file: full, mtimeMs: fs.statSync(full).mtimeMs }
        : best;
    if (candidate.mtimeMs > best.mtimeMs) best = candidate;
  }
  return best;
}
