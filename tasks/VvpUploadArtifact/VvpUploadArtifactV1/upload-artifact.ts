import { formatDuration } from '../../common/logging/duration';
import type * as http from 'node:http';
import * as path from 'node:path';
import type { TokenCredential } from '@azure/identity';
import type { StorageSharedKeyCredential } from '@azure/storage-blob';
import { emptyArtifact, openArtifactFile, type ArtifactFile } from '../../common/blob/artifact-file';
import { BlobArtifactClient, type BlobArtifactClientOptions } from '../../common/blob/blob-artifact-client';
import { sha256File } from '../../common/blob/file-digest';
import { formatSize } from '../../common/blob/upload-progress';
import { publishArtifact } from '../../common/blob/publish-artifact';
import { InputError } from '../../common/errors/errors';
import { inGroup, type Logger } from '../../common/logging/logger';
import { artifactLocation, blobNameProblem, contentTypeFor } from './artifact-location';
import { expandBlobName } from './blob-name-template';
import { resolveArtifactFile, type FileMatcher } from './find-artifact';
import type { UploadConfig } from './inputs';

/** What the upload needs from the outside world, handed in by the entry (or a test). */
export interface UploadDependencies {
  credential: TokenCredential | StorageSharedKeyCredential;
  /** The connection's cloud storage suffix, e.g. `core.windows.net`. */
  storageSuffix: string;
  /** Proxy + CA agent for a URL (`NetworkAgents.agentFor`). */
  agentFor?: (url: string) => http.Agent;
  findFiles: FileMatcher;
  logger: Logger;
  abortSignal?: AbortSignal;
  /** Overrides for tests (block size, concurrency, retry delays). */
  clientOptions?: Omit<BlobArtifactClientOptions, 'agent' | 'logger' | 'accountName'>;
}

/** The task's output variables, by their public names. */
interface UploadOutputs {
  jarUri: string;
  blobUrl: string;
  sha256: string;
  uploaded: 'true' | 'false';
}

/** What the run summary shows. */
export interface UploadReport {
  /** The file as matched: relative to the working directory when inside it. */
  file: string;
  sizeInBytes: number;
  sha256Hex: string;
  container: string;
  /** Full blob name, `artifacts/namespaces/<namespace>/<blobName>`. */
  blobName: string;
  jarUri: string;
  /** False: a blob with identical content was already there. */
  uploaded: boolean;
  /** `Build.BuildNumber`, when the pipeline has one. */
  buildNumber?: string;
  /** From the first file-system look-up to the verified upload (or the skip). */
  durationInMs: number;
}

interface UploadOutcome {
  outputs: UploadOutputs;
  /** One line for the task result. */
  message: string;
  report: UploadReport;
}

/** The artifact, opened, with what is known about it before the blob is named. */
interface FoundArtifact {
  opened: ArtifactFile;
  /** As matched (folders included), for the file's name and messages. */
  matchedPath: string;
  /** Relative to the working directory when inside it. */
  shownPath: string;
  /** Its SHA-256, when the blob name is made from it (read before naming the blob). */
  sha256Hex?: string;
}

/**
 * VvpUploadArtifact@1 after input parsing: find the one file, open it, work out the blob name
 * (hashing the file first when the name has a `{sha256}` token) and addresses, then upload it
 * (or skip it) according to `overwrite`. An empty or unreadable file fails here, before any
 * network call.
 *
 * @throws InputError when artifactPath does not match exactly one file inside the working
 * directory, the file is empty or cannot be read, or the blob name made for the file is no
 * valid blob name; see `publishArtifact` for the rest.
 */
