import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type * as http from 'node:http';
import { Readable } from 'node:stream';
import type { TokenCredential } from '@azure/identity';
import type { BlockBlobClient, StoragePipelineOptions, StorageSharedKeyCredential } from '@azure/storage-blob';
import type { AzureErrorDetail } from '../azure/azure-error';
import { tryTimeoutPolicy } from '../azure/request-timeout';
import { CancelledError, ServiceError } from '../errors/errors';
import type { Logger } from '../logging/logger';
import type { ArtifactFile } from './artifact-file';
import { storageBlob } from '../lazy/libraries';
import { artifactChanged, blobServiceError, storageErrorDetail, uploadCancelled } from './blob-errors';
import { blockId, DEFAULT_BLOCK_SIZE_IN_BYTES, DEFAULT_CONCURRENCY, planBlocks } from './block-plan';
import { workerHasher } from './hash-worker';
import type { LocalContent } from './overwrite-policy';

/** A blob in the account the client talks to. */
export interface BlobRef {
  container: string;
  /** Full blob name, e.g. `artifacts/namespaces/default/job.jar`. */
  name: string;
}

/** What an existing blob says about itself. */
export interface BlobState {
  sizeInBytes: number;
  /** Content-MD5 in base64, when set. */
  md5Base64?: string;
  /** The `sha256` metadata entry, when set. */
  sha256Hex?: string;
  etag?: string;
  contentType?: string;
  metadata: Record<string, string>;
}

/** The SDK's retry policy, set explicitly rather than left to its defaults. */
interface BlobRetryOptions {
  /** Tries per request, the first included. Default 5. */
  maxTries?: number;
  /**
   * Server-side time limit per try (the `timeout` query parameter). Default 120 000: a 4 MiB
   * block then needs at least ~35 KiB/s. The service answers 500 OperationTimedOut beyond it, which is retried.
   * The client gives up on a try a quarter later (at most 30 s later): a connection that stalls
   * without an error (dead peer, no RST), which TCP would notice only after many minutes, is
   * then dropped and the try retried on a fresh connection, within `maxTries`. A request that
   * stalls on every try fails after maxTries client bounds plus back-off: about 13 min by default.
   */
  tryTimeoutInMs?: number;
  /** First back-off delay; doubles per retry. Default 1 000. */
  retryDelayInMs?: number;
  /** Cap of one back-off delay. Default 15 000. */
  maxRetryDelayInMs?: number;
}

export interface BlobArtifactClientOptions {
  /** HTTP(S) agent carrying the agent's proxy and CA settings (`NetworkAgents.agentFor`). */
  agent?: http.Agent;
  retry?: BlobRetryOptions;
  /** Preferred block size. Default 4 MiB; grows only for files above 195 GiB (50 000 blocks). */
  blockSizeInBytes?: number;
  /** Blocks staged at the same time; memory is about `concurrency x blockSizeInBytes`. Default 8. */
  concurrency?: number;
  /** Debug lines: method, path, status and duration only, never headers or bodies. */
  logger?: Logger;
  /** Account name for messages; default: the first label of the endpoint's host. */
  accountName?: string;
}

/** Options of one staging pass. */
export interface StageOptions {
  abortSignal?: AbortSignal;
  /**
   * Compute the file's MD5 in this pass as well as its SHA-256. False when the file was hashed
   * before deciding: then this pass only needs SHA-256 to prove it read the same bytes.
   */
  md5: boolean;
  /** Called after each block is staged, with the bytes staged so far. */
  onProgress?: (sentBytes: number, totalBytes: number) => void;
}

/** The blocks of one staging pass, uncommitted (invisible) until `commitBlocks`. */
export interface StagedBlocks {
  /** Block ids in blob order. */
  ids: string[];
  /** Size of every block but the last. */
  blockSizeInBytes: number;
  sizeInBytes: number;
  /** Of exactly the bytes staged. */
  sha256Hex: string;
  /** Of exactly the bytes staged, when `StageOptions.md5` asked for it. */
  md5Base64?: string;
}

