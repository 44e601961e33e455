import { createHash, type Hash } from 'node:crypto';
import { CancelledError } from '../errors/errors';
import type { ArtifactFile } from './artifact-file';
import { artifactChanged } from './blob-errors';
import type { LocalContent } from './overwrite-policy';

/** Read size of a hashing pass: large reads keep the per-call overhead negligible. */
const READ_SIZE_IN_BYTES = 4 * 1024 * 1024;

/**
 * SHA-256 and, when asked, MD5 of a byte stream fed in order. One object per pass, so each
 * byte is hashed exactly once by each algorithm it needs.
 */
class ContentHasher {
  private readonly sha256: Hash = createHash('sha256');
  private readonly md5?: Hash;
  private bytes = 0;

  constructor(options: { md5: boolean }) {
    if (options.md5) this.md5 = createHash('md5');
  }

  update(chunk: Uint8Array): void {
    this.sha256.update(chunk);
    this.md5?.update(chunk);
    this.bytes += chunk.length;
  }

  /** Lowercase hex SHA-256, base64 MD5 (undefined when not computed) and the byte count. */
  digest(): { sizeInBytes: number; sha256Hex: string; md5Base64?: string } {
    return { sizeInBytes: this.bytes, sha256Hex: this.sha256.digest('hex'), md5Base64: this.md5?.digest('base64') };
  }
}

/** The file's SHA-256 alone: what a blob name made from the content needs. */
interface FileSha256 {
  sizeInBytes: number;
  /** Lowercase hex. */
  sha256Hex: string;
}

/**
 * Hashes the whole file in one pass: size, SHA-256 (hex) and MD5 (base64). Memory stays at one
 * read buffer whatever the file size.
 *
 * @throws CancelledError when `abortSignal` fires; InputError when the file cannot be read or
 * is shorter than when opened.
 */
export async function digestFile(file: ArtifactFile, options: { abortSignal?: AbortSignal } = {}): Promise<LocalContent> {
  const { sizeInBytes, sha256Hex, md5Base64 } = await hashPass(file, new ContentHasher({ md5: true }), options.abortSignal);
  return { sizeInBytes, sha256Hex, md5Base64: md5Base64 as string };
}

/**
 * The file's SHA-256 in one pass, without MD5 (which costs twice as much CPU as SHA-256):
 * for a blob name made from the content, the upload pass computes the MD5 while it sends.
 *
 * @throws as `digestFile`.
 */
export async function sha256File(file: ArtifactFile, options: { abortSignal?: AbortSignal } = {}): Promise<FileSha256> {
  const { sizeInBytes, sha256Hex } = await hashPass(file, new ContentHasher({ md5: false }), options.abortSignal);
  return { sizeInBytes, sha256Hex };
}

async function hashPass(file: ArtifactFile, hasher: ContentHasher, abortSignal: AbortSignal | undefined): Promise<ReturnType<ContentHasher['digest']>> {
  const buffer = Buffer.allocUnsafe(Math.min(READ_SIZE_IN_BYTES, Math.max(1, file.sizeInBytes)));
  let position = 0;
  while (position < file.sizeInBytes) {
    if (abortSignal?.aborted) throw new CancelledError('hashing the artifact');
    const bytesRead = await file.read(buffer, 0, Math.min(buffer.length, file.sizeInBytes - position), position);
    if (bytesRead === 0) throw artifactChanged(file.path, `it ended at byte ${position}, before the ${file.sizeInBytes} bytes it had when opened`);
    hasher.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hasher.digest();
}
