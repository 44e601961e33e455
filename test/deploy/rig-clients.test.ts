/**
 * The real Key Vault reader and VVP client through the offline rig: an HTTPS proxy with a test
 * CA, the Entra ID and Key Vault fakes, and the VVP simulator behind `https://vvp.example.com`.
 * This is how the task meets an agent's proxy and CA settings.
 */
import assert from 'node:assert/strict';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { after, before, describe, it } from 'node:test';
import { resolveCloud } from '../../tasks/common/azure/cloud';
import { BlobArtifactClient } from '../../tasks/common/blob/blob-artifact-client';
import { createAzureCredential, type AzureRmConnection } from '../../tasks/common/azure/credential';
import { ServiceError } from '../../tasks/common/errors/errors';
import { NetworkAgents } from '../../tasks/common/http/network';
import { KeyVaultSecretReader, keyVaultUrl } from '../../tasks/common/keyvault/secret-reader';
import { MemoryLogger } from '../support/memory-logger';
import { systemClock } from '../../tasks/common/poll/clock';
import { VvpClient } from '../../tasks/common/vvp/client';
import { runAction } from '../../tasks/VvpDeploy/VvpDeployV1/action';
import { deployConfig } from './deploy-config';
import { RIG_DEFAULTS as D } from '../rig/config';
import { startRig, type Rig } from '../rig/rig';
import { startSimulator, type RunningSimulator } from '../vvp-simulator/client';

const JAR = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/app.jar';
const VAULT_HOST = `${D.vaultName}.vault.azure.net`;
const BLOB_HOST = `${D.storageAccount}.blob.core.windows.net`;
const BLOB_TOKEN = 'blob-tok-6e2a9f4c1d';

/** A storage credential with one fixed token, so a test can look for it in every request. */
const blobCredential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: BLOB_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }),
};

