import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Agent } from 'node:http';
import { ClientAssertionCredential, ClientCertificateCredential, ClientSecretCredential } from '@azure/identity';
import { RIG_DEFAULTS as D } from './config';
import { rigProxyAgent } from './proxy-agent';
import { startRig, type Rig } from './rig';
import { jwtClaims, sendRequest } from './http-request';
import { readPem } from './tls-files';

const OIDC_URL = `https://dev.azure.com/${D.organization}/${D.projectId}/_apis/distributedtask/hubs/build/plans/${D.planId}/jobs/${D.jobId}/oidctoken`;

describe('Entra ID and pipeline OIDC fakes with the real @azure/identity', () => {
  let rig: Rig;
  let agent: Agent;

  before(async () => {
    rig = await startRig();
    agent = rigProxyAgent(rig);
  });
  after(async () => {
    await rig?.stop();
  });

  it('issues Key Vault and Storage tokens to ClientSecretCredential with the resource as audience', async () => {
    const credential = new ClientSecretCredential(D.tenantId, D.clientId, D.clientSecret, { agent } as object);
    const vault = await credential.getToken('https://vault.azure.net/.default');
    const storage = await credential.getToken('https://storage.azure.com/.default');

    const v = jwtClaims(vault.token);
    assert.equal(v['aud'], 'https://vault.azure.net');
    assert.equal(v['iss'], `https://sts.windows.net/${D.tenantId}/`);
    assert.equal(v['tid'], D.tenantId);
    assert.equal(v['appid'], D.clientId);
    assert.equal(jwtClaims(storage.token)['aud'], 'https://storage.azure.com');
    assert.ok(vault.expiresOnTimestamp > Date.now() + 50 * 60_000, 'token should live about an hour');

    const issued = await rig.control.tokens();
    assert.deepEqual(
      issued.filter((t) => t.clientId === D.clientId).map((t) => [t.grant, t.audience]),
      [
        ['client_secret', 'https://vault.azure.net'],
        ['client_secret', 'https://storage.azure.com'],
      ],
    );
    const tokenCalls = await rig.control.requests({ host: 'login.microsoftonline.com', scheme: 'https' });
    assert.ok(tokenCalls.every((r) => r.method === 'POST' && /\/oauth2\/v2\.0\/token/.test(r.path)), 'MSAL needs no discovery call for the public cloud');
  });

  it('rejects a wrong client secret with AADSTS7000215', async () => {
    const credential = new ClientSecretCredential(D.tenantId, D.clientId, 'not-the-secret-at-all', { agent } as object);
    await assert.rejects(credential.getToken('https://vault.azure.net/.default'), /AADSTS7000215: Invalid client secret provided/);
  });

  it('rejects an unknown application with AADSTS700016 and an unknown tenant with AADSTS90002', async () => {
    const unknownApp = new ClientSecretCredential(D.tenantId, '00000000-aaaa-4bbb-8ccc-000000000000', 'whatever-secret', { agent } as object);
    await assert.rejects(unknownApp.getToken('https://vault.azure.net/.default'), /AADSTS700016: Application with identifier '00000000-aaaa-4bbb-8ccc-000000000000' was not found/);
    const unknownTenant = new ClientSecretCredential('11111111-bbbb-4ccc-8ddd-111111111111', D.clientId, D.clientSecret, { agent } as object);
    await assert.rejects(unknownTenant.getToken('https://vault.azure.net/.default'), /AADSTS90002/);
  });

  it('accepts ClientCertificateCredential signed with the registered client certificate', async () => {
    const credential = new ClientCertificateCredential(D.tenantId, D.certClientId, { certificate: readPem('clientCertAndKey') }, { agent } as object);
    const token = await credential.getToken('https://storage.azure.com/.default');
    assert.equal(jwtClaims(token.token)['appid'], D.certClientId);
    assert.equal(jwtClaims(token.token)['appidacr'], '2');
  });

  it('rejects a certificate that is not registered on the application with AADSTS700027', async () => {
    const unregistered = `${readPem('leafCert')}\n${readPem('leafKey')}`;
    const credential = new ClientCertificateCredential(D.tenantId, D.certClientId, { certificate: unregistered }, { agent } as object);
    await assert.rejects(credential.getToken('https://storage.azure.com/.default'), /AADSTS700027/);
  });

  it('exchanges a pipeline OIDC token for an access token with ClientAssertionCredential', async () => {
    const getAssertion = async (): Promise<string> => {
      const res = await sendRequest(`${OIDC_URL}?api-version=7.1-preview.1&serviceConnectionId=${D.serviceConnectionId}`, {
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${D.systemAccessToken}`, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(res.status, 200, res.body);
      return (JSON.parse(res.body) as { oidcToken: string }).oidcToken;
    };
    const credential = new ClientAssertionCredential(D.tenantId, D.wifClientId, getAssertion, { agent } as object);
    const token = await credential.getToken('https://vault.azure.net/.default');
    assert.equal(jwtClaims(token.token)['appid'], D.wifClientId);

    const oidc = (await rig.control.tokens()).filter((t) => t.kind === 'oidc');
    assert.ok(oidc.length >= 1);
    assert.equal(oidc[0]!.subject, `sc://${D.organization}/${D.project}/${D.serviceConnectionName}`);
    assert.equal(oidc[0]!.audience, 'api://AzureADTokenExchange');
  });

  it('answers 401 to an OIDC token request with the wrong job access token', async () => {
    const res = await sendRequest(`${OIDC_URL}?api-version=7.1&serviceConnectionId=${D.serviceConnectionId}`, {
      method: 'POST',
      agent,
      headers: { authorization: 'Bearer not-the-job-token' },
    });
    assert.equal(res.status, 401);
    assert.match(res.body, /TF400813/);
  });

  it('rejects an OIDC token whose subject no federated credential lists with AADSTS700213', async () => {
    await rig.control.patchConfig({ pipeline: { ...rig.config.pipeline, serviceConnections: { [D.serviceConnectionId]: 'another-connection' } } });
    try {
      const getAssertion = async (): Promise<string> => {
        const res = await sendRequest(`${OIDC_URL}?api-version=7.1&serviceConnectionId=${D.serviceConnectionId}`, {
          method: 'POST',
          agent,
          headers: { authorization: `Bearer ${D.systemAccessToken}` },
        });
        return (JSON.parse(res.body) as { oidcToken: string }).oidcToken;
      };
      const credential = new ClientAssertionCredential(D.tenantId, D.wifClientId, getAssertion, { agent } as object);
      await assert.rejects(credential.getToken('https://vault.azure.net/.default'), /AADSTS700213/);
    } finally {
      await rig.control.patchConfig({ pipeline: rig.config.pipeline });
    }
  });

  it('serves the China cloud: MSAL sends login.chinacloudapi.cn token requests to login.partner.microsoftonline.cn', async () => {
    const credential = new ClientSecretCredential(D.tenantId, D.clientId, D.clientSecret, {
      agent,
      authorityHost: 'https://login.chinacloudapi.cn',
    } as object);
    const token = await credential.getToken('https://vault.azure.cn/.default');
    const claims = jwtClaims(token.token);
    assert.equal(claims['aud'], 'https://vault.azure.cn');
    assert.equal(claims['iss'], `https://sts.chinacloudapi.cn/${D.tenantId}/`);
    const hosts = (await rig.control.requests({ scheme: 'https', host: /partner|chinacloudapi/ })).map((r) => r.host);
    assert.ok(hosts.includes('login.partner.microsoftonline.cn'), `hosts seen: ${hosts.join(', ')}`);
  });
});
