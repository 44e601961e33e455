/**
 * Deep clone, deep equality and merge-patch helpers for JSON-like values
 * (what request bodies and stored resources are made of).
 */

/** A JSON object as parsed from a request body. */
export type JsonObject = { [key: string]: unknown };

/** True for `{...}` values (not arrays, not null). */
export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural copy, so stored resources never share objects with callers. */
export function deepClone<T>(value: T): T {
  return structuredClone(value);
}

/**
 * Structural equality. Strings are compared verbatim, so a `jarUri` differing only in
 * its query (`?commit=A` vs `?commit=B`) is a difference, as on VVP.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keysA = Object.keys(a).filter((k) => a[k] !== undefined);
    const keysB = Object.keys(b).filter((k) => b[k] !== undefined);
    return keysA.length === keysB.length && keysA.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * Merges `patch` into a copy of `target`: objects merge key by key, arrays and scalars
 * replace, `null` removes the key (JSON merge patch, RFC 7386 — the closest documented
 * model for VVP's PATCH).
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return deepClone(patch);
  const result: JsonObject = isPlainObject(target) ? deepClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (value !== undefined) result[key] = mergePatch(result[key], value);
  }
  return result;
}
