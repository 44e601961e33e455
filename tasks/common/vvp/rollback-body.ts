/**
 * Pure decisions of the rollback: what it writes, whether it may write, and whether what VVP
 * stores afterwards is the deployment from before the step. Table-tested.
 *
 * Why a PUT of the whole deployment: VVP documents PATCH as a deep merge, so a PATCH of the old
 * template keeps every field the failed change added; a `null` in a PATCH is outside the
 * swagger schema (labels, annotations and flinkConfiguration are maps of strings). PUT is
 * "create or replace".
 */
import { deepEqual } from './deployment-spec';
import { isJsonObject, type Deployment, type JsonObject, type JsonValue } from './resources';

/** Annotations VVP's controller writes itself; never compared or restored by value. */
const SYSTEM_ANNOTATION = /^com\.dataartisans\.appmanager\.controller\./;

/** The PUT body that restores `previous`: its metadata (less VVP's bookkeeping) and spec; status is VVP's. */
export function restoreBody(previous: Deployment): JsonObject {
  const metadata: JsonObject = {};
  for (const [key, value] of Object.entries(previous.metadata)) {
    if (value === undefined || key === 'resourceVersion' || key === 'createdAt' || key === 'modifiedAt') continue;
    metadata[key] = structuredClone(value) as JsonValue;
  }
  return { kind: 'Deployment', apiVersion: previous.apiVersion ?? 'v1', metadata, spec: structuredClone(previous.spec) };
}

/** Paths (`spec.template.spec.parallelism`) where two JSON values differ: changed, added or removed. */
export function changedPaths(before: JsonValue | undefined, after: JsonValue | undefined, prefix: string): string[] {
  if (deepEqual(before, after)) return [];
  if (!isJsonObject(before) || !isJsonObject(after)) return [prefix];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.flatMap((key) => changedPaths(before[key], after[key], `${prefix}.${key}`));
}

/** The user-visible metadata a rollback restores and checks: labels, annotations (less VVP's own), displayName. */
function userMetadata(deployment: Deployment): JsonObject {
  const annotations: JsonObject = {};
  for (const [key, value] of Object.entries(deployment.metadata.annotations ?? {})) {
    if (!SYSTEM_ANNOTATION.test(key)) annotations[key] = value;
  }
  const out: JsonObject = { labels: { ...(deployment.metadata.labels ?? {}) }, annotations };
  if (deployment.metadata.displayName !== undefined) out.displayName = deployment.metadata.displayName as JsonValue;
  return out;
}

/**
 * Where `now` differs from what this step wrote (`written`, VVP's answer to the write): the
 * spec and the user metadata. Empty: the deployment is still ours to roll back.
 */
export function changesSinceWrite(written: Deployment, now: Deployment): string[] {
  return [...changedPaths(written.spec, now.spec, 'spec'), ...changedPaths(userMetadata(written), userMetadata(now), 'metadata')];
}

/** Where a deployment read after the rollback differs from the one before the step; empty: restored exactly. */
export function differencesFromPrevious(previous: Deployment, now: Deployment): string[] {
  return [...changedPaths(previous.spec, now.spec, 'spec'), ...changedPaths(userMetadata(previous), userMetadata(now), 'metadata')];
}
