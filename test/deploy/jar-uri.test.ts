import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAbsoluteUri, withCommit } from '../../tasks/common/vvp/jar-uri';

const BASE = 'wasbs://vvp@store.blob.core.windows.net/artifacts/namespaces/default/app.jar';

describe('withCommit', () => {
  const table: { name: string; uri: string; commit: string | undefined; expected: string }[] = [
    { name: 'appends ?commit= to a URI without query', uri: BASE, commit: 'abc123', expected: `${BASE}?commit=abc123` },
    { name: 'replaces an existing commit parameter', uri: `${BASE}?commit=old`, commit: 'new', expected: `${BASE}?commit=new` },
    { name: 'keeps other parameters and their order', uri: `${BASE}?a=1&commit=old&b=2`, commit: 'new', expected: `${BASE}?a=1&b=2&commit=new` },
    { name: 'removes every duplicate commit parameter', uri: `${BASE}?commit=x&commit=y`, commit: 'z', expected: `${BASE}?commit=z` },
    { name: 'adds to an existing unrelated query', uri: `${BASE}?sv=2024&sig=abc%3D`, commit: 'c1', expected: `${BASE}?sv=2024&sig=abc%3D&commit=c1` },
    { name: 'recognises an encoded commit key', uri: `${BASE}?%63ommit=old`, commit: 'c1', expected: `${BASE}?commit=c1` },
    { name: 'keeps a parameter that only starts with commit', uri: `${BASE}?commitish=1`, commit: 'c1', expected: `${BASE}?commitish=1&commit=c1` },
    { name: 'keeps the fragment at the end', uri: `${BASE}#frag`, commit: 'c1', expected: `${BASE}?commit=c1#frag` },
    { name: 'handles an empty query', uri: `${BASE}?`, commit: 'c1', expected: `${BASE}?commit=c1` },
    { name: 'handles a valueless commit parameter', uri: `${BASE}?commit`, commit: 'c1', expected: `${BASE}?commit=c1` },
    { name: 'leaves the URI unchanged for an empty commit id', uri: `${BASE}?commit=old`, commit: '', expected: `${BASE}?commit=old` },
    { name: 'leaves the URI unchanged for a blank commit id', uri: BASE, commit: '   ', expected: BASE },
    { name: 'leaves the URI unchanged without a commit id', uri: BASE, commit: undefined, expected: BASE },
    { name: 'encodes unusual characters of the commit id', uri: BASE, commit: 'a b&c', expected: `${BASE}?commit=a%20b%26c` },
    { name: 'works for https URIs', uri: 'https://repo.example.com/app.jar', commit: 'c1', expected: 'https://repo.example.com/app.jar?commit=c1' },
  ];
  for (const row of table) {
    it(row.name, () => assert.equal(withCommit(row.uri, row.commit), row.expected));
  }

  it('is idempotent: applying the same commit twice gives the same URI', () => {
    const once = withCommit(`${BASE}?x=1`, 'c1');
    assert.equal(withCommit(once, 'c1'), once);
  });
});

describe('isAbsoluteUri', () => {
  for (const ok of [BASE, 'https://a.example/x.jar', 'file:///flink/usrlib/app.jar', 's3://bucket/app.jar', 'wiaz://c@a.blob.core.windows.net/x.jar']) {
    it(`accepts ${ok}`, () => assert.equal(isAbsoluteUri(ok), true));
  }
  for (const bad of ['', 'app.jar', '/tmp/app.jar', 'JARURI', 'wasbs://x/ with space.jar', '://nothing']) {
    it(`rejects '${bad}'`, () => assert.equal(isAbsoluteUri(bad), false));
  }
});
