import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { ClientSecretCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import { isProcessAlive } from './child-processes';
import { RIG_DEFAULTS as D } from './config';
import { rigProxyAgent } from './proxy-agent';
import { startRig, type Rig } from './rig';
import { runTask, type RunTaskOptions, type TaskRunResult } from './run-task';
import { assertNoSecretLeak } from './secret-scan';
import { azureRmEndpoint, type ServiceEndpoint } from './service-endpoints';
import { readPem } from './tls-files';

const SDK_PROBE = path.join(__dirname, 'fixtures', 'sdk-probe');

describe('task processes using the real Azure SDKs through the rig (Azurite included)', () => {
  let rig: Rig;
  let startMs = 0;
  const runs: TaskRunResult[] = [];

  const probe = async (endpoint: ServiceEndpoint, inputs: RunTaskOptions['inputs'], env: Record<string, string>): Promise<TaskRunResult> => {
    const run = await runTask({ taskDir: SDK_PROBE, inputs: { azureSubscription: endpoint.id, ...inputs }, endpoints: [endpoint], env, timeoutMs: 30_000 });
    runs.push(run);
    assert.equal(run.result, 'Succeeded', `${run.message}\n${run.stdout.slice(-3000)}\n${run.stderr}`);
    return run;
  };

  before(async () => {
    const started = Date.now();
    rig = await startRig({ azurite: true });
    startMs = Date.now() - started;
  });
  after(async () => {
    await rig?.stop();
  });

  it('creates a container and round-trips a blob in Azurite at vvpstorage.blob.core.windows.net with a token credential', async (t) => {
    t.diagnostic(`startRig with Azurite: ${startMs} ms`);
    const agent = rigProxyAgent(rig);
    const credential = new ClientSecretCredential(D.tenantId, D.clientId, D.clientSecret, { agent } as object);
    const service = new BlobServiceClient(rig.azurite!.blobEndpoint, credential, { agent } as object);
    const container = service.getContainerClient('vvp');
    await container.createIfNotExists();
    const blob = container.getBlockBlobClient('artifacts/namespaces/default/in-process.jar');
    await blob.upload(Buffer.from('in-process jar'), 14);
    assert.equal((await blob.downloadToBuffer()).toString(), 'in-process jar');

    const puts = await rig.control.requests({ host: 'vvpstorage.blob.core.windows.net', method: 'PUT', scheme: 'https' });
    assert.ok(puts.length >= 2 && puts.every((r) => r.hasAuthorization && r.status === 201), JSON.stringify(puts.map((r) => [r.path, r.status])));
  });

  it('env mode: a task reads the vault secret with a client secret through HTTPS_PROXY and NODE_EXTRA_CA_CERTS', async () => {
    const run = await probe(azureRmEndpoint({ scheme: 'ServicePrincipal' }), { action: 'keyvault', vaultName: D.vaultName, secretName: D.tokenSecretName }, rig.env('env'));
    assert.equal(run.outputs['secretSha256'], crypto.createHash('sha256').update(D.vvpApiToken).digest('hex'));
    assert.ok(run.secrets.includes(D.vvpApiToken));
  });

  it('env mode: a task uploads and downloads a blob with the certificate credential', async () => {
    const endpoint = azureRmEndpoint({ scheme: 'ServicePrincipal', authenticationType: 'spnCertificate', certificatePem: readPem('clientCertAndKey') });
    const run = await probe(endpoint, { action: 'blob', storageAccount: D.storageAccount, blobSuffix: 'cert' }, rig.env('env'));
    assert.equal(run.outputs['downloaded'], 'jar bytes cert');
  });

  it('agent mode with proxy auth: workload identity federation reads the vault via Agent.ProxyUrl and Agent.CAInfo', async () => {
    const auth = { username: 'agent-proxy-user', password: 'agent-proxy-password-7' };
    await rig.control.patchConfig({ proxyAuth: auth });
    try {
      const since = await rig.control.mark();
      const run = await probe(azureRmEndpoint({ scheme: 'WorkloadIdentityFederation' }), { action: 'keyvault', vaultName: D.vaultName, secretName: D.tokenSecretName }, rig.env('agent', { proxyAuth: auth }));
      assert.equal(run.outputs['secretSha256'], crypto.createHash('sha256').update(D.vvpApiToken).digest('hex'));
      const seen = await rig.control.requests({ since });
      const connects = seen.filter((r) => r.scheme === 'connect');
      assert.ok(connects.length > 0 && connects.every((c) => c.status === 200), 'every tunnel was authorized');
      assert.ok(seen.some((r) => r.host === 'dev.azure.com' && r.status === 200), 'the OIDC token came from the pipeline endpoint');
      const issued = (await rig.control.tokens()).filter((t) => t.grant === 'client_assertion');
      assert.ok(issued.some((t) => t.clientId === D.wifClientId && t.audience === 'https://vault.azure.net'));
      // task-lib's getVariable() debug-logs Agent.ProxyPassword (read by getHttpProxyConfiguration);
      // the agent masks that line since the variable is secret. Anything else must not carry it.
      assertNoSecretLeak(run, [auth.password], { skipLines: /^##vso\[task\.debug\]Agent\.ProxyPassword=/ });
    } finally {
      await rig.control.patchConfig({ proxyAuth: undefined });
    }
  });

  it('agent mode: a managed identity gets a token from the IMDS fake named by AZURE_POD_IDENTITY_AUTHORITY_HOST', async () => {
    const endpoint = azureRmEndpoint({ scheme: 'ManagedServiceIdentity', msiClientId: D.userAssignedClientId });
    const run = await probe(endpoint, { action: 'token', scope: 'https://storage.azure.com/.default' }, { ...rig.env('agent'), ...rig.imdsEnv() });
    assert.equal(run.outputs['aud'], 'https://storage.azure.com');
    assert.equal(run.outputs['appid'], D.userAssignedClientId);
  });

  it('no task printed a secret or a token the fakes issued', async () => {
    const tokens = (await rig.control.tokens()).map((t) => t.token);
    for (const run of runs) assertNoSecretLeak(run, [D.clientSecret, D.vvpApiToken, D.systemAccessToken, ...tokens]);
  });

  it('stop() ends the services process and Azurite', async () => {
    const pids = rig.pids();
    assert.equal(pids.length, 2);
    await rig.stop();
    assert.deepEqual(pids.filter(isProcessAlive), []);
  });
});
