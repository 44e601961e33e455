import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { openArtifactFile, type ArtifactFile } from '../../tasks/common/blob/artifact-file';
import type { ArtifactStore, BlobRef, BlobState, CommitOptions, CommitOutcome, CommittedBlockList, StageOptions, StagedBlocks } from '../../tasks/common/blob/blob-artifact-client';
import { MIB } from '../../tasks/common/blob/block-plan';
import { publishArtifact, type PublishRequest } from '../../tasks/common/blob/publish-artifact';
import { InputError } from '../../tasks/common/errors/errors';
import { MemoryLogger } from '../support/memory-logger';

/** An in-memory store that records what it was asked to do; it reads the file like the real one. */
class FakeStore implements ArtifactStore {
  stages: StageOptions[] = [];
  commits: CommitOptions[] = [];
  private committed?: CommittedBlockList;
  constructor(public blob: BlobState | undefined) {}
  urlOf(ref: BlobRef): string {
    return `https://acct.blob.core.windows.net/${ref.container}/${ref.name}`;
  }
  async getBlob(): Promise<BlobState | undefined> {
    return this.blob;
  }
  async stageBlocks(_ref: BlobRef, file: ArtifactFile, options: StageOptions): Promise<StagedBlocks> {
    this.stages.push(options);
    const sha256 = createHash('sha256');
    const md5 = options.md5 ? createHash('md5') : undefined;
    const ids: string[] = [];
    const buffer = Buffer.alloc(8 * MIB);
    for (let offset = 0; offset < file.sizeInBytes; offset += buffer.length) {
      const n = await file.read(buffer, 0, Math.min(buffer.length, file.sizeInBytes - offset), offset);
      sha256.update(buffer.subarray(0, n));
      md5?.update(buffer.subarray(0, n));
      ids.push(`block-${ids.length}`);
      options.onProgress?.(offset + n, file.sizeInBytes);
    }
    return { ids, blockSizeInBytes: 8 * MIB, sizeInBytes: file.sizeInBytes, sha256Hex: sha256.digest('hex'), md5Base64: md5?.digest('base64') };
  }
  async commitBlocks(_ref: BlobRef, staged: StagedBlocks, options: CommitOptions): Promise<CommitOutcome> {
    this.commits.push(options);
    this.committed = { blocks: staged.ids.map((id, i) => ({ id, sizeInBytes: Math.min(staged.blockSizeInBytes, staged.sizeInBytes - i * staged.blockSizeInBytes) })) };
    return { status: 'committed', etag: '"new"' };
  }
  async committedBlocks(): Promise<CommittedBlockList | undefined> {
    return this.committed;
  }
}

