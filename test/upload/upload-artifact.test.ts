/**
 * VvpUploadArtifact@1's flow after input parsing (find the file, name the blob, upload, outputs)
 * against Azurite, with task-lib's real findMatch and a custom blobEndpoint.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findMatch } from 'azure-pipelines-task-lib/task';
import { BlockBlobClient } from '@azure/storage-blob';
import { InputError } from '../../tasks/common/errors/errors';
import { MemoryLogger } from '../../tasks/common/logging/logger';
import { parseUploadInputs } from '../../tasks/VvpUploadArtifact/VvpUploadArtifactV1/inputs';
import { uploadArtifact, type UploadDependencies } from '../../tasks/VvpUploadArtifact/VvpUploadArtifactV1/upload-artifact';
import { startAzuriteFixture, type AzuriteFixture } from './azurite-fixture';
import { sha256OfFile, tempDir, writeRandomFile } from './test-files';

describe('uploadArtifact (task flow) against Azurite', () => {
  let azurite: AzuriteFixture;
  let workDir = '';

  before(async () => {
    azurite = await startAzuriteFixture();
    await azurite.service.getContainerClient('vvp').create();
    workDir = tempDir('upload-task-');
    fs.mkdirSync(path.join(workDir, 'job/target'), { recursive: true });
    writeRandomFile(path.join(workDir, 'job/target/top-speed-1.0.jar'), 300_000);
    fs.writeFileSync(path.join(workDir, 'job/target/original-top-speed-1.0.jar'), 'shaded input');
  });
  after(async () => {
    fs.rmSync(workDir, { recursive: true, force: true });
    await azurite?.stop();
  });

  const inputs = (overrides: Record<string, string>) => {
    const all: Record<string, string> = {
      azureSubscription: 'arm',
      storageAccount: 'vvpstorage',
      containerName: 'vvp',
      artifactPath: 'job/target/*.jar\n!**/original-*.jar',
      blobEndpoint: azurite.accountUrl,
      ...overrides,
    };
    return parseUploadInputs(
      (name) => all[name],
      (name) => ({ 'System.DefaultWorkingDirectory': workDir, 'Build.SourceVersion': 'c0ffee' })[name],
    );
  };
  const deps = (logger = new MemoryLogger()): UploadDependencies => ({
    credential: azurite.credential,
    storageSuffix: 'core.windows.net',
    agentFor: () => azurite.agent,
    findFiles: (root, patterns) => findMatch(root, patterns),
    logger,
  });

  test('uploads the one matching JAR under artifacts/namespaces/<ns>/ and sets all four outputs', async () => {
    const logger = new MemoryLogger();
    const outcome = await uploadArtifact(inputs({ namespace: 'team-a' }), deps(logger));
    const sha = await sha256OfFile(path.join(workDir, 'job/target/top-speed-1.0.jar'));
    const host = new URL(azurite.accountUrl).host;
    assert.deepEqual(outcome.outputs, {
      jarUri: `wasbs://vvp@${host}/artifacts/namespaces/team-a/top-speed-1.0.jar`,
      blobUrl: `${azurite.accountUrl}/vvp/artifacts/namespaces/team-a/top-speed-1.0.jar`,
      sha256: sha,
      uploaded: 'true',
    });
    assert.match(outcome.message, /^Uploaded top-speed-1\.0\.jar \(0\.3 MiB\) in .*verified length and Content-MD5/);
    const props = await new BlockBlobClient(outcome.outputs.blobUrl, azurite.credential, { agent: azurite.agent } as object).getProperties();
    assert.equal(props.contentType, 'application/java-archive');
    assert.deepEqual(props.metadata, { sha256: sha, commit: 'c0ffee' });
    assert.ok(logger.lines.includes('group: Find the artifact'));
    assert.ok(logger.lines.includes('group: Upload to Blob Storage'));

    const again = await uploadArtifact(inputs({ namespace: 'team-a' }), deps());
    assert.equal(again.outputs.uploaded, 'false');
    assert.equal(again.outputs.sha256, sha);
    assert.match(again.message, /^Skipped top-speed-1\.0\.jar .*identical content/);
  });

  test('stores under blobName with special characters, and blobUrl addresses exactly that blob', async () => {
    const outcome = await uploadArtifact(inputs({ blobName: 'jobs/top speed+1#2.jar', overwrite: 'always' }), deps());
    assert.match(outcome.outputs.blobUrl, /\/vvp\/artifacts\/namespaces\/default\/jobs\/top%20speed%2B1%232\.jar$/);
    const names: string[] = [];
    for await (const item of azurite.service.getContainerClient('vvp').listBlobsFlat({ prefix: 'artifacts/namespaces/default/jobs/' })) names.push(item.name);
    assert.deepEqual(names, ['artifacts/namespaces/default/jobs/top speed+1#2.jar']);
    const byUrl = new BlockBlobClient(outcome.outputs.blobUrl, azurite.credential, { agent: azurite.agent } as object);
    assert.equal((await byUrl.getProperties()).metadata?.sha256, outcome.outputs.sha256);
  });

  test('an ambiguous pattern fails before any upload, listing what it matched', async () => {
    await assert.rejects(uploadArtifact(inputs({ artifactPath: '**/*.jar', blobName: 'ambiguous.jar' }), deps()), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.message, /matched 2: job\/target\/original-top-speed-1\.0\.jar, job\/target\/top-speed-1\.0\.jar/);
      return true;
    });
    await assert.rejects(uploadArtifact(inputs({ artifactPath: '**/*.war' }), deps()), /matched no file/);
    const names: string[] = [];
    for await (const item of azurite.service.getContainerClient('vvp').listBlobsFlat({ prefix: 'artifacts/namespaces/default/ambiguous' })) names.push(item.name);
    assert.deepEqual(names, []);
  });

  test('a file name that cannot be a blob name asks for an explicit blobName', async () => {
    const odd = path.join(workDir, 'odd');
    fs.mkdirSync(odd);
    fs.writeFileSync(path.join(odd, 'back\\slash.jar'), 'x');
    await assert.rejects(uploadArtifact(inputs({ artifactPath: 'odd/*.jar' }), deps()), /input 'blobName' 'back\\slash\.jar': \(taken from the file's name\) must not contain a backslash.*set blobName explicitly/);
  });
});