const carries = (headers: Record<string, string | string[]> | undefined, secret: string): boolean => JSON.stringify(headers ?? {}).includes(secret);

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
    // The blob host leads to the simulator: the fault rules below answer before any backend would.
    rig = await startRig({ vvpUrl: sim.url, routes: [{ host: BLOB_HOST, target: sim.url }] });
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
    const result = await runAction(config, { vvp, clock: systemClock, logger, registerSecret: () => undefined });
    assert.equal(result.error, undefined);
    assert.match(result.message, /runs job/);
    const vvpCalls = await rig.control.requests({ host: 'vvp.example.com', scheme: 'https' });
    assert.ok(vvpCalls.length > 0);
    const all = await rig.control.requests({});
    const withToken = all.filter((r) => JSON.stringify(r.requestHeaders ?? {}).includes(token));
    assert.ok(withToken.every((r) => r.host === 'vvp.example.com'), 'the VVP token went only to the VVP host');
    assert.ok(logger.lines.every((l) => !l.includes(token)));
  });
  it('trims a trailing newline of the secret value (az keyvault secret set --file)', async () => {
    await rig.control.setSecret(D.vaultName, 'fromFile', `  ${D.vvpApiToken}\r\n`);
    assert.equal(await reader().getSecret('fromFile'), D.vvpApiToken);
  });

  it('refuses a secret that is only whitespace', async () => {
    await rig.control.setSecret(D.vaultName, 'blank', ' \n\t');
    await assert.rejects(reader().getSecret('blank'), (e: unknown) => {
      assert.ok(e instanceof ServiceError);
      assert.match(e.message, /reading secret 'blank' from Key Vault my-keyvault\.vault\.azure\.net failed: the secret value is only whitespace\. Store the VVP API token as the value of secret 'blank'/);
      return true;
    });
  });

  describe('redirects are never followed by the token-carrying SDK clients', () => {
    const vaultToken = async (since: number): Promise<string> => {
      const signed = (await rig.control.requests({ since, host: VAULT_HOST })).find((r) => r.hasAuthorization);
      assert.ok(signed, 'the vault got a signed request');
      return String(signed.requestHeaders.authorization).replace(/^Bearer /, '');
    };

    it('Key Vault: a 302 to another host fails the read and the token never reaches that host', async () => {
      const since = await rig.control.mark();
      // skip 1: the first request is the unsigned challenge; the signed one gets the redirect.
      await rig.control.addFault({ host: /^my-keyvault\.vault\.azure\.net$/, method: 'GET', path: /^\/secrets\/vvpAPIToken/, skip: 1, action: { kind: 'status', status: 302, headers: { location: 'https://vvp.example.com/steal' } } });
      try {
        await assert.rejects(reader().getSecret(D.tokenSecretName), (e: unknown) => {
          assert.ok(e instanceof ServiceError);
          assert.equal(e.status, 302);
          assert.match(e.message, /failed with HTTP 302: Azure Key Vault answered with a redirect \(HTTP 302\) to https:\/\/vvp\.example\.com\/steal; it is not followed/);
          return true;
        });
        const token = await vaultToken(since);
        const all = await rig.control.requests({ since });
        assert.deepEqual(all.filter((r) => r.host === 'vvp.example.com'), [], 'nothing went to the redirect target');
        assert.ok(all.filter((r) => carries(r.requestHeaders, token)).every((r) => r.host === VAULT_HOST));
      } finally {
        await rig.control.clearFaults();
      }
    });

    it('Key Vault: a 302 within the vault is not followed either', async () => {
      const since = await rig.control.mark();
      await rig.control.addFault({ host: /^my-keyvault\.vault\.azure\.net$/, method: 'GET', path: /^\/secrets\/vvpAPIToken/, skip: 1, action: { kind: 'status', status: 302, headers: { location: `https://${VAULT_HOST}/secrets/other?api-version=7.5` } } });
      try {
        await assert.rejects(reader().getSecret(D.tokenSecretName), (e: unknown) => e instanceof ServiceError && e.status === 302);
        const vaultCalls = await rig.control.requests({ since, host: VAULT_HOST, scheme: 'https' });
        assert.deepEqual(vaultCalls.map((r) => `${r.method} ${r.path.replace(/\/?\?.*$/, '')} ${r.hasAuthorization ? 'signed' : 'unsigned'}`), [
          `GET /secrets/${D.tokenSecretName} unsigned`,
          `GET /secrets/${D.tokenSecretName} signed`,
        ], 'the challenge and the signed request, no third');
      } finally {
        await rig.control.clearFaults();
      }
    });

    for (const [where, location] of [
      ['to another host', 'https://vvp.example.com/steal'],
      ['within the account', `https://${BLOB_HOST}/vvp/elsewhere.jar`],
    ] as const) {
      it(`Blob Storage: a 302 ${where} is not followed and the token goes nowhere else`, async () => {
        const since = await rig.control.mark();
        await rig.control.addFault({ host: /^vvpstorage\.blob\.core\.windows\.net$/, method: 'HEAD', count: 0, action: { kind: 'status', status: 302, headers: { location } } });
        try {
          const client = new BlobArtifactClient(`https://${BLOB_HOST}`, blobCredential, { agent: agents.agentFor(`https://${BLOB_HOST}`), retry: { maxTries: 1 } });
          await assert.rejects(client.getBlob({ container: 'vvp', name: 'artifacts/namespaces/default/app.jar' }));
          const all = await rig.control.requests({ since });
          const signed = all.filter((r) => carries(r.requestHeaders, BLOB_TOKEN));
          assert.deepEqual(signed.map((r) => `${r.method} ${r.host} ${r.path.replace(/\?.*$/, '')}`), [`HEAD ${BLOB_HOST} /vvp/artifacts/namespaces/default/app.jar`]);
          assert.deepEqual(all.filter((r) => r.host === 'vvp.example.com'), []);
        } finally {
          await rig.control.clearFaults();
        }
      });
    }
  });
});