/**
 * The commit's precondition: `absent` commits only when no blob has the name (If-None-Match: *),
 * `etag` only when the blob is still the one that was read (If-Match).
 */
export type BlobCondition = { kind: 'absent' } | { kind: 'etag'; etag: string };

export interface CommitOptions {
  abortSignal?: AbortSignal;
  condition: BlobCondition;
  contentType: string;
  /** Stored as Content-MD5 and the `sha256` metadata entry. */
  content: LocalContent;
  /** Further metadata (e.g. `commit`). */
  metadata?: Record<string, string>;
}

/**
 * How a commit ended, short of an error: `conditionFailed` means another writer created or
 * changed the blob since it was read (nothing was replaced); `blocksMissing` means the staged
 * blocks are gone (another writer's commit discards every uncommitted block of the blob).
 */
export type CommitOutcome = { status: 'committed'; etag?: string } | { status: 'conditionFailed' } | { status: 'blocksMissing' };

/** The blob's committed block list: what proves which bytes the blob is made of. */
export interface CommittedBlockList {
  blocks: { id: string; sizeInBytes: number }[];
  etag?: string;
}

/** The blob operations the artifact upload needs; BlobArtifactClient implements them. */
export interface ArtifactStore {
  /** The https URL of a blob (for messages and outputs). */
  urlOf(ref: BlobRef): string;
  /** The blob's properties, or undefined when no blob has the name. */
  getBlob(ref: BlobRef, options?: { abortSignal?: AbortSignal }): Promise<BlobState | undefined>;
  /** Reads the file once, hashing it, and stages it as blocks. Nothing is visible yet. */
  stageBlocks(ref: BlobRef, file: ArtifactFile, options: StageOptions): Promise<StagedBlocks>;
  /** Commits staged blocks as the blob, under `condition`. */
  commitBlocks(ref: BlobRef, staged: StagedBlocks, options: CommitOptions): Promise<CommitOutcome>;
  /** The committed block list, or undefined when no blob has the name. */
  committedBlocks(ref: BlobRef, options?: { abortSignal?: AbortSignal }): Promise<CommittedBlockList | undefined>;
}

/** The most the client waits for an answer beyond the server-side try timeout. */
const CLIENT_TIMEOUT_MARGIN_IN_MS = 30_000;

/**
 * One client for Azure Blob Storage: reads blob properties and block lists, stages a file as
 * blocks and commits them.
 *
 * Files go up in parallel blocks (`Put Block`) committed by one conditional `Put Block List`.
 * Staged blocks are invisible until that commit, so a failed or cancelled upload never exposes
 * a partial blob, and a previous blob under the name stays intact.
 */
export class BlobArtifactClient implements ArtifactStore {
  readonly accountUrl: string;
  readonly accountHost: string;
  readonly accountName: string;
  private readonly pipelineOptions: StoragePipelineOptions;
  private readonly maxTries: number;
  private readonly blockSizeInBytes: number;
  private readonly concurrency: number;
  private readonly logger?: Logger;
  private readonly clients = new Map<string, BlockBlobClient>();

