import { after, before, beforeEach, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Agent } from 'node:http';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { RIG_DEFAULTS as D } from './config';
import { rigProxyAgent } from './proxy-agent';
import { startRig, type Rig } from './rig';

describe('Key Vault fake with the real @azure/keyvault-secrets', () => {
  let rig: Rig;
  let agent: Agent;
  const vaultUrl = `https://${D.vaultName}.vault.azure.net`;
  const client = (clientId: string = D.clientId): SecretClient =>
    new SecretClient(vaultUrl, new ClientSecretCredential(D.tenantId, clientId, D.clientSecret, { agent } as object), { agent } as object);

  before(async () => {
    rig = await startRig();
    agent = rigProxyAgent(rig);
  });
  beforeEach(async () => {
    await rig.control.reset();
  });
  after(async () => {
    await rig?.stop();
  });

  it('reads a secret after the 401 Bearer challenge, sending the token only on the retry', async () => {
    const secret = await client().getSecret(D.tokenSecretName);
    assert.equal(secret.value, D.vvpApiToken);
    assert.match(secret.properties.id ?? '', new RegExp(`^${vaultUrl}/secrets/${D.tokenSecretName}/[0-9a-f]{32}$`));

    const calls = await rig.control.requests({ host: `${D.vaultName}.vault.azure.net`, scheme: 'https' });
    assert.deepEqual(
      calls.map((r) => [r.status, r.hasAuthorization]),
      [
        [401, false],
        [200, true],
      ],
    );
    assert.match(String(calls[0]!.responseHeaders?.['www-authenticate']), new RegExp(`authorization="https://login.microsoftonline.com/${D.tenantId}", resource="https://vault.azure.net"`));
    assert.match(String(calls[1]!.requestHeaders['authorization']), /^Bearer ey/);
  });

  it('answers 404 SecretNotFound for a missing secret', async () => {
    await assert.rejects(client().getSecret('doesNotExist'), (err: { statusCode?: number; code?: string; message: string }) => {
      assert.equal(err.statusCode, 404);
      assert.equal(err.code, 'SecretNotFound');
      assert.match(err.message, /A secret with \(name\/id\) doesNotExist was not found in this key vault/);
      return true;
    });
  });

  it('answers 403 ForbiddenByRbac to a principal without access, naming the missing action', async () => {
    await assert.rejects(client(D.deniedClientId).getSecret(D.tokenSecretName), (err: { statusCode?: number; code?: string; message: string }) => {
      assert.equal(err.statusCode, 403);
      assert.equal(err.code, 'Forbidden');
      assert.match(err.message, /Microsoft\.KeyVault\/vaults\/secrets\/getSecret\/action/);
      return true;
    });
  });

  it('serves secrets changed through the control API, and refuses disabled ones', async () => {
    await rig.control.setSecret(D.vaultName, 'rotated', 'rotated-token-value-123');
    assert.equal((await client().getSecret('rotated')).value, 'rotated-token-value-123');
    await rig.control.setSecret(D.vaultName, 'rotated', { value: 'rotated-token-value-123', enabled: false });
    await assert.rejects(client().getSecret('rotated'), /disabled secret/);
  });

  it('refuses an unknown vault host at CONNECT, as a failed DNS lookup would', async () => {
    const unknown = new SecretClient('https://no-such-vault.vault.azure.net', new ClientSecretCredential(D.tenantId, D.clientId, D.clientSecret, { agent } as object), {
      agent,
      retryOptions: { maxRetries: 0 },
    } as object);
    await assert.rejects(unknown.getSecret(D.tokenSecretName));
    const refused = await rig.control.requests({ host: 'no-such-vault.vault.azure.net' });
    assert.ok(refused.length >= 1);
    assert.ok(refused.every((r) => r.scheme === 'connect' && r.route === 'refused' && r.status === 502));
  });
});
