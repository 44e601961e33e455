import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decideOverwrite,
  decideWithoutHashes,
  type ExistingContent,
  type LocalContent,
  type OverwriteDecision,
  type OverwriteMode,
} from '../../tasks/common/blob/overwrite-policy';

const FILE: LocalContent = { sizeInBytes: 1000, sha256Hex: 'aa'.repeat(32), md5Base64: 'md5-of-file==' };

const BLOBS: Record<string, ExistingContent | undefined> = {
  absent: undefined,
  'same sha256 and md5': { sizeInBytes: 1000, sha256Hex: 'aa'.repeat(32), md5Base64: 'md5-of-file==' },
  'same sha256 (uppercase), no md5': { sizeInBytes: 1000, sha256Hex: 'AA'.repeat(32) },
  'same md5, no sha256 metadata': { sizeInBytes: 1000, md5Base64: 'md5-of-file==' },
  'other sha256': { sizeInBytes: 1000, sha256Hex: 'bb'.repeat(32), md5Base64: 'md5-of-file==' },
  'stale sha256, other md5': { sizeInBytes: 1000, sha256Hex: 'aa'.repeat(32), md5Base64: 'other==' },
  'other md5, no sha256': { sizeInBytes: 1000, md5Base64: 'other==' },
  'same hashes, other size': { sizeInBytes: 999, sha256Hex: 'aa'.repeat(32), md5Base64: 'md5-of-file==' },
  'no hash at all, same size': { sizeInBytes: 1000 },
};

const upload = (reason: 'absent' | 'changed' | 'unverifiable' | 'always'): OverwriteDecision => ({ action: 'upload', reason });
const skip: OverwriteDecision = { action: 'skip', reason: 'identical' };
const fail = (reason: 'different' | 'unverifiable'): OverwriteDecision => ({ action: 'fail', reason });

// blob state → [ifChanged, never, always]
const TABLE: Record<string, [OverwriteDecision, OverwriteDecision, OverwriteDecision]> = {
  absent: [upload('absent'), upload('absent'), upload('absent')],
  'same sha256 and md5': [skip, skip, upload('always')],
  'same sha256 (uppercase), no md5': [skip, skip, upload('always')],
  'same md5, no sha256 metadata': [skip, skip, upload('always')],
  'other sha256': [upload('changed'), fail('different'), upload('always')],
  'stale sha256, other md5': [upload('changed'), fail('different'), upload('always')],
  'other md5, no sha256': [upload('changed'), fail('different'), upload('always')],
  'same hashes, other size': [upload('changed'), fail('different'), upload('always')],
  'no hash at all, same size': [upload('unverifiable'), fail('unverifiable'), upload('always')],
};

describe('decideOverwrite', () => {
  const modes: OverwriteMode[] = ['ifChanged', 'never', 'always'];
  for (const [blob, expected] of Object.entries(TABLE)) {
    modes.forEach((mode, i) => {
      test(`${mode} with blob '${blob}' → ${expected[i].action} (${expected[i].reason})`, () => {
        assert.deepEqual(decideOverwrite(mode, FILE, BLOBS[blob]), expected[i]);
      });
    });
  }
});

describe('decideWithoutHashes', () => {
  const modes: OverwriteMode[] = ['ifChanged', 'never', 'always'];
  for (const [blob, expected] of Object.entries(TABLE)) {
    modes.forEach((mode, i) => {
      const existing = BLOBS[blob];
      const needsHashes = existing !== undefined && mode !== 'always' && existing.sizeInBytes === FILE.sizeInBytes;
      test(`${mode} with blob '${blob}' → ${needsHashes ? 'needs the file hashed' : `${expected[i].action}, as decideOverwrite`}`, () => {
        // Whenever it decides, it decides as decideOverwrite does with the hashes known.
        assert.deepEqual(decideWithoutHashes(mode, FILE.sizeInBytes, existing), needsHashes ? undefined : expected[i]);
      });
    });
  }
});
