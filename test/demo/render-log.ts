import type { TaskRunResult } from '../rig/run-task';
import { parseVsoLine } from '../rig/vso-commands';

/**
 * Renders a task's raw stdout the way the pipeline UI shows it: groups as headings, warnings and
 * errors marked, debug/progress/secret commands hidden, then the output variables, the run
 * summary (the "Extensions" tab) and the step result.
 */
export function renderPipelineLog(run: TaskRunResult): string[] {
  const lines: string[] = [];
  let inGroup = false;
  for (const raw of run.stdout.split(/\r?\n/)) {
    if (raw.startsWith('##[group]')) {
      lines.push(`▼ ${raw.slice('##[group]'.length)}`);
      inGroup = true;
      continue;
    }
    if (raw.startsWith('##[endgroup]')) {
      inGroup = false;
      continue;
    }
    const cmd = parseVsoLine(raw);
    if (!cmd) {
      if (raw.trim() !== '') lines.push(`${inGroup ? '  ' : ''}${raw}`);
      continue;
    }
    if (cmd.command === 'task.issue' || cmd.command === 'task.logissue') {
      const kind = cmd.properties.type === 'error' ? 'error' : 'warning';
      // An annotation of a file: the pull request shows it on that line (the log names the place).
      const { sourcepath, linenumber, columnnumber } = cmd.properties;
      const place = sourcepath ? `${sourcepath}${linenumber ? `:${linenumber}` : ''}${linenumber && columnnumber ? `:${columnnumber}` : ''}: ` : '';
      // setResult(Failed) repeats the final message as an error issue; the result line shows it.
      if (!(kind === 'error' && cmd.message === run.message)) lines.push(`##[${kind}] ${place}${cmd.message}`);
    }
  }
  const outputs = Object.entries(run.outputs);
  if (outputs.length > 0) {
    lines.push('Output variables:');
    for (const [name, value] of outputs) lines.push(`  ${name} = ${value}`);
  }
  for (const summary of run.summaries) {
    lines.push('Run summary (Extensions tab):');
    for (const l of summary.split(/\r?\n/)) lines.push(`  │ ${l}`);
  }
  lines.push(`Result: ${run.result ?? 'no result'}${run.message ? ` — ${run.message}` : ''} (${(run.durationMs / 1000).toFixed(1)} s)`);
  return lines;
}
