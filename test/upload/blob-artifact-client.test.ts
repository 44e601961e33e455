/**
 * BlobArtifactClient and publishArtifact against Azurite (real @azure/storage-blob over HTTPS,
 * through an agent that trusts the rig's test CA). Concurrent writers, the single read pass and
 * the empty file are in publish-azurite.test.ts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { StorageSharedKeyCredential } from '@azure/storage-blob';
import { BlobArtifactClient, type BlobArtifactClientOptions, type BlobRef } from '../../tasks/common/blob/blob-artifact-client';
import { openArtifactFile } from '../../tasks/common/blob/artifact-file';
import { MIB } from '../../tasks/common/blob/block-plan';
import { publishArtifact, type PublishResult } from '../../tasks/common/blob/publish-artifact';
import { CancelledError, InputError, ServiceError } from '../../tasks/common/errors/errors';
import { MemoryLogger } from '../support/memory-logger';
import { countingAgent, startAzuriteFixture, type AzuriteFixture } from './azurite-fixture';
import { startCannedStorage } from './canned-storage';
import { startStallingForwarder } from './stalling-forwarder';
import { md5Base64, openCountingFile, sha256OfBuffer, sha256OfFile, sha256OfStream, tempDir, writeRandomFile, writeSparseFile } from './test-files';

const CONTAINER = 'vvp';

/** A logger whose first progress line aborts `controller` (to cancel a publish mid-upload). */
function abortOnProgress(controller: AbortController): MemoryLogger {
  const logger = new MemoryLogger();
  logger.progress = () => controller.abort();
  return logger;
}
/** Small retry delays: failure tests must not wait for real back-off. */
const FAST_RETRY = { retryDelayInMs: 5, maxRetryDelayInMs: 20 };