describe('publishArtifact', () => {
  let dir = '';
  let small = '';
  let large = '';
  let smallSha = '';
  let smallMd5 = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'publish-'));
    small = path.join(dir, 'job.jar');
    fs.writeFileSync(small, 'small job');
    smallSha = createHash('sha256').update('small job').digest('hex');
    smallMd5 = createHash('md5').update('small job').digest('base64');
    large = path.join(dir, 'big.jar');
    fs.writeFileSync(large, '');
    fs.truncateSync(large, 100 * MIB); // sparse: no disk, reads as zeros
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const target = { container: 'vvp', name: 'artifacts/namespaces/default/job.jar' };
  /** publishArtifact on `filePath`, opened for the call. */
  const publish = async (store: ArtifactStore, filePath: string, request: Omit<PublishRequest, 'file' | 'target'>, options: { logger: MemoryLogger; now?: () => number }) => {
    const file = await openArtifactFile(filePath);
    try {
      return await publishArtifact(store, { ...request, file, target }, options);
    } finally {
      await file.close();
    }
  };

  test('uploads a new blob with the content type, metadata and hashes, committed only if the name is still free', async () => {
    const store = new FakeStore(undefined);
    const logger = new MemoryLogger();
    const result = await publish(store, small, { overwrite: 'ifChanged', contentType: 'application/java-archive', metadata: { commit: 'abc' } }, { logger });
    assert.equal(result.uploaded, true);
    assert.equal(result.content.sha256Hex, smallSha);
    assert.equal(result.content.md5Base64, smallMd5);
    assert.equal(store.stages.length, 1);
    assert.equal(store.stages[0].md5, true, 'both hashes come from the upload pass');
    assert.equal(store.commits.length, 1);
    assert.equal(store.commits[0].contentType, 'application/java-archive');
    assert.deepEqual(store.commits[0].metadata, { commit: 'abc' });
    assert.deepEqual(store.commits[0].content, { sizeInBytes: 9, sha256Hex: smallSha, md5Base64: smallMd5 });
    assert.deepEqual(store.commits[0].condition, { kind: 'absent' });
    assert.match(result.summary, /^Uploaded job\.jar \(0\.0 MiB\) in .* to https:\/\/acct\.blob\.core\.windows\.net\/vvp\/artifacts\/namespaces\/default\/job\.jar/);
    assert.ok(!logger.lines.some((l) => l.startsWith('progress:')), 'no progress lines for small files');
  });

  test('replaces an existing blob only if it is still the one read (If-Match its ETag)', async () => {
    const store = new FakeStore({ sizeInBytes: 3, sha256Hex: 'aa'.repeat(32), etag: '"0x8D"', metadata: {} });
    await publish(store, small, { overwrite: 'ifChanged', contentType: 'x' }, { logger: new MemoryLogger() });
    assert.deepEqual(store.commits[0].condition, { kind: 'etag', etag: '"0x8D"' });
  });

  test('skips when the blob already holds the same bytes, and says why', async () => {
    const store = new FakeStore({ sizeInBytes: 9, sha256Hex: smallSha, md5Base64: smallMd5, metadata: {} });
    const result = await publish(store, small, { overwrite: 'ifChanged', contentType: 'x' }, { logger: new MemoryLogger() });
    assert.equal(result.uploaded, false);
    assert.equal(store.stages.length, 0);
    assert.match(result.summary, /^Skipped job\.jar .* already has identical content \(SHA-256 [0-9a-f]{64}\)/);
  });

  test("fails with both hashes under 'never' when the blob differs, without uploading", async () => {
    const store = new FakeStore({ sizeInBytes: 9, sha256Hex: 'bb'.repeat(32), metadata: {} });
    await assert.rejects(
      publish(store, small, { overwrite: 'never', contentType: 'x' }, { logger: new MemoryLogger() }),
      (error: unknown) => error instanceof InputError && error.message.includes(smallSha) && error.message.includes('bb'.repeat(32)),
    );
    assert.equal(store.stages.length, 0);
  });

  test("under 'never' a blob of another length fails with both hashes, and nothing is sent", async () => {
    const store = new FakeStore({ sizeInBytes: 4, sha256Hex: 'cc'.repeat(32), metadata: {} });
    await assert.rejects(publish(store, small, { overwrite: 'never', contentType: 'x' }, { logger: new MemoryLogger() }), new RegExp(`SHA-256 cc{63}.*SHA-256 ${smallSha}`));
    assert.equal(store.stages.length, 0);
  });

  test('a blob of the same length is compared before anything is sent; the upload pass then only proves it read the same bytes', async () => {
    const store = new FakeStore({ sizeInBytes: 9, sha256Hex: 'dd'.repeat(32), etag: '"e"', metadata: {} });
    const result = await publish(store, small, { overwrite: 'ifChanged', contentType: 'x' }, { logger: new MemoryLogger() });
    assert.equal(result.uploaded, true);
    assert.equal(store.stages[0].md5, false, 'the MD5 is known from the comparing pass');
    assert.deepEqual(store.commits[0].content, { sizeInBytes: 9, sha256Hex: smallSha, md5Base64: smallMd5 });
  });

  test('logs about every 10% of a large upload and reports progress', async () => {
    const store = new FakeStore(undefined);
    const logger = new MemoryLogger();
    let clock = 0;
    const result = await publish(store, large, { overwrite: 'always', contentType: 'x' }, { logger, now: () => (clock += 100) });
    const lines = logger.lines.filter((l) => /^Uploaded \d+% /.test(l));
    assert.deepEqual(
      lines.map((l) => Number(/^Uploaded (\d+)%/.exec(l)?.[1])),
      [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
    );
    assert.match(lines[0], /^Uploaded 10% \(16\.0 MiB of 100\.0 MiB, \d+\.\d MiB\/s\)$/);
    assert.equal(logger.lines.filter((l) => l.startsWith('progress:')).length, 10);
    assert.match(result.summary, /^Uploaded big\.jar \(100\.0 MiB\) in \d+\.\d s \(\d+\.\d MiB\/s, 13 block\(s\) of 8\.0 MiB\)/);
  });
});
