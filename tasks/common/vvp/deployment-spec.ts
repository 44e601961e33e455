import { yaml } from '../lazy/libraries';
import { isJsonObject, type JsonObject, type JsonValue } from './resources';
import type { ArtifactContent } from './artifact';

/** The tokens a deployment spec file may contain, replaced by the inputs of the same names. */
const SPEC_TOKENS = ['JARURI', 'DEPLOYMENTTARGETID'] as const;
type SpecToken = (typeof SPEC_TOKENS)[number];

/** A spec file that cannot be used; the message says why (the caller adds the file name). */
export class SpecFileProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpecFileProblem';
  }
}

/**
 * Parses a deployment spec file: YAML (JSON is YAML too). One document, a mapping at the top.
 *
 * @throws SpecFileProblem for empty files, syntax errors (with line and column), several
 * documents, or a top level that is not an object.
 */
export function parseSpecText(text: string): JsonObject {
  const stripped = text.replace(/^\uFEFF/, '');
  if (stripped.trim() === '') throw new SpecFileProblem('the file is empty');
  const docs = yaml().parseAllDocuments(stripped, { uniqueKeys: true, prettyErrors: true });
  if (!Array.isArray(docs)) throw new SpecFileProblem('the file is not YAML or JSON');
  const real = docs.filter((d) => d.contents !== null || d.errors.length > 0);
  if (real.length === 0) throw new SpecFileProblem('the file holds no document');
  const first = real[0];
  if (first.errors.length > 0) {
    const e = first.errors[0];
    const where = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new SpecFileProblem(`it is not valid YAML or JSON${where}: ${e.message.split('\n')[0]}`);
  }
  if (real.length > 1) throw new SpecFileProblem(`it holds ${real.length} YAML documents; put exactly one Deployment in it`);
  const value: unknown = first.toJS({ maxAliasCount: 100 });
  if (!isJsonObject(value)) {
    const kind = Array.isArray(value) ? 'a list' : value === null ? 'empty' : `a ${typeof value}`;
    throw new SpecFileProblem(`its top level is ${kind}, not a Deployment object (kind, metadata, spec)`);
  }
  return toJson(value) as JsonObject;
}

/** Normalises YAML values to JSON (dates become ISO strings; no undefined). */
function toJson(value: unknown): JsonValue {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJson);
  if (isJsonObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v);
    return out;
  }
  if (typeof value === 'bigint') return Number(value);
  return value as JsonValue;
}

/**
 * Checks the shape of a spec document against the task inputs.
 * @returns problems in words, empty when fine.
 */
export function checkSpecDocument(doc: JsonObject, target: { deployment: string; namespace: string; deploymentIsId: boolean }): string[] {
  const problems: string[] = [];
  if (doc.kind !== undefined && doc.kind !== 'Deployment') problems.push(`kind is '${String(doc.kind)}', expected 'Deployment'`);
  if (doc.metadata !== undefined && !isJsonObject(doc.metadata)) problems.push('metadata must be an object');
  if (doc.spec !== undefined && !isJsonObject(doc.spec)) problems.push('spec must be an object');
  if (isJsonObject(doc.metadata)) {
    const { name, namespace } = doc.metadata;
    if (name !== undefined && typeof name !== 'string') problems.push('metadata.name must be a string');
    if (typeof name === 'string' && !target.deploymentIsId && name !== target.deployment) {
      problems.push(`metadata.name is '${name}' but the input deployment is '${target.deployment}' (deployment names cannot be changed)`);
    }
    if (namespace !== undefined && namespace !== target.namespace) {
      problems.push(`metadata.namespace is '${String(namespace)}' but the input namespace is '${target.namespace}'`);
    }
  }
  if (isJsonObject(doc.spec)) {
    for (const path of [['template'], ['template', 'spec'], ['template', 'spec', 'artifact']]) {
      let node: unknown = doc.spec;
      for (const key of path) node = isJsonObject(node) ? node[key] : undefined;
      if (node !== undefined && !isJsonObject(node)) problems.push(`spec.${path.join('.')} must be an object`);
    }
    const jarUri = getPath(doc.spec, ['template', 'spec', 'artifact', 'jarUri']);
    if (jarUri !== undefined && typeof jarUri !== 'string') problems.push('spec.template.spec.artifact.jarUri must be a string');
  }
  return problems;
}

