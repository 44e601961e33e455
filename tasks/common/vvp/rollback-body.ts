/**
 * Pure decisions of the rollback: what it writes, whether it may write, and whether what VVP
 * stores afterwards is the deployment from before the step. Table-tested.
 *
 * Why a PUT of the whole deployment: VVP documents PATCH as a deep merge, so a PATCH of the old
 * template keeps every field the failed change added; a `null` in a PATCH is outside the
 * swagger schema (labels, annotations and flinkConfiguration are maps of strings). PUT is
 * "create or replace".
 */
import { deepEqual, deepMerge } from './deployment-spec';
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
function changedPaths(before: JsonValue | undefined, after: JsonValue | undefined, prefix: string): string[] {
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

/**
 * Where what this step's write left (`written`, VVP's answer) differs from the deployment as read
 * before it with the write merged in: someone changed those fields between the step's read and
 * its write. A rollback to the deployment as read would silently revert them.
 */
export function changedBesideTheWrite(previous: Deployment, body: JsonObject, written: Deployment): string[] {
  const expectedSpec = deepMerge(previous.spec, isJsonObject(body.spec) ? body.spec : {});
  const expected: Deployment = { ...previous, spec: expectedSpec as JsonObject, metadata: { ...previous.metadata, ...(deepMerge(userMetadata(previous), isJsonObject(body.metadata) ? body.metadata : {}) as JsonObject) } };
  return changesSinceWrite(expected, written);
}

/** Where a deployment read after the rollback differs from the one before the step; empty: restored exactly. */
export function differencesFromPrevious(previous: Deployment, now: Deployment): string[] {
  return [...changedPaths(previous.spec, now.spec, 'spec'), ...changedPaths(userMetadata(previous), userMetadata(now), 'metadata')];
}

/**
 * The annotation a rollback writes with its temporary strategies (STATELESS + LATEST_SAVEPOINT,
 * so the previous job starts from the upgrade savepoint): the strategies to put back once the
 * previous job runs, the run that left it and when. The rollback's last write removes it; when
 * the rollback does not get that far, the next run of the task finishes it.
 */
export const UNFINISHED_ROLLBACK_ANNOTATION = 'vvp-azure-pipelines/unfinished-rollback';

/** What an unfinished rollback left to put back. */
export interface UnfinishedRollback {
  /** `spec.upgradeStrategy` from before the failed step; undefined: it was unset. */
  upgradeStrategy?: JsonValue;
  /** `spec.restoreStrategy` from before the failed step; undefined: it was unset. */
  restoreStrategy?: JsonValue;
  /** The pipeline run that left it (its URI), when known. */
  run?: string;
  /** When it was left (ISO time of the rollback write). */
  at?: string;
}

/**
 * `previous` with the temporary rollback strategies (STATELESS: the failed job is not
 * savepointed; restore `restoreKind`: LATEST_SAVEPOINT for the state registered again, NONE when
 * there was no state before the step) and the annotation that says what to put back.
 */
export function withTemporaryStrategies(previous: Deployment, record: Pick<UnfinishedRollback, 'run' | 'at'>, restoreKind: 'LATEST_SAVEPOINT' | 'NONE' = 'LATEST_SAVEPOINT'): Deployment {
  const copy = structuredClone(previous);
  const restore = isJsonObject(copy.spec.restoreStrategy) ? copy.spec.restoreStrategy : {};
  // A deployment that still carries an earlier record keeps the strategies that one recorded: those are the real ones.
  const earlier = unfinishedRollbackOf(previous);
  const left: UnfinishedRollback = earlier
    ? { upgradeStrategy: earlier.upgradeStrategy, restoreStrategy: earlier.restoreStrategy, ...record }
    : { upgradeStrategy: previous.spec.upgradeStrategy, restoreStrategy: previous.spec.restoreStrategy, ...record };
  copy.spec.upgradeStrategy = { kind: 'STATELESS' };
  copy.spec.restoreStrategy = { ...restore, kind: restoreKind };
  copy.metadata.annotations = { ...(copy.metadata.annotations ?? {}), [UNFINISHED_ROLLBACK_ANNOTATION]: JSON.stringify(left) };
  return copy;
}

/** The unfinished rollback a deployment records; undefined when none (or the record is unreadable JSON of another shape). */
export function unfinishedRollbackOf(deployment: Deployment): UnfinishedRollback | undefined {
  const raw = deployment.metadata.annotations?.[UNFINISHED_ROLLBACK_ANNOTATION];
  if (typeof raw !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!isJsonObject(parsed)) return {};
    return {
      upgradeStrategy: parsed.upgradeStrategy ?? undefined,
      restoreStrategy: parsed.restoreStrategy ?? undefined,
      run: typeof parsed.run === 'string' ? parsed.run : undefined,
      at: typeof parsed.at === 'string' ? parsed.at : undefined,
    };
  } catch {
    // A hand-edited value: the strategies cannot be known; the caller says so.
    return {};
  }
}

/** The strategies a step sets itself: finishing an unfinished rollback does not put those back. */
export interface KeptStrategies {
  upgradeStrategy?: boolean;
  restoreStrategy?: boolean;
}

/**
 * The deployment with an unfinished rollback finished: the recorded strategies put back (unless
 * `keep` names one this step sets itself) and the annotation removed. Not a template change.
 */
export function finishedRollback(deployment: Deployment, record: UnfinishedRollback, keep: KeptStrategies = {}): Deployment {
  const copy = structuredClone(deployment);
  for (const key of ['upgradeStrategy', 'restoreStrategy'] as const) {
    if (keep[key]) continue;
    if (record[key] === undefined) delete copy.spec[key];
    else copy.spec[key] = structuredClone(record[key]) as JsonValue;
  }
  const annotations = { ...(copy.metadata.annotations ?? {}) };
  delete annotations[UNFINISHED_ROLLBACK_ANNOTATION];
  copy.metadata.annotations = annotations;
  return copy;
}

/** The strategies of a record as a sentence part: `upgrade STATEFUL, restore LATEST_STATE`. */
export function describeStrategies(record: UnfinishedRollback): string {
  const kind = (value: JsonValue | undefined): string => (isJsonObject(value) && typeof value.kind === 'string' ? value.kind : '(unset)');
  return `upgrade strategy ${kind(record.upgradeStrategy)}, restore strategy ${kind(record.restoreStrategy)}`;
}

/**
 * True when two jarUris name the same blob and differ only in their query or fragment (the
 * overwrite-in-place flow of `?commit=`): the bytes of the first are gone once the second was
 * uploaded, so a rollback to it would restart the new bytes.
 */
export function namesSameBlob(previous: string | undefined, next: string): boolean {
  if (previous === undefined || previous === next) return false;
  const path = (uri: string): string => uri.replace(/[?#].*$/s, '');
  return path(previous) === path(next);
}
