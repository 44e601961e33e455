import * as path from 'node:path';
import type { Logger } from '../logging/logger';
import type { ArtifactStore, BlobRef, BlobState } from './blob-artifact-client';
import { BlobConflictError } from './blob-errors';
import { digestFile } from './file-digest';
import { decideOverwrite, type LocalContent, type OverwriteDecision, type OverwriteMode } from './overwrite-policy';
import { formatMiB, mibPerSecond, PROGRESS_THRESHOLD_IN_BYTES, ProgressThrottle } from './upload-progress';

/** What to put where. */
export interface PublishRequest {
  filePath: string;
  target: BlobRef;
  overwrite: OverwriteMode;
  contentType: string;
  /** Extra blob metadata (e.g. `commit`); `sha256` is always set. */
  metadata?: Record<string, string>;
}

/** What happened. */
export interface PublishResult {
  /** False when an identical blob was already there. */
  uploaded: boolean;
  decision: OverwriteDecision;
  content: LocalContent;
  blobUrl: string;
  /** Time spent sending blocks and committing (0 when skipped). */
  uploadDurationInMs: number;
  /** One line for the log and the task result. */
  summary: string;
}

/**
 * Puts a file into Blob Storage under the target name, deciding by content hashes what to do
 * with a blob already there: read the blob's properties, hash the file (one fast local pass),
 * decide (`decideOverwrite`), then upload in staged blocks (which reads and hashes the file
 * again, and refuses to commit if it changed) or skip.
 *
 * @throws BlobConflictError for `never` with a different (or uncomparable) blob; ServiceError
 * for Blob Storage failures; CancelledError when `abortSignal` fires.
 */
export async function publishArtifact(
  store: ArtifactStore,
  request: PublishRequest,
  options: { logger: Logger; abortSignal?: AbortSignal; now?: () => number },
): Promise<PublishResult> {
  const { logger, abortSignal } = options;
  const now = options.now ?? Date.now;
  const blobUrl = store.urlOf(request.target);
  const fileName = path.basename(request.filePath);

  // The blob first: a wrong account, container or role fails before a large file is read.
  const existing = await store.getBlob(request.target, { abortSignal });
  logger.info(existing ? `Existing blob: ${describeExisting(existing)}` : `No blob at ${blobUrl} yet`);
  const content = await digestFile(request.filePath, { abortSignal });
  logger.info(`${fileName}: ${content.sizeInBytes} bytes (${formatMiB(content.sizeInBytes)}), SHA-256 ${content.sha256Hex}`);
  const decision = decideOverwrite(request.overwrite, content, existing);
  if (decision.action === 'fail') {
    throw new BlobConflictError(blobUrl, content, existing ?? { sizeInBytes: 0 });
  }
  if (decision.action === 'skip') {
    const summary = `Skipped ${fileName} (${formatMiB(content.sizeInBytes)}): ${blobUrl} already has identical content (SHA-256 ${content.sha256Hex})`;
    logger.info(summary);
    return { uploaded: false, decision, content, blobUrl, uploadDurationInMs: 0, summary };
  }

  logger.info(`Uploading to ${blobUrl} (${uploadReason(decision.reason, request.overwrite)})`);
  const throttle = content.sizeInBytes > PROGRESS_THRESHOLD_IN_BYTES ? new ProgressThrottle(content.sizeInBytes) : undefined;
  const started = now();
  const uploaded = await store.uploadFile(request.target, request.filePath, {
    abortSignal,
    expected: content,
    contentType: request.contentType,
    metadata: request.metadata,
    // With `never`, a blob another run creates meanwhile must not be replaced either.
    condition: request.overwrite === 'never' ? 'absent' : undefined,
    onProgress: (sent, total) => {
      const percent = throttle?.update(sent);
      if (percent === undefined) return;
      const rate = mibPerSecond(sent, now() - started);
      logger.info(`Uploaded ${percent}% (${formatMiB(sent)} of ${formatMiB(total)}, ${rate.toFixed(1)} MiB/s)`);
      logger.progress(percent, `Uploading ${fileName}`);
    },
  });
  const uploadDurationInMs = now() - started;
  const rate = mibPerSecond(content.sizeInBytes, uploadDurationInMs);
  const summary =
    `Uploaded ${fileName} (${formatMiB(content.sizeInBytes)}) in ${(uploadDurationInMs / 1000).toFixed(1)} s ` +
    `(${rate.toFixed(1)} MiB/s, ${uploaded.blockCount} block(s) of ${formatMiB(uploaded.blockSizeInBytes)}) to ${blobUrl}; ` +
    `verified length and Content-MD5; SHA-256 ${content.sha256Hex}`;
  logger.info(summary);
  return { uploaded: true, decision, content, blobUrl, uploadDurationInMs, summary };
}

function describeExisting(state: BlobState): string {
  const hashes = [state.sha256Hex ? `sha256 ${state.sha256Hex}` : 'no sha256 metadata', state.md5Base64 ? `Content-MD5 ${state.md5Base64}` : 'no Content-MD5'];
  return `${state.sizeInBytes} bytes, ${hashes.join(', ')}`;
}

function uploadReason(reason: Extract<OverwriteDecision, { action: 'upload' }>['reason'], mode: OverwriteMode): string {
  switch (reason) {
    case 'absent':
      return 'new blob';
    case 'changed':
      return 'the existing blob has different content';
    case 'unverifiable':
      return 'the existing blob has no hash to compare with, so it is replaced';
    case 'always':
      return `overwrite is '${mode}'`;
    default: {
      const unreachable: never = reason;
      return String(unreachable);
    }
  }
}
