import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../common/errors/errors';
import { listPaths, oneFile } from '../../common/inputs/one-file';

/**
 * Finds paths matching glob patterns under a root; lines starting with `!` exclude. The entry
 * passes task-lib's `findMatch` so this module stays free of task-lib.
 */
export type FileMatcher = (root: string, patterns: string[]) => string[];

/** How many matched names an error lists before it says "and N more". */
const MAX_LISTED = 20;

/** The one file `artifactPath` names. */
interface ResolvedArtifact {
  /** The path as matched under the root (its file name becomes the default blob name). */
  matchedPath: string;
  /** The same file with every symbolic link resolved: what is opened and read. */
  realPath: string;
}

/**
 * Resolves `artifactPath` to exactly one file. Directories never count (`**\/target/*` would
 * otherwise match `target/classes`). A match that is (or lies under) a symbolic link leading out
 * of `root` is refused: the step publishes build output, never a file from elsewhere on the
 * agent (a link planted in the sources to a credentials file, say).
 *
 * @throws InputError naming the patterns and what they matched, when that is not exactly one
 * file inside `root`.
 */
export function resolveArtifactFile(patterns: string[], root: string, match: FileMatcher): ResolvedArtifact {
  const found = oneFile(match(root, patterns), root, isFile);
  const shown = patterns.join(', ');
  if (found.kind === 'one') return inside(found.file, root, shown);
  if (found.kind === 'none') {
    const dirs = found.folders.length > 0 ? ` (it matched only ${found.folders.length} folder(s): ${listPaths(found.folders, root, MAX_LISTED)})` : '';
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
        `must match exactly one file under ${root}, but matched ${found.files.length}: ${listPaths(found.files, root, MAX_LISTED)}. ` +
        "Make the pattern more specific or add '!' lines to exclude files (e.g. !**/original-*.jar)",
    },
  ]);
}

/**
 * The file with its real path, or an InputError when a match inside `root` is a symbolic link
 * (or lies under one) that leads out of it. A pattern that names a place outside `root` itself
 * (`$(Pipeline.Workspace)/jar/*.jar` after a `download:` step) says where the file is: allowed.
 */
function inside(file: string, root: string, shown: string): ResolvedArtifact {
  const realPath = fs.realpathSync(file);
  if (!isWithin(root, path.resolve(file))) return { matchedPath: file, realPath };
  if (isWithin(fs.realpathSync(root), realPath)) return { matchedPath: file, realPath };
  throw new InputError([
    {
      input: 'artifactPath',
      value: shown,
      expected:
        `matched ${path.relative(root, file) || file}, which a symbolic link leads to ${realPath}, outside ${root} (System.DefaultWorkingDirectory). ` +
        'Only files inside the working directory are uploaded: point artifactPath at the build output itself',
    },
  ]);
}

/** Whether `file` lies inside the folder `root` (both absolute). */
function isWithin(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** Whether `file` is a readable file (a folder, a broken link or an unreadable entry is not). */
function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
