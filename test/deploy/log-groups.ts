import { parseVsoLine } from '../rig/vso-commands';

/** One `##[group]` of a task's log: its name and the lines a user sees in it (warnings included). */
export interface LogGroup {
  name: string;
  lines: string[];
}

/**
 * A task's stdout as the pipeline UI shows it: its groups, and the visible lines outside any
 * group. Logging commands are not visible lines, except warnings and errors (`task.issue`),
 * which show where they are written; `finalMessage` (what setResult repeats as an error) is
 * left out.
 */
export function logGroups(stdout: string, finalMessage?: string): { groups: LogGroup[]; outside: string[] } {
  const groups: LogGroup[] = [];
  const outside: string[] = [];
  let current: LogGroup | undefined;
  for (const raw of stdout.split(/\r?\n/)) {
    if (raw.startsWith('##[group]')) {
      current = { name: raw.slice('##[group]'.length), lines: [] };
      groups.push(current);
      continue;
    }
    if (raw.startsWith('##[endgroup]')) {
      current = undefined;
      continue;
    }
    const command = parseVsoLine(raw);
    let visible: string | undefined;
    if (!command) visible = raw.trim() === '' ? undefined : raw;
    else if (command.command === 'task.issue' && command.message !== finalMessage) visible = `##[${command.properties.type ?? 'issue'}] ${command.message}`;
    if (visible === undefined) continue;
    if (current) current.lines.push(visible);
    else outside.push(visible);
  }
  return { groups, outside };
}

/**
 * The values that appear more than once in one group, as `"<label>" 3 times in "<group>"`. A
 * value that is part of another value counted (a job id inside a savepoint path) is counted
 * only where it stands alone.
 */
export function repeatsPerGroup(groups: readonly LogGroup[], values: Readonly<Record<string, string | undefined>>): string[] {
  const all = Object.values(values).filter((v): v is string => !!v);
  const found: string[] = [];
  for (const group of groups) {
    const text = group.lines.join('\n');
    for (const [label, value] of Object.entries(values)) {
      if (!value) continue;
      let alone = text;
      for (const longer of all) if (longer !== value && longer.includes(value)) alone = alone.split(longer).join('<other value>');
      const count = alone.split(value).length - 1;
      if (count > 1) found.push(`"${label}" ${count} times in "${group.name}"`);
    }
  }
  return found;
}
