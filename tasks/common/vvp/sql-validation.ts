/**
 * VVP's answer to `POST /sql/v1beta1/namespaces/{ns}/sqlscripts:validate` (platform API swagger
 * 2.4.3 and 2.7.1, `ValidateStatementResponse`), read defensively: `null` counts as absent, and
 * a `validationResult` outside the swagger's enum counts as invalid.
 */
import { isJsonObject } from './resources';

/** The results the swagger lists. */
const SQL_VALIDATION_RESULTS = [
  'VALIDATION_RESULT_INVALID',
  'VALIDATION_RESULT_INVALID_QUERY',
  'VALIDATION_RESULT_UNSUPPORTED_QUERY',
  'VALIDATION_RESULT_INVALID_CONNECTOR_CONFIG',
  'VALIDATION_RESULT_VALID_INSERT_QUERY',
  'VALIDATION_RESULT_VALID_SELECT_QUERY',
  'VALIDATION_RESULT_VALID_DDL_STATEMENT',
  'VALIDATION_RESULT_VALID_COMMAND_STATEMENT',
  'UNRECOGNIZED',
] as const;

type SqlValidationResult = (typeof SQL_VALIDATION_RESULTS)[number];

/**
 * Where and what VVP found wrong. Lines and columns are 1-based and relative to the text sent;
 * VVP sends all four as 0 for errors without a position. `cause` is not in the swagger, but VVP
 * sends it (an empty string in recorded answers).
 */
interface SqlErrorDetails {
  lineNumber?: number;
  columnNumber?: number;
  endLineNumber?: number;
  endColumnNumber?: number;
  message?: string;
  cause?: string;
}

/** What the validation endpoint said. */
export type SqlValidation =
  | {
      /** VVP has the SQL service and answered. */
      available: true;
      /** The result when it is one the swagger lists; `undefined` for anything else (treated as invalid). */
      result: SqlValidationResult | undefined;
      /** `validationResult` as VVP sent it (for messages), undefined when absent. */
      reported: string | undefined;
      /** True for the `VALIDATION_RESULT_VALID_*` results only. */
      valid: boolean;
      /** True only for `VALIDATION_RESULT_VALID_INSERT_QUERY`: the one result a SQL deployment may run. */
      deployable: boolean;
      errorDetails?: SqlErrorDetails;
    }
  | {
      /** VVP answered 404 on the path: it has no SQL service (VVP then validates at job start). */
      available: false;
    };

/** Reads an answer body of the validation endpoint. Never throws. */
export function parseSqlValidation(body: unknown): SqlValidation {
  const answer = isJsonObject(body) ? body : {};
  const reported = typeof answer.validationResult === 'string' ? answer.validationResult : undefined;
  const result = (SQL_VALIDATION_RESULTS as readonly string[]).includes(reported ?? '') ? (reported as SqlValidationResult) : undefined;
  const valid = result !== undefined && result.startsWith('VALIDATION_RESULT_VALID_');
  const details = isJsonObject(answer.errorDetails) ? answer.errorDetails : undefined;
  const errorDetails: SqlErrorDetails | undefined = details
    ? {
        ...numberField(details, 'lineNumber'),
        ...numberField(details, 'columnNumber'),
        ...numberField(details, 'endLineNumber'),
        ...numberField(details, 'endColumnNumber'),
        ...(typeof details.message === 'string' ? { message: details.message } : {}),
        ...(typeof details.cause === 'string' ? { cause: details.cause } : {}),
      }
    : undefined;
  return {
    available: true,
    result,
    reported,
    valid,
    deployable: result === 'VALIDATION_RESULT_VALID_INSERT_QUERY',
    ...(errorDetails ? { errorDetails } : {}),
  };
}

function numberField(details: Record<string, unknown>, key: keyof SqlErrorDetails): Partial<SqlErrorDetails> {
  const value = details[key];
  return typeof value === 'number' && Number.isFinite(value) ? { [key]: value } : {};
}
