/**
 * The SQL side of a simulation scenario: which seeds deploy a SQL script (artifact SQLSCRIPT)
 * instead of a JAR, which script (valid, refused by the offline shape check, refused by VVP's
 * validation, or one whose job cannot start), whether VVP serves the SQL service and how it
 * validates a multi-statement text (`script` or `statement`), and which deployments hold a SQL
 * script before the step (a JAR ↔ SQL switch when the kinds differ). Drawn from its own stream
 * of the seed, so the JAR scenarios of the other seeds stay what they were.
 */
import type { DeployArtifact } from '../../tasks/common/vvp/artifact';
import { sqlScriptSha256 } from '../../tasks/common/sql/script-input';
import { Rng } from './rng';

/** The catalog tables of the simulated VVP (VALID scripts may insert into them). */
export const CATALOG_TABLES = ['orders_sink'];

/** Where the scripts live on the agent (annotations name it; the flows never read it). */
export const SQL_FILE = '/agent/_work/1/s/sql/sim-job.sql';

/** A connector password in a script's WITH options: never shown (masked by key name). */
export const SQL_PASSWORD = 'SimSqlPassw0rd-in-WITH-9f3e';

/** What the script is. */
export type SqlCase =
  /** Temporary source and sink, a temporary UDF, one INSERT. */
  | 'valid'
  /** Temporary tables, one STATEMENT SET block of two INSERTs. */
  | 'statementSet'
  /** One INSERT into a table of the namespace's catalog. */
  | 'catalogSink'
  /** A SELECT where the INSERT belongs: the offline shape check refuses it. */
  | 'select'
  /** Two INSERTs outside a STATEMENT SET: refused offline. */
  | 'twoInserts'
  /** A string literal never closed: refused offline (the statement split). */
  | 'unclosedQuote'
  /** An INSERT into a table that exists nowhere: the shape is right, VVP's validation refuses it (or, unvalidated, the job fails to start). */
  | 'unknownTable';

/** What must happen to the script, given the SQL service VVP offers. */
export type SqlVerdict = 'valid' | 'refusedOffline' | 'refusedByVvp' | 'failsAtStart';

export interface SqlPlan {
  case: SqlCase;
  script: string;
  /** The file's line of the first problem, for the refused cases. */
  problemLine?: number;
  /** VVP serves `/sql/v1beta1/` (else 404: the offline check only, VVP validates at job start). */
  service: boolean;
  /** How VVP validates a text of several statements. */
  validation: 'script' | 'statement';
  additionalDependencies: string[];
  sqlCatalog?: string;
  sqlDatabase?: string;
}

/** The artifact kinds of one seed: what the step deploys and what the deployment held before. */
export interface SqlDraw {
  /** Set when the step deploys a SQL script. */
  sql?: SqlPlan;
  /** The deployment holds a SQL script before the step (its text), instead of a JAR. */
  previousScript?: string;
}

const OFFLINE: readonly SqlCase[] = ['select', 'twoInserts', 'unclosedQuote'];

/** What must become of the script `plan` deploys. */
export function verdictOf(plan: SqlPlan): SqlVerdict {
  if (OFFLINE.includes(plan.case)) return 'refusedOffline';
  if (plan.case !== 'unknownTable') return 'valid';
  // Validated statement by statement, the INSERT is sent alone (its temporary source is not
  // accepted beside it), so "not found" is only a warning: VVP finds it at job start.
  return plan.service && plan.validation === 'script' ? 'refusedByVvp' : 'failsAtStart';
}

