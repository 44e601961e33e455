/**
 * Entry of the rig's services child process. Reads the {@link RigConfig} JSON from the
 * `RIG_SERVICES_CONFIG` environment variable, starts proxy + fakes + control API, and prints one
 * line `{"event":"ready","proxyPort":N,"controlPort":M,"imdsPort":K}` on stdout.
 *
 * Runs in its own process because tasks under test are started with `spawnSync`
 * (MockTestRunner) and because `NODE_EXTRA_CA_CERTS`/`HTTPS_PROXY` must be set before a Node
 * process starts. Exits on SIGTERM, SIGINT, or when stdin closes, so a test process that
 * crashes takes its services with it.
 */
import type { RigConfig } from './config';
import { startServices, type RunningServices } from './services';

async function main(): Promise<void> {
  const raw = process.env['RIG_SERVICES_CONFIG'];
  if (!raw) throw new Error('RIG_SERVICES_CONFIG is not set');
  const config = JSON.parse(raw) as RigConfig;
  const services = await startServices(config);
  let stopping = false;
  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    void shutdown(services, reason);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('close', () => stop('stdin closed'));
  process.stdin.on('error', () => stop('stdin error'));
  process.stdin.resume();
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', proxyPort: services.proxyPort, controlPort: services.controlPort, imdsPort: services.imdsPort, pid: process.pid })}\n`,
  );
}

async function shutdown(services: RunningServices, reason: string): Promise<void> {
  // Do not wait forever on a stuck socket: the parent is waiting for us to go.
  const force = setTimeout(() => process.exit(0), 2000);
  force.unref();
  try {
    await services.close();
  } finally {
    process.stderr.write(`rig services: stopped (${reason})\n`);
    process.exit(0);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`rig services: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