/**
 * Replaces the tokens `JARURI` and `DEPLOYMENTTARGETID` in every string value (never in keys),
 * as whole words. Replacing in parsed values rather than in the raw text means a jarUri with
 * `:` `#` or `?` can never break the YAML.
 *
 * @returns the new document and the tokens that occur but have no value (an input error).
 */
export function replaceTokens(
  doc: JsonObject,
  values: Partial<Record<SpecToken, string>>,
): { document: JsonObject; unresolved: SpecToken[] } {
  const unresolved = new Set<SpecToken>();
  const pattern = new RegExp(`\\b(${SPEC_TOKENS.join('|')})\\b`, 'g');
  const visit = (value: JsonValue): JsonValue => {
    if (typeof value === 'string') {
      return value.replace(pattern, (token) => {
        const replacement = values[token as SpecToken];
        if (replacement === undefined || replacement === '') {
          unresolved.add(token as SpecToken);
          return token;
        }
        return replacement;
      });
    }
    if (Array.isArray(value)) return value.map(visit);
    if (isJsonObject(value)) {
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(value)) out[k] = visit(v);
      return out;
    }
    return value;
  };
  return { document: visit(doc) as JsonObject, unresolved: [...unresolved] };
}

/** The strategy inputs (`upgradeStrategy`, `restoreStrategy`); each overrides the spec file's. */
interface PatchStrategies {
  upgradeStrategy?: string;
  restoreStrategy?: string;
}

/**
 * A write body with the pipeline run recorded in `metadata.annotations` (never the template's
 * annotations: those are part of the template and would restart the job). The other
 * annotations of the body are kept.
 */
export function withAnnotations(body: JsonObject, annotations: Readonly<Record<string, string>>): JsonObject {
  if (Object.keys(annotations).length === 0) return body;
  const out = structuredClone(body);
  const metadata: JsonObject = isJsonObject(out.metadata) ? out.metadata : {};
  const existing: JsonObject = isJsonObject(metadata.annotations) ? metadata.annotations : {};
  metadata.annotations = { ...existing, ...annotations };
  out.metadata = metadata;
  return out;
}

/** Metadata fields a PATCH may carry; the rest (id, resourceVersion, timestamps, name) is VVP's. */
const PATCHABLE_METADATA = ['labels', 'annotations', 'displayName'] as const;

/**
 * Sets the artifact a write sends in `spec`: for a JAR its `jarUri` (and `additionalDependencies`
 * when given; the kind stays the deployment's), for a SQL script `kind: SQLSCRIPT`, the script
 * and its `additionalDependencies` (always: an empty list removes the previous ones).
 */
function setArtifact(spec: JsonObject, artifact: ArtifactContent): void {
  const at = ['template', 'spec', 'artifact'];
  if (artifact.kind === 'JAR') {
    setPath(spec, [...at, 'jarUri'], artifact.jarUri);
    if (artifact.additionalDependencies.length > 0) setPath(spec, [...at, 'additionalDependencies'], [...artifact.additionalDependencies]);
    return;
  }
  setPath(spec, [...at, 'kind'], 'SQLSCRIPT');
  setPath(spec, [...at, 'sqlScript'], artifact.sqlScript);
  setPath(spec, [...at, 'additionalDependencies'], [...artifact.additionalDependencies]);
}

/**
 * The PATCH body: the spec file's `spec` (and its labels, annotations, displayName) with the
 * artifact set (a JAR's `jarUri`, or a SQL script). Without a spec file it is just
 * `{ spec: { template: { spec: { artifact: { jarUri } } } } }`; VVP merges it into the stored
 * deployment. `status`, `kind` and read-only metadata from the file are left out.
 */
