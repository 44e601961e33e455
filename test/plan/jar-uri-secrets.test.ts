import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jarUriSecrets, maskJarUriQuery } from '../../tasks/common/vvp/jar-uri-secrets';

const WASBS = 'wasbs://vvp@store.blob.core.windows.net/artifacts/namespaces/default/app.jar';
const SIG = 'Zm9vYmFyYmF6cXV4%2Bc2VjcmV0%3D';
const SAS_URL = `https://store.blob.core.windows.net/vvp/app.jar?sv=2022-11-02&sr=b&sp=r&se=2030-01-01T00%3A00%3A00Z&sig=${SIG}&commit=abc123`;

describe('maskJarUriQuery', () => {
  const rows: { name: string; uri: string; masked: string }[] = [
    { name: 'keeps a wasbs jarUri with only ?commit= as it is', uri: `${WASBS}?commit=abc123`, masked: `${WASBS}?commit=abc123` },
    { name: 'keeps a jarUri without a query', uri: WASBS, masked: WASBS },
    {
      name: 'masks every SAS value and keeps the keys, their order and commit',
      uri: SAS_URL,
      masked: 'https://store.blob.core.windows.net/vvp/app.jar?sv=***&sr=***&sp=***&se=***&sig=***&commit=abc123',
    },
    { name: 'masks a presigned S3 signature', uri: 's3://bucket/app.jar?X-Amz-Credential=AKIA1234&X-Amz-Signature=deadbeef', masked: 's3://bucket/app.jar?X-Amz-Credential=***&X-Amz-Signature=***' },
    { name: 'recognises an encoded commit key', uri: `${WASBS}?%63ommit=abc&token=t0ps3cret`, masked: `${WASBS}?%63ommit=abc&token=***` },
    { name: 'masks a parameter that only starts with commit', uri: `${WASBS}?commitToken=t0ps3cret`, masked: `${WASBS}?commitToken=***` },
    { name: 'keeps a parameter without a value and an empty value', uri: `${WASBS}?flag&empty=&commit=c`, masked: `${WASBS}?flag&empty=&commit=c` },
    { name: 'keeps the fragment', uri: `${WASBS}?sig=abcdef#part`, masked: `${WASBS}?sig=***#part` },
    { name: 'masks a password in the user info', uri: 'https://deploy:p4ssw0rd@repo.example.com/app.jar?commit=c', masked: 'https://deploy:***@repo.example.com/app.jar?commit=c' },
    { name: 'keeps the wasbs container in the user info (it is no secret)', uri: `${WASBS}?sig=abcdef`, masked: `${WASBS}?sig=***` },
  ];
  for (const row of rows) {
    it(row.name, () => assert.equal(maskJarUriQuery(row.uri), row.masked));
  }

  it('is idempotent', () => {
    assert.equal(maskJarUriQuery(maskJarUriQuery(SAS_URL)), maskJarUriQuery(SAS_URL));
  });
});

describe('jarUriSecrets', () => {
  it('returns the SAS signature as written and decoded, not the public SAS fields or commit', () => {
    assert.deepEqual(jarUriSecrets(SAS_URL), [SIG, decodeURIComponent(SIG)]);
  });

  it('returns nothing for a jarUri with only ?commit=', () => {
    assert.deepEqual(jarUriSecrets(`${WASBS}?commit=abc123def456`), []);
  });

  it('returns unknown query values (a presigned URL) and a user-info password', () => {
    assert.deepEqual(jarUriSecrets('https://deploy:p4ssw0rd@repo.example.com/app.jar?X-Amz-Signature=deadbeef01&X-Amz-Expires=3600'), ['deadbeef01', 'p4ssw0rd']);
  });

  it('leaves out values too short to be a credential, which would garble every log line if masked', () => {
    assert.deepEqual(jarUriSecrets(`${WASBS}?v=2&mode=r&sig=abcdefgh`), ['abcdefgh']);
  });

  it('masks in display what it registers', () => {
    const masked = maskJarUriQuery(SAS_URL);
    for (const secret of jarUriSecrets(SAS_URL)) assert.equal(masked.includes(secret), false);
  });
});
