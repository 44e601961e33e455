/**
 * publishArtifact against Azurite: how often the file is read, the empty file, and another
 * writer changing the blob between the properties read and the commit (the conditional commit
 * answers 412/409, the step reads the blob again and applies the overwrite policy to it).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BlobArtifactClient,
  type ArtifactStore,
  type BlobCondition,
  type BlobRef,
  type CommitOptions,
  type CommitOutcome,
  type StagedBlocks,
} from '../../tasks/common/blob/blob-artifact-client';
import { MIB } from '../../tasks/common/blob/block-plan';
import { publishArtifact, type PublishResult } from '../../tasks/common/blob/publish-artifact';
import type { OverwriteMode } from '../../tasks/common/blob/overwrite-policy';
import { InputError } from '../../tasks/common/errors/errors';
import { MemoryLogger } from '../support/memory-logger';
import { countingAgent, startAzuriteFixture, type AzuriteFixture } from './azurite-fixture';
import { openCountingFile, tempDir } from './test-files';

const CONTAINER = 'vvp';
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const md5 = (data: Buffer | string): string => createHash('md5').update(data).digest('base64');

/**
 * The real client, with another writer stepping in once, right before this step's first commit
 * (the window between reading the blob's properties and committing), and a record of every
 * commit's condition and outcome.
 */
class InterferedStore implements ArtifactStore {
  readonly commits: { condition: BlobCondition; outcome: CommitOutcome }[] = [];
  private interfered = false;

  constructor(
    private readonly inner: BlobArtifactClient,
    private readonly otherWriter: () => Promise<void>,
    /** Report the first commit as failed on its condition although it went through (an answer lost, the retry meeting it). */
    private readonly loseFirstAnswer = false,
  ) {}

  urlOf(ref: BlobRef): string {
    return this.inner.urlOf(ref);
  }
  getBlob(ref: BlobRef, options?: { abortSignal?: AbortSignal }): ReturnType<ArtifactStore['getBlob']> {
    return this.inner.getBlob(ref, options);
  }
  stageBlocks(...args: Parameters<ArtifactStore['stageBlocks']>): ReturnType<ArtifactStore['stageBlocks']> {
    return this.inner.stageBlocks(...args);
  }
  committedBlocks(ref: BlobRef, options?: { abortSignal?: AbortSignal }): ReturnType<ArtifactStore['committedBlocks']> {
    return this.inner.committedBlocks(ref, options);
  }
  async commitBlocks(ref: BlobRef, staged: StagedBlocks, options: CommitOptions): Promise<CommitOutcome> {
    const first = !this.interfered;
    if (first) {
      this.interfered = true;
      await this.otherWriter();
    }
    let outcome = await this.inner.commitBlocks(ref, staged, options);
    if (first && this.loseFirstAnswer && outcome.status === 'committed') outcome = { status: 'conditionFailed' };
    this.commits.push({ condition: options.condition, outcome });
    return outcome;
  }
}

