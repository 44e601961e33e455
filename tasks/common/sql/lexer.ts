/**
 * A small lexer for Flink SQL scripts: just enough to find statement boundaries, keywords and
 * `WITH ( 'key' = 'value' )` options without being fooled by quotes and comments. It does not
 * parse SQL; VVP does that.
 */

/**
 * - `word`: a bare word (keyword or identifier), `[A-Za-z_][A-Za-z0-9_$]*`
 * - `string`: `'…'` with `''` escapes (also `E'…'`-less Flink strings)
 * - `quoted`: a `"…"` identifier with `""` escapes
 * - `backtick`: a `` `…` `` identifier with doubled escapes
 * - `lineComment`: `-- …` up to (not including) the line break
 * - `blockComment`: `/* … *\/`
 * - `space`: whitespace
 * - `symbol`: any other single character (`;`, `(`, `=`, …)
 */
type TokenKind = 'word' | 'string' | 'quoted' | 'backtick' | 'lineComment' | 'blockComment' | 'space' | 'symbol';

/** One token: its kind and `[start, end)` offsets in the script. */
export interface Token {
  kind: TokenKind;
  start: number;
  end: number;
  /** False for a string, quoted identifier or block comment the script ends inside. */
  closed: boolean;
}

const WORD_START = /[A-Za-z_]/;
const WORD_PART = /[A-Za-z0-9_$]/;
const SPACE = /\s/;

/** Splits `text` into tokens covering it completely, in order. Never throws. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const start = i;
    const c = text[i];
    if (SPACE.test(c)) {
      while (i < n && SPACE.test(text[i])) i++;
      tokens.push({ kind: 'space', start, end: i, closed: true });
    } else if (c === '-' && text[i + 1] === '-') {
      while (i < n && text[i] !== '\n' && text[i] !== '\r') i++;
      tokens.push({ kind: 'lineComment', start, end: i, closed: true });
    } else if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
      tokens.push({ kind: 'blockComment', start, end: i, closed: close >= 0 });
    } else if (c === "'" || c === '"' || c === '`') {
      const { end, closed } = quotedEnd(text, i, c);
      i = end;
      tokens.push({ kind: c === "'" ? 'string' : c === '"' ? 'quoted' : 'backtick', start, end, closed });
    } else if (WORD_START.test(c)) {
      while (i < n && WORD_PART.test(text[i])) i++;
      tokens.push({ kind: 'word', start, end: i, closed: true });
    } else {
      i++;
      tokens.push({ kind: 'symbol', start, end: i, closed: true });
    }
  }
  return tokens;
}

/** The end of a quoted token opened at `start` by `quote`; a doubled quote is an escaped one. */
function quotedEnd(text: string, start: number, quote: string): { end: number; closed: boolean } {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === quote) {
      if (text[i + 1] === quote) {
        i += 2;
        continue;
      }
      return { end: i + 1, closed: true };
    }
    i++;
  }
  return { end: text.length, closed: false };
}

/** True for tokens that carry no meaning (whitespace and comments). */
export function isTrivia(token: Token): boolean {
  return token.kind === 'space' || token.kind === 'lineComment' || token.kind === 'blockComment';
}

/** The value of a `string`, `quoted` or `backtick` token: quotes removed, doubled quotes undone. */
export function unquote(text: string, token: Token): string {
  const raw = text.slice(token.start, token.end);
  const quote = raw[0];
  const inner = raw.slice(1, token.closed ? -1 : undefined);
  return inner.split(quote + quote).join(quote);
}
