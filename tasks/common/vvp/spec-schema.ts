import type { ErrorObject, ValidateFunction } from 'ajv';
import { maskJarUriQuery } from './jar-uri-secrets';
import { formatPath, type PathSegment } from './json-path';
import { deploymentValidation } from '../lazy/libraries';

/**
 * Validation of a deployment spec file against the VVP Deployment schema the task ships
 * (`deployment-schema.json`, generated from VVP's swagger by `.ci/generate-deployment-schema.mjs`):
 * unknown fields, wrong types and bad enum values, each with its path and the accepted form.
 */

/** One thing wrong with a spec document. */
export interface SpecProblem {
  /** Where, e.g. `spec.template.spec.parallelism`; `(document)` for the top level. */
  path: string;
  /** What is wrong, e.g. `is the string "two"`, `unknown field 'paralelism'`. */
  problem: string;
  /** The accepted form, e.g. `expected an integer`, `one of STATEFUL, STATELESS, NONE`. */
  expected: string;
  /** One readable sentence: `<path>: <problem>; <expected>`. */
  message: string;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// RFC 3339 as VVP writes it (`2020-02-21T09:58:02.113421Z`); any fraction length, Z or an offset.
const DATE_TIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

let compiled: ValidateFunction | undefined;

/** Compiled once, on first use: compiling the ~110 definitions costs tens of milliseconds. */
function validator(): ValidateFunction {
  if (compiled) return compiled;
  const { Ajv, deploymentSchema } = deploymentValidation();
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
  // The swagger's formats. ajv knows none of them without ajv-formats; these few are all we need.
  ajv.addFormat('uuid', UUID);
  ajv.addFormat('date-time', DATE_TIME);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('double', { type: 'number', validate: (n: number) => Number.isFinite(n) });
  compiled = ajv.compile(deploymentSchema);
  return compiled;
}

/**
 * Validates a deployment document (a spec file after token replacement: partial for a PATCH,
 * full for a create, or a deployment as read with `status` and read-only metadata).
 *
 * @returns every problem at once, sorted by path; empty when the document is valid.
 */
export function validateDeploymentSpec(document: unknown): SpecProblem[] {
  const validate = validator();
  if (validate(document)) return [];
  const errors = validate.errors ?? [];
  // 1.5 for an int32 fails both `type: integer` and the format; the type says it all.
  const typeFailed = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  const problems = errors
    .filter((e) => !(e.keyword === 'format' && typeFailed.has(e.instancePath)))
    .map((error) => describeError(error, document));
  const seen = new Set<string>();
  return problems
    .filter((p) => (seen.has(p.message) ? false : (seen.add(p.message), true)))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function describeError(error: ErrorObject, document: unknown): SpecProblem {
  const segments = pointerToSegments(error.instancePath, document);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperty':
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const known = Object.keys((error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
      const suggestion = closestName(field, known);
      const hint = suggestion ? `did you mean '${suggestion}'? ` : '';
      return problem([...segments, field], `unknown field '${field}'`, `${hint}known: ${known.join(', ')}`);
    }
    case 'type': {
      const types = ([] as unknown[]).concat(params.type).map(String);
      let expected = `expected ${types.map(typeName).join(' or ')}`;
      if (types.includes('string') && (typeof error.data === 'number' || typeof error.data === 'boolean')) {
        expected += ` (quote it: "${String(error.data)}")`;
      }
      return problem(segments, `is ${describeValue(error.data)}`, expected);
    }
    case 'enum': {
      const allowed = ((params.allowedValues as unknown[]) ?? []).map(String);
      const caseMatch = typeof error.data === 'string' ? allowed.find((a) => a.toLowerCase() === String(error.data).toLowerCase()) : undefined;
      const hint = caseMatch ? ` (VVP expects upper case: ${caseMatch})` : '';
      return problem(segments, `is ${describeValue(error.data)}`, `one of ${allowed.join(', ')}${hint}`);
    }
    case 'format':
      return problem(segments, `is ${describeValue(error.data)}`, formatExpectation(String(params.format)));
    case 'required': {
      const missing = String(params.missingProperty);
      const schema = error.parentSchema as { title?: string; required?: string[] } | undefined;
      const needs = (schema?.required ?? [missing]).join(', ');
      return problem(segments, `has no field '${missing}'`, schema?.title ? `every ${schema.title} needs: ${needs}` : `required here: ${needs}`);
    }
    default:
      return problem(segments, `is not valid (${error.message ?? error.keyword})`, 'see the VVP Deployment API');
  }
}

function problem(segments: PathSegment[], what: string, expected: string): SpecProblem {
  const path = formatPath(segments);
  return { path, problem: what, expected, message: `${path}: ${what}; ${expected}` };
}

/** Decodes ajv's JSON pointer, turning steps into numbers where the document has an array. */
function pointerToSegments(pointer: string, document: unknown): PathSegment[] {
  if (pointer === '') return [];
  const segments: PathSegment[] = [];
  let node: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(key)) {
      segments.push(Number(key));
      node = node[Number(key)];
    } else {
      segments.push(key);
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return segments;
}

function typeName(type: string): string {
  switch (type) {
    case 'object':
      return 'an object (a mapping of fields)';
    case 'array':
      return 'a list';
    case 'integer':
      return 'an integer';
    default:
      return `a ${type}`;
  }
}

function formatExpectation(format: string): string {
  switch (format) {
    case 'uuid':
      return 'expected a UUID such as 6232cc84-7aa3-4524-b3a8-36cab7203c47';
    case 'date-time':
      return 'expected a date-time such as 2024-05-01T12:00:00Z';
    case 'int32':
      return `expected an integer from ${INT32_MIN} to ${INT32_MAX}`;
    case 'int64':
      return 'expected an integer';
    case 'double':
      return 'expected a finite number';
    default:
      return `expected the format ${format}`;
  }
}

/** The value as a user recognises it, shortened; strings JSON-quoted so blanks stay visible. */
function describeValue(value: unknown): string {
  if (value === null) return 'empty (null)';
  if (Array.isArray(value)) return `a list (${value.length} item${value.length === 1 ? '' : 's'})`;
  switch (typeof value) {
    case 'string': {
      // A URI put in the wrong field may carry a SAS: its query values are never shown.
      const safe = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/\S*\?/.test(value) ? maskJarUriQuery(value) : value;
      const shown = safe.length > 60 ? `${safe.slice(0, 57)}...` : safe;
      return `the string ${JSON.stringify(shown)}`;
    }
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return `the boolean ${value}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

/** The known name within edit distance 2 (or differing only in case), if any: a likely typo. */
function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.min(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
