/** What the task does when a blob already exists under the target name. */
export type OverwriteMode = 'ifChanged' | 'always' | 'never';
export const OVERWRITE_MODES: readonly OverwriteMode[] = ['ifChanged', 'always', 'never'];

/** The local file, hashed. */
export interface LocalContent {
  sizeInBytes: number;
  /** Lowercase hex. */
  sha256Hex: string;
  /** Base64, as Azure stores Content-MD5. */
  md5Base64: string;
}

/** What the existing blob tells about its content. */
export interface ExistingContent {
  sizeInBytes: number;
  /** From the blob's `sha256` metadata, when a previous run (or someone) set it. */
  sha256Hex?: string;
  /** The blob's Content-MD5 property, when set. */
  md5Base64?: string;
}

/** Whether the existing blob holds exactly the local file's bytes. */
type Sameness = 'identical' | 'different' | 'unknown';

/**
 * Compares by hashes, never by name: identical only when the sizes match and every hash the
 * blob carries matches the file's (at least one must be there). A stale `sha256` metadata entry
 * with a matching MD5 still counts as different: one of them lies, so do not trust the blob.
 */
function compareContent(local: LocalContent, existing: ExistingContent): Sameness {
  if (existing.sizeInBytes !== local.sizeInBytes) return 'different';
  const sha = existing.sha256Hex?.trim().toLowerCase() || undefined;
  const md5 = existing.md5Base64 || undefined;
  if (sha === undefined && md5 === undefined) return 'unknown';
  if (sha !== undefined && sha !== local.sha256Hex.toLowerCase()) return 'different';
  if (md5 !== undefined && md5 !== local.md5Base64) return 'different';
  return 'identical';
}

export type OverwriteDecision =
  | { action: 'upload'; reason: 'absent' | 'changed' | 'unverifiable' | 'always' }
  | { action: 'skip'; reason: 'identical' }
  | { action: 'fail'; reason: 'different' | 'unverifiable' };

/**
 * The decision when it does not depend on the file's hashes, or undefined when it does: no blob
 * (upload), `always` (upload), or a blob of another length (`ifChanged`: upload; `never`: fail).
 * Only a blob of the same length needs the file hashed before deciding; every other upload
 * hashes the file while sending it, in the one pass that reads it.
 */
export function decideWithoutHashes(mode: OverwriteMode, sizeInBytes: number, existing: ExistingContent | undefined): OverwriteDecision | undefined {
  if (existing === undefined) return { action: 'upload', reason: 'absent' };
  if (mode === 'always') return { action: 'upload', reason: 'always' };
  if (existing.sizeInBytes !== sizeInBytes) return mode === 'never' ? { action: 'fail', reason: 'different' } : { action: 'upload', reason: 'changed' };
  return undefined;
}

/**
 * Decides what to do with the target blob. `existing` is undefined when no blob has the name.
 *
 * | mode      | absent | identical | different | unknown (no hash on the blob) |
 * |-----------|--------|-----------|-----------|-------------------------------|
 * | ifChanged | upload | skip      | upload    | upload                        |
 * | never     | upload | skip      | fail      | fail (cannot prove identical) |
 * | always    | upload | upload    | upload    | upload                        |
 */
export function decideOverwrite(mode: OverwriteMode, local: LocalContent, existing: ExistingContent | undefined): OverwriteDecision {
  if (existing === undefined) return { action: 'upload', reason: 'absent' };
  if (mode === 'always') return { action: 'upload', reason: 'always' };
  const sameness = compareContent(local, existing);
  switch (sameness) {
    case 'identical':
      return { action: 'skip', reason: 'identical' };
    case 'different':
      return mode === 'never' ? { action: 'fail', reason: 'different' } : { action: 'upload', reason: 'changed' };
    case 'unknown':
      return mode === 'never' ? { action: 'fail', reason: 'unverifiable' } : { action: 'upload', reason: 'unverifiable' };
    default: {
      const unreachable: never = sameness;
      throw new Error(`unhandled sameness ${String(unreachable)}`);
    }
  }
}
