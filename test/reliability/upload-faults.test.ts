/**
 * VvpUploadArtifact@1, bundled, against Azurite behind the rig's proxy: connections reset while
 * blocks are staged (retried, then a verified commit), and resets beyond the retry budget (a
 * clear failure, and the blob already under the name stays as it was). The upload's echoed
 * token is tested in secret-hygiene.test.ts, SIGINT mid-upload in cancellation.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { rigProxyAgent } from '../rig/proxy-agent';
import type { RequestRecord } from '../rig/proxy/recorder';
import type { TaskRunResult } from '../rig/run-task';
import { explain, runUpload, scanBench, startBench, type Bench } from './bench';
import { DEFAULT_BLOCK_SIZE_IN_BYTES } from '../../tasks/common/blob/block-plan';

const MiB = 1024 * 1024;
const STORAGE_HOST = /^vvpstorage\.blob\.core\.windows\.net$/;
const BLOCK_PUT = /[?&]comp=block(&|$)/;
const COMMIT_PUT = /[?&]comp=blocklist(&|$)/;
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const blobPath = (name: string): string => `artifacts/namespaces/default/${name}`;
const blockIdOf = (r: RequestRecord): string => new URL(`https://x${r.path}`).searchParams.get('blockid') ?? '';

describe('VvpUploadArtifact@1 under network faults', () => {
  let bench: Bench;
  let container: ContainerClient;

  const upload = (blobName: string, content: Buffer): Promise<TaskRunResult> => runUpload(bench, blobName, content);

  before(async () => {
    bench = await startBench({ simulator: false, azurite: true });
    const az = bench.rig.azurite!;
    const service = new BlobServiceClient(az.blobEndpoint, new StorageSharedKeyCredential(az.accountName, az.accountKey), { agent: rigProxyAgent(bench.rig) } as object);
    container = service.getContainerClient('vvp');
    await container.createIfNotExists();
  });
  after(async () => {
    await bench?.stop();
  });

  it('retries blocks whose connection was reset (mid-body, after the headers) or refused with 503, then commits a verified blob', async () => {
    const content = randomBytes(2 * DEFAULT_BLOCK_SIZE_IN_BYTES + MiB); // three blocks
    const since = await bench.rig.control.mark();
    const { control } = bench.rig;
    await control.addFault({ host: STORAGE_HOST, method: 'PUT', path: BLOCK_PUT, count: 1, action: { kind: 'reset', phase: 'request', afterBytes: 64 * 1024 } });
    await control.addFault({ host: STORAGE_HOST, method: 'PUT', path: BLOCK_PUT, count: 1, action: { kind: 'reset', phase: 'request' } });
    await control.addFault({ host: STORAGE_HOST, method: 'PUT', path: BLOCK_PUT, count: 1, action: { kind: 'status', status: 503, headers: { 'x-ms-error-code': 'ServerBusy', 'content-type': 'application/xml' }, body: '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>busy</Message></Error>' } });
    let run: TaskRunResult;
    try {
      run = await upload('retried.jar', content);
    } finally {
      await control.clearFaults();
    }
    assert.equal(run.result, 'Succeeded', explain(run));
    assert.equal(run.outputs['sha256'], sha256(content));
    assert.equal(run.outputs['uploaded'], 'true');
    const blocks = (await control.requests({ since, host: STORAGE_HOST, method: 'PUT', path: BLOCK_PUT })).filter((r) => r.scheme === 'https');
    const faulted = blocks.filter((r) => r.fault);
    assert.equal(faulted.length, 3, 'three block tries were damaged');
    const ids = new Set(blocks.map(blockIdOf));
    assert.equal(ids.size, 3, 'three blocks');
    for (const id of ids) assert.ok(blocks.some((r) => blockIdOf(r) === id && r.status === 201), `block ${id} was staged in the end`);
    for (const f of faulted) assert.ok(blocks.some((r) => r.seq > f.seq && blockIdOf(r) === blockIdOf(f) && r.status === 201), 'a damaged block was tried again');
    const commits = await control.requests({ since, host: STORAGE_HOST, method: 'PUT', path: COMMIT_PUT });
    assert.deepEqual(commits.map((r) => r.status), [201], 'one commit');
    const verify = await control.requests({ since: commits[0]!.seq, host: STORAGE_HOST, method: 'GET', path: /[?&]comp=blocklist(&|$)/ });
    assert.ok(verify.some((r) => r.status === 200), 'the committed block list was read back');
    const blob = container.getBlockBlobClient(blobPath('retried.jar'));
    assert.equal(sha256(await blob.downloadToBuffer()), sha256(content));
    const props = await blob.getProperties();
    assert.equal(Buffer.from(props.contentMD5 ?? []).toString('base64'), createHash('md5').update(content).digest('base64'));
  });

  it('fails clearly once resets outlast the retry budget, leaving the previous blob intact and nothing committed', async () => {
    const previous = Buffer.from('PK previous build of the job');
    const first = await upload('kept.jar', previous);
    assert.equal(first.result, 'Succeeded', explain(first));
    const blob = container.getBlockBlobClient(blobPath('kept.jar'));
    const before = await blob.getProperties();
    const since = await bench.rig.control.mark();
    await bench.rig.control.addFault({ host: STORAGE_HOST, method: 'PUT', path: new RegExp(`kept\\.jar\\?.*comp=block(&|$)`), count: 0, action: { kind: 'reset', phase: 'request' } });
    let run: TaskRunResult;
    try {
      run = await upload('kept.jar', Buffer.from('PK the new build that never arrives'));
    } finally {
      await bench.rig.control.clearFaults();
    }
    assert.equal(run.result, 'Failed', explain(run));
    assert.match(run.message ?? '', /^Azure Blob Storage: staging the blocks of blob 'artifacts\/namespaces\/default\/kept\.jar' in container 'vvp' failed after 5 attempts: .*(ECONNRESET|socket hang up)/);
    assert.match(run.message ?? '', /Check that the agent can reach vvpstorage\.blob\.core\.windows\.net/);
    const tries = (await bench.rig.control.requests({ since, host: STORAGE_HOST, method: 'PUT', path: BLOCK_PUT })).filter((r) => r.scheme === 'https');
    assert.equal(tries.length, 5, 'five tries of the one block');
    assert.deepEqual(await bench.rig.control.requests({ since, host: STORAGE_HOST, method: 'PUT', path: COMMIT_PUT }), [], 'no block list was committed');
    const now = await blob.getProperties();
    assert.equal(now.etag, before.etag, 'the blob under the name is untouched');
    assert.equal(sha256(await blob.downloadToBuffer()), sha256(previous));
    const committed = await blob.getBlockList('committed');
    assert.equal(committed.committedBlocks?.length, 1);
  });

  it('printed no secret in any run', async () => {
    await scanBench(bench);
  });
});
