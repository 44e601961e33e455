/**
 * Cold start of a bundled task: spawn `node index.js` with the agent's environment and no inputs,
 * and time until it prints `##vso[task.complete` (it fails at input parsing, before any network
 * call), and to process exit. The reference is `node -e 0` spawned the same way (same
 * environment, same folder): what starting Node itself costs on this machine at this moment.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildTaskEnv } from '../rig/run-task';

export interface ColdStartRun {
  /** To `task.complete`; for `node -e 0`, to exit. */
  toCompleteMs: number;
  toExitMs: number;
  result?: string;
}

/** One spawn of `taskDir`'s index.js, or of `node -e 0` when `taskDir` is undefined. */
export async function coldStartOnce(taskDir: string | undefined): Promise<ColdStartRun> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vvp-bench-cold-'));
  const workDir = path.join(root, 's');
  const tempDir = path.join(root, '_temp');
  fs.mkdirSync(workDir, { recursive: true });
  fs.mkdirSync(tempDir, { recursive: true });
  const env = buildTaskEnv({ inputs: {} }, { workDir, tempDir, agentRoot: root });
  const args = taskDir === undefined ? ['-e', '0'] : [path.join(taskDir, 'index.js')];
  try {
    return await new Promise<ColdStartRun>((resolve, reject) => {
      const started = performance.now();
      const child = spawn(process.execPath, args, { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let completeAt: number | undefined;
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString('utf8');
        if (completeAt === undefined && out.includes('##vso[task.complete')) completeAt = performance.now();
      });
      child.stderr.resume();
      child.once('error', reject);
      child.once('close', () => {
        clearTimeout(timer);
        const exitAt = performance.now();
        if (taskDir === undefined) return resolve({ toCompleteMs: exitAt - started, toExitMs: exitAt - started });
        if (completeAt === undefined) return reject(new Error(`${taskDir}: no task.complete. Output:\n${out.slice(-2000)}`));
        resolve({ toCompleteMs: completeAt - started, toExitMs: exitAt - started, result: /##vso\[task\.complete result=(\w+)/.exec(out)?.[1] });
      });
    });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/**
 * `runs` rounds, each spawning the reference and then every bundle once, so load from other
 * work on the machine falls on all of them alike. Keys: `node -e 0` and the given names.
 */
export async function coldStarts(bundles: readonly (readonly [string, string])[], runs: number): Promise<Map<string, ColdStartRun[]>> {
  const out = new Map<string, ColdStartRun[]>([[NODE_REFERENCE, []], ...bundles.map(([name]) => [name, []] as [string, ColdStartRun[]])]);
  for (let i = 0; i < runs; i++) {
    out.get(NODE_REFERENCE)?.push(await coldStartOnce(undefined));
    for (const [name, dir] of bundles) out.get(name)?.push(await coldStartOnce(dir));
  }
  return out;
}

export const NODE_REFERENCE = 'node -e 0';
