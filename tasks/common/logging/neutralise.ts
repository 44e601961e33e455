/**
 * Neutralises Azure Pipelines logging commands (`##vso[…]`, `##[…]`) in text that may come
 * from a server (VVP event and failure messages, service error bodies), so that text cannot
 * set variables, mark the step succeeded or open groups. A zero-width space after the first
 * `#` keeps the text readable.
 */
export function neutraliseCommands(text: string): string {
  return text.replace(/##(vso)?\[/gi, (m) => `#\u200b${m.slice(1)}`);
}
