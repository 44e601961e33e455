// Generates tasks/common/vvp/deployment-schema.json, the VVP Deployment JSON schema the task
// ships for `action: plan`, from the Application Manager swagger (Swagger 2.0):
//
//   node .ci/generate-deployment-schema.mjs <path to appmanager-api-swagger.json> [<output file>]
//
// (the output defaults to the committed file).
//
// The output is committed: the task and its tests never need the swagger. Run this again after
// changing the rules below or when a newer swagger is adopted; the output is deterministic
// (definitions and properties sorted, no descriptions), so a re-run without changes is a no-op.
//
// What the generator changes compared to the swagger, and why:
// - Every object definition with `properties` is closed (`additionalProperties: false`): an
//   unknown field (a typo such as `paralelism`) is an error the plan names, instead of a field VVP
//   silently drops. Maps (`additionalProperties: <schema>`) stay maps of their value type, and
//   objects without properties (`JsonNode`: Kubernetes affinity, tolerations, volumes) stay free.
// - The swagger's `Quantity` and `IntOrString` describe the Java client's classes
//   (`{number, format}`, `{intValue, strValue}`), not their JSON form: on the wire a Kubernetes
//   quantity is "500m" / "1Gi" (or a plain number) and a port is 8080 or "http". Closing those
//   classes would reject every real pod template, so they become `string | number` and
//   `integer | string`.
// - Enums VVP documents but this swagger leaves as free strings: `upgradeStrategy.kind`
//   (STATEFUL, STATELESS, NONE) and `restoreStrategy.kind` (LATEST_STATE, LATEST_SAVEPOINT, NONE),
//   plus `restoreStrategy.allowNonRestoredState` (boolean), which VVP has and the swagger omits.
// - Fields VVP 2.7 adds (appmanager-api-swagger-2.7.1.json): `spec.jobFailureExpirationTime` and
//   `template.spec.kubernetes.labels`, so a spec file written for (or read from) VVP 2.7 passes.
// - `required` is kept only on definitions reached through arrays (containers, env, volumes…): a
//   PATCH replaces an array whole, so its items must be complete, but it deep-merges objects, so a
//   partial object (a pod template `spec` with only `volumes`) is valid there.
// - `status` is free: VVP manages it and ignores it on writes; a spec file copied from a GET
//   carries it, and newer VVP versions add states to it.
// - Descriptions are dropped (they are Kubernetes API prose and would bloat the task bundle);
//   `title`, `type`, `format`, `enum`, `items`, `properties`, `additionalProperties` are kept.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const OUTPUT = join(root, 'tasks', 'common', 'vvp', 'deployment-schema.json');

/** Definitions replaced whole, by name. */
const REPLACED = {
  Quantity: { title: 'Quantity', type: ['string', 'number'] },
  IntOrString: { title: 'IntOrString', type: ['integer', 'string'] },
  DeploymentStatus: { title: 'DeploymentStatus', type: 'object' },
};

