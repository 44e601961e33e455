/**
 * The `sqlScriptFile` input made into the script a step sends: the path or glob resolved to
 * exactly one file, the file read as `script-file.ts` says (UTF-8, BOM removed, line endings
 * kept), and the SHA-256 of the text sent. Pure over the file access it is given.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { listPaths, oneFile } from '../inputs/one-file';
import { decodeSqlFile } from './script-file';

/** The file access the resolution needs (the entry passes node:fs and the agent's matcher). */
export interface ScriptFileAccess {
  /** Reads a file's bytes; throws a Node fs error (`code` ENOENT, EACCES, EISDIR…). */
  readFile(file: string): Uint8Array;
  isDirectory(file: string): boolean;
  /**
   * Paths matching glob patterns under `root` (task-lib's `findMatch`). Without it the input is
   * a plain path: a value with glob characters is refused.
   */
  findFiles?(root: string, patterns: string[]): string[];
}

/** The script as the step deploys it. */
export interface SqlScriptFile {
  /** Absolute path of the file. */
  file: string;
  /** The text sent to VVP: the file without a leading BOM, line endings as in the file. */
  script: string;
  /** Hex SHA-256 of `script`'s UTF-8 bytes. */
  sha256: string;
}

/** Characters that make a value a glob pattern rather than a path. */
const GLOB = /[*?[\]{}]/;

/** How many matched files a message lists. */
const MAX_LISTED = 10;

/**
 * Resolves `value` (relative to `root`, `System.DefaultWorkingDirectory`) to one file and reads
 * it. Returns the file, or what the input must be instead (for an InputError naming
 * `sqlScriptFile`): a path or glob that matches no file, a folder or several files, a file that
 * cannot be read or is not UTF-8.
 */
export function readSqlScriptInput(value: string, root: string, access: ScriptFileAccess): { file: SqlScriptFile } | { expected: string } {
  const resolved = resolveOne(value, root, access);
  if ('expected' in resolved) return resolved;
  const file = resolved.file;
  let bytes: Uint8Array;
  try {
    bytes = access.readFile(file);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'ENOENT' ? `no such file (${file})` : `cannot be read (${code ?? (error as Error).message})`;
    return { expected: `a readable .sql file: ${why}` };
  }
  const decoded = decodeSqlFile(bytes);
  if (decoded.problem) {
    const at = decoded.problem.position ? ` (first broken character at line ${decoded.problem.position.line}, column ${decoded.problem.position.column})` : '';
    return { expected: `a UTF-8 text file: ${path.basename(file)} is not valid UTF-8${at}; save it as UTF-8` };
  }
  return { file: { file, script: decoded.script, sha256: sqlScriptSha256(decoded.script) } };
}

/** Hex SHA-256 of a script's UTF-8 bytes: the output `sqlScriptSha256`. */
export function sqlScriptSha256(script: string): string {
  return createHash('sha256').update(Buffer.from(script, 'utf8')).digest('hex');
}

function resolveOne(value: string, root: string, access: ScriptFileAccess): { file: string } | { expected: string } {
  if (!GLOB.test(value)) {
    const file = path.resolve(root, value);
    if (access.isDirectory(file)) return { expected: 'a .sql file, not a folder' };
    return { file };
  }
  if (!access.findFiles) return { expected: 'a path to a .sql file (glob patterns cannot be matched here)' };
  const found = oneFile(access.findFiles(root, [value]), root, (p) => !access.isDirectory(p));
  if (found.kind === 'one') return { file: found.file };
  if (found.kind === 'none') {
    return { expected: `a path or glob matching exactly one .sql file under ${root}, but it matched no file${found.folders.length > 0 ? ` (only folders: ${listPaths(found.folders, root, MAX_LISTED)})` : ''}` };
  }
  return { expected: `a path or glob matching exactly one .sql file under ${root}, but it matched ${found.files.length}: ${listPaths(found.files, root, MAX_LISTED)}. Name the file, or make the pattern more specific` };
}
