import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { blockId, MIB, planBlocks } from '../../tasks/common/blob/block-plan';
import { formatMiB, mibPerSecond, ProgressThrottle } from '../../tasks/common/blob/upload-progress';

describe('planBlocks', () => {
  const cases: [string, number, number, { blockSizeInBytes: number; blockCount: number }][] = [
    ['an empty file', 0, 8 * MIB, { blockSizeInBytes: 8 * MIB, blockCount: 0 }],
    ['one byte', 1, 8 * MIB, { blockSizeInBytes: 8 * MIB, blockCount: 1 }],
    ['exactly one block', 8 * MIB, 8 * MIB, { blockSizeInBytes: 8 * MIB, blockCount: 1 }],
    ['one byte over a block', 8 * MIB + 1, 8 * MIB, { blockSizeInBytes: 8 * MIB, blockCount: 2 }],
    ['257 MiB', 257 * MIB, 8 * MIB, { blockSizeInBytes: 8 * MIB, blockCount: 33 }],
    ['the most 8 MiB blocks allow', 50_000 * 8 * MIB, 8 * MIB, { blockSizeInBytes: 8 * MIB, blockCount: 50_000 }],
    ['one byte more: blocks grow by whole MiB', 50_000 * 8 * MIB + 1, 8 * MIB, { blockSizeInBytes: 9 * MIB, blockCount: 44_445 }],
    ['1 TiB', 1024 * 1024 * MIB, 8 * MIB, { blockSizeInBytes: 21 * MIB, blockCount: 49_933 }],
  ];
  for (const [name, size, preferred, expected] of cases) {
    test(`plans ${name}`, () => {
      const plan = planBlocks(size, preferred);
      assert.deepEqual(plan, expected);
      assert.ok(plan.blockCount <= 50_000);
      assert.ok(plan.blockCount * plan.blockSizeInBytes >= size);
    });
  }

  test('refuses sizes no block blob can hold', () => {
    assert.throws(() => planBlocks(50_000 * 4000 * MIB + 1), RangeError);
    assert.throws(() => planBlocks(-1), RangeError);
  });
});

describe('blockId', () => {
  test('gives base64 ids of one fixed length, distinct per index and per upload', () => {
    const ids = [0, 1, 9, 10, 99_99, 49_999].map((i) => blockId('0123456789ab', i));
    assert.equal(new Set(ids.map((id) => id.length)).size, 1);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9+/]+=*$/);
    assert.notEqual(blockId('0123456789ab', 3), blockId('ba9876543210', 3));
    assert.equal(Buffer.from(blockId('0123456789ab', 7), 'base64').toString(), '0123456789ab-00007');
  });

  test('refuses indexes beyond the 50 000 blocks of a blob', () => {
    assert.throws(() => blockId('0123456789ab', 50_000), RangeError);
  });
});

describe('ProgressThrottle', () => {
  test('reports each 10% step once, in order, however the bytes arrive', () => {
    const throttle = new ProgressThrottle(1000);
    const reported = [5, 99, 100, 150, 420, 430, 999, 1000, 1000].map((sent) => throttle.update(sent));
    assert.deepEqual(reported, [undefined, undefined, 10, undefined, 40, undefined, 90, 100, undefined]);
  });

  test('reports about ten lines for a large upload in many blocks', () => {
    const throttle = new ProgressThrottle(300 * MIB);
    const lines = [];
    for (let sent = 8 * MIB; sent < 300 * MIB; sent += 8 * MIB) {
      const p = throttle.update(sent);
      if (p !== undefined) lines.push(p);
    }
    const last = throttle.update(300 * MIB);
    if (last !== undefined) lines.push(last);
    assert.deepEqual(lines, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  });

  test('never reports for an empty total', () => {
    assert.equal(new ProgressThrottle(0).update(0), undefined);
  });

  test('formats sizes and rates for log lines', () => {
    assert.equal(formatMiB(256 * MIB), '256.0 MiB');
    assert.equal(mibPerSecond(100 * MIB, 2000), 50);
    assert.equal(mibPerSecond(100 * MIB, 0), 0);
  });
});
