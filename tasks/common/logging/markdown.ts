/**
 * Markdown for the run summaries (`##vso[task.uploadsummary]`): values from a server or a file
 * name shown as inline code or escaped text, on one line, so they can neither break the table
 * nor render as markup.
 */
import { oneLine } from '../vvp/errors';

/** Inline code that survives backticks, pipes and line breaks in the value. */
export function inlineCode(value: string): string {
  return `\`${oneLine(value).replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

/** Plain markdown text with the syntax characters escaped. */
export function markdownText(value: string): string {
  return oneLine(value).replace(/([\\`*_{}[\]()#+!|<>])/g, '\\$1');
}

/** A heading and a two-column table of `[label, cell]` rows (cells already rendered). */
export function summaryTable(title: string, rows: readonly (readonly [string, string])[]): string[] {
  return [`### ${title}`, '', '| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)];
}

/** A fenced code block whose fence is longer than any backtick run inside, so no value can close it. */
export function fencedBlock(body: string, info: string): string {
  const longestRun = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return `${fence}${info}\n${body}\n${fence}`;
}
