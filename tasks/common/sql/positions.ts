/**
 * Lines and columns in a script, 1-based, as editors and Flink (Calcite) count them: a line
 * ends at `\n`, `\r\n` or a lone `\r`; a column is one UTF-16 code unit (a tab is one column).
 */

/** A place in a text, 1-based. */
export interface Position {
  line: number;
  column: number;
}

/** Offsets of line starts in a text, for offset ↔ line/column conversion. */
export class LineIndex {
  /** `starts[k]` is the offset where line k+1 begins. */
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === '\r' && text[i + 1] === '\n') continue;
      if (c === '\n' || c === '\r') this.starts.push(i + 1);
    }
  }

  /** Number of lines (a text ending with a line break has an empty last line). */
  get lineCount(): number {
    return this.starts.length;
  }

  /** The line and column of `offset` (clamped to the text). */
  positionOf(offset: number): Position {
    const at = Math.max(0, Math.min(offset, this.text.length));
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid] <= at) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: at - this.starts[low] + 1 };
  }

  /**
   * The offset of a 1-based line and column, or undefined when the line does not exist or either
   * number is not a positive integer. A column past the end of its line is clamped to the line's
   * end (the position just before its line break).
   */
  offsetOf(position: Position): number | undefined {
    const { line, column } = position;
    if (!Number.isInteger(line) || !Number.isInteger(column) || line < 1 || column < 1 || line > this.starts.length) return undefined;
    const start = this.starts[line - 1];
    const lineEnd = line < this.starts.length ? this.lineContentEnd(line) : this.text.length;
    return Math.min(start + column - 1, lineEnd);
  }

  /** Offset just after the last character of `line` (before its line break). */
  private lineContentEnd(line: number): number {
    const next = this.starts[line];
    let end = next;
    if (this.text[end - 1] === '\n') end--;
    if (this.text[end - 1] === '\r') end--;
    return end;
  }
}
