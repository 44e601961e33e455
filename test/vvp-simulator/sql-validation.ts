/**
 * The simulated SQL service's validation (`POST /sql/v1beta1/namespaces/{ns}/sqlscripts:validate`)
 * and the check a SQLSCRIPT job runs at start. Far from Flink's planner, it models what the tasks
 * must handle, with VVP's recorded answer shapes (jupyter-vvp): HTTP 200 for invalid SQL,
 * `validationResult` + `errorDetails {lineNumber, columnNumber, endLineNumber, endColumnNumber,
 * message, cause: ""}` relative to the text sent, all four numbers 0 for errors without a place.
 *
 * - an unknown first word (`WRONG STATEMENT`): "SQL parse failed. Non-query expression encountered
 *   in illegal context" on that word (line 1, column 1 to 5);
 * - an unclosed string, identifier or comment: a lexical error at its start;
 * - `CREATE TABLE t` (not TEMPORARY) of a table the catalog has (config `sqlCatalogTables`):
 *   "Table `<catalog>`.`<database>`.`t` already exists." without a position;
 * - `INSERT INTO t` of a table neither created TEMPORARY before it nor in the catalog: "Object 't'
 *   not found" on the table name;
 * - with config `sqlValidation: statement`, a text of more than one statement (a STATEMENT SET
 *   block counts as one) is VALIDATION_RESULT_UNSUPPORTED_QUERY without a position.
 * A valid text's result is that of its last statement (INSERT or STATEMENT SET: VALID_INSERT_QUERY).
 * Statements are split with the tasks' own splitter; the rules above are the simulator's.
 */
import { isTrivia, tokenize, unquote, type Token } from '../../tasks/common/sql/lexer';
import { LineIndex } from '../../tasks/common/sql/positions';
import { splitStatements, type SqlStatement } from '../../tasks/common/sql/statements';

/** How the simulated SQL service validates. */
export interface SqlServiceOptions {
  /** `script`: a multi-statement text is validated as a whole; `statement`: it is UNSUPPORTED_QUERY. */
  mode: 'script' | 'statement';
  /** Tables that exist in the catalog and database (simple names). */
  catalogTables: readonly string[];
  catalog: string;
  database: string;
}

/** The body VVP answers (HTTP 200). */
export interface SqlValidationAnswer {
  validationResult: string;
  errorDetails?: { lineNumber: number; columnNumber: number; endLineNumber: number; endColumnNumber: number; message: string; cause: string };
}

/** A failed check, with the Flink exception class a job would fail with. */
interface SqlError {
  result: string;
  message: string;
  exception: 'SqlParserException' | 'ValidationException';
  at?: { start: number; end: number };
}

const KNOWN_FIRST_WORDS = new Set(['CREATE', 'INSERT', 'SELECT', 'WITH', 'VALUES', 'BEGIN', 'SET', 'RESET', 'DROP', 'ALTER', 'USE', 'SHOW', 'DESCRIBE', 'DESC', 'EXPLAIN', 'LOAD', 'UNLOAD']);
const DDL_WORDS = new Set(['CREATE', 'DROP', 'ALTER']);
const COMMAND_WORDS = new Set(['SET', 'RESET', 'USE', 'SHOW', 'DESCRIBE', 'DESC', 'EXPLAIN', 'LOAD', 'UNLOAD']);

/** Validates `text` as the SQL service does (see the module comment). */
export function validateSqlText(text: string, options: SqlServiceOptions): SqlValidationAnswer {
  const error = findError(text, options);
  if ('valid' in error) return { validationResult: error.valid };
  const index = new LineIndex(text);
  const start = error.at ? index.positionOf(error.at.start) : { line: 0, column: 0 };
  const end = error.at ? index.positionOf(Math.max(error.at.start, error.at.end - 1)) : { line: 0, column: 0 };
  return {
    validationResult: error.result,
    errorDetails: { lineNumber: start.line, columnNumber: start.column, endLineNumber: end.line, endColumnNumber: end.column, message: error.message, cause: '' },
  };
}

/**
 * Why a SQLSCRIPT job cannot start, as Flink says it (`org.apache.flink.table.api.…Exception: …`),
 * or undefined when the script is a valid INSERT (validated as a whole).
 */
export function sqlJobFailure(script: string, options: Omit<SqlServiceOptions, 'mode'>): string | undefined {
  const error = findError(script, { ...options, mode: 'script' });
  if ('valid' in error) {
    if (error.valid === 'VALIDATION_RESULT_VALID_INSERT_QUERY') return undefined;
    return 'org.apache.flink.table.api.ValidationException: A SQL deployment must end with an INSERT INTO statement or a STATEMENT SET block; the script has none.';
  }
  const place = error.at ? (() => {
    const p = new LineIndex(script).positionOf(error.at.start);
    return ` (line ${p.line}, column ${p.column})`;
  })() : '';
  return `org.apache.flink.table.api.${error.exception}: ${error.message}${place}`;
}