/** Properties set on definitions (added when missing, replaced when present). */
const PROPERTY_OVERRIDES = {
  DeploymentUpgradeStrategy: {
    kind: { type: 'string', enum: ['STATEFUL', 'STATELESS', 'NONE'] },
  },
  DeploymentRestoreStrategy: {
    kind: { type: 'string', enum: ['LATEST_STATE', 'LATEST_SAVEPOINT', 'NONE'] },
    allowNonRestoredState: { type: 'boolean' },
  },
  DeploymentSpec: {
    jobFailureExpirationTime: { type: 'string' },
  },
  KubernetesOptions: {
    labels: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

const KEPT_KEYWORDS = ['$ref', 'title', 'type', 'format', 'enum', 'items', 'properties', 'additionalProperties', 'required'];

/**
 * Builds the schema document from a parsed swagger.
 * @param {any} swagger the parsed Swagger 2.0 document
 * @param {{ file: string, sha256: string }} source where it came from (recorded in `$comment`)
 */
export function buildDeploymentSchema(swagger, source) {
  const definitions = swagger?.definitions;
  if (!definitions?.Deployment) throw new Error('the swagger has no definitions.Deployment');

  const reachable = reachableDefinitions(definitions, 'Deployment', () => true);
  // Definitions a PATCH merges into (reachable without passing through an array).
  const merged = reachableDefinitions(definitions, 'Deployment', (edge) => edge !== 'items');

  const out = {};
  for (const name of [...reachable].sort()) {
    let schema = REPLACED[name] ? structuredClone(REPLACED[name]) : clean(definitions[name]);
    if (PROPERTY_OVERRIDES[name]) {
      schema.properties = { ...(schema.properties ?? {}), ...structuredClone(PROPERTY_OVERRIDES[name]) };
    }
    if (merged.has(name)) delete schema.required;
    schema = closeObjects(schema);
    out[name] = sortObjectKeys(schema);
  }
  for (const name of [...Object.keys(REPLACED), ...Object.keys(PROPERTY_OVERRIDES)]) {
    if (!out[name]) throw new Error(`definition ${name} is not reachable from Deployment any more; review the generator rules`);
  }

  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Ververica Platform Deployment',
    $comment:
      `Generated by .ci/generate-deployment-schema.mjs from ${source.file} ` +
      `(${swagger.info?.title ?? 'swagger'} ${swagger.info?.version ?? ''}, sha256 ${source.sha256}). Do not edit; regenerate.`,
    $ref: '#/definitions/Deployment',
    definitions: out,
  };
}

/** Names of the definitions reachable from `start`, following `$ref`s under the allowed edges. */
function reachableDefinitions(definitions, start, followEdge) {
  const seen = new Set();
  const visitDefinition = (name) => {
    if (seen.has(name)) return;
    if (!definitions[name]) throw new Error(`$ref to a missing definition: ${name}`);
    seen.add(name);
    if (REPLACED[name]) return;
    visitSchema(definitions[name]);
  };
  const visitSchema = (schema) => {
    if (!schema || typeof schema !== 'object') return;
    if (typeof schema.$ref === 'string') visitDefinition(refName(schema.$ref));
    for (const property of Object.values(schema.properties ?? {})) visitSchema(property);
    if (schema.additionalProperties && typeof schema.additionalProperties === 'object') visitSchema(schema.additionalProperties);
    if (schema.items && followEdge('items')) visitSchema(schema.items);
  };
  visitDefinition(start);
  return seen;
}

function refName(ref) {
  const match = /^#\/definitions\/(.+)$/.exec(ref);
  if (!match) throw new Error(`unsupported $ref ${ref} (only #/definitions/… is supported)`);
  return match[1];
}

/** Keeps the validation keywords, recursively. */
function clean(schema) {
  const out = {};
  for (const key of KEPT_KEYWORDS) {
    if (!(key in schema)) continue;
    const value = schema[key];
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v)]));
    } else if ((key === 'items' || key === 'additionalProperties') && typeof value === 'object') {
      out[key] = clean(value);
    } else {
      out[key] = structuredClone(value);
    }
  }
  return out;
}

/** Closes every object schema that lists its properties (nested ones too). */
function closeObjects(schema) {
  if (!schema || typeof schema !== 'object') return schema;
  const out = { ...schema };
  if (out.properties) {
    out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, closeObjects(v)]));
    if (out.additionalProperties === undefined) out.additionalProperties = false;
  }
  if (out.items) out.items = closeObjects(out.items);
  if (out.additionalProperties && typeof out.additionalProperties === 'object') out.additionalProperties = closeObjects(out.additionalProperties);
  return out;
}

/** Sorts `properties` by name and puts keywords in one fixed order, recursively. */
function sortObjectKeys(schema) {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const out = {};
  for (const key of KEPT_KEYWORDS) {
    if (!(key in schema)) continue;
    const value = schema[key];
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortObjectKeys(value[k])]));
    } else if (key === 'required') {
      out.required = [...value].sort();
    } else {
      out[key] = typeof value === 'object' && !Array.isArray(value) ? sortObjectKeys(value) : value;
    }
  }
  return out;
}

function main() {
  const [input, output = OUTPUT] = process.argv.slice(2);
  if (!input) {
    console.error('usage: node .ci/generate-deployment-schema.mjs <path to appmanager-api-swagger.json> [<output file>]');
    process.exit(2);
  }
  const bytes = readFileSync(input);
  const swagger = JSON.parse(bytes.toString('utf8'));
  const schema = buildDeploymentSchema(swagger, { file: basename(input), sha256: createHash('sha256').update(bytes).digest('hex') });
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  writeFileSync(output, text);
  console.log(`wrote ${output}: ${Object.keys(schema.definitions).length} definitions, ${(text.length / 1024).toFixed(0)} KiB`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main();
  } catch (error) {
    console.error(`generate-deployment-schema: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