export async function uploadArtifact(config: UploadConfig, deps: UploadDependencies): Promise<UploadOutcome> {
  const { logger } = deps;
  const started = Date.now();
  const found = await inGroup(logger, 'Find the artifact', async (): Promise<FoundArtifact> => {
    const resolved = resolveArtifactFile(config.artifactPatterns, config.workingDirectory, deps.findFiles);
    const shownPath = relativeIfInside(config.workingDirectory, resolved.matchedPath);
    const opened = await openArtifactFile(resolved.realPath);
    try {
      const link = resolved.realPath === resolved.matchedPath ? '' : ` (-> ${resolved.realPath})`;
      logger.info(`Artifact: ${shownPath}${link}, ${formatSize(opened.sizeInBytes)}`);
      if (opened.sizeInBytes === 0) throw emptyArtifact(resolved.matchedPath);
      let sha256Hex: string | undefined;
      if (config.blobName?.needsSha256) {
        // The name is made from the content: a SHA-256 pass before the blob is named (the MD5
        // follows in the upload pass, on the hashing thread while blocks are sent).
        const hashStarted = Date.now();
        sha256Hex = (await sha256File(opened, { abortSignal: deps.abortSignal })).sha256Hex;
        logger.info(`SHA-256: ${sha256Hex} (hashed for the blob name in ${formatDuration(Date.now() - hashStarted)})`);
      }
      return { opened, matchedPath: resolved.matchedPath, shownPath, sha256Hex };
    } catch (error) {
      await opened.close();
      throw error;
    }
  });
  try {
    return await uploadFound(config, deps, found, started);
  } finally {
    await found.opened.close();
  }
}

async function uploadFound(config: UploadConfig, deps: UploadDependencies, found: FoundArtifact, started: number): Promise<UploadOutcome> {
  const { logger } = deps;
  const fileName = path.basename(found.matchedPath);
  const blobName = config.blobName ? expandBlobName(config.blobName, { fileName, sha256Hex: found.sha256Hex }) : fileName;
  const problem = blobNameProblem(blobName, config.namespace);
  if (problem) {
    const from = config.blobName ? `(made from blobName '${config.blobName.source}' for ${fileName})` : "(taken from the file's name)";
    const fix = config.blobName ? 'change blobName' : 'set blobName explicitly';
    throw new InputError([{ input: 'blobName', value: blobName, expected: `${from} ${problem}; ${fix}` }]);
  }
  const location = artifactLocation({
    storageAccount: config.storageAccount,
    storageSuffix: deps.storageSuffix,
    blobEndpoint: config.blobEndpoint,
    container: config.containerName,
    namespace: config.namespace,
    blobName,
  });

  const result = await inGroup(logger, 'Upload to Blob Storage', async () => {
    const client = new BlobArtifactClient(location.accountUrl, deps.credential, {
      ...deps.clientOptions,
      agent: deps.agentFor?.(location.accountUrl),
      logger,
      accountName: config.storageAccount,
    });
    const published = await publishArtifact(
      client,
      {
        file: found.opened,
        target: { container: location.container, name: location.blobName },
        overwrite: config.overwrite,
        contentType: contentTypeFor(fileName),
        metadata: config.sourceVersion ? { commit: config.sourceVersion } : undefined,
        knownSha256Hex: found.sha256Hex,
      },
      { logger, abortSignal: deps.abortSignal },
    );
    logger.info(`jarUri: ${location.jarUri}`);
    return published;
  });

  return {
    outputs: {
      jarUri: location.jarUri,
      blobUrl: location.blobUrl,
      sha256: result.content.sha256Hex,
      uploaded: result.uploaded ? 'true' : 'false',
    },
    message: result.summary,
    report: {
      file: found.shownPath,
      sizeInBytes: result.content.sizeInBytes,
      sha256Hex: result.content.sha256Hex,
      container: location.container,
      blobName: location.blobName,
      jarUri: location.jarUri,
      uploaded: result.uploaded,
      buildNumber: config.buildNumber,
      durationInMs: Date.now() - started,
    },
  };
}

/** `file` relative to `root` when it lies inside it (the usual case), else as it is. */
function relativeIfInside(root: string, file: string): string {
  const rel = path.relative(root, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : file;
}