describe('BlobArtifactClient against Azurite', () => {
  let azurite: AzuriteFixture;
  let dir = '';
  let seq = 0;
  const blob = (name = `blob-${++seq}.jar`): BlobRef => ({ container: CONTAINER, name: `artifacts/namespaces/default/${name}` });
  const client = (options: BlobArtifactClientOptions = {}): BlobArtifactClient =>
    new BlobArtifactClient(azurite.accountUrl, azurite.credential, {
      agent: azurite.agent,
      accountName: azurite.accountName,
      retry: FAST_RETRY,
      ...options,
    });
  const sdkBlob = (ref: BlobRef) => azurite.service.getContainerClient(ref.container).getBlockBlobClient(ref.name);
  /** publishArtifact with the file opened for it (and closed after). */
  const publish = async (
    c: BlobArtifactClient,
    ref: BlobRef,
    filePath: string,
    options: { overwrite?: 'ifChanged' | 'always' | 'never'; metadata?: Record<string, string>; logger?: MemoryLogger; abortSignal?: AbortSignal } = {},
  ): Promise<PublishResult> => {
    const file = await openArtifactFile(filePath);
    try {
      return await publishArtifact(
        c,
        { file, target: ref, overwrite: options.overwrite ?? 'ifChanged', contentType: 'application/java-archive', metadata: options.metadata },
        { logger: options.logger ?? new MemoryLogger(), abortSignal: options.abortSignal },
      );
    } finally {
      await file.close();
    }
  };

  before(async () => {
    azurite = await startAzuriteFixture();
    await azurite.service.getContainerClient(CONTAINER).create();
    dir = tempDir('blob-client-');
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await azurite?.stop();
  });

  test('uploads in parallel staged blocks without per-block MD5; the stored bytes, Content-MD5, type and metadata match the file', async () => {
    const file = path.join(dir, 'random.jar');
    writeRandomFile(file, 10 * MIB + 123);
    const { agent, counter } = countingAgent();
    const ref = blob();
    const logger = new MemoryLogger();
    const c = client({ agent, blockSizeInBytes: 1 * MIB, concurrency: 3, logger });
    const result = await publish(c, ref, file, { metadata: { commit: '0123abcd' }, logger });
    agent.destroy();

    assert.equal(result.uploaded, true);
    assert.match(result.summary, /11 block\(s\) of 1\.0 MiB\).*verified: the committed block list is exactly the 11 block\(s\) sent \(ids and sizes\)/);
    assert.equal(counter.stageBlockRequests, 11);
    assert.equal(counter.stageBlocksWithMd5, 0, 'TLS protects the blocks; the MD5 is the whole file\'s, on the blob');
    assert.equal(counter.singleShotPuts, 0);
    assert.ok(counter.maxInFlightStageBlocks <= 3, `at most 3 blocks in flight, saw ${counter.maxInFlightStageBlocks}`);
    assert.ok(counter.maxInFlightStageBlocks >= 2, 'blocks are staged in parallel');
    // Properties, the blocks, one conditional commit, and the block list read back to verify it.
    assert.deepEqual(counter.requests.filter((r) => r !== 'PUT ?comp=block'), ['HEAD blob', 'PUT ?comp=blocklist', 'GET ?comp=blocklist']);

    const props = await sdkBlob(ref).getProperties();
    assert.equal(props.contentLength, 10 * MIB + 123);
    assert.equal(props.contentType, 'application/java-archive');
    assert.equal(Buffer.from(props.contentMD5 ?? []).toString('base64'), md5Base64(fs.readFileSync(file)));
    assert.deepEqual(props.metadata, { sha256: await sha256OfFile(file), commit: '0123abcd' });
    const download = await sdkBlob(ref).download();
    assert.equal(await sha256OfStream(download.readableStreamBody as NodeJS.ReadableStream), await sha256OfFile(file));

    // Debug lines carry method, path, status and time; never credentials.
    assert.ok(logger.lines.some((l) => /^debug: PUT \/vvpstorage\/vvp\/artifacts\/namespaces\/default\/blob-\d+\.jar\?comp=block -> 201 \(\d+ ms\)$/.test(l)));
    assert.ok(logger.lines.some((l) => /^debug: PUT .*\?comp=blocklist -> 201/.test(l)));
    assert.ok(logger.lines.every((l) => !/SharedKey|Bearer|Authorization|sig=/i.test(l)));
  });

  test('sends a file over 256 MiB as 4 MiB blocks, at most 8 at a time, never in one shot, reading it once', async () => {
    const file = path.join(dir, 'large.jar');
    writeSparseFile(file, 257 * MIB, 5 * MIB);
    const { agent, counter } = countingAgent();
    const ref = blob();
    const counting = await openCountingFile(file);
    try {
      const result = await publishArtifact(client({ agent }), { file: counting.file, target: ref, overwrite: 'ifChanged', contentType: 'x' }, { logger: new MemoryLogger() });
      assert.match(result.summary, /65 block\(s\) of 4\.0 MiB/);
      assert.equal(counting.passes, 1, 'read once');
    } finally {
      agent.destroy();
      await counting.file.close();
      fs.rmSync(file);
    }
    assert.equal(counter.stageBlockRequests, 65);
    assert.equal(counter.singleShotPuts, 0);
    assert.ok(counter.maxInFlightStageBlocks <= 8, `at most 8 blocks in flight, saw ${counter.maxInFlightStageBlocks}`);
    const list = await sdkBlob(ref).getBlockList('committed');
    assert.equal(list.committedBlocks?.length, 65);
    assert.deepEqual(
      [...new Set(list.committedBlocks?.map((b) => b.size))].sort((a, b) => a - b),
      [1 * MIB, 4 * MIB],
    );
    assert.equal(new Set(list.committedBlocks?.map((b) => b.name.length)).size, 1, 'block ids have one length');
  });

  test('reports a missing blob as undefined and reads hashes of an existing one', async () => {
    const c = client();
    assert.equal(await c.getBlob(blob()), undefined);
    assert.equal(await c.committedBlocks(blob()), undefined);
    const file = path.join(dir, 'props.jar');
    fs.writeFileSync(file, 'props');
    const ref = blob();
    await publish(c, ref, file);
    const state = await c.getBlob(ref);
    assert.equal(state?.sizeInBytes, 5);
    assert.equal(state?.md5Base64, md5Base64('props'));
    assert.equal(state?.sha256Hex, await sha256OfFile(file));
    assert.equal(state?.contentType, 'application/java-archive');
    assert.ok(state?.etag);
  });

  test('skips an identical re-upload and leaves the blob untouched', async () => {
    const file = path.join(dir, 'same.jar');
    writeRandomFile(file, 100_000);
    const ref = blob();
    const c = client();
    const first = await publish(c, ref, file);
    const etag = (await sdkBlob(ref).getProperties()).etag;
    const second = await publish(c, ref, file, { overwrite: 'never' });
    assert.equal(first.uploaded, true);
    assert.equal(second.uploaded, false);
    assert.equal(second.decision.action, 'skip');
    assert.equal((await sdkBlob(ref).getProperties()).etag, etag);
  });

  test("'never' refuses different content, names both hashes and leaves the blob unchanged", async () => {
    const ref = blob();
    const v1 = path.join(dir, 'v1.jar');
    const v2 = path.join(dir, 'v2.jar');
    fs.writeFileSync(v1, 'version 1');
    fs.writeFileSync(v2, 'version 2');
    const c = client();
    await publish(c, ref, v1, { overwrite: 'never' });
    const before = await sdkBlob(ref).getProperties();
    const localSha = await sha256OfFile(v2);
    await assert.rejects(
      publish(c, ref, v2, { overwrite: 'never' }),
      (error: unknown) =>
        error instanceof InputError &&
        error.message.includes(ref.name) &&
        error.message.includes(before.metadata?.sha256 ?? '?') &&
        error.message.includes(localSha),
    );
    const afterwards = await sdkBlob(ref).getProperties();
    assert.equal(afterwards.etag, before.etag);
    assert.equal((await sdkBlob(ref).downloadToBuffer()).toString(), 'version 1');
  });

  test("'ifChanged' replaces different content", async () => {
    const ref = blob();
    const file = path.join(dir, 'changing.jar');
    fs.writeFileSync(file, 'old');
    const c = client();
    await publish(c, ref, file);
    fs.writeFileSync(file, 'new content');
    const result = await publish(c, ref, file);
    assert.deepEqual(result.decision, { action: 'upload', reason: 'changed' });
    assert.equal((await sdkBlob(ref).downloadToBuffer()).toString(), 'new content');
  });

  test('cancelling mid-upload stops promptly, commits nothing and keeps the previous blob', async () => {
    const ref = blob();
    const previous = path.join(dir, 'previous.jar');
    fs.writeFileSync(previous, 'the previous job');
    await publish(client(), ref, previous);
    const file = path.join(dir, 'cancelled.jar');
    writeRandomFile(file, 24 * MIB);
    const { agent, counter } = countingAgent();
    const c = client({ agent, blockSizeInBytes: 1 * MIB, concurrency: 2 });
    const controller = new AbortController();
    let abortedAt = 0;
    const opened = await openArtifactFile(file);
    try {
      const staging = c.stageBlocks(ref, opened, {
        md5: true,
        abortSignal: controller.signal,
        onProgress: () => {
          if (abortedAt === 0) {
            abortedAt = Date.now();
            controller.abort();
          }
        },
      });
      await assert.rejects(staging, (error: unknown) => error instanceof CancelledError && /no block list was committed/.test(error.message));
      const stoppedAfterMs = Date.now() - abortedAt;
      assert.ok(stoppedAfterMs < 1000, `stopped ${stoppedAfterMs} ms after the abort`);
      assert.ok(counter.stageBlockRequests < 24, `stopped staging early (${counter.stageBlockRequests} of 24 blocks)`);
      agent.destroy();
      assert.equal((await sdkBlob(ref).downloadToBuffer()).toString(), 'the previous job');

      const fresh = blob();
      const controller2 = new AbortController();
      await assert.rejects(publish(c, fresh, file, { abortSignal: controller2.signal, logger: abortOnProgress(controller2) }), CancelledError);
      assert.equal(await client().getBlob(fresh), undefined, 'no blob under the new name');
    } finally {
      await opened.close();
    }
  });

  test('a file that changes between the comparing pass and the upload pass is not committed', async () => {
    const ref = blob();
    const file = path.join(dir, 'moving.jar');
    fs.writeFileSync(file, 'aaaa');
    await publish(client(), ref, file);
    fs.writeFileSync(file, 'bbbb');
    const before = await sdkBlob(ref).getProperties();
    // Same length as the blob: hashed first; rewritten in place once that pass has read it all.
    const counting = await openCountingFile(file, (read) => {
      if (read === 4) fs.writeFileSync(file, 'cccc');
    });
    try {
      await assert.rejects(
        publishArtifact(client(), { file: counting.file, target: ref, overwrite: 'ifChanged', contentType: 'x' }, { logger: new MemoryLogger() }),
        (error: unknown) => error instanceof InputError && /SHA-256 [0-9a-f]{64} when compared with the blob, [0-9a-f]{64} when read for the upload.*Nothing was committed/.test(error.message),
      );
    } finally {
      await counting.file.close();
    }
    assert.equal((await sdkBlob(ref).getProperties()).etag, before.etag, 'the blob is untouched');
  });

  test('a file that shrinks or grows while it is read is not committed', async () => {
    const file = path.join(dir, 'growing.jar');
    fs.writeFileSync(file, 'aaaa');
    const ref = blob();
    let opened = await openArtifactFile(file);
    fs.writeFileSync(file, 'a');
    await assert.rejects(client().stageBlocks(ref, opened, { md5: true }), /it ended at byte 1, before the 4 bytes it had when opened/);
    await opened.close();
    fs.writeFileSync(file, 'aaaa');
    opened = await openArtifactFile(file);
    fs.appendFileSync(file, 'more');
    await assert.rejects(client().stageBlocks(ref, opened, { md5: true }), /4 bytes when opened, 8 bytes after the upload/);
    await opened.close();
    assert.equal(await client().getBlob(ref), undefined);
  });

  test('a block whose connection stalls without an error is tried again by the SDK on a fresh connection', async () => {
    const azuritePort = Number(new URL(azurite.accountUrl).port);
    const file = path.join(dir, 'stall.jar');
    writeRandomFile(file, 3 * 1024);
    const sha = await sha256OfFile(file);
    // A try gives up 400 ms + a quarter (0.5 s) after it was sent; the SDK's retry policy then tries again.
    const stallRetry = { ...FAST_RETRY, tryTimeoutInMs: 400 };
    // The first connection is swallowed: the first request (block 1; concurrency 1) gets no answer at all.
    const once = await startStallingForwarder(azuritePort, (i) => i === 0);
    const agent = countingAgent();
    const logger = new MemoryLogger();
    try {
      const c = new BlobArtifactClient(`https://127.0.0.1:${once.port}/${azurite.accountName}`, azurite.credential, {
        agent: agent.agent,
        accountName: azurite.accountName,
        blockSizeInBytes: 1024,
        concurrency: 1,
        retry: stallRetry,
        logger,
      });
      const ref = blob();
      const opened = await openArtifactFile(file);
      const started = Date.now();
      try {
        const staged = await c.stageBlocks(ref, opened, { md5: true });
        assert.equal((await c.commitBlocks(ref, staged, { condition: { kind: 'absent' }, contentType: 'x', content: { sizeInBytes: staged.sizeInBytes, sha256Hex: staged.sha256Hex, md5Base64: staged.md5Base64 ?? '' } })).status, 'committed');
      } finally {
        await opened.close();
      }
      assert.ok(Date.now() - started < 3000);
      assert.equal(agent.counter.stageBlockRequests, 4, 'block 1 twice, blocks 2 and 3 once');
      assert.equal(once.connections, 2, 'the stalled connection was dropped, the retry opened a fresh one');
      const blockTries = logger.lines.filter((l) => /^debug: PUT \S+\?comp=block -> /.test(l));
      assert.equal(blockTries.length, 4);
      assert.doesNotMatch(blockTries[0], / -> 201 /, 'the first try got no answer');
      assert.ok(blockTries.slice(1).every((l) => / -> 201 /.test(l)), blockTries.join('\n'));
      assert.equal(sha256OfBuffer(await sdkBlob(ref).downloadToBuffer()), sha);
    } finally {
      agent.agent.destroy();
      await once.close();
    }

    // Every connection swallowed: give up when the SDK's tries are spent, saying so.
    const always = await startStallingForwarder(azuritePort, () => true);
    try {
      const c = new BlobArtifactClient(`https://127.0.0.1:${always.port}/${azurite.accountName}`, azurite.credential, {
        accountName: azurite.accountName,
        blockSizeInBytes: 1024,
        concurrency: 1,
        retry: { ...stallRetry, maxTries: 2 },
      });
      const opened = await openArtifactFile(file);
      const started = Date.now();
      try {
        await assert.rejects(c.stageBlocks(blob(), opened, { md5: true }), (error: unknown) => {
          assert.ok(error instanceof ServiceError);
          assert.match(
            error.message,
            /^Azure Blob Storage: staging the blocks of blob '\S+' in container 'vvp' failed after 2 attempts: ETIMEDOUT: no answer from 127\.0\.0\.1:\d+ within 0\.5 s\. Check that the agent can reach 127\.0\.0\.1:\d+/,
          );
          return true;
        });
      } finally {
        await opened.close();
      }
      assert.ok(Date.now() - started < 5000, 'two tries of 0.5 s, not a hang');
      assert.equal(always.connections, 2, 'block 1 tried twice, each try on its own connection; nothing after it was sent');
    } finally {
      await always.close();
    }
  });

  test('a missing container is named together with the account', async () => {
    const file = path.join(dir, 'nocontainer.jar');
    fs.writeFileSync(file, 'x');
    const ref = { container: 'missing-container', name: 'artifacts/namespaces/default/x.jar' };
    await assert.rejects(client().getBlob(ref), (error: unknown) => {
      assert.ok(error instanceof ServiceError);
      assert.equal(error.status, 404);
      assert.match(error.message, /ContainerNotFound\. The container 'missing-container' does not exist in the storage account 'vvpstorage'/);
      return true;
    });
    await assert.rejects(publish(client(), ref, file), /reading the properties .* HTTP 404: ContainerNotFound.*The container 'missing-container' does not exist/);
    const opened = await openArtifactFile(file);
    try {
      await assert.rejects(client().stageBlocks(ref, opened, { md5: true }), /staging the blocks .* HTTP 404: ContainerNotFound.*The container 'missing-container' does not exist/);
    } finally {
      await opened.close();
    }
  });

  test('a 403 AuthorizationPermissionMismatch names the Storage Blob Data Contributor role, the account and the container', async () => {
    const storage = await startCannedStorage({
      status: 403,
      code: 'AuthorizationPermissionMismatch',
      message: 'This request is not authorized to perform this operation using this permission.',
    });
    try {
      const c = new BlobArtifactClient(storage.accountUrl, azurite.credential, { agent: azurite.agent, accountName: 'vvpstorage', retry: FAST_RETRY });
      const file = path.join(dir, 'denied.jar');
      fs.writeFileSync(file, 'denied');
      const opened = await openArtifactFile(file);
      // HEAD: the code comes from the header only; PUT: from the XML body.
      for (const attempt of [() => c.getBlob(blob()), () => c.stageBlocks(blob(), opened, { md5: true })]) {
        await assert.rejects(attempt(), (error: unknown) => {
          assert.ok(error instanceof ServiceError);
          assert.equal(error.status, 403);
          assert.equal(error.attempts, undefined, '403 is not retried');
          assert.match(error.message, /HTTP 403: AuthorizationPermissionMismatch/);
          assert.match(error.message, /"Storage Blob Data Contributor" role on the storage account 'vvpstorage' or on the container 'vvp'/);
          return true;
        });
      }
      await opened.close();
      assert.equal(storage.requests.length, 2, 'one request each: no retries, no commit after a failed block');
    } finally {
      await storage.close();
    }
  });

  test('Azurite refusing a shared key (400 InvalidAuthenticationInfo) is reported with its code', async () => {
    const wrongKey = new StorageSharedKeyCredential(azurite.accountName, Buffer.from('x'.repeat(64)).toString('base64'));
    const c = new BlobArtifactClient(azurite.accountUrl, wrongKey, { agent: azurite.agent, accountName: azurite.accountName, retry: FAST_RETRY });
    await assert.rejects(c.getBlob(blob()), /HTTP 400: InvalidAuthenticationInfo\. The storage account 'vvpstorage' did not accept/);
  });

  test("a token Entra ID refuses shows Entra's AADSTS code", async () => {
    const refusing: TokenCredential = {
      getToken: async (): Promise<AccessToken> => {
        throw Object.assign(new Error('ClientSecretCredential authentication failed'), {
          name: 'AuthenticationError',
          statusCode: 401,
          errorResponse: { error: 'invalid_client', errorDescription: 'AADSTS7000215: Invalid client secret provided.' },
        });
      },
    };
    const c = new BlobArtifactClient(azurite.accountUrl, refusing, { agent: azurite.agent, accountName: azurite.accountName, retry: FAST_RETRY });
    await assert.rejects(c.getBlob(blob()), /^ServiceError: Microsoft Entra ID: getting a token for Azure Blob Storage .*AADSTS7000215: Invalid client secret provided/);
  });

  test('an unreachable or unknown account fails after the configured attempts, naming the host', async () => {
    const refused = new BlobArtifactClient('https://127.0.0.1:9/vvpstorage', azurite.credential, { agent: azurite.agent, accountName: 'vvpstorage', retry: { ...FAST_RETRY, maxTries: 3 } });
    await assert.rejects(refused.getBlob(blob()), (error: unknown) => {
      assert.ok(error instanceof ServiceError);
      assert.equal(error.attempts, 3);
      assert.match(error.message, /failed after 3 attempts: .*ECONNREFUSED.*reach 127\.0\.0\.1:9/);
      return true;
    });
    const unknown = new BlobArtifactClient('https://nosuchaccount.blob.core.windows.invalid', azurite.credential, { retry: FAST_RETRY });
    await assert.rejects(unknown.getBlob(blob()), /after 5 attempts: .*ENOTFOUND.*The host nosuchaccount\.blob\.core\.windows\.invalid cannot be resolved: check that the storage account 'nosuchaccount' exists/);
  });
});
