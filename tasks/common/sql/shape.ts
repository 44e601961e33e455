/**
 * The shape Ververica documents for a SQL deployment ("SQL Scripts & Deployments"): zero or more
 * `CREATE TEMPORARY { TABLE | VIEW }` statements, then ONE `INSERT INTO … SELECT …` or ONE
 * `BEGIN STATEMENT SET; INSERT …; … END;` block. Temporary functions (`CREATE TEMPORARY
 * [SYSTEM] FUNCTION`) are allowed too, as the task's spec says (Flink's syntax for UDFs that
 * `additionalDependencies` brings). Everything else is refused offline, before VVP is asked:
 * `SET`, a `SELECT`, a catalog (non-temporary) `CREATE`, a second INSERT, anything after the
 * INSERT. Checked offline; VVP validates the SQL itself.
 */
import type { SourceProblem } from './problem';
import { startsWith, type SqlStatement } from './statements';

/** What the script is made of, and what breaks the shape. */
interface ScriptShape {
  /** Empty when the shape is the documented one. */
  problems: SourceProblem[];
  /** The `CREATE TEMPORARY …` statements before the INSERT, in order. */
  temporaries: SqlStatement[];
  /** The one `INSERT …` or `BEGIN STATEMENT SET` block, when there is one. */
  insert?: SqlStatement;
}

/** What a SQL deployment script may contain, for every message. */
const ALLOWED_SHAPE =
  'A SQL deployment script holds zero or more CREATE TEMPORARY TABLE, VIEW or FUNCTION statements, ' +
  'then exactly one INSERT INTO … (or INSERT OVERWRITE …) or one BEGIN STATEMENT SET; INSERT …; … END; block';

/** Checks the statements of a script (from `splitStatements`) against the documented shape. */
export function checkScriptShape(statements: readonly SqlStatement[]): ScriptShape {
  const problems: SourceProblem[] = [];
  const temporaries: SqlStatement[] = [];
  let insert: SqlStatement | undefined;
  const problem = (statement: SqlStatement, what: string): void => {
    problems.push({ message: `${what}. ${ALLOWED_SHAPE}.`, position: statement.position });
  };
  for (const statement of statements) {
    const name = describe(statement);
    if (insert) {
      const main = describe(insert);
      if (isInsert(statement) || isStatementSet(statement)) problem(statement, `A second ${name}: a SQL deployment runs one ${main} only (put several INSERTs in one BEGIN STATEMENT SET block)`);
      else problem(statement, `${name} after the ${main} (line ${insert.position.line}): nothing may follow it`);
      continue;
    }
    if (isTemporaryCreate(statement)) {
      temporaries.push(statement);
    } else if (isInsert(statement)) {
      insert = statement;
    } else if (isStatementSet(statement)) {
      insert = statement;
      checkBlock(statement, problems);
    } else if (startsWith(statement, 'CREATE')) {
      problem(statement, `${name} creates a catalog object that outlives the deployment: use CREATE TEMPORARY … instead`);
    } else if (startsWith(statement, 'SET')) {
      problem(statement, 'SET is not allowed in a SQL deployment: put Flink options in spec.template.spec.flinkConfiguration (the deployment spec file)');
    } else if (startsWith(statement, 'END')) {
      problem(statement, 'END without BEGIN STATEMENT SET');
    } else {
      problem(statement, `${name} is not allowed in a SQL deployment`);
    }
  }
  if (statements.length === 0) {
    problems.push({ message: `The SQL script has no statements. ${ALLOWED_SHAPE}.` });
  } else if (!insert) {
    problems.push({ message: `The SQL script has no INSERT INTO … and no BEGIN STATEMENT SET block: a SQL deployment must write its results somewhere. ${ALLOWED_SHAPE}.` });
  }
  return { problems, temporaries, insert };
}

function checkBlock(block: SqlStatement, problems: SourceProblem[]): void {
  const inner = block.block ?? [];
  if (inner.length === 0) {
    problems.push({ message: `This BEGIN STATEMENT SET block is empty: put one or more INSERT INTO … statements between BEGIN STATEMENT SET; and END;. ${ALLOWED_SHAPE}.`, position: block.position });
  }
  for (const statement of inner) {
    if (!isInsert(statement)) {
      problems.push({ message: `${describe(statement)} inside BEGIN STATEMENT SET: a statement set holds INSERT INTO … statements only. ${ALLOWED_SHAPE}.`, position: statement.position });
    }
  }
}

function isTemporaryCreate(statement: SqlStatement): boolean {
  if (!startsWith(statement, 'CREATE', 'TEMPORARY')) return false;
  const object = statement.keywords[2] === 'SYSTEM' ? statement.keywords[3] : statement.keywords[2];
  return object === 'TABLE' || object === 'VIEW' || object === 'FUNCTION';
}

function isInsert(statement: SqlStatement): boolean {
  return startsWith(statement, 'INSERT', 'INTO') || startsWith(statement, 'INSERT', 'OVERWRITE');
}

function isStatementSet(statement: SqlStatement): boolean {
  return statement.block !== undefined;
}

const DESCRIBING_WORDS = new Set(['TEMPORARY', 'SYSTEM', 'TABLE', 'VIEW', 'FUNCTION', 'CATALOG', 'DATABASE', 'INTO', 'OVERWRITE', 'STATEMENT', 'SET', 'OR', 'REPLACE']);

/** "SELECT", "CREATE TABLE", "INSERT INTO" … for messages: the leading keywords, or the first characters. */
function describe(statement: SqlStatement): string {
  if (isStatementSet(statement)) return 'BEGIN STATEMENT SET block';
  const [first, ...rest] = statement.keywords;
  if (first !== undefined) {
    const more = rest.findIndex((k) => !DESCRIBING_WORDS.has(k));
    return [first, ...(more < 0 ? rest : rest.slice(0, more))].join(' ');
  }
  const start = statement.text.replace(/\s+/g, ' ').slice(0, 20);
  return `The statement '${start}${statement.text.length > 20 ? '…' : ''}'`;
}
