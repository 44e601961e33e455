import { spawn } from 'node:child_process';
import { withTimeout } from '../poll/timeout';

/** What a finished command printed and how it ended. */
interface CommandResult {
  /** Exit code; null when it was killed by a signal (including our timeout). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

interface RunCommandOptions {
  /** Kill the command after this long. Default 30 000. */
  timeoutInMs?: number;
  abortSignal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/** The deadline passed (internal: runCommand turns it into a `timedOut` result). */
class CommandTimedOut extends Error {}

/** What a command printed so far: the last 64 KiB of each stream. */
interface Printed {
  stdout: string;
  stderr: string;
}

/**
 * Runs a short command without a shell (arguments are never re-parsed), collecting its output.
 * Cancellation or the timeout kill it (SIGKILL), so it never outlives the step; a command that
 * ran out of time resolves with `timedOut: true` and what it printed until then.
 *
 * @throws the spawn error (`ENOENT`, `EACCES`, `ENOEXEC`…) when it cannot start.
 * @throws the abort reason when `abortSignal` fires.
 */
export async function runCommand(file: string, args: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  const printed: Printed = { stdout: '', stderr: '' };
  try {
    return await withTimeout((signal) => runToEnd(file, args, options.env, signal, printed), {
      timeoutInMs: options.timeoutInMs ?? 30_000,
      abortSignal: options.abortSignal,
      timeoutError: () => new CommandTimedOut(`${file} did not finish in time`),
    });
  } catch (error) {
    if (error instanceof CommandTimedOut) return { exitCode: null, ...printed, timedOut: true };
    throw error;
  }
}

/** Starts the command and resolves once it closed; `signal` kills it (spawn's own `signal` option). */
function runToEnd(file: string, args: readonly string[], env: NodeJS.ProcessEnv | undefined, signal: AbortSignal, printed: Printed): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true, env: env ?? process.env, signal, killSignal: 'SIGKILL' });
    const keep = (text: string, chunk: Buffer): string => (text + chunk.toString('utf8')).slice(-64 * 1024);
    child.stdout.on('data', (c: Buffer) => (printed.stdout = keep(printed.stdout, c)));
    child.stderr.on('data', (c: Buffer) => (printed.stderr = keep(printed.stderr, c)));
    // After an abort this is spawn's AbortError, which withTimeout no longer listens to.
    child.once('error', reject);
    child.once('close', (exitCode) => resolve({ exitCode, stdout: printed.stdout, stderr: printed.stderr, timedOut: false }));
  });
}
