import * as path from 'node:path';
import { ServiceError } from '../errors/errors';
import { formatDuration } from '../logging/duration';
import type { Logger } from '../logging/logger';
import { emptyArtifact, type ArtifactFile } from './artifact-file';
import type { ArtifactStore, BlobCondition, BlobRef, BlobState, CommittedBlockList, StagedBlocks } from './blob-artifact-client';
import { artifactChanged, blobConflict } from './blob-errors';
import { digestFile } from './file-digest';
import { decideOverwrite, decideWithoutHashes, type LocalContent, type OverwriteDecision, type OverwriteMode } from './overwrite-policy';
import { formatMiB, mibPerSecond, PROGRESS_THRESHOLD_IN_BYTES, ProgressThrottle } from './upload-progress';

/** What to put where. */
export interface PublishRequest {
  /** The artifact, opened (see `openArtifactFile`). */
  file: ArtifactFile;
  target: BlobRef;
  overwrite: OverwriteMode;
  contentType: string;
  /** Extra blob metadata (e.g. `commit`); `sha256` is always set. */
  metadata?: Record<string, string>;
  /**
   * The file's SHA-256 when the caller hashed it already (the blob name is made from it). Every
   * later pass must read bytes of this hash, or nothing is committed: a blob named by a hash
   * never holds other bytes. The hash is not logged again.
   */
  knownSha256Hex?: string;
}

/** What happened. */
export interface PublishResult {
  /** False when a blob with identical content was already there (or another writer put one there meanwhile). */
  uploaded: boolean;
  decision: OverwriteDecision;
  content: LocalContent;
  blobUrl: string;
  /** From the first byte read to the verified commit (0 when skipped). */
  uploadDurationInMs: number;
  /**
   * One self-contained line for the task result (file, blob URL, SHA-256). The log gets shorter
   * lines that name each value once.
   */
  summary: string;
}

/**
 * Commits tried before giving up on a blob that keeps changing under the step: the first, one
 * after another writer changed the blob, one after re-sending blocks that writer's commit discarded.
 */
const MAX_COMMIT_ROUNDS = 4;

const SERVICE = 'Azure Blob Storage';

/**
 * Puts a file into Blob Storage under the target name, deciding by content what to do with a
 * blob already there, and never replacing a blob it has not decided about.
 *
 * The file is read once: its hashes are computed while its blocks are sent. Only when a blob
 * of the same length is there (and `overwrite` is not `always`) is the file hashed first, to
 * compare before sending anything (SHA-256 and MD5: the blob may carry either); the upload pass
 * then checks it read the same bytes.
 *
 * The log names the blob's URL once, then says "the blob"; it prints the file's SHA-256 once,
 * and not at all when the caller passed `request.knownSha256Hex` (it printed it then).
 *
 * The commit is conditional on the blob read at the start (If-None-Match: * when there was
 * none, If-Match: its ETag otherwise). When another writer got there first (412/409), the blob
 * is read again and the overwrite policy applied to what is there now.
 *
 * After the commit, the blob's committed block list is read back and must be exactly the
 * blocks sent (ids and sizes): that proves the blob is made of this upload's bytes.
 *
 * @throws InputError for a 0-byte file (before any network call), for `never` with a different
 * (or uncomparable) blob, and for a file that changed or cannot be read; ServiceError for Blob Storage failures; CancelledError
 * when `abortSignal` fires.
 */