  /**
   * @param accountUrl - `https://<account>.blob.<suffix>` or a custom endpoint (path-style works too).
   * @param credential - Entra ID credential (the service connection) or a shared key (tests, Azurite).
   */
  constructor(
    accountUrl: string,
    private readonly credential: TokenCredential | StorageSharedKeyCredential,
    options: BlobArtifactClientOptions = {},
  ) {
    const url = new URL(accountUrl);
    this.accountUrl = url.href.replace(/\/+$/, '');
    this.accountHost = url.host;
    this.accountName = options.accountName ?? url.hostname.split('.')[0];
    this.maxTries = options.retry?.maxTries ?? 5;
    this.blockSizeInBytes = options.blockSizeInBytes ?? DEFAULT_BLOCK_SIZE_IN_BYTES;
    this.concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
    this.logger = options.logger;
    const tryTimeoutInMs = options.retry?.tryTimeoutInMs ?? 120_000;
    this.pipelineOptions = {
      retryOptions: {
        maxTries: this.maxTries,
        tryTimeoutInMs,
        retryDelayInMs: options.retry?.retryDelayInMs ?? 1_000,
        maxRetryDelayInMs: options.retry?.maxRetryDelayInMs ?? 15_000,
      },
      // Not in the StoragePipelineOptions type, but passed through to core-rest-pipeline, which
      // installs the agent (proxy + CA) and the per-try debug policy.
      ...({
        agent: options.agent,
        // Redirected requests are signed again (the redirect policy runs before Sign): follow none.
        redirectOptions: { maxRetries: 0 },
        additionalPolicies: [
          // The storage SDK's tryTimeoutInMs only asks the server to give up; this bounds the wait
          // here. One retry layer: the SDK's policy retries the try this policy times out.
          { policy: tryTimeoutPolicy(tryTimeoutInMs + Math.min(CLIENT_TIMEOUT_MARGIN_IN_MS, Math.round(tryTimeoutInMs / 4))), position: 'perRetry' },
          ...(this.logger ? [{ policy: debugPolicy(this.logger), position: 'perRetry' }] : []),
        ],
      } as object),
    };
  }

  urlOf(ref: BlobRef): string {
    return this.blobClient(ref).url;
  }

  async getBlob(ref: BlobRef, options: { abortSignal?: AbortSignal } = {}): Promise<BlobState | undefined> {
    const operation = `reading the properties of blob '${ref.name}' in container '${ref.container}'`;
    try {
      const p = await this.blobClient(ref).getProperties({ abortSignal: options.abortSignal });
      const metadata = p.metadata ?? {};
      return {
        sizeInBytes: p.contentLength ?? 0,
        md5Base64: p.contentMD5 && p.contentMD5.length > 0 ? Buffer.from(p.contentMD5).toString('base64') : undefined,
        sha256Hex: metadata.sha256 || undefined,
        etag: p.etag,
        contentType: p.contentType,
        metadata,
      };
    } catch (error) {
      const detail = storageErrorDetail(error);
      // HEAD responses carry the error code in x-ms-error-code only; a missing container is 404 too.
      if (detail.status === 404 && detail.code !== 'ContainerNotFound') return undefined;
      throw this.failure(error, operation, ref, options.abortSignal);
    }
  }

  async committedBlocks(ref: BlobRef, options: { abortSignal?: AbortSignal } = {}): Promise<CommittedBlockList | undefined> {
    const operation = `reading the committed block list of blob '${ref.name}' in container '${ref.container}'`;
    try {
      const list = await this.blobClient(ref).getBlockList('committed', { abortSignal: options.abortSignal });
      return { blocks: (list.committedBlocks ?? []).map((b) => ({ id: b.name, sizeInBytes: b.size })), etag: list.etag };
    } catch (error) {
      const detail = storageErrorDetail(error);
      if (detail.status === 404 && detail.code !== 'ContainerNotFound') return undefined;
      throw this.failure(error, operation, ref, options.abortSignal);
    }
  }

  async commitBlocks(ref: BlobRef, staged: StagedBlocks, options: CommitOptions): Promise<CommitOutcome> {
    const signal = options.abortSignal;
    if (signal?.aborted) throw uploadCancelled(ref.name, 'staging');
    const operation = `committing ${staged.ids.length} block(s) as blob '${ref.name}' in container '${ref.container}'`;
    try {
      const response = await this.blobClient(ref).commitBlockList(staged.ids, {
        abortSignal: signal,
        blobHTTPHeaders: {
          blobContentType: options.contentType,
          // Stored as given (the service does not check it against the blocks); readers check it.
          blobContentMD5: Buffer.from(options.content.md5Base64, 'base64'),
        },
        metadata: { ...options.metadata, sha256: options.content.sha256Hex },
        conditions: options.condition.kind === 'absent' ? { ifNoneMatch: '*' } : { ifMatch: options.condition.etag },
      });
      return { status: 'committed', etag: response.etag };
    } catch (error) {
      if (signal?.aborted) throw uploadCancelled(ref.name, 'committing');
      const detail = storageErrorDetail(error);
      if (detail.status === 412 || detail.code === 'ConditionNotMet' || detail.code === 'BlobAlreadyExists') return { status: 'conditionFailed' };
      if (detail.code === 'InvalidBlockList') return { status: 'blocksMissing' };
      throw this.failure(error, operation, ref, signal);
    }
  }

