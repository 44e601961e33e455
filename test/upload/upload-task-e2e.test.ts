/**
 * End-to-end runs of the bundled VvpUploadArtifact@1, as the agent runs it, through the offline
 * rig: TLS-terminating proxy, Entra ID / pipeline OIDC fakes, and Azurite behind
 * `vvpstorage.blob.core.windows.net`.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { RIG_DEFAULTS as D } from '../rig/config';
import { rigProxyAgent } from '../rig/proxy-agent';
import { startRig, type Rig } from '../rig/rig';
import { runTask, type RunTaskOptions, type TaskRunResult } from '../rig/run-task';
import { assertNoSecretLeak } from '../rig/secret-scan';
import { azureRmEndpoint, type ServiceEndpoint } from '../rig/service-endpoints';
import { readPem } from '../rig/tls-files';
import { bundledTaskDir } from '../rig/bundles';

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const JAR = Buffer.from('PK\u0003\u0004 top-speed-windowing job bytes');
const BLOB = 'artifacts/namespaces/default/top-speed-windowing.jar';
const JAR_URI = `wasbs://vvp@vvpstorage.blob.core.windows.net/${BLOB}`;

describe('VvpUploadArtifact@1 bundled task, end to end through the rig', () => {
  let rig: Rig;
  let taskDir: string;
  let container: ContainerClient;
  const runs: TaskRunResult[] = [];
  const secretEndpoint = (): ServiceEndpoint => azureRmEndpoint({ scheme: 'ServicePrincipal' });

  const run = async (
    options: { inputs?: RunTaskOptions['inputs']; endpoint?: ServiceEndpoint; files?: RunTaskOptions['files'] } & Omit<RunTaskOptions, 'taskDir' | 'inputs' | 'endpoints' | 'files'>,
  ): Promise<TaskRunResult> => {
    const endpoint = options.endpoint ?? secretEndpoint();
    const result = await runTask({
      timeoutMs: 30_000,
      env: rig.env('env'),
      ...options,
      taskDir,
      endpoints: [endpoint],
      files: options.files ?? { 'flink-job/target/top-speed-windowing.jar': JAR, 'flink-job/target/original-top-speed-windowing.jar': 'unshaded' },
      inputs: {
        azureSubscription: endpoint.id,
        storageAccount: D.storageAccount,
        containerName: 'vvp',
        artifactPath: '**/target/*.jar\n!**/original-*.jar',
        ...options.inputs,
      },
    });
    runs.push(result);
    return result;
  };
  /** The run summary's table rows, label → value. */
  const summaryRows = (r: TaskRunResult): Record<string, string> => {
    assert.equal(r.summaries.length, 1, explain(r));
    return Object.fromEntries([...r.summaries[0].matchAll(/^\| (\S[^|]*?) \| (.*) \|$/gm)].map((m) => [m[1], m[2]]));
  };
  /** The name the agent gives the summary section: the attached file's name. */
  const summaryNames = (r: TaskRunResult): string[] =>
    r.stdout.split(/\r?\n/).flatMap((l) => (/##vso\[task\.uploadsummary\](.*)$/.exec(l)?.slice(1) ?? [])).map((f) => path.basename(f));
  /** How many log lines (logging commands aside) contain `value`. */
  const linesWith = (r: TaskRunResult, value: string): string[] => r.logs.filter((l) => l.includes(value));
  /** Plain log lines outside any ##[group] … ##[endgroup]. */
  const ungrouped = (r: TaskRunResult): string[] => {
    let open = false;
    return r.logs.filter((l) => {
      if (l.startsWith('##[group]')) open = true;
      else if (l.startsWith('##[endgroup]')) open = false;
      else return !open;
      return false;
    });
  };
  const explain = (r: TaskRunResult): string => `${r.result}: ${r.message}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`;

  before(async () => {
    taskDir = bundledTaskDir('VvpUploadArtifact');
    rig = await startRig({ azurite: true });
    const az = rig.azurite!;
    const service = new BlobServiceClient(az.blobEndpoint, new StorageSharedKeyCredential(az.accountName, az.accountKey), {
      agent: rigProxyAgent(rig),
    } as object);
    container = service.getContainerClient('vvp');
    await container.createIfNotExists();
  });
  after(async () => {
    await rig?.stop();
  });

  test('uploads the one JAR a service-principal secret may write, sets the four outputs and reports the upload', async () => {
    const r = await run({ variables: { 'Build.SourceVersion': 'feedface', 'Build.BuildNumber': '20250101.7' } });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.deepEqual(r.outputs, {
      jarUri: JAR_URI,
      blobUrl: `https://vvpstorage.blob.core.windows.net/vvp/${BLOB}`,
      sha256: sha256(JAR),
      uploaded: 'true',
    });
    assert.match(r.message ?? '', /^Uploaded top-speed-windowing\.jar .*verified: the committed block list is exactly the 1 block\(s\) sent \(ids and sizes\); SHA-256 [0-9a-f]{64}$/);
    const blob = container.getBlockBlobClient(BLOB);
    assert.equal(sha256(await blob.downloadToBuffer()), sha256(JAR));
    const props = await blob.getProperties();
    assert.equal(props.contentType, 'application/java-archive');
    assert.deepEqual(props.metadata, { sha256: sha256(JAR), commit: 'feedface' });
    const tokens = await rig.control.tokens();
    assert.ok(tokens.some((t) => t.clientId === D.clientId && t.audience === 'https://storage.azure.com'), 'the blob calls used a storage token');

    assert.deepEqual(summaryNames(r), ['VVP artifact upload.md']);
    const rows = summaryRows(r);
    assert.deepEqual({ ...rows, Duration: rows.Duration?.replace(/^\d+\.\d s$/, '<n.n s>') }, {
      Outcome: 'Uploaded',
      File: '`flink-job/target/top-speed-windowing.jar`',
      Size: `${JAR.length} bytes`,
      'SHA-256': `\`${sha256(JAR)}\``,
      Blob: `\`vvp/${BLOB}\``,
      jarUri: `\`${JAR_URI}\``,
      Build: '`20250101.7`',
      Duration: '<n.n s>',
    });

    // Each value once, where it first matters; every line inside a group.
    for (const value of [`https://vvpstorage.blob.core.windows.net/vvp/${BLOB}`, JAR_URI, sha256(JAR), 'flink-job/target/top-speed-windowing.jar']) {
      assert.equal(linesWith(r, value).length, 1, `${value} in:\n${r.logs.join('\n')}`);
    }
    assert.deepEqual(ungrouped(r), [], r.logs.join('\n'));
  });

  test('a content-hash blobName uploads under the hashed name; the same file again skips it', async () => {
    const hashed = `artifacts/namespaces/default/top-speed-windowing-${sha256(JAR).slice(0, 12)}.jar`;
    const inputs = { blobName: '{name}-{sha256:12}{ext}' };
    const first = await run({ inputs });
    assert.equal(first.result, 'Succeeded', explain(first));
    assert.equal(first.outputs.jarUri, `wasbs://vvp@vvpstorage.blob.core.windows.net/${hashed}`);
    assert.equal(first.outputs.uploaded, 'true');
    assert.equal(summaryRows(first).Blob, `\`vvp/${hashed}\``);
    assert.equal(linesWith(first, sha256(JAR)).length, 1, first.logs.join('\n'));
    assert.deepEqual(ungrouped(first), [], first.logs.join('\n'));
    const again = await run({ inputs });
    assert.equal(again.result, 'Succeeded', explain(again));
    assert.equal(again.outputs.uploaded, 'false');
    assert.equal(again.outputs.jarUri, first.outputs.jarUri);
    assert.equal(summaryRows(again).Outcome, 'Skipped: the blob already had identical content');
  });

  test('an identical re-run skips the upload and says so', async () => {
    const before = (await container.getBlockBlobClient(BLOB).getProperties()).etag;
    const r = await run({});
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.uploaded, 'false');
    assert.equal(r.outputs.sha256, sha256(JAR));
    assert.match(r.message ?? '', /^Skipped top-speed-windowing\.jar .*already has identical content/);
    assert.equal((await container.getBlockBlobClient(BLOB).getProperties()).etag, before);
    assert.equal(summaryRows(r).Outcome, 'Skipped: the blob already had identical content');
    assert.equal(summaryRows(r).Build, '`20240101.1`', "the rig's Build.BuildNumber");
    for (const value of [`https://vvpstorage.blob.core.windows.net/vvp/${BLOB}`, JAR_URI, sha256(JAR)]) {
      assert.equal(linesWith(r, value).length, 1, `${value} in:\n${r.logs.join('\n')}`);
    }
    assert.deepEqual(ungrouped(r), [], r.logs.join('\n'));
  });

  test("'never' with different content fails naming both hashes and leaves the blob as it was", async () => {
    const other = Buffer.from('a different build');
    const r = await run({ inputs: { overwrite: 'never' }, files: { 'flink-job/target/top-speed-windowing.jar': other } });
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(r.message ?? '', new RegExp(`already exists with different content .*SHA-256 ${sha256(JAR)}.*SHA-256 ${sha256(other)}`));
    assert.equal(sha256(await container.getBlockBlobClient(BLOB).downloadToBuffer()), sha256(JAR));
  });

  test('an ambiguous or empty artifactPath fails before any storage call, listing the matches', async () => {
    const since = await rig.control.mark();
    const ambiguous = await run({ inputs: { artifactPath: '**/*.jar' } });
    assert.equal(ambiguous.result, 'Failed', explain(ambiguous));
    assert.match(ambiguous.message ?? '', /matched 2: flink-job\/target\/original-top-speed-windowing\.jar, flink-job\/target\/top-speed-windowing\.jar/);
    const empty = await run({ inputs: { artifactPath: '**/*.war' } });
    assert.equal(empty.result, 'Failed', explain(empty));
    assert.match(empty.message ?? '', /input 'artifactPath' '\*\*\/\*\.war': must match exactly one file .* but matched no file/);
    assert.deepEqual(await rig.control.requests({ since, host: /blob\.core/ }), []);
  });

  test('an empty artifact fails with a clear message and no storage call', async () => {
    const since = await rig.control.mark();
    const r = await run({ inputs: { blobName: 'empty.jar' }, files: { 'flink-job/target/top-speed-windowing.jar': '' } });
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(r.message ?? '', /^The artifact \S+top-speed-windowing\.jar is empty \(0 bytes\), so it was not uploaded/);
    assert.deepEqual(await rig.control.requests({ since, host: /blob\.core/ }), []);
  });

  test('bad inputs are all listed at once, before anything else happens', async () => {
    const r = await run({ inputs: { containerName: 'Bad_Container', namespace: 'Team A', overwrite: 'maybe' } });
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(r.message ?? '', /^Invalid inputs:\n {2}- input 'containerName' 'Bad_Container'.*\n {2}- input 'namespace' 'Team A'.*\n {2}- input 'overwrite' 'maybe': one of ifChanged, always, never$/);
  });

  test('a certificate service principal and workload identity federation both upload (agent proxy settings)', async () => {
    const cert = await run({
      endpoint: azureRmEndpoint({ scheme: 'ServicePrincipal', authenticationType: 'spnCertificate', certificatePem: readPem('clientCertAndKey') }),
      inputs: { blobName: 'by-cert.jar' },
      env: rig.env('agent'),
    });
    assert.equal(cert.result, 'Succeeded', explain(cert));
    assert.equal(cert.outputs.jarUri, 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/by-cert.jar');
    const wif = await run({
      endpoint: azureRmEndpoint({ scheme: 'WorkloadIdentityFederation' }),
      inputs: { blobName: 'by-wif.jar', namespace: 'team-b' },
      env: rig.env('agent'),
    });
    assert.equal(wif.result, 'Succeeded', explain(wif));
    assert.equal(wif.outputs.uploaded, 'true');
    assert.equal(sha256(await container.getBlockBlobClient('artifacts/namespaces/team-b/by-wif.jar').downloadToBuffer()), sha256(JAR));
    const tokens = await rig.control.tokens();
    assert.ok(tokens.some((t) => t.clientId === D.certClientId && t.audience === 'https://storage.azure.com'));
    assert.ok(tokens.some((t) => t.clientId === D.wifClientId && t.grant === 'client_assertion'));
  });

  test('a user-assigned managed identity uploads with a token from IMDS', async () => {
    const r = await run({
      endpoint: azureRmEndpoint({ scheme: 'ManagedServiceIdentity', msiClientId: D.userAssignedClientId }),
      inputs: { blobName: 'by-msi.jar' },
      env: { ...rig.env('agent'), ...rig.imdsEnv() },
    });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.uploaded, 'true');
    const tokens = await rig.control.tokens();
    assert.ok(tokens.some((t) => t.clientId === D.userAssignedClientId && t.audience === 'https://storage.azure.com'));
  });

  test("a wrong client secret fails with Entra ID's AADSTS code and without printing the secret", async () => {
    const wrong = 'definitely-not-the-secret~42';
    const r = await run({ endpoint: azureRmEndpoint({ scheme: 'ServicePrincipal', clientSecret: wrong }), inputs: { blobName: 'never-written.jar' } });
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(r.message ?? '', /^Microsoft Entra ID: getting a token for Azure Blob Storage .* failed: invalid_client: AADSTS7000215: Invalid client secret provided\./);
    assert.match(r.message ?? '', /Check the service connection/);
    assertNoSecretLeak(r, [wrong]);
  });

  test('a missing container and an unknown account are named in the failure', async () => {
    const missing = await run({ inputs: { containerName: 'no-such-container' } });
    assert.equal(missing.result, 'Failed', explain(missing));
    assert.match(missing.message ?? '', /HTTP 404: ContainerNotFound.*The container 'no-such-container' does not exist in the storage account 'vvpstorage'/);
    const unknown = await run({ inputs: { storageAccount: 'nosuchaccount' } });
    assert.equal(unknown.result, 'Failed', explain(unknown));
    assert.match(unknown.message ?? '', /nosuchaccount/);
    assert.match(unknown.message ?? '', /storage account 'nosuchaccount' exists/);
  });

  test('a 403 from the storage account names the Storage Blob Data Contributor role', async () => {
    await rig.control.addFault({
      host: /^vvpstorage\.blob\.core\.windows\.net$/,
      method: /^(HEAD|PUT|GET)$/,
      count: 0,
      action: {
        kind: 'status',
        status: 403,
        headers: { 'x-ms-error-code': 'AuthorizationPermissionMismatch', 'content-type': 'application/xml' },
        body: '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationPermissionMismatch</Code><Message>This request is not authorized to perform this operation using this permission.</Message></Error>',
      },
    });
    try {
      const r = await run({ inputs: { blobName: 'denied.jar' } });
      assert.equal(r.result, 'Failed', explain(r));
      assert.match(r.message ?? '', /HTTP 403: AuthorizationPermissionMismatch/);
      assert.match(r.message ?? '', /"Storage Blob Data Contributor" role on the storage account 'vvpstorage' or on the container 'vvp'/);
    } finally {
      await rig.control.clearFaults();
    }
  });

  test('SIGINT mid-upload cancels promptly and commits no blob', async () => {
    // Hold every block at the proxy, so the signal surely arrives while blocks are in flight.
    await rig.control.addFault({ host: /^vvpstorage\.blob\./, method: /^PUT$/, path: /comp=block(&|$)/, count: 0, action: { kind: 'delay', ms: 20_000 } });
    try {
      const big = randomBytes(24 * 1024 * 1024);
      const r = await run({
        inputs: { blobName: 'cancelled.jar' },
        files: { 'flink-job/target/top-speed-windowing.jar': big },
        signalAfter: { signal: 'SIGINT', whenStdoutMatches: /Uploading to /, afterMs: 300 },
      });
      assert.equal(r.result, 'Cancelled', explain(r));
      assert.match(r.message ?? '', /^Cancelled during the upload of artifacts\/namespaces\/default\/cancelled\.jar: no block list was committed/);
      const stoppedAfterMs = r.durationMs - (r.signalSentAtMs ?? 0);
      assert.ok(stoppedAfterMs < 3000, `process ended ${stoppedAfterMs} ms after SIGINT`);
      assert.equal(r.timedOut, false);
    } finally {
      await rig.control.clearFaults();
    }
    assert.equal(await container.getBlockBlobClient('artifacts/namespaces/default/cancelled.jar').exists(), false);
  });

  test('in Azure China the blob host and jarUri use the China storage suffix', async () => {
    const r = await run({ endpoint: azureRmEndpoint({ scheme: 'ServicePrincipal', cloud: 'AzureChinaCloud' }), inputs: { blobName: 'china.jar' } });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.equal(r.outputs.jarUri, 'wasbs://vvp@vvpstorage.blob.core.chinacloudapi.cn/artifacts/namespaces/default/china.jar');
    assert.equal(r.outputs.blobUrl, 'https://vvpstorage.blob.core.chinacloudapi.cn/vvp/artifacts/namespaces/default/china.jar');
  });

  test('no run printed a secret or an issued token', async () => {
    const tokens = (await rig.control.tokens()).map((t) => t.token);
    for (const r of runs) assertNoSecretLeak(r, [D.clientSecret, D.systemAccessToken, ...tokens]);
  });
});
