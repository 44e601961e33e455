/** One `##vso[area.action key=value;...]message` logging command, decoded. */
export interface VsoCommand {
  /** e.g. `task.setvariable`. */
  command: string;
  properties: Record<string, string>;
  message: string;
  /** The raw line as printed. */
  line: string;
}

const PREFIX = '##vso[';
const ESCAPES: Readonly<Record<string, string>> = {
  '%AZP25': '%',
  '%25': '%',
  '%0D': '\r',
  '%0A': '\n',
  '%5D': ']',
  '%3B': ';',
};

/**
 * Undoes the logging-command escaping in one pass, so `%AZP2525` decodes to `%25` and not `%`.
 * task-lib 5 writes `%` as `%AZP25`; older writers used `%25`, which the agent also accepts.
 */
export function unescapeVso(value: string): string {
  return value.replace(/%AZP25|%25|%0D|%0A|%5D|%3B/g, (m) => ESCAPES[m] ?? m);
}

/**
 * Parses a line that contains a logging command (anywhere in the line, like the agent), or
 * returns undefined for plain output and malformed commands.
 */
export function parseVsoLine(line: string): VsoCommand | undefined {
  const start = line.indexOf(PREFIX);
  if (start < 0) return undefined;
  const rest = line.slice(start + PREFIX.length);
  const close = rest.indexOf(']');
  if (close < 0) return undefined;
  const head = rest.slice(0, close).trim();
  const space = head.indexOf(' ');
  const command = space < 0 ? head : head.slice(0, space);
  if (!command) return undefined;
  const properties: Record<string, string> = {};
  if (space >= 0) {
    for (const part of head.slice(space + 1).split(';')) {
      const p = part.trim();
      if (!p) continue;
      const eq = p.indexOf('=');
      if (eq < 0) return undefined;
      properties[p.slice(0, eq)] = unescapeVso(p.slice(eq + 1));
    }
  }
  return { command, properties, message: unescapeVso(rest.slice(close + 1)), line };
}