  /**
   * Reads the file once, block by block, and stages up to `concurrency` blocks at a time while a
   * worker thread hashes them in order. No per-block Content-MD5: it would hash every byte a
   * second time, and TLS already protects the bytes on the way; what the blob is made of is
   * proven after the commit by its block list.
   */
  async stageBlocks(ref: BlobRef, file: ArtifactFile, options: StageOptions): Promise<StagedBlocks> {
    const signal = options.abortSignal;
    if (signal?.aborted) throw uploadCancelled(ref.name, 'staging');
    const client = this.blobClient(ref);
    const total = file.sizeInBytes;
    const plan = planBlocks(total, this.blockSizeInBytes);
    // Random per upload: two runs staging the same blob name must not share block ids.
    const uploadId = randomBytes(6).toString('hex');
    const ids: string[] = [];
    const inner = new AbortController();
    // One listener per block in flight, plus the SDK's own: more than Node's default warning level of 10.
    setMaxListeners(this.concurrency + 10, inner.signal);
    const onAbort = (): void => inner.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    // Hashed on a worker thread while this one reads and sends (measured 24% faster on 2 cores).
    const hasher = workerHasher({ md5: options.md5 });
    const inFlight = new Set<Promise<void>>();
    const spare: Buffer[] = [];
    let failure: { error: unknown } | undefined;
    let sentBytes = 0;
    let digest: { sha256Hex: string; md5Base64?: string } | undefined;
    try {
      for (let index = 0; index < plan.blockCount; index++) {
        while (inFlight.size >= this.concurrency) await Promise.race(inFlight);
        if (failure || inner.signal.aborted) break;
        const offset = index * plan.blockSizeInBytes;
        const length = Math.min(plan.blockSizeInBytes, total - offset);
        // Buffers are reused once their block is staged and hashed: memory stays at concurrency x
        // block size. Shared, so the hashing thread reads them in place.
        const buffer = spare.pop() ?? Buffer.from(new SharedArrayBuffer(plan.blockSizeInBytes));
        const chunk = buffer.subarray(0, length);
        await readExactly(file, chunk, offset);
        const hashed = hasher.update(chunk);
        const id = blockId(uploadId, index);
        ids.push(id);
        const put = client.stageBlock(id, () => sliceStream(chunk), length, { abortSignal: inner.signal });
        const staged: Promise<void> = Promise.all([put, hashed])
          .then(
            () => {
              spare.push(buffer);
              sentBytes += length;
              options.onProgress?.(sentBytes, total);
            },
            (error: unknown) => {
              failure ??= { error };
              inner.abort();
            },
          )
          .finally(() => inFlight.delete(staged));
        inFlight.add(staged);
      }
      await Promise.all(inFlight);
      if (!failure && !inner.signal.aborted) digest = await hasher.digest();
      // A file that grew since it was opened would be committed as its old prefix: refuse that too.
      const sizeNow = await file.currentSizeInBytes();
      if (!failure && !inner.signal.aborted && sizeNow !== total) {
        throw artifactChanged(file.path, `${total} bytes when opened, ${sizeNow} bytes after the upload`);
      }
    } catch (error) {
      // A read error: stop the blocks in flight before reporting it.
      inner.abort();
      await Promise.all(inFlight);
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await hasher.close();
    }
    if (signal?.aborted) throw uploadCancelled(ref.name, 'staging');
    if (failure) {
      throw this.failure(failure.error, `staging the blocks of blob '${ref.name}' in container '${ref.container}'`, ref, signal);
    }
    if (!digest) throw new Error('staging ended without a digest');
    return { ids, blockSizeInBytes: plan.blockSizeInBytes, sizeInBytes: total, sha256Hex: digest.sha256Hex, md5Base64: digest.md5Base64 };
  }

