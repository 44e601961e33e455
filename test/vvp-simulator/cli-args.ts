/**
 * Command line of the standalone simulator (`node out/test/vvp-simulator/main.js`).
 */
import { parseToken, type ApiToken } from './auth';

/** Parsed command line. */
export interface CliArgs {
  /** Default 8080; 0 picks a free port. */
  port: number;
  /** Default `127.0.0.1`. */
  host: string;
  scenario?: string;
  timeScale?: number;
  buildVersion?: string;
  errorFormat?: 'json' | 'text';
  tokens: ApiToken[];
  /** Shut down when stdin closes (the parent process went away). */
  exitOnStdinClose: boolean;
  /** No state-change lines on stderr. */
  quiet: boolean;
  help: boolean;
}

export const USAGE = `Usage: node out/test/vvp-simulator/main.js [options]
  --port N                  port to listen on (default 8080; 0 = a free port)
  --host HOST               interface (default 127.0.0.1)
  --scenario FILE           YAML/JSON scenario to seed (see test/vvp-simulator/README.md)
  --time-scale X            multiply every controller duration by X (e.g. 0.1)
  --token TOKEN:NS:ROLE     enable auth and accept this Bearer token (repeatable; role viewer|editor|owner)
  --build-version V         emulated VVP version (default 2.7.1)
  --error-format json|text  error body format (default json)
  --exit-on-stdin-close     shut down when stdin closes
  --quiet                   do not log state changes on stderr
Prints {"event":"ready","port":N,"url":"http://127.0.0.1:N"} on stdout once listening.`;

/** A bad command line; the message quotes the value and the accepted form. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * Parses `--flag value` and `--flag=value` forms.
 * @throws CliError for unknown flags and bad values.
 */
export function parseCliArgs(argv: string[]): CliArgs {
  const args: CliArgs = { port: 8080, host: '127.0.0.1', tokens: [], exitOnStdinClose: false, quiet: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new CliError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--port': {
        const v = value();
        const port = Number(v);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port '${v}': expected an integer 0-65535`);
        args.port = port;
        break;
      }
      case '--host':
        args.host = value();
        break;
      case '--scenario':
        args.scenario = value();
        break;
      case '--time-scale': {
        const v = value();
        const scale = Number(v);
        if (!Number.isFinite(scale) || scale < 0) throw new CliError(`--time-scale '${v}': expected a number >= 0`);
        args.timeScale = scale;
        break;
      }
      case '--token': {
        const v = value();
        try {
          args.tokens.push(parseToken(v));
        } catch {
          // The token itself stays out of the message.
          throw new CliError(`--token '<token>:${v.split(':').slice(1).join(':')}': expected TOKEN:namespace:role with role viewer|editor|owner`);
        }
        break;
      }
      case '--build-version':
        args.buildVersion = value();
        break;
      case '--error-format': {
        const v = value();
        if (v !== 'json' && v !== 'text') throw new CliError(`--error-format '${v}': expected json or text`);
        args.errorFormat = v;
        break;
      }
      case '--exit-on-stdin-close':
        args.exitOnStdinClose = true;
        break;
      case '--quiet':
        args.quiet = true;
        break;
      case '--help':
      case '-h':
        args.help = true;
        break;
      default:
        throw new CliError(`unknown option '${argv[i]}'\n${USAGE}`);
    }
  }
  return args;
}
