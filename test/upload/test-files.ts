/** Test files for the upload tests: random or sparse, written in chunks, removed by the caller. */
import { createHash, randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openArtifactFile, type ArtifactFile } from '../../tasks/common/blob/artifact-file';

const CHUNK = 1024 * 1024;

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes `sizeInBytes` random bytes, 1 MiB at a time. */
export function writeRandomFile(file: string, sizeInBytes: number): void {
  const fd = fs.openSync(file, 'w');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (let written = 0; written < sizeInBytes; written += CHUNK) {
      const length = Math.min(CHUNK, sizeInBytes - written);
      randomFillSync(buffer, 0, length);
      fs.writeSync(fd, buffer, 0, length, written);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A sparse file of `sizeInBytes` (no disk blocks, reads as zeros) with 4 KiB of random bytes
 * every `markEveryInBytes`, so every block of an upload has different content.
 */
export function writeSparseFile(file: string, sizeInBytes: number, markEveryInBytes: number): void {
  fs.writeFileSync(file, '');
  fs.truncateSync(file, sizeInBytes);
  const fd = fs.openSync(file, 'r+');
  try {
    const mark = Buffer.allocUnsafe(4096);
    for (let offset = 0; offset + mark.length <= sizeInBytes; offset += markEveryInBytes) {
      randomFillSync(mark);
      fs.writeSync(fd, mark, 0, mark.length, offset);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** SHA-256 (hex) of a file, streamed. */
export async function sha256OfFile(file: string): Promise<string> {
  return sha256OfStream(fs.createReadStream(file));
}

export async function sha256OfStream(stream: NodeJS.ReadableStream): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

export function sha256OfBuffer(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function md5Base64(data: Buffer | string): string {
  return createHash('md5').update(data).digest('base64');
}

/** An opened artifact that counts the bytes read through it, and can run a hook after each read. */
export interface CountingFile {
  file: ArtifactFile;
  /** Bytes read so far, over all passes. */
  readonly bytesRead: number;
  /** Whole-file passes so far (bytes read / file size). */
  readonly passes: number;
}

export async function openCountingFile(filePath: string, afterRead?: (bytesReadSoFar: number) => void): Promise<CountingFile> {
  const inner = await openArtifactFile(filePath);
  let bytesRead = 0;
  const file: ArtifactFile = {
    path: inner.path,
    sizeInBytes: inner.sizeInBytes,
    read: async (buffer, offset, length, position) => {
      const n = await inner.read(buffer, offset, length, position);
      bytesRead += n;
      afterRead?.(bytesRead);
      return n;
    },
    currentSizeInBytes: () => inner.currentSizeInBytes(),
    close: () => inner.close(),
  };
  return {
    file,
    get bytesRead() {
      return bytesRead;
    },
    get passes() {
      return bytesRead / inner.sizeInBytes;
    },
  };
}
