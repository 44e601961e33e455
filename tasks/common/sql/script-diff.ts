/**
 * A line diff of two scripts for the plan, shaped like a unified diff: `@@ -a,b +c,d @@` hunks of
 * ` ` context, `-` removed and `+` added lines. Longest common subsequence on lines after the
 * common head and tail are cut off, so a change in a long script costs little. Line endings are
 * not part of a line (`\r\n` and `\n` compare equal); mask credentials before diffing
 * (`maskSensitiveOptions`).
 */

/** Options of {@link diffScripts}. */
interface ScriptDiffOptions {
  /** Unchanged lines shown around each change. Default 3. */
  contextLines?: number;
  /**
   * Above this many line comparisons (lines removed × lines added, after the common head and
   * tail), the middle is shown as all removed, then all added, instead of a minimal diff.
   * Default 4 000 000.
   */
  maxComparisons?: number;
}

/** One line of the diff. */
interface DiffLine {
  kind: ' ' | '-' | '+';
  text: string;
}

/**
 * The diff of `before` → `after` as text lines (`@@ … @@`, ` x`, `-x`, `+x`); empty when the
 * scripts have the same lines.
 */
export function diffScripts(before: string, after: string, options: ScriptDiffOptions = {}): string[] {
  const a = splitLines(before);
  const b = splitLines(after);
  return renderHunks(diffLines(a, b, options.maxComparisons ?? 4_000_000), options.contextLines ?? 3);
}

/**
 * What a plan says under a script change whose line diff is empty: the scripts differ, but not in
 * a line as shown. Either only their line endings differ (`\r\n` and `\n` compare equal in the
 * diff), or only values that are masked for display (a credential in a `WITH` option). `before`
 * and `after` are the scripts as stored and sent, not masked.
 */
export function unseenScriptChange(before: string, after: string): string {
  const a = splitLines(before);
  const b = splitLines(after);
  if (a.length === b.length && a.every((line, i) => line === b[i])) {
    return `(no line changes: only the line endings do, ${lineEndings(before)} → ${lineEndings(after)}; the script is sent as it is)`;
  }
  return '(no line changes as shown: only masked values change, e.g. a password in a WITH option)';
}

/** `CRLF`, `LF`, `CR`, `mixed` or `none`: the line endings of a text. */
function lineEndings(text: string): string {
  const kinds = new Set((text.match(/\r\n|\n|\r/g) ?? []).map((e) => (e === '\r\n' ? 'CRLF' : e === '\n' ? 'LF' : 'CR')));
  if (kinds.size === 0) return 'none';
  return kinds.size === 1 ? [...kinds][0] : 'mixed';
}

/** The lines of a text; a final line break does not start another line. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r\n|\n|\r/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Every line of `a` and `b` in order, each marked kept, removed or added. */
function diffLines(a: readonly string[], b: readonly string[], maxComparisons = 4_000_000): DiffLine[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const kept = (text: string): DiffLine => ({ kind: ' ', text });
  const middle =
    midA.length * midB.length > maxComparisons
      ? [...midA.map((text): DiffLine => ({ kind: '-', text })), ...midB.map((text): DiffLine => ({ kind: '+', text }))]
      : lcsDiff(midA, midB);
  return [...a.slice(0, head).map(kept), ...middle, ...a.slice(a.length - tail).map(kept)];
}

function lcsDiff(a: readonly string[], b: readonly string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  // lengths[i][j]: LCS length of a[i..] and b[j..], in one flat array of (n+1)*(m+1).
  const width = m + 1;
  const lengths = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i * width + j] = a[i] === b[j] ? lengths[(i + 1) * width + j + 1] + 1 : Math.max(lengths[(i + 1) * width + j], lengths[i * width + j + 1]);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ kind: ' ', text: a[i] });
      i++;
      j++;
    } else if (j === m || (i < n && lengths[(i + 1) * width + j] >= lengths[i * width + j + 1])) {
      // Removals come before additions within a change, as in `diff -u`.
      out.push({ kind: '-', text: a[i++] });
    } else {
      out.push({ kind: '+', text: b[j++] });
    }
  }
  return out;
}

/** Groups changes with `context` lines around them into `@@ -a,b +c,d @@` hunks. */
function renderHunks(lines: readonly DiffLine[], context: number): string[] {
  const changed = lines.map((l, k) => (l.kind === ' ' ? -1 : k)).filter((k) => k >= 0);
  if (changed.length === 0) return [];
  // Ranges [from, to) of lines to show, merged when their context touches.
  const ranges: [number, number][] = [];
  for (const k of changed) {
    const from = Math.max(0, k - context);
    const to = Math.min(lines.length, k + context + 1);
    const last = ranges.at(-1);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else ranges.push([from, to]);
  }
  // Line numbers (1-based) of each diff line in the old and new script.
  const oldLine: number[] = [];
  const newLine: number[] = [];
  let o = 1;
  let n = 1;
  for (const line of lines) {
    oldLine.push(o);
    newLine.push(n);
    if (line.kind !== '+') o++;
    if (line.kind !== '-') n++;
  }
  const out: string[] = [];
  for (const [from, to] of ranges) {
    const slice = lines.slice(from, to);
    const oldCount = slice.filter((l) => l.kind !== '+').length;
    const newCount = slice.filter((l) => l.kind !== '-').length;
    // As `diff -u`: an empty side is numbered by the line before it.
    const oldStart = oldCount === 0 ? oldLine[from] - 1 : oldLine[from];
    const newStart = newCount === 0 ? newLine[from] - 1 : newLine[from];
    out.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`);
    for (const line of slice) out.push(`${line.kind}${line.text}`);
  }
  return out;
}
