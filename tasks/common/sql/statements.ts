/**
 * Splits a Flink SQL script into statements at top-level `;`, the way Flink's SQL client and
 * VVP's SQL editor do: semicolons inside strings (`'…'`, `''` escapes), quoted identifiers
 * (`"…"`, `` `…` ``, doubled escapes) and comments (`-- …`, `/* … *\/`) do not end a statement.
 * `BEGIN STATEMENT SET; … END;` becomes ONE statement whose `block` holds the statements inside.
 */
import { isTrivia, tokenize, type Token } from './lexer';
import { LineIndex, type Position } from './positions';
import type { SourceProblem } from './problem';

/** One statement of a script. Offsets are in the script text given to {@link splitStatements}. */
export interface SqlStatement {
  /** The statement from its first token (leading comments and whitespace excluded) to its `;` included. */
  text: string;
  /** Offset of the first token. */
  start: number;
  /** Offset just after the terminating `;` (or after the last token when there is none). */
  end: number;
  /** Line and column (1-based) of the first token. */
  position: Position;
  /** Line and column of the statement's last character. */
  endPosition: Position;
  /**
   * The first words, upper case, comments skipped, up to the first token that is not a bare word
   * (at most 4): `['CREATE', 'TEMPORARY', 'TABLE', 'ORDERS']`, `['INSERT', 'INTO', 'SINK']`.
   */
  keywords: string[];
  /** False when the script ends without a `;` after this statement. */
  terminated: boolean;
  /** For `BEGIN STATEMENT SET; … END;`: the statements between (not the BEGIN and END lines). */
  block?: SqlStatement[];
}

/** The statements of a script and what prevented a clean split. */
interface SplitScript {
  statements: SqlStatement[];
  /** Unterminated strings, identifiers, comments, a `BEGIN STATEMENT SET` without `END`. */
  problems: SourceProblem[];
}

const MAX_KEYWORDS = 4;

const UNCLOSED: Partial<Record<Token['kind'], string>> = {
  string: 'This string literal is never closed: a quote (\') is missing (write \'\' for a quote inside a string)',
  quoted: 'This quoted identifier is never closed: a double quote (") is missing',
  backtick: 'This identifier is never closed: a backtick (`) is missing',
  blockComment: 'This comment is never closed: */ is missing',
};

/** Splits `script` into statements. Never throws; problems come back with their positions. */
export function splitStatements(script: string): SplitScript {
  const index = new LineIndex(script);
  const tokens = tokenize(script);
  const problems: SourceProblem[] = [];
  const flat: SqlStatement[] = [];
  let first: number | undefined;
  let last = 0;
  const close = (end: number, terminated: boolean): void => {
    if (first === undefined) return;
    flat.push(makeStatement(script, index, tokens, first, end, terminated));
    first = undefined;
  };
  tokens.forEach((token, i) => {
    if (!token.closed) problems.push({ message: UNCLOSED[token.kind] ?? 'This token is never closed', position: index.positionOf(token.start) });
    if (isTrivia(token)) return;
    if (first === undefined) first = i;
    last = token.end;
    if (token.kind === 'symbol' && script[token.start] === ';') close(token.end, true);
  });
  close(last, false);
  return { statements: groupStatementSets(script, index, flat, problems), problems };
}

function makeStatement(script: string, index: LineIndex, tokens: Token[], firstToken: number, end: number, terminated: boolean): SqlStatement {
  const start = tokens[firstToken].start;
  return {
    text: script.slice(start, end),
    start,
    end,
    position: index.positionOf(start),
    endPosition: index.positionOf(Math.max(start, end - 1)),
    keywords: leadingWords(script, tokens, firstToken, end),
    terminated,
  };
}

function leadingWords(script: string, tokens: Token[], from: number, end: number): string[] {
  const words: string[] = [];
  for (let i = from; i < tokens.length && tokens[i].start < end && words.length < MAX_KEYWORDS; i++) {
    const token = tokens[i];
    if (isTrivia(token)) continue;
    if (token.kind !== 'word') break;
    words.push(script.slice(token.start, token.end).toUpperCase());
  }
  return words;
}

/** True when a statement starts with the given keywords. */
export function startsWith(statement: SqlStatement, ...keywords: string[]): boolean {
  return keywords.every((k, i) => statement.keywords[i] === k);
}

/** Folds `BEGIN STATEMENT SET; … END;` into one statement with a `block`. */
function groupStatementSets(script: string, index: LineIndex, flat: SqlStatement[], problems: SourceProblem[]): SqlStatement[] {
  const out: SqlStatement[] = [];
  for (let i = 0; i < flat.length; i++) {
    const begin = flat[i];
    if (!startsWith(begin, 'BEGIN', 'STATEMENT', 'SET')) {
      out.push(begin);
      continue;
    }
    const inner: SqlStatement[] = [];
    let j = i + 1;
    while (j < flat.length && !isEnd(flat[j])) inner.push(flat[j++]);
    const endStatement = flat[j];
    if (!endStatement) {
      problems.push({ message: 'This BEGIN STATEMENT SET has no END: close the block with END;', position: begin.position });
    }
    const end = endStatement ? endStatement.end : (inner.at(-1) ?? begin).end;
    out.push({
      text: script.slice(begin.start, end),
      start: begin.start,
      end,
      position: begin.position,
      endPosition: index.positionOf(Math.max(begin.start, end - 1)),
      keywords: ['BEGIN', 'STATEMENT', 'SET'],
      terminated: endStatement ? endStatement.terminated : false,
      block: inner,
    });
    i = j;
  }
  return out;
}

function isEnd(statement: SqlStatement): boolean {
  return statement.keywords.length === 1 && statement.keywords[0] === 'END';
}
