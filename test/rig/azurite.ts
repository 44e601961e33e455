import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stopChild, trackChild } from './child-processes';
import { tlsFiles } from './tls-files';

export interface AzuriteOptions {
  /** Account served besides the emulator default. Default `vvpstorage`. */
  accountName?: string;
  /** Base64 account key (Azurite requires base64). Default: a fixed test key. */
  accountKey?: string;
}

export interface AzuriteHandle {
  /** HTTPS port on 127.0.0.1 (presents the rig's leaf certificate). */
  port: number;
  accountName: string;
  accountKey: string;
  pid: number;
  /** Stops the process and removes its data folder. */
  stop(): Promise<void>;
}

/**
 * Starts Azurite's blob service (`azurite-blob` of the installed package, run with this Node so
 * it works the same on Windows) on a free loopback port, over HTTPS with the rig's leaf
 * certificate, with basic OAuth checks (`--oauth basic`: token shape, issuer prefix
 * `https://sts.windows.net/`, audience `https://storage.azure.com`, lifetime; no signature check)
 * and a temporary `--location`. Production-style hosts work: Azurite takes the account from the
 * first label of the Host header (`vvpstorage.blob.core.windows.net` → `vvpstorage`).
 *
 * @throws Error when Azurite does not report its port within the start-up bound.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteHandle> {
  const accountName = options.accountName ?? 'vvpstorage';
  const accountKey = options.accountKey ?? Buffer.from(`rig-azurite-key-${accountName}`.padEnd(64, '-')).toString('base64');
  const location = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-azurite-'));
  const tls = tlsFiles();
  const main = path.join(path.dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
  const child = spawn(
    process.execPath,
    [
      '--require', path.join(__dirname, 'watchdog-preload.js'),
      main,
      '--blobHost', '127.0.0.1',
      '--blobPort', '0',
      '--skipApiVersionCheck',
      '--loose',
      '--disableTelemetry',
      '--oauth', 'basic',
      '--cert', tls.leafCert,
      '--key', tls.leafKey,
      '--location', location,
    ],
    {
      env: { ...minimalEnv(), AZURITE_ACCOUNTS: `${accountName}:${accountKey}`, RIG_EXIT_WITH_STDIN: '1', RIG_REMOVE_ON_EXIT: location },
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    },
  );
  trackChild(child);
  const cleanup = async (): Promise<void> => {
    await stopChild(child);
    fs.rmSync(location, { recursive: true, force: true });
  };
  try {
    const port = await waitForPort(child, 20_000);
    return { port, accountName, accountKey, pid: child.pid ?? -1, stop: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Waits for Azurite's "successfully listens on https://127.0.0.1:<port>" line. */
function waitForPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`Azurite did not start within ${timeoutMs} ms. Output:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const m = /listens on https?:\/\/[^:\s]+:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        // Keep draining, or a chatty Azurite would block on a full pipe.
        child.stdout?.resume();
        resolve(Number(m[1]));
      }
    };
    const fail = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.once('exit', (code, signal) => fail(new Error(`Azurite exited during start-up (code ${code}, signal ${signal}). Output:\n${output}`)));
    child.once('error', fail);
  });
}

/** PATH and the OS basics only: the developer's proxy variables must not reach children. */
export function minimalEnv(): Record<string, string> {
  const keep = ['PATH', 'Path', 'PATHEXT', 'SystemRoot', 'SYSTEMROOT', 'windir', 'COMSPEC', 'TEMP', 'TMP', 'TMPDIR', 'HOME', 'USERPROFILE', 'LANG', 'LC_ALL'];
  const env: Record<string, string> = {};
  for (const k of keep) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}
