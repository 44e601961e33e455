import * as fs from 'node:fs';
import { InputError } from '../errors/errors';

/**
 * The local artifact, opened once for the whole step: every pass (the hashing pass when one is
 * needed, the upload pass) reads through this handle, so the file is the same one throughout
 * and its reads can be counted.
 */
export interface ArtifactFile {
  /** The path as opened (symbolic links already resolved by the caller, if it cares). */
  readonly path: string;
  /** Size when opened. */
  readonly sizeInBytes: number;
  /**
   * Reads up to `length` bytes at `position` into `buffer` from `offset`; 0 at the end of the file.
   *
   * @throws InputError when the file system refuses the read.
   */
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** The size now, to notice a file that grew while it was read. */
  currentSizeInBytes(): Promise<number>;
  close(): Promise<void>;
}

/** What the operating system said, in words a pipeline author acts on. */
function explainFsError(code: string | undefined): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return "permission denied: the agent's user may not read it. Check the file's permissions (and that of its folders) as left by the build step";
    case 'ENOENT':
      return 'it does not exist (any more): check that no other step moved or deleted it';
    case 'EISDIR':
      return 'it is a folder, not a file';
    case 'ELOOP':
      return 'it is a loop of symbolic links';
    case 'EIO':
      return 'an input/output error from the disk';
    default:
      return 'the file system refused to read it';
  }
}

/** The artifact cannot be opened or read (the file system's error is the cause); nothing was uploaded. */
function unreadableArtifact(filePath: string, error: unknown): InputError {
  const code = (error as NodeJS.ErrnoException).code;
  return new InputError(`Cannot read the artifact ${filePath}${code ? ` (${code})` : ''}: ${explainFsError(code)}. Nothing was uploaded`, { cause: error });
}

/** A 0-byte artifact: always a broken build (a JAR has at least its manifest), so never uploaded. */
export function emptyArtifact(filePath: string): InputError {
  return new InputError(
    `The artifact ${filePath} is empty (0 bytes), so it was not uploaded: a Flink job JAR is never empty. ` +
      'Check the build step that writes it (did it fail, or is artifactPath matching a placeholder?)',
  );
}

/**
 * Opens `filePath` for reading and reads its size.
 *
 * @throws InputError when it cannot be opened or is not a regular file.
 */
export async function openArtifactFile(filePath: string): Promise<ArtifactFile> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(filePath, 'r');
  } catch (error) {
    throw unreadableArtifact(filePath, error);
  }
  let sizeInBytes: number;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw Object.assign(new Error('not a regular file'), { code: stat.isDirectory() ? 'EISDIR' : 'ENOTREG' });
    sizeInBytes = stat.size;
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw unreadableArtifact(filePath, error);
  }
  return {
    path: filePath,
    sizeInBytes,
    read: async (buffer, offset, length, position) => {
      try {
        return (await handle.read(buffer, offset, length, position)).bytesRead;
      } catch (error) {
        throw unreadableArtifact(filePath, error);
      }
    },
    currentSizeInBytes: async () => (await handle.stat()).size,
    close: () => handle.close(),
  };
}
