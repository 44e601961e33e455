import { spawn } from 'node:child_process';
import { abortReason } from '../poll/clock';

/** What a finished command printed and how it ended. */
export interface CommandResult {
  /** Exit code; null when it was killed by a signal (including our timeout). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunCommandOptions {
  /** Kill the command after this long. Default 30 000. */
  timeoutInMs?: number;
  abortSignal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs a short command without a shell (arguments are never re-parsed), collecting its output.
 * Cancellation or the timeout kill it, so it never outlives the step.
 *
 * @throws the spawn error (`ENOENT`, `EACCES`, `ENOEXEC`…) when it cannot start.
 * @throws the abort reason when `abortSignal` fires.
 */
export function runCommand(file: string, args: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  const signal = options.abortSignal;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true, env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const keep = (text: string, chunk: Buffer): string => (text + chunk.toString('utf8')).slice(-64 * 1024);
    child.stdout.on('data', (c: Buffer) => (stdout = keep(stdout, c)));
    child.stderr.on('data', (c: Buffer) => (stderr = keep(stderr, c)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutInMs ?? 30_000);
    const onAbort = (): void => {
      child.kill('SIGKILL');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (error) => {
      done();
      reject(error);
    });
    child.once('close', (exitCode) => {
      done();
      if (signal?.aborted) reject(abortReason(signal));
      else resolve({ exitCode, stdout, stderr, timedOut });
    });
  });
}
