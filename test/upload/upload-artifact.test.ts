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
import { tlsFiles } from '../rig/tls-files';
import { MemoryLogger } from '../support/memory-logger';
import { parseUploadInputs } from '../../tasks/VvpUploadArtifact/VvpUploadArtifactV1/inputs';
import { uploadArtifact, type UploadDependencies } from '../../tasks/VvpUploadArtifact/VvpUploadArtifactV1/upload-artifact';
import { startAzuriteFixture, type AzuriteFixture } from './azurite-fixture';
import { sha256OfBuffer, sha256OfFile, tempDir, writeRandomFile } from './test-files';
import { otherUser, uploadAsOtherUser } from './upload-as-other-user';

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
    assert.match(outcome.message, /^Uploaded top-speed-1\.0\.jar \(0\.3 MiB\) in .*verified: the committed block list is exactly the 1 block\(s\) sent \(ids and sizes\)/);
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

  test('a content-hash blobName uploads under the hashed name, and a second run with the same file skips it', async () => {
    const jar = path.join(workDir, 'job/target/top-speed-1.0.jar');
    const sha = await sha256OfFile(jar);
    const hashed = `artifacts/namespaces/hashed/top-speed-1.0-${sha.slice(0, 12)}.jar`;
    const logger = new MemoryLogger();
    const first = await uploadArtifact(inputs({ namespace: 'hashed', blobName: '{name}-{sha256:12}{ext}' }), deps(logger));
    assert.equal(first.outputs.uploaded, 'true');
    assert.equal(first.outputs.jarUri, `wasbs://vvp@${new URL(azurite.accountUrl).host}/${hashed}`);
    assert.equal(first.outputs.sha256, sha);
    assert.deepEqual(await blobsUnder('artifacts/namespaces/hashed/'), [hashed]);
    const blob = azurite.service.getContainerClient('vvp').getBlockBlobClient(hashed);
    assert.equal(sha256OfBuffer(await blob.downloadToBuffer()), sha);
    const etag = (await blob.getProperties()).etag;
    // The hash is printed once, where the name needs it, before the upload group.
    assert.deepEqual(logger.lines.filter((l) => l.includes(sha)), [logger.lines.find((l) => l.startsWith(`SHA-256: ${sha} (hashed for the blob name in `))]);
    assert.ok(logger.lines.findIndex((l) => l.startsWith('SHA-256: ')) < logger.lines.indexOf('group: Upload to Blob Storage'));

    const again = await uploadArtifact(inputs({ namespace: 'hashed', blobName: '{name}-{sha256:12}{ext}' }), deps());
    assert.equal(again.outputs.uploaded, 'false');
    assert.equal(again.outputs.jarUri, first.outputs.jarUri);
    assert.match(again.message, /^Skipped top-speed-1\.0\.jar .*already has identical content/);
    assert.equal((await blob.getProperties()).etag, etag, 'the blob was not written again');
    assert.deepEqual(await blobsUnder('artifacts/namespaces/hashed/'), [hashed]);
  });

  test('a build-numbered blobName is taken as written, without hashing the file first', async () => {
    const logger = new MemoryLogger();
    const outcome = await uploadArtifact(inputs({ namespace: 'numbered', blobName: '{name}-20250101.7{ext}' }), deps(logger));
    assert.match(outcome.outputs.blobUrl, /\/artifacts\/namespaces\/numbered\/top-speed-1\.0-20250101\.7\.jar$/);
    assert.ok(!logger.lines.some((l) => l.includes('hashed for the blob name')), logger.lines.join('\n'));
  });

  test('a blobName whose tokens make an invalid name for this file fails before any upload', async () => {
    const odd = path.join(workDir, 'odd-token');
    fs.mkdirSync(odd);
    fs.writeFileSync(path.join(odd, 'back\\slash.jar'), 'x');
    try {
      await assert.rejects(
        uploadArtifact(inputs({ artifactPath: 'odd-token/*.jar', blobName: 'tokens/{name}{ext}' }), deps()),
        /input 'blobName' 'tokens\/back\\slash\.jar': \(made from blobName 'tokens\/\{name\}\{ext\}' for back\\slash\.jar\) must not contain a backslash.*change blobName/,
      );
      assert.deepEqual(await blobsUnder('artifacts/namespaces/default/tokens/'), []);
    } finally {
      fs.rmSync(odd, { recursive: true, force: true });
    }
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

  const blobsUnder = async (prefix: string): Promise<string[]> => {
    const names: string[] = [];
    for await (const item of azurite.service.getContainerClient('vvp').listBlobsFlat({ prefix })) names.push(item.name);
    return names;
  };

  test('a match that is a symbolic link out of the working directory is refused before any upload', async () => {
    const outside = tempDir('outside-');
    fs.writeFileSync(path.join(outside, 'credentials.jar'), 'not build output');
    fs.mkdirSync(path.join(workDir, 'linked/target'), { recursive: true });
    fs.symlinkSync(path.join(outside, 'credentials.jar'), path.join(workDir, 'linked/target/job.jar'));
    // A folder link leading out counts as well.
    fs.symlinkSync(outside, path.join(workDir, 'linked/elsewhere'));
    try {
      for (const artifactPath of ['linked/target/*.jar', 'linked/elsewhere/*.jar']) {
        await assert.rejects(uploadArtifact(inputs({ artifactPath, blobName: 'escaped.jar' }), deps()), (error: unknown) => {
          assert.ok(error instanceof InputError);
          assert.match(error.message, /^Invalid input 'artifactPath' '[^']+': matched linked\/\S+\.jar, which a symbolic link leads to \S+credentials\.jar, outside \S+ \(System\.DefaultWorkingDirectory\)\. Only files inside the working directory are uploaded/);
          return true;
        });
      }
      assert.deepEqual(await blobsUnder('artifacts/namespaces/default/escaped'), []);
    } finally {
      fs.rmSync(path.join(workDir, 'linked'), { recursive: true, force: true });
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  test('a symbolic link that stays inside the working directory is uploaded under the name of the link', async () => {
    fs.mkdirSync(path.join(workDir, 'alias'), { recursive: true });
    fs.symlinkSync(path.join(workDir, 'job/target/top-speed-1.0.jar'), path.join(workDir, 'alias/current.jar'));
    try {
      const outcome = await uploadArtifact(inputs({ artifactPath: 'alias/*.jar', overwrite: 'always' }), deps());
      assert.match(outcome.outputs.blobUrl, /\/artifacts\/namespaces\/default\/current\.jar$/);
      assert.equal(outcome.outputs.sha256, await sha256OfFile(path.join(workDir, 'job/target/top-speed-1.0.jar')));
    } finally {
      fs.rmSync(path.join(workDir, 'alias'), { recursive: true, force: true });
    }
  });

  test('an empty file is refused with a clear message before any storage call', async () => {
    fs.mkdirSync(path.join(workDir, 'empty/target'), { recursive: true });
    fs.writeFileSync(path.join(workDir, 'empty/target/job.jar'), '');
    const logger = new MemoryLogger();
    await assert.rejects(uploadArtifact(inputs({ artifactPath: 'empty/target/*.jar', blobName: 'empty.jar' }), deps(logger)), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.message, /^The artifact \S+empty\/target\/job\.jar is empty \(0 bytes\), so it was not uploaded/);
      return true;
    });
    assert.ok(!logger.lines.includes('group: Upload to Blob Storage'), 'it never got to the upload');
    assert.deepEqual(await blobsUnder('artifacts/namespaces/default/empty'), []);
  });

  test('a file the agent may not read fails with a clear message, and nothing is uploaded', async () => {
    const dir = tempDir('unreadable-');
    // The other user (nobody, when this runs as root) must reach the folder but not the file.
    fs.chmodSync(dir, 0o755);
    fs.mkdirSync(path.join(dir, 'target'), { mode: 0o755 });
    const secret = path.join(dir, 'target', 'job.jar');
    fs.writeFileSync(secret, 'PK built by another user');
    fs.chmodSync(secret, 0o000);
    const home = path.join(dir, 'home');
    fs.mkdirSync(home, { mode: 0o777 });
    fs.chmodSync(home, 0o777);
    try {
      const result = await uploadAsOtherUser({
        workDir: dir,
        artifactPath: 'target/*.jar',
        accountUrl: azurite.accountUrl,
        accountName: azurite.accountName,
        accountKey: azurite.accountKey,
        caFile: tlsFiles().caCert,
      }, home);
      assert.equal(result.ok, false, `ran as ${JSON.stringify(otherUser() ?? 'this user')}: ${result.message}`);
      assert.equal(result.ok === false && result.name, InputError.name);
      assert.match(result.message, /^Cannot read the artifact \S+target\/job\.jar \(EACCES\): permission denied: the agent's user may not read it\. Check the file's permissions .* Nothing was uploaded$/);
      assert.deepEqual(await blobsUnder('artifacts/namespaces/default/job.jar'), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
