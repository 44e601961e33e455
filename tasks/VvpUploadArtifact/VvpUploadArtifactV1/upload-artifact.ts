import type * as http from 'node:http';
import * as path from 'node:path';
import type { TokenCredential } from '@azure/identity';
import type { StorageSharedKeyCredential } from '@azure/storage-blob';
import { EmptyArtifactError, openArtifactFile, type ArtifactFile } from '../../common/blob/artifact-file';
import { BlobArtifactClient, type BlobArtifactClientOptions } from '../../common/blob/blob-artifact-client';
import { publishArtifact } from '../../common/blob/publish-artifact';
import { InputError } from '../../common/errors/errors';
import { inGroup, type Logger } from '../../common/logging/logger';
import { artifactLocation, blobNameProblem, contentTypeFor } from './artifact-location';
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
export interface UploadOutputs {
  jarUri: string;
  blobUrl: string;
  sha256: string;
  uploaded: 'true' | 'false';
}

export interface UploadOutcome {
  outputs: UploadOutputs;
  /** One line for the task result. */
  message: string;
}

/**
 * VvpUploadArtifact@1 after input parsing: find the one file, open it, work out the blob name
 * and addresses, then upload it (or skip it) according to `overwrite`. An empty or unreadable
 * file fails here, before any network call.
 *
 * @throws InputError when artifactPath does not match exactly one file inside the working
 * directory or the file's name is no valid blob name; ArtifactReadError / EmptyArtifactError
 * for a file that cannot be uploaded; see `publishArtifact` for the rest.
 */
export async function uploadArtifact(config: UploadConfig, deps: UploadDependencies): Promise<UploadOutcome> {
  const { logger } = deps;
  const file = await inGroup(logger, 'Find the artifact', async () => {
    const found = resolveArtifactFile(config.artifactPatterns, config.workingDirectory, deps.findFiles);
    logger.info(found.realPath === found.matchedPath ? `Artifact: ${found.matchedPath}` : `Artifact: ${found.matchedPath} (-> ${found.realPath})`);
    const opened = await openArtifactFile(found.realPath);
    if (opened.sizeInBytes === 0) {
      await opened.close();
      throw new EmptyArtifactError(found.matchedPath);
    }
    return { opened, matchedPath: found.matchedPath };
  });
  try {
    return await uploadOpened(config, deps, file.opened, path.basename(file.matchedPath));
  } finally {
    await file.opened.close();
  }
}

async function uploadOpened(config: UploadConfig, deps: UploadDependencies, artifact: ArtifactFile, fileName: string): Promise<UploadOutcome> {
  const { logger } = deps;
  const blobName = config.blobName ?? fileName;
  if (config.blobName === undefined) {
    const problem = blobNameProblem(blobName, config.namespace);
    if (problem) {
      throw new InputError([{ input: 'blobName', value: blobName, expected: `(taken from the file's name) ${problem}; set blobName explicitly` }]);
    }
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
    logger.info(`Target: container '${location.container}', blob '${location.blobName}' at ${location.accountUrl} (overwrite: ${config.overwrite})`);
    const client = new BlobArtifactClient(location.accountUrl, deps.credential, {
      ...deps.clientOptions,
      agent: deps.agentFor?.(location.accountUrl),
      logger,
      accountName: config.storageAccount,
    });
    return publishArtifact(
      client,
      {
        file: artifact,
        target: { container: location.container, name: location.blobName },
        overwrite: config.overwrite,
        contentType: contentTypeFor(fileName),
        metadata: config.sourceVersion ? { commit: config.sourceVersion } : undefined,
      },
      { logger, abortSignal: deps.abortSignal },
    );
  });

  logger.info(`jarUri: ${location.jarUri}`);
  return {
    outputs: {
      jarUri: location.jarUri,
      blobUrl: location.blobUrl,
      sha256: result.content.sha256Hex,
      uploaded: result.uploaded ? 'true' : 'false',
    },
    message: result.summary,
  };
}
