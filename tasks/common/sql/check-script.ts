/**
 * The check a SQL script passes before any write (and what a plan shows): offline, the statement
 * split and the documented shape (`shape.ts`); online, VVP's own validation
 * (`POST /sql/v1beta1/namespaces/{ns}/sqlscripts:validate`) with its positions mapped back to
 * the file. Every problem carries its 1-based line and column in the FILE when known; the entry
 * turns each into an error annotation (`errorAnnotation`).
 */
import * as path from 'node:path';
import type { SqlValidation } from '../vvp/sql-validation';
import type { SqlValidationScope, VvpApi, VvpRequestOptions } from '../vvp/vvp-api';
import { LineIndex } from './positions';
import type { SourceProblem } from './problem';
import { checkScriptShape } from './shape';
import { splitStatements, type SqlStatement } from './statements';
import { mapVvpLocation, scriptChunk, statementsChunk } from './vvp-positions';

/** The script to check: its text as sent to VVP (BOM removed) and the file it came from. */
export interface SqlScriptSource {
  script: string;
  /** Path of the file (for messages; positions are in `script`, which is the file's text). */
  file: string;
}

/** How to reach VVP's validation; without `vvp` the check is offline only. */
export type SqlCheckOptions =
  | { vvp?: undefined }
  | {
      vvp: Pick<VvpApi, 'validateSqlScript'>;
      namespace: string;
      /** Where unqualified table names are looked up (inputs `sqlCatalog`, `sqlDatabase`); VVP's defaults when absent. */
      scope?: SqlValidationScope;
      /** Abort signal and deadline of every validation request. */
      options?: VvpRequestOptions;
    };

/** What the check found. */
export interface SqlCheck {
  /** Empty when nothing is wrong. Positions are 1-based, in the file. */
  problems: SourceProblem[];
  /** Things to know that do not stop the deploy (no SQL service, statement-by-statement validation). */
  warnings: string[];
  /**
   * Who had the last word: `offline` (no VVP given, the offline check failed, or VVP has no SQL
   * service), `vvp` (VVP validated the whole script), `vvp-per-statement` (VVP validates single
   * statements only, so each statement was validated with the temporary statements before it).
   */
  validatedBy: 'offline' | 'vvp' | 'vvp-per-statement';
  /** True when there is no problem: the script may be written to the deployment. */
  deployable: boolean;
}

/** The one answer a SQL deployment may run (`SqlValidation.deployable`), for messages. */
const VALID_INSERT = 'VALIDATION_RESULT_VALID_INSERT_QUERY';
const UNSUPPORTED = 'VALIDATION_RESULT_UNSUPPORTED_QUERY';

/**
 * Checks a SQL deployment script (see the module comment). The offline check runs first; VVP is
 * asked only when it passes (its problems would repeat them). Only
 * `VALIDATION_RESULT_VALID_INSERT_QUERY` is deployable; any other result is a problem. When VVP
 * answers `UNSUPPORTED_QUERY` for a script of several statements, each statement is validated
 * with the temporary statements before it (a warning says so). A VVP without the SQL service
 * (404) leaves the offline verdict, with a warning: VVP then validates at job start.
 *
 * @throws VvpApiError (or an abort / timeout error) when a validation request fails: the caller
 * decides; nothing was written.
 */
export async function checkSqlScript(source: SqlScriptSource, check: SqlCheckOptions = {}): Promise<SqlCheck> {
  const { script } = source;
  const split = splitStatements(script);
  const shape = checkScriptShape(split.statements);
  const offline = [...split.problems, ...shape.problems];
  if (offline.length > 0 || !check.vvp) {
    return { problems: sortProblems(offline), warnings: [], validatedBy: 'offline', deployable: offline.length === 0 };
  }
  const { vvp, namespace, scope, options } = check;
  const index = new LineIndex(script);
  const whole = await vvp.validateSqlScript(namespace, script, scope, options);
  if (!whole.available) {
    return {
      problems: [],
      warnings: [`VVP has no SQL validation service (404 on /sql/v1beta1/namespaces/${namespace}/sqlscripts:validate): ${path.basename(source.file)} passed the offline check only; VVP validates it at job start.`],
      validatedBy: 'offline',
      deployable: true,
    };
  }
  if (whole.result === UNSUPPORTED && split.statements.length > 1) {
    return checkPerStatement(source, split.statements, index, check);
  }
  const problems = problemsOf(whole, scriptChunk(script), index, 'The SQL script', true);
  return { problems, warnings: [], validatedBy: 'vvp', deployable: problems.length === 0 };
}