describe('publishArtifact against Azurite: read passes, empty files, concurrent writers', () => {
  let azurite: AzuriteFixture;
  let dir = '';
  let seq = 0;
  const blob = (name = `publish-${++seq}.jar`): BlobRef => ({ container: CONTAINER, name: `artifacts/namespaces/default/${name}` });
  const client = (agent = azurite.agent): BlobArtifactClient =>
    new BlobArtifactClient(azurite.accountUrl, azurite.credential, { agent, accountName: azurite.accountName, retry: { retryDelayInMs: 5, maxRetryDelayInMs: 20 }, blockSizeInBytes: MIB });
  const sdkBlob = (ref: BlobRef) => azurite.service.getContainerClient(ref.container).getBlockBlobClient(ref.name);
  /** Another pipeline run putting `content` there the way this task does (hashes included). */
  const writeAsOtherRun = async (ref: BlobRef, content: Buffer | string): Promise<string> => {
    const data = Buffer.from(content);
    const r = await sdkBlob(ref).upload(data, data.length, { metadata: { sha256: sha256(data) }, blobHTTPHeaders: { blobContentMD5: Buffer.from(md5(data), 'base64') } });
    return r.etag ?? '';
  };
  const file = (name: string, content: Buffer | string): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    return p;
  };
  const run = async (
    store: ArtifactStore,
    ref: BlobRef,
    filePath: string,
    overwrite: OverwriteMode,
    logger = new MemoryLogger(),
    knownSha256Hex?: string,
  ): Promise<{ result: PublishResult; passes: number; logger: MemoryLogger }> => {
    const counting = await openCountingFile(filePath);
    try {
      const result = await publishArtifact(store, { file: counting.file, target: ref, overwrite, contentType: 'application/java-archive', knownSha256Hex }, { logger });
      return { result, passes: counting.passes, logger };
    } finally {
      await counting.file.close();
    }
  };

  before(async () => {
    azurite = await startAzuriteFixture();
    await azurite.service.getContainerClient(CONTAINER).create();
    dir = tempDir('publish-azurite-');
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await azurite?.stop();
  });

  describe('reads the file once unless a blob of the same length must be compared first', () => {
    const content = Buffer.alloc(3 * MIB + 5, 7);

    test('no blob yet: one pass that hashes and sends', async () => {
      const { result, passes } = await run(client(), blob(), file('new.jar', content), 'ifChanged');
      assert.equal(result.uploaded, true);
      assert.equal(result.content.sha256Hex, sha256(content));
      assert.equal(result.content.md5Base64, md5(content));
      assert.equal(passes, 1);
    });

    test('a blob of another length: one pass, under ifChanged and always alike', async () => {
      for (const overwrite of ['ifChanged', 'always'] as const) {
        const ref = blob();
        await writeAsOtherRun(ref, 'a shorter older build');
        const { result, passes } = await run(client(), ref, file(`longer-${overwrite}.jar`, content), overwrite);
        assert.equal(result.uploaded, true);
        assert.equal(passes, 1, overwrite);
        assert.equal(sha256(await sdkBlob(ref).downloadToBuffer()), sha256(content));
      }
    });

    test("overwrite 'always' over a blob of the same length: one pass", async () => {
      const ref = blob();
      await writeAsOtherRun(ref, Buffer.alloc(content.length, 1));
      const { result, passes } = await run(client(), ref, file('always.jar', content), 'always');
      assert.deepEqual(result.decision, { action: 'upload', reason: 'always' });
      assert.equal(passes, 1);
    });

    test('a blob of the same length: a comparing pass, then (only when it differs) the upload pass', async () => {
      const ref = blob();
      await writeAsOtherRun(ref, Buffer.alloc(content.length, 1));
      const changed = await run(client(), ref, file('same-length.jar', content), 'ifChanged');
      assert.deepEqual(changed.result.decision, { action: 'upload', reason: 'changed' });
      assert.equal(changed.passes, 2);
      const identical = await run(client(), ref, file('same-length.jar', content), 'ifChanged');
      assert.equal(identical.result.uploaded, false);
      assert.equal(identical.passes, 1, 'identical: hashed, nothing sent');
    });
  });

  describe('a file the caller hashed already (its blob name is made from its SHA-256)', () => {
    const content = Buffer.alloc(3 * MIB + 5, 9);
    const known = sha256(content);

    test('a new blob: the upload pass alone reads the file, computes the MD5 and checks the SHA-256 against the known one', async () => {
      const ref = blob(`by-hash-${known.slice(0, 12)}.jar`);
      const first = await run(client(), ref, file('by-hash.jar', content), 'ifChanged', new MemoryLogger(), known);
      assert.equal(first.result.uploaded, true);
      assert.equal(first.passes, 1, 'not hashed again before the upload');
      assert.deepEqual(first.result.content, { sizeInBytes: content.length, sha256Hex: known, md5Base64: md5(content) });
      assert.ok(!first.logger.lines.some((l) => l.includes(known)), `the caller printed the hash already:\n${first.logger.lines.join('\n')}`);
      const props = await sdkBlob(ref).getProperties();
      assert.equal(props.metadata?.sha256, known);
      assert.equal(Buffer.from(props.contentMD5 ?? new Uint8Array()).toString('base64'), md5(content));
    });

    test('the identical blob already there: one comparing pass (the blob carries an MD5 too), then skipped without a write', async () => {
      const ref = blob(`again-by-hash-${known.slice(0, 12)}.jar`);
      const path1 = file('again-by-hash.jar', content);
      await run(client(), ref, path1, 'ifChanged', new MemoryLogger(), known);
      const etag = (await sdkBlob(ref).getProperties()).etag;
      const second = await run(client(), ref, path1, 'ifChanged', new MemoryLogger(), known);
      assert.deepEqual(second.result.decision, { action: 'skip', reason: 'identical' });
      assert.equal(second.passes, 1);
      assert.ok(!second.logger.lines.some((l) => l.includes(known)), second.logger.lines.join('\n'));
      assert.equal((await sdkBlob(ref).getProperties()).etag, etag);
    });

    test('a file that changed after it was hashed is refused before the commit: the hashed name never holds other bytes', async () => {
      const changed = Buffer.alloc(content.length, 1);
      const fresh = blob(`by-stale-hash-${known.slice(0, 12)}.jar`);
      await assert.rejects(run(client(), fresh, file('changed-after-hashing.jar', changed), 'ifChanged', new MemoryLogger(), known), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.match(error.message, new RegExp(`SHA-256 ${known} when hashed first, ${sha256(changed)} when read for the upload`));
        return true;
      });
      assert.equal(await sdkBlob(fresh).exists(), false);
      // Under a name whose blob has the file's length, the comparing pass notices it.
      const occupied = blob(`occupied-by-hash-${known.slice(0, 12)}.jar`);
      await writeAsOtherRun(occupied, content);
      const etag = (await sdkBlob(occupied).getProperties()).etag;
      await assert.rejects(run(client(), occupied, file('changed-after-hashing.jar', changed), 'ifChanged', new MemoryLogger(), known), new RegExp(`when hashed first, ${sha256(changed)} when compared with the blob`));
      // 'always' does not compare: the upload pass notices it, before the commit.
      await assert.rejects(run(client(), occupied, file('changed-after-hashing.jar', changed), 'always', new MemoryLogger(), known), new RegExp(`when hashed first, ${sha256(changed)} when read for the upload`));
      assert.equal((await sdkBlob(occupied).getProperties()).etag, etag);
    });
  });

  test('an empty file is refused before any request, and nothing is uploaded', async () => {
    const { agent, counter } = countingAgent();
    const ref = blob('empty.jar');
    try {
      await assert.rejects(run(client(agent), ref, file('empty.jar', ''), 'always'), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.match(error.message, /^The artifact .*empty\.jar is empty \(0 bytes\), so it was not uploaded: a Flink job JAR is never empty\. Check the build step/);
        return true;
      });
    } finally {
      agent.destroy();
    }
    assert.deepEqual(counter.requests, []);
    assert.equal(await sdkBlob(ref).exists(), false);
  });

  describe('another writer between the check and the commit', () => {
    test('no blob at the check, another run creates one with other content: the commit fails on If-None-Match, the step decides again and says it replaces it (ifChanged)', async () => {
      const ref = blob();
      const ours = randomContent(2 * MIB + 1);
      let theirEtag = '';
      const store = new InterferedStore(client(), async () => {
        theirEtag = await writeAsOtherRun(ref, 'their build');
      });
      const { result, logger } = await run(store, ref, file('race-ifchanged.jar', ours), 'ifChanged');
      assert.equal(result.uploaded, true);
      assert.deepEqual(store.commits[0], { condition: { kind: 'absent' }, outcome: { status: 'conditionFailed' } });
      assert.deepEqual(store.commits[1].condition, { kind: 'etag', etag: theirEtag }, 'the second commit is conditioned on the blob the step decided about');
      assert.equal(store.commits.at(-1)?.outcome.status, 'committed');
      assert.ok(
        logger.lines.some((l) => /^Another writer created the blob while this step uploaded it \(now 11 bytes, sha256 [0-9a-f]{64}, Content-MD5 \S+\); deciding again: committing this upload \(the existing blob has different content\)$/.test(l)),
        logger.lines.join('\n'),
      );
      assert.equal(sha256(await sdkBlob(ref).downloadToBuffer()), sha256(ours));
    });

    test('another run commits its own block list meanwhile, which discards the blocks this step staged: decided again, sent again, committed', async () => {
      const ref = blob();
      const ours = randomContent(2 * MIB + 7);
      const store = new InterferedStore(client(), async () => {
        // What another run of this task does: stage, then commit a block list (ids as long as ours).
        const other = sdkBlob(ref);
        const id = Buffer.from('0a0b0c0d0e0f-00000').toString('base64');
        await other.stageBlock(id, 'their build', 11);
        await other.commitBlockList([id], { metadata: { sha256: sha256('their build') } });
      });
      const { result, passes, logger } = await run(store, ref, file('race-blocklist.jar', ours), 'ifChanged');
      assert.deepEqual(
        store.commits.map((c) => c.outcome.status),
        ['conditionFailed', 'blocksMissing', 'committed'],
      );
      assert.equal(passes, 2, 'the file was read again to stage it again');
      assert.ok(logger.lines.includes("The staged blocks are gone (another writer's commit discards them); reading and sending race-blocklist.jar again"));
      assert.equal(result.uploaded, true);
      assert.equal(sha256(await sdkBlob(ref).downloadToBuffer()), sha256(ours));
    });

    test("no blob at the check, another run creates one with other content, overwrite 'never': their blob stays, the step fails saying so", async () => {
      const ref = blob();
      let theirEtag = '';
      const store = new InterferedStore(client(), async () => {
        theirEtag = await writeAsOtherRun(ref, 'their build');
      });
      await assert.rejects(run(store, ref, file('race-never.jar', randomContent(MIB)), 'never'), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.match(error.message, /was written by another writer while this step uploaded, and now exists with different content .* overwrite is 'never'\. The blob was left unchanged/);
        return true;
      });
      assert.equal(store.commits.length, 1);
      assert.equal((await sdkBlob(ref).getProperties()).etag, theirEtag, 'their blob is untouched');
      assert.equal((await sdkBlob(ref).downloadToBuffer()).toString(), 'their build');
    });

    test('a blob that another run replaces after the check: the commit fails on If-Match, and the blob is decided about again', async () => {
      const ref = blob();
      const firstEtag = await writeAsOtherRun(ref, 'version 1, read at the check');
      let theirEtag = '';
      const store = new InterferedStore(client(), async () => {
        theirEtag = await writeAsOtherRun(ref, 'version 2, written meanwhile');
      });
      const ours = randomContent(MIB + 3);
      const { result, logger } = await run(store, ref, file('race-replaced.jar', ours), 'ifChanged');
      assert.deepEqual(store.commits[0], { condition: { kind: 'etag', etag: firstEtag }, outcome: { status: 'conditionFailed' } });
      assert.deepEqual(store.commits[1].condition, { kind: 'etag', etag: theirEtag });
      assert.ok(logger.lines.some((l) => /^Another writer changed the blob while this step uploaded it \(now 28 bytes/.test(l)), logger.lines.join('\n'));
      assert.equal(result.uploaded, true);
      assert.equal(sha256(await sdkBlob(ref).downloadToBuffer()), sha256(ours));
    });

    test('another run puts identical content there meanwhile: nothing more is written, and the step says who did', async () => {
      const ref = blob();
      const ours = randomContent(MIB);
      let theirEtag = '';
      const store = new InterferedStore(client(), async () => {
        theirEtag = await writeAsOtherRun(ref, ours);
      });
      const { result } = await run(store, ref, file('race-identical.jar', ours), 'never');
      assert.equal(result.uploaded, false);
      assert.match(result.summary, /now has identical content \(another writer put it there while this step uploaded\)/);
      assert.equal(store.commits.length, 1);
      assert.equal((await sdkBlob(ref).getProperties()).etag, theirEtag);
    });

    test("a commit that went through although its answer said the condition failed (the SDK's retry meeting it) is recognised by its block list", async () => {
      const ref = blob();
      const ours = randomContent(MIB + 9);
      const store = new InterferedStore(client(), async () => undefined, true);
      const { result } = await run(store, ref, file('lost-answer.jar', ours), 'never');
      assert.equal(result.uploaded, true);
      assert.equal(store.commits.length, 1, 'no second commit');
      assert.equal(sha256(await sdkBlob(ref).downloadToBuffer()), sha256(ours));
    });
  });
});

function randomContent(sizeInBytes: number): Buffer {
  return randomBytes(sizeInBytes);
}