export async function publishArtifact(
  store: ArtifactStore,
  request: PublishRequest,
  options: { logger: Logger; abortSignal?: AbortSignal; now?: () => number },
): Promise<PublishResult> {
  const { logger, abortSignal } = options;
  const { file, target } = request;
  const now = options.now ?? Date.now;
  const fileName = path.basename(file.path);
  if (file.sizeInBytes === 0) throw emptyArtifact(file.path);
  const blobUrl = store.urlOf(target);
  const describeFile = (c: LocalContent): string => `SHA-256: ${c.sha256Hex}`;

  // The blob first: a wrong account, container or role fails before a large file is read.
  logger.info(`Blob: ${blobUrl} (overwrite: ${request.overwrite})`);
  let existing = await store.getBlob(target, { abortSignal });
  const started = now();
  const knownSha256 = request.knownSha256Hex?.toLowerCase();
  /** The bytes read now must be those the caller hashed (and named the blob after). */
  const checkKnown = (sha256Hex: string, when: string): void => {
    if (knownSha256 !== undefined && sha256Hex !== knownSha256) throw artifactChanged(file.path, `SHA-256 ${knownSha256} when hashed first, ${sha256Hex} when ${when}`);
  };
  const hashAll = async (when: string): Promise<LocalContent> => {
    const digest = await digestFile(file, { abortSignal });
    checkKnown(digest.sha256Hex, when);
    if (knownSha256 === undefined) logger.info(describeFile(digest));
    return digest;
  };
  let content: LocalContent | undefined;
  let decision = decideWithoutHashes(request.overwrite, file.sizeInBytes, existing);
  if (decision === undefined) {
    // Same length: compare hashes before sending anything.
    logger.info(`The blob exists with as many bytes as the file (${file.sizeInBytes}): comparing hashes`);
    content = await hashAll('compared with the blob');
    decision = decideOverwrite(request.overwrite, content, existing);
    // Identical: the file's hash, printed once, says it all.
    if (existing && decision.action !== 'skip') logger.info(`The blob's hashes: ${describeHashes(existing)}`);
  } else {
    logger.info(existing ? `The blob exists: ${describeExisting(existing)}` : 'No blob by that name yet');
    // A refusal shows both hashes.
    if (decision.action === 'fail') content = await hashAll('compared with the blob');
  }
  if (decision.action === 'fail') throw blobConflict(blobUrl, { local: content as LocalContent, existing: existing ?? { sizeInBytes: 0 } });
  if (decision.action === 'skip') return skipped(decision, content as LocalContent, blobUrl, fileName, false, logger);

  logger.info(`Uploading to the blob (${uploadReason(decision.reason, request.overwrite)})`);
  const throttle = file.sizeInBytes > PROGRESS_THRESHOLD_IN_BYTES ? new ProgressThrottle(file.sizeInBytes) : undefined;
  const onProgress = (sent: number, total: number): void => {
    const percent = throttle?.update(sent);
    if (percent === undefined) return;
    const rate = mibPerSecond(sent, now() - started);
    logger.info(`Uploaded ${percent}% (${formatMiB(sent)} of ${formatMiB(total)}, ${rate.toFixed(1)} MiB/s)`);
    logger.progress(percent, `Uploading ${fileName}`);
  };

  let staged: StagedBlocks | undefined;
  for (let round = 1; ; round++) {
    if (!staged) {
      staged = await store.stageBlocks(target, file, { abortSignal, md5: content === undefined, onProgress });
      if (content === undefined) {
        checkKnown(staged.sha256Hex, 'read for the upload');
        content = { sizeInBytes: staged.sizeInBytes, sha256Hex: staged.sha256Hex, md5Base64: staged.md5Base64 as string };
        if (knownSha256 === undefined) logger.info(describeFile(content));
      } else if (staged.sha256Hex !== content.sha256Hex) {
        throw artifactChanged(file.path, `SHA-256 ${content.sha256Hex} when compared with the blob, ${staged.sha256Hex} when read for the upload`);
      }
    }
    const known = content as LocalContent;
    const condition: BlobCondition = existing ? { kind: 'etag', etag: existing.etag ?? '*' } : { kind: 'absent' };
    const outcome = await store.commitBlocks(target, staged, { abortSignal, condition, contentType: request.contentType, content: known, metadata: request.metadata });
    if (outcome.status === 'committed') break;
    if (outcome.status === 'conditionFailed') {
      // The SDK retries a commit whose answer was lost; the retry then meets this very commit.
      if (sameBlocks(await store.committedBlocks(target, { abortSignal }), staged)) break;
    }
    if (round >= MAX_COMMIT_ROUNDS) {
      throw new ServiceError({
        service: SERVICE,
        operation: `committing blob '${target.name}' in container '${target.container}'`,
        serviceMessage: `other writers changed the blob ${round} times while this step uploaded it; nothing of this upload was committed`,
        hint: 'Make sure only one pipeline run writes this blob name at a time (e.g. a blobName with the build number)',
      });
    }
    if (outcome.status === 'blocksMissing') {
      logger.info(`The staged blocks are gone (another writer's commit discards them); reading and sending ${fileName} again`);
      staged = undefined;
      continue;
    }
    const before = existing;
    existing = await store.getBlob(target, { abortSignal });
    decision = decideOverwrite(request.overwrite, known, existing);
    logger.info(
      `Another writer ${before ? 'changed' : 'created'} the blob while this step uploaded it ` +
        `(${existing ? `now ${describeExisting(existing)}` : 'it is gone again'}); deciding again: ${describeDecision(decision, request.overwrite)}`,
    );
    if (decision.action === 'fail') throw blobConflict(blobUrl, { local: known, existing: existing ?? { sizeInBytes: 0 }, writtenMeanwhile: true });
    if (decision.action === 'skip') return skipped(decision, known, blobUrl, fileName, true, logger);
  }

  const committed = await store.committedBlocks(target, { abortSignal });
  if (!sameBlocks(committed, staged)) {
    throw new ServiceError({
      service: SERVICE,
      operation: `verifying the committed blob '${target.name}' in container '${target.container}'`,
      serviceMessage: committed
        ? `its committed block list is ${committed.blocks.length} block(s) of ${sum(committed.blocks.map((b) => b.sizeInBytes))} bytes, not the ${staged.ids.length} block(s) of ${staged.sizeInBytes} bytes this step committed`
        : 'the blob is missing right after the commit',
      hint: 'Another writer replaced the blob right after this commit; run the step again',
    });
  }
  const uploadDurationInMs = now() - started;
  const known = content as LocalContent;
  const rate = mibPerSecond(known.sizeInBytes, uploadDurationInMs);
  const how =
    `in ${formatDuration(uploadDurationInMs)} (${rate.toFixed(1)} MiB/s, ${staged.ids.length} block(s) of ${formatMiB(staged.blockSizeInBytes)})`;
  const verified = `verified: the committed block list is exactly the ${staged.ids.length} block(s) sent (ids and sizes)`;
  logger.info(`Uploaded ${how}; ${verified}`);
  const summary = `Uploaded ${fileName} (${formatMiB(known.sizeInBytes)}) ${how} to ${blobUrl}; ${verified}; SHA-256 ${known.sha256Hex}`;
  return { uploaded: true, decision, content: known, blobUrl, uploadDurationInMs, summary };
}

