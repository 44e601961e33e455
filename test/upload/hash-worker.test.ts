import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { workerHasher } from '../../tasks/common/blob/hash-worker';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const md5 = (data: Buffer): string => createHash('md5').update(data).digest('base64');

describe('workerHasher', () => {
  test('hashes chunks in the order given, shared or not, as one stream', async () => {
    const parts = [randomBytes(1000), randomBytes(70_000), randomBytes(1), randomBytes(333_333)];
    const hasher = workerHasher({ md5: true });
    try {
      const updates = parts.map((p, i) => {
        if (i % 2 === 1) return hasher.update(p);
        // A view into the middle of a shared buffer: hashed in place, exactly that range.
        const shared = Buffer.from(new SharedArrayBuffer(p.length + 20));
        p.copy(shared, 10);
        return hasher.update(shared.subarray(10, 10 + p.length));
      });
      await Promise.all(updates);
      const all = Buffer.concat(parts);
      assert.deepEqual(await hasher.digest(), { sha256Hex: sha256(all), md5Base64: md5(all) });
    } finally {
      await hasher.close();
    }
  });

  test('leaves MD5 out when not asked for, and hashes nothing as the empty stream', async () => {
    const hasher = workerHasher({ md5: false });
    try {
      assert.deepEqual(await hasher.digest(), { sha256Hex: sha256(Buffer.alloc(0)), md5Base64: undefined });
    } finally {
      await hasher.close();
    }
  });

  test('once closed, refuses more work instead of hanging', async () => {
    const hasher = workerHasher({ md5: true });
    await hasher.close();
    await assert.rejects(hasher.update(Buffer.from('late')), /the hashing thread was stopped/);
    await assert.rejects(hasher.digest(), /the hashing thread was stopped/);
  });
});