function findError(text: string, options: SqlServiceOptions): SqlError | { valid: string } {
  const split = splitStatements(text);
  const unclosed = tokenize(text).find((t) => !t.closed);
  if (unclosed) {
    const p = new LineIndex(text).positionOf(unclosed.start);
    return { result: 'VALIDATION_RESULT_INVALID_QUERY', exception: 'SqlParserException', message: `SQL parse failed. Lexical error at line ${p.line}, column ${p.column}.  Encountered: <EOF>`, at: { start: unclosed.start, end: unclosed.start + 1 } };
  }
  const statements = split.statements;
  if (statements.length === 0) return { result: 'VALIDATION_RESULT_INVALID_QUERY', exception: 'SqlParserException', message: 'SQL parse failed. Encountered "<EOF>" at line 1, column 1.' };
  if (options.mode === 'statement' && statements.length > 1) {
    return { result: 'VALIDATION_RESULT_UNSUPPORTED_QUERY', exception: 'ValidationException', message: `Only a single statement is supported, but the text has ${statements.length}.` };
  }
  const temporary = new Set<string>();
  let last = 'VALIDATION_RESULT_INVALID';
  for (const statement of statements) {
    const error = checkStatement(text, statement, temporary, options);
    if (error) return error;
    last = resultOf(statement);
  }
  return { valid: last };
}

function checkStatement(text: string, statement: SqlStatement, temporary: Set<string>, options: SqlServiceOptions): SqlError | undefined {
  const tokens = tokenize(text).filter((t) => !isTrivia(t) && t.start >= statement.start && t.end <= statement.end);
  const first = tokens[0];
  const word = statement.keywords[0];
  if (!word || !KNOWN_FIRST_WORDS.has(word)) {
    return { result: 'VALIDATION_RESULT_INVALID_QUERY', exception: 'SqlParserException', message: 'SQL parse failed. Non-query expression encountered in illegal context', at: { start: first.start, end: first.end } };
  }
  if (statement.block) {
    for (const inner of statement.block) {
      const error = checkStatement(text, inner, temporary, options);
      if (error) return error;
    }
    return undefined;
  }
  const kw = statement.keywords;
  if (kw[0] === 'CREATE' && (kw[1] === 'TABLE' || (kw[1] === 'TEMPORARY' && kw[2] === 'TABLE') || (kw[1] === 'TEMPORARY' && kw[2] === 'VIEW'))) {
    const name = nameAfter(text, tokens, kw[1] === 'TEMPORARY' ? 3 : 2);
    if (!name) return undefined;
    const qualified = `\`${options.catalog}\`.\`${options.database}\`.\`${name.name}\``;
    if (kw[1] === 'TEMPORARY') {
      if (temporary.has(name.name.toLowerCase())) return { result: 'VALIDATION_RESULT_INVALID_QUERY', exception: 'ValidationException', message: `Temporary table ${qualified} already exists.` };
      temporary.add(name.name.toLowerCase());
    } else if (options.catalogTables.some((t) => t.toLowerCase() === name.name.toLowerCase())) {
      return { result: 'VALIDATION_RESULT_INVALID_QUERY', exception: 'ValidationException', message: `Table ${qualified} already exists.` };
    }
    return undefined;
  }
  if (kw[0] === 'INSERT' && (kw[1] === 'INTO' || kw[1] === 'OVERWRITE')) {
    const name = nameAfter(text, tokens, 2);
    if (!name) return undefined;
    const known = temporary.has(name.name.toLowerCase()) || options.catalogTables.some((t) => t.toLowerCase() === name.name.toLowerCase());
    if (!known) {
      const index = new LineIndex(text);
      const from = index.positionOf(name.start);
      const to = index.positionOf(name.end - 1);
      return {
        result: 'VALIDATION_RESULT_INVALID_QUERY',
        exception: 'ValidationException',
        message: `SQL validation failed. From line ${from.line}, column ${from.column} to line ${to.line}, column ${to.column}: Object '${name.name}' not found`,
        at: { start: name.start, end: name.end },
      };
    }
  }
  return undefined;
}

/** The table name after the first `skip` tokens (`IF NOT EXISTS` skipped; the last part of a dotted name). */
function nameAfter(text: string, tokens: Token[], skip: number): { name: string; start: number; end: number } | undefined {
  let i = skip;
  const upper = (t: Token | undefined): string => (t ? text.slice(t.start, t.end).toUpperCase() : '');
  if (upper(tokens[i]) === 'IF' && upper(tokens[i + 1]) === 'NOT' && upper(tokens[i + 2]) === 'EXISTS') i += 3;
  let part = tokens[i];
  if (!part || !['word', 'backtick', 'quoted'].includes(part.kind)) return undefined;
  const start = part.start;
  while (tokens[i + 1]?.kind === 'symbol' && text[tokens[i + 1].start] === '.' && tokens[i + 2]) {
    i += 2;
    part = tokens[i];
  }
  const name = part.kind === 'word' ? text.slice(part.start, part.end) : unquote(text, part);
  return { name, start, end: part.end };
}

function resultOf(statement: SqlStatement): string {
  const word = statement.keywords[0];
  if (statement.block || word === 'INSERT') return 'VALIDATION_RESULT_VALID_INSERT_QUERY';
  if (word === 'SELECT' || word === 'WITH' || word === 'VALUES') return 'VALIDATION_RESULT_VALID_SELECT_QUERY';
  if (DDL_WORDS.has(word)) return 'VALIDATION_RESULT_VALID_DDL_STATEMENT';
  if (COMMAND_WORDS.has(word)) return 'VALIDATION_RESULT_VALID_COMMAND_STATEMENT';
  return 'VALIDATION_RESULT_INVALID';
}