/** True when `list` is exactly the staged blocks: the same ids in the same order, with their sizes. */
function sameBlocks(list: CommittedBlockList | undefined, staged: StagedBlocks): boolean {
  if (!list || list.blocks.length !== staged.ids.length) return false;
  const last = staged.ids.length - 1;
  return list.blocks.every((b, i) => {
    const size = i < last ? staged.blockSizeInBytes : staged.sizeInBytes - last * staged.blockSizeInBytes;
    return b.id === staged.ids[i] && b.sizeInBytes === size;
  });
}

function skipped(decision: OverwriteDecision, content: LocalContent, blobUrl: string, fileName: string, meanwhile: boolean, logger: Logger): PublishResult {
  const why = meanwhile ? 'now has identical content (another writer put it there while this step uploaded)' : 'already has identical content';
  logger.info(`Skipped: the blob ${why}; nothing to upload`);
  const summary = `Skipped ${fileName} (${formatMiB(content.sizeInBytes)}): ${blobUrl} ${why} (SHA-256 ${content.sha256Hex})`;
  return { uploaded: false, decision, content, blobUrl, uploadDurationInMs: 0, summary };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function describeExisting(state: BlobState): string {
  return `${state.sizeInBytes} bytes, ${describeHashes(state)}`;
}

function describeHashes(state: BlobState): string {
  return [state.sha256Hex ? `sha256 ${state.sha256Hex}` : 'no sha256 metadata', state.md5Base64 ? `Content-MD5 ${state.md5Base64}` : 'no Content-MD5'].join(', ');
}

function describeDecision(decision: OverwriteDecision, mode: OverwriteMode): string {
  switch (decision.action) {
    case 'upload':
      return `committing this upload (${uploadReason(decision.reason, mode)})`;
    case 'skip':
      return 'its content is identical, nothing to do';
    case 'fail':
      return `leaving it as it is (overwrite is '${mode}')`;
    default: {
      const unreachable: never = decision;
      return String(unreachable);
    }
  }
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
