/**
 * Cold start of a bundled task: spawn `node index.js` with the agent's environment and no inputs,
 * and time until it prints `##vso[task.complete` (it fails at input parsing, before any network
 * call). Also the time to process exit.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildTaskEnv } from '../rig/run-task';

export interface ColdStartRun {
  toCompleteMs: number;
  toExitMs: number;
  result?: string;
}

export async function coldStartOnce(taskDir: string): Promise<ColdStartRun> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vvp-bench-cold-'));
  const workDir = path.join(root, 's');
  const tempDir = path.join(root, '_temp');
  fs.mkdirSync(workDir, { recursive: true });
  fs.mkdirSync(tempDir, { recursive: true });
  const env = buildTaskEnv({ inputs: {} }, { workDir, tempDir, agentRoot: root });
  try {
    return await new Promise<ColdStartRun>((resolve, reject) => {
      const started = performance.now();
      const child = spawn(process.execPath, [path.join(taskDir, 'index.js')], { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
        if (completeAt === undefined) return reject(new Error(`${taskDir}: no task.complete. Output:\n${out.slice(-2000)}`));
        resolve({ toCompleteMs: completeAt - started, toExitMs: exitAt - started, result: /##vso\[task\.complete result=(\w+)/.exec(out)?.[1] });
      });
    });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

export async function coldStart(taskDir: string, runs: number): Promise<ColdStartRun[]> {
  const out: ColdStartRun[] = [];
  for (let i = 0; i < runs; i++) out.push(await coldStartOnce(taskDir));
  return out;
}
