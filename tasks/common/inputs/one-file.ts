import * as path from 'node:path';

/** What the paths a file input's patterns matched come to: the one file it needs, or why not. */
type OneFile = { kind: 'one'; file: string } | { kind: 'none'; folders: string[] } | { kind: 'many'; files: string[] };

/**
 * Sorts the paths glob patterns matched under `root` (relative or absolute, duplicates removed)
 * into the one file a file input must name: folders never count (`**\/target/*` would otherwise
 * match `target/classes`). `isFile` says which absolute paths are files.
 */
export function oneFile(matched: readonly string[], root: string, isFile: (file: string) => boolean): OneFile {
  const absolute = [...new Set(matched.map((p) => path.resolve(root, p)))];
  const files = absolute.filter(isFile);
  if (files.length === 1) return { kind: 'one', file: files[0] };
  return files.length === 0 ? { kind: 'none', folders: absolute } : { kind: 'many', files };
}

/** Paths relative to `root` for a message, at most `max` of them, then "and N more". */
export function listPaths(paths: readonly string[], root: string, max: number): string {
  const names = paths.slice(0, max).map((p) => path.relative(root, p) || p);
  return `${names.join(', ')}${paths.length > max ? ` and ${paths.length - max} more` : ''}`;
}
