import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  artifactLocation,
  blobNameProblem,
  contentTypeFor,
} from '../../tasks/VvpUploadArtifact/VvpUploadArtifactV1/artifact-location';

describe('artifactLocation', () => {
  test('puts the blob under artifacts/namespaces/<namespace>/ in the public cloud by default', () => {
    assert.deepEqual(
      artifactLocation({
        storageAccount: 'vvpstorage',
        storageSuffix: 'core.windows.net',
        container: 'vvp',
        namespace: 'default',
        blobName: 'top-speed-windowing.jar',
      }),
      {
        accountUrl: 'https://vvpstorage.blob.core.windows.net',
        container: 'vvp',
        blobName: 'artifacts/namespaces/default/top-speed-windowing.jar',
        blobUrl: 'https://vvpstorage.blob.core.windows.net/vvp/artifacts/namespaces/default/top-speed-windowing.jar',
        jarUri: 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing.jar',
      },
    );
  });

  test('uses the sovereign cloud suffix of the connection', () => {
    const location = artifactLocation({
      storageAccount: 'vvpstorage',
      storageSuffix: 'core.chinacloudapi.cn',
      container: 'vvp',
      namespace: 'team-a',
      blobName: 'job.jar',
    });
    assert.equal(location.blobUrl, 'https://vvpstorage.blob.core.chinacloudapi.cn/vvp/artifacts/namespaces/team-a/job.jar');
    assert.equal(location.jarUri, 'wasbs://vvp@vvpstorage.blob.core.chinacloudapi.cn/artifacts/namespaces/team-a/job.jar');
  });

  test('uses the host of blobEndpoint for blobUrl and jarUri', () => {
    const location = artifactLocation({
      storageAccount: 'vvpstorage',
      storageSuffix: 'core.windows.net',
      blobEndpoint: 'https://vvpstorage.privatelink.blob.core.windows.net/',
      container: 'vvp',
      namespace: 'default',
      blobName: 'job.jar',
    });
    assert.equal(location.accountUrl, 'https://vvpstorage.privatelink.blob.core.windows.net');
    assert.equal(location.blobUrl, 'https://vvpstorage.privatelink.blob.core.windows.net/vvp/artifacts/namespaces/default/job.jar');
    assert.equal(location.jarUri, 'wasbs://vvp@vvpstorage.privatelink.blob.core.windows.net/artifacts/namespaces/default/job.jar');
  });

  test('keeps the port of a custom endpoint and a path-style account prefix in the blob URL', () => {
    const location = artifactLocation({
      storageAccount: 'devstoreaccount1',
      storageSuffix: 'core.windows.net',
      blobEndpoint: 'http://127.0.0.1:10000/devstoreaccount1',
      container: 'vvp',
      namespace: 'default',
      blobName: 'job.jar',
    });
    assert.equal(location.blobUrl, 'http://127.0.0.1:10000/devstoreaccount1/vvp/artifacts/namespaces/default/job.jar');
    assert.equal(location.jarUri, 'wasbs://vvp@127.0.0.1:10000/artifacts/namespaces/default/job.jar');
  });

  test('percent-encodes each path segment but keeps the folder slashes', () => {
    const location = artifactLocation({
      storageAccount: 'vvpstorage',
      storageSuffix: 'core.windows.net',
      container: 'vvp',
      namespace: 'default',
      blobName: 'jobs/my job+1#2?.jar',
    });
    assert.equal(location.blobName, 'artifacts/namespaces/default/jobs/my job+1#2?.jar');
    assert.equal(location.blobUrl, 'https://vvpstorage.blob.core.windows.net/vvp/artifacts/namespaces/default/jobs/my%20job%2B1%232%3F.jar');
    assert.equal(location.jarUri, 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/jobs/my%20job%2B1%232%3F.jar');
  });
});

describe('blobNameProblem', () => {
  const cases: [string, boolean][] = [
    ['job.jar', true],
    ['jobs/2024/job-1.0.0.jar', true],
    ['my job (final).jar', true],
    ['', false],
    ['/job.jar', false],
    ['jobs/', false],
    ['jobs//job.jar', false],
    ['../job.jar', false],
    ['jobs/../../secrets.jar', false],
    ['./job.jar', false],
    ['jobs\\job.jar', false],
    ['job\u0000.jar', false],
    ['job\n.jar', false],
    ['job\u007f.jar', false],
    ['a/'.repeat(251) + 'x', false],
    ['a/'.repeat(250) + 'x', true],
  ];
  for (const [name, ok] of cases) {
    test(`'${JSON.stringify(name).slice(1, 40)}' is ${ok ? 'accepted' : 'rejected'}`, () => {
      assert.equal(blobNameProblem(name, 'default') === undefined, ok, blobNameProblem(name, 'default'));
    });
  }
});

describe('contentTypeFor', () => {
  test('marks JARs as application/java-archive and anything else as octet-stream', () => {
    assert.equal(contentTypeFor('job.jar'), 'application/java-archive');
    assert.equal(contentTypeFor('JOB.JAR'), 'application/java-archive');
    assert.equal(contentTypeFor('job.zip'), 'application/octet-stream');
  });
});