export function buildPatchBody(specDocument: JsonObject | undefined, artifact: ArtifactContent, strategies: PatchStrategies = {}): JsonObject {
  const spec = isJsonObject(specDocument?.spec) ? (structuredClone(specDocument.spec) as JsonObject) : {};
  setArtifact(spec, artifact);
  if (strategies.upgradeStrategy) setPath(spec, ['upgradeStrategy', 'kind'], strategies.upgradeStrategy);
  if (strategies.restoreStrategy) setPath(spec, ['restoreStrategy', 'kind'], strategies.restoreStrategy);
  const body: JsonObject = { spec };
  if (isJsonObject(specDocument?.metadata)) {
    const metadata: JsonObject = {};
    for (const key of PATCHABLE_METADATA) {
      const value = specDocument.metadata[key];
      if (value !== undefined) metadata[key] = structuredClone(value);
    }
    if (Object.keys(metadata).length > 0) body.metadata = metadata;
  }
  return body;
}

/**
 * The POST body for a missing deployment: the whole spec file minus `status` and read-only
 * metadata, with `metadata.name`/`namespace` set, the artifact set, `artifact.kind` defaulting to
 * `JAR` and `spec.state` defaulting to `RUNNING`.
 */
export function buildCreateBody(specDocument: JsonObject, target: { name: string; namespace: string; artifact: ArtifactContent } & PatchStrategies): JsonObject {
  const doc = structuredClone(specDocument);
  delete doc.status;
  const metadata: JsonObject = isJsonObject(doc.metadata) ? doc.metadata : {};
  for (const key of ['id', 'resourceVersion', 'createdAt', 'modifiedAt']) delete metadata[key];
  metadata.name = target.name;
  metadata.namespace = target.namespace;
  const spec: JsonObject = isJsonObject(doc.spec) ? doc.spec : {};
  setArtifact(spec, target.artifact);
  const artifact = getPath(spec, ['template', 'spec', 'artifact']) as JsonObject;
  if (artifact.kind === undefined) artifact.kind = 'JAR';
  if (spec.state === undefined) spec.state = 'RUNNING';
  if (target.upgradeStrategy) setPath(spec, ['upgradeStrategy', 'kind'], target.upgradeStrategy);
  if (target.restoreStrategy) setPath(spec, ['restoreStrategy', 'kind'], target.restoreStrategy);
  return { ...doc, kind: 'Deployment', apiVersion: typeof doc.apiVersion === 'string' ? doc.apiVersion : 'v1', metadata, spec };
}

/**
 * Merges `patch` into `target` the way VVP applies a PATCH: objects merge key by key, anything
 * else (scalars, arrays, null) replaces. Returns a new value; inputs are not modified.
 */
export function deepMerge(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch) || !isJsonObject(target)) return structuredClone(patch);
  const out: JsonObject = structuredClone(target);
  for (const [key, value] of Object.entries(patch)) out[key] = deepMerge(out[key], value);
  return out;
}

/** Structural equality of JSON values (key order ignored). */
export function deepEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** True when every field of `subset` has the same value in `whole` (objects compared recursively). */
export function containsSubset(whole: JsonValue | undefined, subset: JsonValue): boolean {
  if (isJsonObject(subset)) {
    return isJsonObject(whole) && Object.entries(subset).every(([k, v]) => containsSubset(whole[k], v));
  }
  return deepEqual(whole, subset);
}

function getPath(root: JsonObject, path: readonly string[]): JsonValue | undefined {
  let node: JsonValue | undefined = root;
  for (const key of path) {
    if (!isJsonObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

function setPath(root: JsonObject, path: readonly string[], value: JsonValue): void {
  let node = root;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!isJsonObject(next)) node[key] = {};
    node = node[key] as JsonObject;
  }
  node[path[path.length - 1]] = value;
}