  private failure(
    error: unknown,
    operation: string,
    ref: BlobRef,
    signal: AbortSignal | undefined,
    hintFor?: (detail: AzureErrorDetail) => string | undefined,
  ): Error {
    if (signal?.aborted) return new CancelledError(operation);
    if (error instanceof ServiceError || error instanceof CancelledError) return error;
    return blobServiceError(error, {
      operation,
      accountName: this.accountName,
      accountHost: this.accountHost,
      container: ref.container,
      maxTries: this.maxTries,
      hintFor,
    });
  }

  /**
   * One SDK client per blob, each with its own pipeline: the SDK shares a pipeline between the
   * clients made from it and would add our debug policy once per client.
   */
  private blobClient(ref: BlobRef): BlockBlobClient {
    const key = `${ref.container}/${ref.name}`;
    let client = this.clients.get(key);
    if (!client) {
      const url = `${this.accountUrl}/${encodeURIComponent(ref.container)}/${ref.name.split('/').map(encodeURIComponent).join('/')}`;
      const sdk = storageBlob();
      client = new sdk.BlockBlobClient(url, sdk.newPipeline(this.credential, this.pipelineOptions));
      this.clients.set(key, client);
    }
    return client;
  }
}

/** Fills `chunk` from `offset`; a file that got shorter since it was opened is an error. */
async function readExactly(file: ArtifactFile, chunk: Buffer, offset: number): Promise<void> {
  let filled = 0;
  while (filled < chunk.length) {
    const bytesRead = await file.read(chunk, filled, chunk.length - filled, offset + filled);
    if (bytesRead === 0) {
      throw artifactChanged(file.path, `it ended at byte ${offset + filled}, before the ${file.sizeInBytes} bytes it had when opened`);
    }
    filled += bytesRead;
  }
}

/**
 * The block as a stream of 256 KiB slices (views, no copies): as one Buffer, TLS holds an
 * encrypted copy of the whole block per request (peak RSS 224 MiB instead of 160 MiB for 8 x 8 MiB
 * in flight); 256 KiB rather than 1 MiB: 138 MB instead of 157 MB at 1 GiB, same throughput. A
 * factory, so every SDK retry gets a fresh stream.
 */
function sliceStream(chunk: Buffer): Readable {
  const slice = 256 * 1024;
  let offset = 0;
  return new Readable({
    highWaterMark: slice,
    read() {
      if (offset >= chunk.length) {
        this.push(null);
        return;
      }
      const end = Math.min(offset + slice, chunk.length);
      this.push(chunk.subarray(offset, end));
      offset = end;
    },
  });
}

interface MinimalRequest {
  method: string;
  url: string;
}

/** A per-try pipeline policy that logs method, path (+ `comp`), status and duration. */
function debugPolicy(logger: Logger): {
  name: string;
  sendRequest(request: MinimalRequest, next: (r: MinimalRequest) => Promise<{ status: number }>): Promise<{ status: number }>;
} {
  return {
    name: 'vvpBlobDebugLog',
    async sendRequest(request, next) {
      const started = Date.now();
      const url = new URL(request.url);
      // Only `comp` from the query: a SAS or other parameters never reach the log.
      const comp = url.searchParams.get('comp');
      const what = `${request.method} ${url.pathname}${comp ? `?comp=${comp}` : ''}`;
      try {
        const response = await next(request);
        logger.debug(`${what} -> ${response.status} (${Date.now() - started} ms)`);
        return response;
      } catch (error) {
        const e = error as { statusCode?: number; code?: string; name?: string };
        logger.debug(`${what} -> ${e.statusCode ?? e.code ?? e.name ?? 'error'} (${Date.now() - started} ms)`);
        throw error;
      }
    },
  };
}
