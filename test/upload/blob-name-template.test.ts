/** blobName's tokens: what each expands to, and what the parser refuses (with the accepted forms). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expandBlobName, parseBlobNameTemplate, type BlobNameTemplate } from '../../tasks/VvpUploadArtifact/VvpUploadArtifactV1/blob-name-template';

const SHA = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b';

function template(value: string): BlobNameTemplate {
  const parsed = parseBlobNameTemplate(value);
  if ('problem' in parsed) assert.fail(`'${value}' was refused: ${parsed.problem}`);
  return parsed.template;
}

describe('blobName tokens', () => {
  const expansions: [blobName: string, fileName: string, expected: string][] = [
    ['{name}-{sha256:12}{ext}', 'top-speed-windowing.jar', 'top-speed-windowing-1a2b3c4d5e6f.jar'],
    ['{name}{ext}', 'top-speed-windowing.jar', 'top-speed-windowing.jar'],
    ['jobs/{sha256}/{name}{ext}', 'job.jar', `jobs/${SHA}/job.jar`],
    ['{sha256:8}.jar', 'job.jar', '1a2b3c4d.jar'],
    ['{sha256:64}', 'job.jar', SHA],
    ['{name}-1.2{ext}', 'job.tar.gz', 'job.tar-1.2.gz'],
    ['{name}-{sha256:10}{ext}', 'LICENSE', 'LICENSE-1a2b3c4d5e'],
    ['{name}{ext}', '.hidden', '.hidden'],
    ['{ext}{ext}', 'job.jar', '.jar.jar'],
    ['plain-name.jar', 'job.jar', 'plain-name.jar'],
    ['app-42.jar', 'job.jar', 'app-42.jar'],
  ];
  for (const [blobName, fileName, expected] of expansions) {
    test(`'${blobName}' for ${fileName} names the blob ${expected}`, () => {
      assert.equal(expandBlobName(template(blobName), { fileName, sha256Hex: SHA }), expected);
    });
  }

  test('only names with a sha256 token need the file hashed before the blob is named', () => {
    assert.equal(template('{name}-{sha256:12}{ext}').needsSha256, true);
    assert.equal(template('{sha256}').needsSha256, true);
    assert.equal(template('{name}-$(Build.BuildId){ext}').needsSha256, false);
    assert.equal(template('job.jar').needsSha256, false);
  });

  test('a name without tokens is one text part, kept exactly as written', () => {
    const t = template('jobs/top speed+1#2.jar');
    assert.deepEqual(t.parts, [{ kind: 'text', text: 'jobs/top speed+1#2.jar' }]);
    assert.equal(t.source, 'jobs/top speed+1#2.jar');
  });

  test('the hash is written in lowercase whatever case it is given in', () => {
    assert.equal(expandBlobName(template('{sha256:8}'), { fileName: 'a.jar', sha256Hex: SHA.toUpperCase() }), '1a2b3c4d');
  });

  const refusals: [blobName: string, problem: RegExp][] = [
    ['{version}.jar', /^an unknown token in '\{version\}'/],
    ['{Name}{ext}', /^an unknown token in '\{Name\}'/],
    ['{sha-256}', /^an unknown token in '\{sha-256\}'/],
    ['{ name }', /^an unknown token in '\{ name \}'/],
    ['{}', /^an unknown token in '\{\}'/],
    ['{sha256:7}', /^N must be a whole number from 8 to 64 in '\{sha256:7\}'/],
    ['{sha256:65}', /^N must be a whole number from 8 to 64 in '\{sha256:65\}'/],
    ['{sha256:012}', /^N must be a whole number from 8 to 64 in '\{sha256:012\}'/],
    ['{sha256:}', /^an unknown token in '\{sha256:\}'/],
    ['{sha256:1e1}', /^an unknown token in '\{sha256:1e1\}'/],
    ['{name}-{sha256:12{ext}', /^has a '\{' without its '\}' at position 8/],
    ['job-{sha256:12', /^has a '\{' without its '\}' at position 5/],
    ['{name}}.jar', /^has a '\}' without its '\{' at position 7/],
  ];
  for (const [blobName, problem] of refusals) {
    test(`'${blobName}' is refused, naming the accepted tokens`, () => {
      const parsed = parseBlobNameTemplate(blobName);
      assert.ok('problem' in parsed, `'${blobName}' was accepted`);
      assert.match(parsed.problem, problem);
      assert.match(parsed.problem, /accepted are the tokens \{name\} .*\{ext\} .*\{sha256\} .*\{sha256:N\} \(its first N hex digits, N from 8 to 64\)/);
    });
  }

  test('expanding a sha256 name without the hash is a caller bug, not a blob named without it', () => {
    assert.throws(() => expandBlobName(template('{name}-{sha256:12}{ext}'), { fileName: 'job.jar' }), /needs the file's SHA-256/);
  });
});
