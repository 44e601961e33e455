/**
 * Standalone VVP AppManager simulator. Prints one `{"event":"ready",...}` JSON line on
 * stdout when listening, one line per state change on stderr, and stops on
 * SIGINT/SIGTERM (and on stdin close with --exit-on-stdin-close).
 */
import { CliError, parseCliArgs, USAGE } from './cli-args';
import { loadScenario, ScenarioError } from './scenario';
import { SimulatorServer } from './server';
import type { SimulatorInit } from './simulator-state';

async function main(): Promise<void> {
  const args = parseCliArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const init: SimulatorInit = args.scenario ? loadScenario(args.scenario) : {};
  init.config = {
    ...init.config,
    ...(args.timeScale !== undefined ? { timeScale: args.timeScale } : {}),
    ...(args.buildVersion !== undefined ? { buildVersion: args.buildVersion } : {}),
    ...(args.errorFormat !== undefined ? { errorFormat: args.errorFormat } : {}),
  };
  if (args.tokens.length > 0) init.tokens = [...(init.tokens ?? []), ...args.tokens];

  const server = new SimulatorServer(init);
  if (!args.quiet) {
    server.state.onStateChange((c) => {
      process.stderr.write(`${c.at} ${c.namespace}/${c.deployment} ${c.resource} ${c.id} ${c.from ?? '-'} -> ${c.to}\n`);
    });
  }
  const address = await server.listen({ port: args.port, host: args.host });

  let stopping = false;
  const shutdown = (why: string): void => {
    if (stopping) return;
    stopping = true;
    if (!args.quiet) process.stderr.write(`vvp-simulator: stopping (${why})\n`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  if (args.exitOnStdinClose) {
    process.stdin.on('end', () => shutdown('stdin closed'));
    process.stdin.on('close', () => shutdown('stdin closed'));
    process.stdin.on('error', () => shutdown('stdin error'));
    process.stdin.resume();
  }
  process.stdout.write(`${JSON.stringify({ event: 'ready', port: address.port, url: address.url })}\n`);
}

main().catch((error: unknown) => {
  const expected = error instanceof CliError || error instanceof ScenarioError;
  process.stderr.write(`vvp-simulator: ${expected ? (error as Error).message : error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(2);
});
