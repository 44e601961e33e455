import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { ArtifactStore, BlobRef, BlobState, UploadFileOptions, UploadedBlob } from '../../tasks/common/blob/blob-artifact-client';
import { BlobConflictError } from '../../tasks/common/blob/blob-errors';
import { MIB } from '../../tasks/common/blob/block-plan';
import { publishArtifact } from '../../tasks/common/blob/publish-artifact';
import { MemoryLogger } from '../../tasks/common/logging/logger';

/** An in-memory store that records what it was asked to do. */
class FakeStore implements ArtifactStore {
  uploads: { ref: BlobRef; options: UploadFileOptions }[] = [];
  constructor(public blob: BlobState | undefined) {}
  urlOf(ref: BlobRef): string {
    return `https://acct.blob.core.windows.net/${ref.container}/${ref.name}`;
  }
  async getBlob(): Promise<BlobState | undefined> {
    return this.blob;
  }
  async uploadFile(ref: BlobRef, _file: string, options: UploadFileOptions): Promise<UploadedBlob> {
    this.uploads.push({ ref, options });
    const total = options.expected.sizeInBytes;
    for (let sent = Math.min(8 * MIB, total); ; sent = Math.min(sent + 8 * MIB, total)) {
      options.onProgress?.(sent, total);
      if (sent >= total) break;
    }
    return { sizeInBytes: total, blockCount: Math.ceil(total / (8 * MIB)), blockSizeInBytes: 8 * MIB };
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

  test('uploads a new blob with the content type, metadata and an unconditional commit', async () => {
    const store = new FakeStore(undefined);
    const logger = new MemoryLogger();
    const result = await publishArtifact(
      store,
      { filePath: small, target, overwrite: 'ifChanged', contentType: 'application/java-archive', metadata: { commit: 'abc' } },
      { logger },
    );
    assert.equal(result.uploaded, true);
    assert.equal(result.content.sha256Hex, smallSha);
    assert.equal(store.uploads.length, 1);
    assert.equal(store.uploads[0].options.contentType, 'application/java-archive');
    assert.deepEqual(store.uploads[0].options.metadata, { commit: 'abc' });
    assert.equal(store.uploads[0].options.condition, undefined);
    assert.match(result.summary, /^Uploaded job\.jar \(0\.0 MiB\) in .* to https:\/\/acct\.blob\.core\.windows\.net\/vvp\/artifacts\/namespaces\/default\/job\.jar/);
    assert.ok(!logger.lines.some((l) => l.startsWith('progress:')), 'no progress lines for small files');
  });

  test('skips when the blob already holds the same bytes, and says why', async () => {
    const store = new FakeStore({ sizeInBytes: 9, sha256Hex: smallSha, md5Base64: smallMd5, metadata: {} });
    const result = await publishArtifact(store, { filePath: small, target, overwrite: 'ifChanged', contentType: 'x' }, { logger: new MemoryLogger() });
    assert.equal(result.uploaded, false);
    assert.equal(store.uploads.length, 0);
    assert.match(result.summary, /^Skipped job\.jar .* already has identical content \(SHA-256 [0-9a-f]{64}\)/);
  });

  test("fails with both hashes under 'never' when the blob differs, without uploading", async () => {
    const store = new FakeStore({ sizeInBytes: 9, sha256Hex: 'bb'.repeat(32), metadata: {} });
    await assert.rejects(
      publishArtifact(store, { filePath: small, target, overwrite: 'never', contentType: 'x' }, { logger: new MemoryLogger() }),
      (error: unknown) => error instanceof BlobConflictError && error.message.includes(smallSha) && error.message.includes('bb'.repeat(32)),
    );
    assert.equal(store.uploads.length, 0);
  });

  test("commits only if the name is still free under 'never'", async () => {
    const store = new FakeStore(undefined);
    await publishArtifact(store, { filePath: small, target, overwrite: 'never', contentType: 'x' }, { logger: new MemoryLogger() });
    assert.equal(store.uploads[0].options.condition, 'absent');
  });

  test('logs about every 10% of a large upload and reports progress', async () => {
    const store = new FakeStore(undefined);
    const logger = new MemoryLogger();
    let clock = 0;
    const result = await publishArtifact(
      store,
      { filePath: large, target, overwrite: 'always', contentType: 'x' },
      { logger, now: () => (clock += 100) },
    );
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