/** Draws the SQL side of `seed`; `udfJar` is the UDF JAR a SQL step may put in additionalDependencies. */
export function sqlDrawOf(seed: number, commit: string, udfJar: string): SqlDraw {
  const rng = Rng.derive(seed, 'sql');
  const deploysSql = rng.chance(0.3);
  if (!deploysSql) {
    // Now and then a JAR step meets a SQL deployment: a switch, refused.
    return rng.chance(0.05) ? { previousScript: script('valid', `v${rng.int(1, 9)}`).text } : {};
  }
  const which: SqlCase = rng.weighted({ valid: 34, statementSet: 14, catalogSink: 12, select: 8, twoInserts: 8, unclosedQuote: 6, unknownTable: 18 });
  const drawn = script(which, commit);
  const plan: SqlPlan = {
    case: which,
    script: drawn.text,
    problemLine: drawn.problemLine,
    service: rng.chance(0.85),
    validation: rng.chance(0.7) ? 'script' : 'statement',
    additionalDependencies: rng.chance(0.5) ? [udfJar] : [],
    ...(rng.chance(0.3) ? { sqlCatalog: 'vvp', sqlDatabase: 'default' } : {}),
  };
  // The deployment before: mostly a SQL deployment (sometimes running this very script), else a JAR one (a switch).
  const previousKind = rng.weighted({ sql: 80, same: 6, jar: 14 });
  const previousScript = previousKind === 'jar' ? undefined : previousKind === 'same' && verdictOf(plan) === 'valid' ? drawn.text : script(rng.pick(['valid', 'statementSet', 'catalogSink'] as const), `v${rng.int(1, 9)}`).text;
  return { sql: plan, previousScript };
}

/** The artifact of a SQL step. */
export function sqlArtifact(plan: Pick<SqlPlan, 'script' | 'additionalDependencies'>): DeployArtifact {
  return { kind: 'SQLSCRIPT', sqlScript: plan.script, sha256: sqlScriptSha256(plan.script), file: SQL_FILE, additionalDependencies: [...plan.additionalDependencies] };
}

/** A valid script for `version` (the plain deploy after the step). */
export function validScript(version: string): string {
  return script('valid', version).text;
}

/** The script of `which` for `version` (a comment and a filter value differ per version), with the line of its first problem. */
function script(which: SqlCase, version: string): { text: string; problemLine?: number } {
  const source = [
    `-- sim-job ${version}`,
    'CREATE TEMPORARY TABLE orders (',
    '  id BIGINT,',
    '  amount DOUBLE',
    ") WITH ('connector' = 'datagen', 'rows-per-second' = '5');",
    'CREATE TEMPORARY TABLE big_orders (',
    '  id BIGINT,',
    '  amount DOUBLE',
    ") WITH ('connector' = 'jdbc', 'url' = 'jdbc:postgresql://db:5432/shop', 'table-name' = 'big_orders', 'username' = 'sim', 'password' = '" + SQL_PASSWORD + "');",
  ];
  const filter = `WHERE amount > ${[...version].reduce((sum, c) => sum + c.charCodeAt(0), 0) % 97}`;
  let tail: string[];
  let problemAt: number | undefined;
  switch (which) {
    case 'valid':
      tail = ["CREATE TEMPORARY FUNCTION to_cents AS 'com.example.udf.ToCents';", 'INSERT INTO big_orders', 'SELECT id, to_cents(amount) FROM orders', `${filter};`];
      break;
    case 'statementSet':
      tail = ['BEGIN STATEMENT SET;', 'INSERT INTO big_orders SELECT id, amount FROM orders;', `INSERT INTO big_orders SELECT id, amount * 2 FROM orders ${filter};`, 'END;'];
      break;
    case 'catalogSink':
      return { text: [`-- sim-job ${version}`, 'INSERT INTO orders_sink', "SELECT 1 AS id, 'x' AS label", `${filter};`, ''].join('\n') };
    case 'select':
      tail = ['SELECT id, amount FROM orders', `${filter};`];
      problemAt = 0;
      break;
    case 'twoInserts':
      tail = ['INSERT INTO big_orders SELECT id, amount FROM orders;', `INSERT INTO big_orders SELECT id, amount FROM orders ${filter};`];
      problemAt = 1;
      break;
    case 'unclosedQuote':
      tail = ['INSERT INTO big_orders', "SELECT id, amount FROM orders WHERE label = 'open", `${filter};`];
      problemAt = 1;
      break;
    case 'unknownTable':
      tail = ['INSERT INTO no_such_sink', 'SELECT id, amount FROM orders', `${filter};`];
      problemAt = 0;
      break;
  }
  const lines = [...source, ...tail, ''];
  return { text: lines.join('\n'), problemLine: problemAt === undefined ? undefined : source.length + problemAt + 1 };
}
