/**
 * The real Key Vault reader and VVP client through the offline rig: an HTTPS proxy with a test
 * CA, the Entra ID and Key Vault fakes, and the VVP simulator behind `https://vvp.example.com`.
 * This is how the task meets an agent's proxy and CA settings.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { resolveCloud } from '../../tasks/common/azure/cloud';
import { createAzureCredential, type AzureRmConnection } from '../../tasks/common/azure/credential';
import { ServiceError } from '../../tasks/common/errors/errors';
import { NetworkAgents } from '../../tasks/common/http/network';
import { KeyVaultSecretReader, keyVaultUrl } from '../../tasks/common/keyvault/secret-reader';
import { MemoryLogger } from '../../tasks/common/logging/logger';
import { systemClock } from '../../tasks/common/poll/clock';
import { VvpClient } from '../../tasks/common/vvp/client';
import { runDeploy } from '../../tasks/VvpDeploy/VvpDeployV1/deploy';
import { deployConfig } from './deploy-config';
import { RIG_DEFAULTS as D } from '../rig/config';
import { startRig, type Rig } from '../rig/rig';
import { startSimulator, type RunningSimulator } from '../vvp-simulator/client';

const JAR = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/app.jar';

describe('Key Vault reader and VVP client through the proxy rig', () => {
  let rig: Rig;
  let sim: RunningSimulator;
  let agents: NetworkAgents;
  const cloud = resolveCloud({});
  const connection = (clientId: string = D.clientId, secret: string = D.clientSecret): AzureRmConnection => ({
    name: D.serviceConnectionName,
    scheme: 'ServicePrincipal',
    authenticationType: 'spnKey',
    tenantId: D.tenantId,
    clientId,
    clientSecret: secret,
    cloud,
  });
  const reader = (conn = connection()): KeyVaultSecretReader =>
    new KeyVaultSecretReader(keyVaultUrl(D.vaultName, cloud.keyVaultSuffix), createAzureCredential(conn, { agents, onSecret: () => undefined }), {
      agents,
      clientOptions: { retryOptions: { maxRetries: 0 } },
    });

  before(async () => {
    sim = await startSimulator({ tokens: [{ token: D.vvpApiToken, namespace: 'default', role: 'editor' }] });
    rig = await startRig({ vvpUrl: sim.url });
    agents = new NetworkAgents({ proxyUrl: rig.proxyUrl, proxyBypass: [], caFile: rig.caFile });
  });
  after(async () => {
    agents?.destroy();
    await rig?.stop();
    await sim?.stop();
  });

  it('reads the VVP token from Key Vault with the connection credential', async () => {
    assert.equal(await reader().getSecret(D.tokenSecretName), D.vvpApiToken);
  });

  it('names the vault and the secret when the secret does not exist', async () => {
    await assert.rejects(reader().getSecret('noSuchSecret'), (e: unknown) => {
      assert.ok(e instanceof ServiceError);
      assert.equal(e.status, 404);
      assert.match(e.message, /Vault my-keyvault.vault.azure.net has no secret named 'noSuchSecret'/);
      return true;
    });
  });

  it('names the role and the access-policy permission when the principal may not read secrets', async () => {
    await assert.rejects(reader(connection(D.deniedClientId)).getSecret(D.tokenSecretName), (e: unknown) => {
      assert.ok(e instanceof ServiceError);
      assert.equal(e.status, 403);
      assert.match(e.message, /"Key Vault Secrets User".*"get" secret permission/);
      return true;
    });
  });

  it("shows Entra's AADSTS code when the service principal secret is wrong", async () => {
    await assert.rejects(reader(connection(D.clientId, 'wrong-secret')).getSecret(D.tokenSecretName), (e: unknown) => {
      assert.ok(e instanceof ServiceError);
      assert.match(e.message, /Microsoft Entra ID.*AADSTS\d+/);
      assert.ok(!e.message.includes('wrong-secret'));
      return true;
    });
  });

  it('deploys through the proxy with the agent CA, the token only going to the VVP host', async () => {
    await sim.control.seedDeployment({ name: 'via-proxy', jarUri: `${JAR}?commit=0`, behaviour: { staleRunningMs: 100, savepointMs: 50, terminateMs: 50, startMs: 100 } } as never);
    const token = await reader().getSecret(D.tokenSecretName);
    const logger = new MemoryLogger();
    const vvp = new VvpClient('https://vvp.example.com', token, { agents, logger });
    const config = deployConfig({
      keyVaultName: D.vaultName,
      tokenSecretName: D.tokenSecretName,
      vvpUrl: new URL('https://vvp.example.com'),
      deployment: 'via-proxy',
      jarUri: `${JAR}?commit=1`,
      createIfMissing: false,
      timeoutInMs: 20_000,
      pollIntervalInMs: 1000,
    });
    const result = await runDeploy(config, { vvp, clock: systemClock, logger, registerSecret: () => undefined });
    assert.equal(result.error, undefined);
    assert.match(result.message, /runs job/);
    const vvpCalls = await rig.control.requests({ host: 'vvp.example.com', scheme: 'https' });
    assert.ok(vvpCalls.length > 0);
    const all = await rig.control.requests({});
    const withToken = all.filter((r) => JSON.stringify(r.requestHeaders ?? {}).includes(token));
    assert.ok(withToken.every((r) => r.host === 'vvp.example.com'), 'the VVP token went only to the VVP host');
    assert.ok(logger.lines.every((l) => !l.includes(token)));
  });
});
