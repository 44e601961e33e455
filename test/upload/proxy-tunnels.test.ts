/**
 * The blob client behind the agent's proxy (the rig's CONNECT proxy, Azurite behind it): its
 * requests reuse the proxy tunnels instead of opening one per request (a CONNECT, a TLS
 * handshake and a fresh TLS context each time, which cost an upload on 2 cores about a tenth
 * of its speed).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StorageSharedKeyCredential } from '@azure/storage-blob';
import { openArtifactFile } from '../../tasks/common/blob/artifact-file';
import { BlobArtifactClient } from '../../tasks/common/blob/blob-artifact-client';
import { publishArtifact } from '../../tasks/common/blob/publish-artifact';
import { NetworkAgents, networkSettingsFromEnv } from '../../tasks/common/http/network';
import { MemoryLogger } from '../support/memory-logger';
import { rigProxyAgent } from '../rig/proxy-agent';
import { startRig, type Rig } from '../rig/rig';
import { tempDir, writeRandomFile } from './test-files';

const HOST = /^vvpstorage\.blob\.core\.windows\.net$/;

describe('BlobArtifactClient through the agent proxy', () => {
  let rig: Rig;
  let dir = '';
  before(async () => {
    rig = await startRig({ azurite: true });
    const az = rig.azurite!;
    const { BlobServiceClient } = await import('@azure/storage-blob');
    const service = new BlobServiceClient(az.blobEndpoint, new StorageSharedKeyCredential(az.accountName, az.accountKey), { agent: rigProxyAgent(rig) } as object);
    await service.getContainerClient('vvp').createIfNotExists();
    dir = tempDir('proxy-tunnels-');
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await rig?.stop();
  });

  test('reuses its tunnels: 12 blocks, 2 at a time, take a handful of CONNECTs, not one per request', async () => {
    const env = rig.env('env');
    const agents = new NetworkAgents({ ...networkSettingsFromEnv(env), caFile: env.NODE_EXTRA_CA_CERTS });
    const az = rig.azurite!;
    const url = 'https://vvpstorage.blob.core.windows.net';
    const client = new BlobArtifactClient(url, new StorageSharedKeyCredential(az.accountName, az.accountKey), {
      agent: agents.agentFor(url),
      blockSizeInBytes: 64 * 1024,
      concurrency: 2,
    });
    const file = path.join(dir, 'job.jar');
    writeRandomFile(file, 12 * 64 * 1024);
    const since = await rig.control.mark();
    const opened = await openArtifactFile(file);
    try {
      const result = await publishArtifact(client, { file: opened, target: { container: 'vvp', name: 'artifacts/namespaces/default/tunnels.jar' }, overwrite: 'always', contentType: 'x' }, { logger: new MemoryLogger() });
      assert.equal(result.uploaded, true);
    } finally {
      await opened.close();
      agents.destroy();
    }
    const records = await rig.control.requests({ since, host: HOST });
    const requests = records.filter((r) => r.scheme === 'https');
    const tunnels = records.filter((r) => r.scheme === 'connect');
    // HEAD, 12 x Put Block, Put Block List, Get Block List.
    assert.equal(requests.length, 15);
    // 2 for the blocks in flight, plus one after the HEAD (the rig's proxy closes the connection after a HEAD without Content-Length).
    assert.ok(tunnels.length <= 4, `${tunnels.length} CONNECTs for ${requests.length} requests`);
  });
});
