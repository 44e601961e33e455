import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../common/errors/errors';

/**
 * Finds paths matching glob patterns under a root; lines starting with `!` exclude. The entry
 * passes task-lib's `findMatch` so this module stays free of task-lib.
 */
export type FileMatcher = (root: string, patterns: string[]) => string[];

/** How many matched names an error lists before it says "and N more". */
const MAX_LISTED = 20;

/**
 * Resolves `artifactPath` to exactly one file. Directories never count (`**\/target/*` would
 * otherwise match `target/classes`).
 *
 * @throws InputError naming the patterns and what they matched, when that is not exactly one file.
 */
export function resolveArtifactFile(patterns: string[], root: string, match: FileMatcher): string {
  const matched = [...new Set(match(root, patterns).map((p) => path.resolve(root, p)))];
  const files = matched.filter((p) => {
    try {
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  });
  if (files.length === 1) return files[0];
  const shown = patterns.join(', ');
  if (files.length === 0) {
    const dirs = matched.length > 0 ? ` (it matched only ${matched.length} folder(s): ${list(matched, root)})` : '';
    throw new InputError([
      {
        input: 'artifactPath',
        value: shown,
        expected: `must match exactly one file under ${root}, but matched no file${dirs}. Check the path and that the build step ran before this one`,
      },
    ]);
  }
  throw new InputError([
    {
      input: 'artifactPath',
      value: shown,
      expected:
        `must match exactly one file under ${root}, but matched ${files.length}: ${list(files, root)}. ` +
        "Make the pattern more specific or add '!' lines to exclude files (e.g. !**/original-*.jar)",
    },
  ]);
}

function list(paths: string[], root: string): string {
  const names = paths.slice(0, MAX_LISTED).map((p) => path.relative(root, p) || p);
  const more = paths.length > MAX_LISTED ? ` and ${paths.length - MAX_LISTED} more` : '';
  return `${names.join(', ')}${more}`;
}