/**
 * Validates each top-level statement (a STATEMENT SET block is one) with the `CREATE TEMPORARY …`
 * statements before it, the way the script will run. When VVP refuses even that (it validates one
 * statement per request), the statement is sent alone: a parse error is then a problem, any other
 * error a warning (the statement may need the temporary tables VVP did not see).
 */
async function checkPerStatement(source: SqlScriptSource, statements: readonly SqlStatement[], index: LineIndex, check: Extract<SqlCheckOptions, { vvp: object }>): Promise<SqlCheck> {
  const { script } = source;
  const { vvp, namespace, scope, options } = check;
  const problems: SourceProblem[] = [];
  const warnings = [`VVP does not validate a script of several statements as a whole (${UNSUPPORTED}): each statement of ${path.basename(source.file)} was validated with the temporary statements before it.`];
  const before: SqlStatement[] = [];
  for (const [i, statement] of statements.entries()) {
    const isMain = i === statements.length - 1;
    const what = `The statement at line ${statement.position.line}`;
    const chunk = statementsChunk(script, [...before, statement]);
    const answer = await vvp.validateSqlScript(namespace, chunk.text, scope, options);
    if (!answer.available) {
      // The service went away between two requests: nothing more to learn from it.
      warnings.push(`VVP stopped answering SQL validation (404) at ${what.toLowerCase()}: VVP validates the script at job start.`);
      break;
    }
    if (answer.result === UNSUPPORTED && before.length > 0) {
      const alone = statementsChunk(script, [statement]);
      const single = await vvp.validateSqlScript(namespace, alone.text, scope, options);
      if (single.available) {
        const parseError = /^SQL parse failed/i.test(single.errorDetails?.message ?? '');
        for (const problem of problemsOf(single, alone, index, what, isMain)) {
          if (parseError) problems.push(problem);
          // VVP's own text counts lines of the statement sent alone: the file's place goes first.
          else warnings.push(`${placeOf(source.file, problem)}${problem.message} (validated alone: VVP did not accept it together with the temporary statements before it; VVP validates the whole script at job start)`);
        }
      }
    } else {
      problems.push(...problemsOf(answer, chunk, index, what, isMain));
    }
    before.push(statement);
  }
  return { problems: sortProblems(problems), warnings, validatedBy: 'vvp-per-statement', deployable: problems.length === 0 };
}

/** `orders.sql:12:5: ` for a problem with a place in the file, else ''. */
function placeOf(file: string, problem: SourceProblem): string {
  return problem.position ? `${path.basename(file)}:${problem.position.line}:${problem.position.column}: ` : '';
}

/**
 * The problems in one VVP answer about `chunk`: none when it is valid for its place (the script's
 * INSERT must be `VALID_INSERT_QUERY`; a temporary statement before it any `VALID_*`).
 */
function problemsOf(answer: Extract<SqlValidation, { available: true }>, chunk: ReturnType<typeof scriptChunk>, index: LineIndex, what: string, mustInsert: boolean): SourceProblem[] {
  if (mustInsert ? answer.deployable : answer.valid) return [];
  const reported = answer.reported ?? 'no validationResult';
  const details = answer.errorDetails;
  if (answer.valid) {
    return [{ message: `VVP validated ${what.charAt(0).toLowerCase()}${what.slice(1)} as ${reported}, not as an INSERT: a SQL deployment runs one INSERT INTO … or one BEGIN STATEMENT SET block, and only ${VALID_INSERT} is deployed.` }];
  }
  const why = details?.message?.trim() ? details.message.trim() : describeResult(answer.result, reported);
  const located = details ? mapVvpLocation(details, chunk, index) : {};
  const where = located.position ? '' : ' (VVP gives no line for this error)';
  return [{ message: `VVP: ${why} [${reported}]${where}`, ...located }];
}

function describeResult(result: string | undefined, reported: string): string {
  switch (result) {
    case 'VALIDATION_RESULT_INVALID_CONNECTOR_CONFIG':
      return 'a connector configuration (WITH options) is invalid';
    case UNSUPPORTED:
      return 'VVP does not support this statement in a SQL deployment';
    case 'VALIDATION_RESULT_INVALID_QUERY':
    case 'VALIDATION_RESULT_INVALID':
      return 'the SQL is invalid';
    default:
      return `VVP answered ${reported}, which is not a valid INSERT`;
  }
}

/** Problems in file order; those without a position (about the whole file) first. */
function sortProblems(problems: SourceProblem[]): SourceProblem[] {
  const key = (p: SourceProblem): number => (p.position ? p.position.line * 1e6 + p.position.column : 0);
  return [...problems].sort((a, b) => key(a) - key(b));
}
