import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { CancelledError } from '../errors/errors';
import type { LocalContent } from './overwrite-policy';

/**
 * Hashes a file in one streaming pass: size, SHA-256 (hex) and MD5 (base64). Memory stays at
 * one read buffer whatever the file size.
 *
 * @throws CancelledError when `abortSignal` fires; the file system error when the file cannot be read.
 */
export async function digestFile(filePath: string, options: { abortSignal?: AbortSignal } = {}): Promise<LocalContent> {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  let sizeInBytes = 0;
  const stream = fs.createReadStream(filePath, { highWaterMark: 1024 * 1024, signal: options.abortSignal });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      sha256.update(chunk);
      md5.update(chunk);
      sizeInBytes += chunk.length;
    }
  } catch (error) {
    if (options.abortSignal?.aborted) throw new CancelledError('hashing the artifact');
    throw error;
  }
  return { sizeInBytes, sha256Hex: sha256.digest('hex'), md5Base64: md5.digest('base64') };
}
