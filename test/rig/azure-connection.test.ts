/**
 * The AzureRM credential's network and hygiene rules, with the real @azure/identity against the
 * rig: managed identity endpoints never go through the proxy, the connection's cloud URLs must
 * be https, and an OIDC error body is masked before it is shortened.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { resolveCloud } from '../../tasks/common/azure/cloud';
import { createAzureCredential, type AzureRmConnection } from '../../tasks/common/azure/credential';
import { NetworkAgents, networkSettingsFromEnv, type NetworkSettings } from '../../tasks/common/http/network';
import { DIRECT } from '../support/direct-network';
import { RIG_DEFAULTS as D } from './config';
import { minimalEnv } from './azurite';
import { startRig, type Rig } from './rig';
import { readPem, tlsFiles } from './tls-files';

/** Azure's instance metadata service, the managed identity endpoint of every VM. */
const IMDS_HOST = '169.254.169.254';

const OIDC_URL = `https://dev.azure.com/${D.organization}/${D.projectId}/_apis/distributedtask/hubs/build/plans/${D.planId}/jobs/${D.jobId}/oidctoken`;

const MI_PROBE = path.join(__dirname, 'fixtures', 'managed-identity-token.js');
const execFileAsync = promisify(execFile);

/** Every message in an error and its causes. */
function errorText(error: unknown): string {
  const parts: string[] = [];
  for (let e = error as { message?: string; cause?: unknown } | undefined, i = 0; e && i < 10; e = e.cause as typeof e, i++) {
    parts.push(String(e.message ?? e));
  }
  return parts.join('\n');
}

describe('which requests bypass the proxy', () => {
  /** Whether `url` goes around the agent's proxy, with the NO_PROXY list and managed identity variables of `env`. */
  const bypassed = (url: string, env: NodeJS.ProcessEnv = {}): boolean => {
    const agents = new NetworkAgents(networkSettingsFromEnv({ HTTPS_PROXY: 'http://proxy.example:8888', ...env }), { env });
    try {
      return !agents.usesProxy(url);
    } finally {
      agents.destroy();
    }
  };

  it('never proxies IMDS or any other link-local address, IPv4 or IPv6', () => {
    for (const url of [
      `http://${IMDS_HOST}/metadata/identity/oauth2/token`,
      'http://169.254.0.1/',
      'http://169.254.255.254:8080/',
      'http://[fe80::1]/',
      'http://[febf:ffff::1]/',
      'http://[::ffff:169.254.169.254]/',
    ]) {
      assert.equal(bypassed(url), true, url);
    }
    for (const url of ['http://169.255.0.1/', 'http://168.254.1.1/', 'http://[fec0::1]/', 'https://login.microsoftonline.com/', 'http://169.254.example.com/']) {
      assert.equal(bypassed(url), false, url);
    }
  });

  it('never proxies the host of IDENTITY_ENDPOINT, IMDS_ENDPOINT, MSI_ENDPOINT or the IMDS override', () => {
    assert.equal(bypassed('http://10.0.0.5:8081/msi/token'), false);
    assert.equal(bypassed('http://10.0.0.5:8081/msi/token', { IDENTITY_ENDPOINT: 'http://10.0.0.5:8081/msi/token' }), true);
    assert.equal(bypassed('http://arc-agent.internal:40342/', { IMDS_ENDPOINT: 'http://arc-agent.internal:40342' }), true);
    assert.equal(bypassed('http://cloudshell:50342/oauth2/token', { MSI_ENDPOINT: 'http://cloudshell:50342/oauth2/token' }), true);
    assert.equal(bypassed('http://pod-identity.example:2579/', { AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://pod-identity.example:2579' }), true);
    // A malformed variable exempts nothing and breaks nothing; an IPv6 host is matched in any case.
    const odd = { IDENTITY_ENDPOINT: 'not a url', MSI_ENDPOINT: 'http://[FD00::5]:80/' };
    assert.equal(bypassed('http://[fd00::5]/msi/token', odd), true);
    assert.equal(bypassed(`http://${IMDS_HOST}/metadata/identity/oauth2/token`, odd), true);
    assert.equal(bypassed('https://login.microsoftonline.com/', odd), false);
  });

  it('keeps loopback and the agent rules as before', () => {
    assert.equal(bypassed('http://127.0.0.1:1234/'), true);
    assert.equal(bypassed('http://[::1]/'), true);
    assert.equal(bypassed('http://[::ffff:127.0.0.1]/'), true);
    assert.equal(bypassed('https://vault.internal.example/', { NO_PROXY: '.internal.example' }), true);
    assert.equal(bypassed('https://vault.other.example/', { NO_PROXY: '.internal.example' }), false);
  });

  it('gives IMDS and IDENTITY_ENDPOINT a direct agent while Entra ID goes through the proxy', () => {
    const settings: NetworkSettings = { proxyUrl: 'http://proxy.example:8888', proxyBypass: [] };
    const agents = new NetworkAgents(settings, { env: { IDENTITY_ENDPOINT: 'http://10.0.0.5:8081/msi/token' } });
    try {
      for (const url of [`http://${IMDS_HOST}/metadata/identity/oauth2/token`, 'http://10.0.0.5:8081/msi/token', 'http://[fe80::1]:80/']) {
        assert.equal(agents.usesProxy(url), false, url);
        assert.ok(!(agents.agentFor(url) instanceof HttpsProxyAgent), url);
        assert.ok(agents.agentFor(url) instanceof http.Agent, url);
      }
      assert.equal(agents.usesProxy('https://login.microsoftonline.com/'), true);
      assert.ok(agents.agentFor('https://login.microsoftonline.com/') instanceof HttpsProxyAgent);
    } finally {
      agents.destroy();
    }
  });
});

describe('the routing agent', () => {
  it('sends each request, http or https, through the agent of its own origin', async () => {
    const files = tlsFiles();
    const plain = http.createServer((_req, res) => res.end('plain'));
    const secure = https.createServer({ cert: readPem('leafCert'), key: readPem('leafKey') }, (_req, res) => res.end('secure'));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    // The name the leaf certificate is for, on whichever loopback address it resolves to.
    await new Promise<void>((r) => secure.listen(0, 'localhost', r));
    const agents = new NetworkAgents({ proxyBypass: [], caFile: files.caCert });
    try {
      const router = agents.routingAgent();
      assert.equal(agents.routingAgent(), router, 'one routing agent per NetworkAgents');
      const get = (lib: typeof http | typeof https, url: string): Promise<string> =>
        new Promise((resolve, reject) => {
          lib
            .get(url, { agent: router }, (res) => {
              let body = '';
              res.on('data', (c: Buffer) => (body += c.toString()));
              res.on('end', () => resolve(body));
            })
            .on('error', reject);
        });
      assert.equal(await get(http, `http://127.0.0.1:${(plain.address() as AddressInfo).port}/`), 'plain');
      // localhost is in the leaf certificate; the agent CA (Agent.CAInfo) is trusted through agentFor.
      assert.equal(await get(https, `https://localhost:${(secure.address() as AddressInfo).port}/`), 'secure');
    } finally {
      agents.destroy();
      for (const server of [plain, secure]) {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    }
  });
});

describe('the AzureRM credential against the rig', () => {
  let rig: Rig;
  const cloud = resolveCloud({});
  const proxied = (): NetworkSettings => ({ proxyUrl: rig.proxyUrl, proxyBypass: [], caFile: rig.caFile });

  before(async () => {
    rig = await startRig();
  });
  after(async () => {
    await rig?.stop();
  });

  /** A managed identity token got by the task's credential code in a fresh process (see the fixture). */
  const managedIdentityToken = async (settings: Partial<NetworkSettings>, clientId?: string): Promise<{ appid?: string; error?: string }> => {
    const { stdout } = await execFileAsync(process.execPath, [MI_PROBE], {
      env: { ...minimalEnv(), ...rig.imdsEnv(), MI_PROBE_SETTINGS: JSON.stringify(settings), MI_PROBE_CLIENT_ID: clientId ?? '' },
      timeout: 30_000,
    });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { appid?: string; error?: string };
  };

  it('gets a managed identity token from IMDS without going through the agent proxy', async () => {
    const since = await rig.control.mark();
    const outcome = await managedIdentityToken({ proxyUrl: rig.proxyUrl, caFile: rig.caFile }, D.userAssignedClientId);
    assert.deepEqual(outcome, { appid: D.userAssignedClientId });
    // The rig records what reaches its IMDS port directly as plain http to 169.254.169.254;
    // what goes through the proxy opens a CONNECT tunnel first.
    const seen = await rig.control.requests({ since });
    assert.deepEqual(
      seen.filter((r) => r.scheme === 'connect' || r.tunnel !== undefined).map((r) => `${r.scheme} ${r.method} ${r.host}:${r.port}`),
      [],
      'the proxy saw none of the managed identity traffic',
    );
    assert.ok(seen.some((r) => r.host === IMDS_HOST && r.status === 200), 'IMDS was asked directly');
  });

  it('gets a managed identity token when the agent has no proxy at all', async () => {
    assert.deepEqual(await managedIdentityToken({}), { appid: D.managedIdentityClientId });
  });

  it('still sends service principal token requests through the proxy', async () => {
    const agents = new NetworkAgents(proxied());
    try {
      const since = await rig.control.mark();
      const connection: AzureRmConnection = { name: 'spn', scheme: 'ServicePrincipal', authenticationType: 'spnKey', tenantId: D.tenantId, clientId: D.clientId, clientSecret: D.clientSecret, cloud };
      await createAzureCredential(connection, { agents, onSecret: () => undefined }).getToken('https://vault.azure.net/.default');
      const calls = await rig.control.requests({ since, host: 'login.microsoftonline.com', scheme: 'https' });
      assert.ok(calls.some((c) => c.method === 'POST' && /\/oauth2\/v2\.0\/token$/.test(c.path.split('?')[0]!)), JSON.stringify(calls.map((c) => c.path)));
    } finally {
      agents.destroy();
    }
  });

  it('masks the job access token in an OIDC error body before shortening it', async () => {
    // Long enough that the 300-character cut falls inside the echoed token, wherever the
    // Authorization header lands in the echo.
    const accessToken = `job-token-${'a1b2c3d4e5'.repeat(40)}`;
    await rig.control.addFault({
      host: 'dev.azure.com',
      path: /oidctoken/,
      count: 0,
      action: { kind: 'status', status: 401, echo: true, body: 'gateway says: {{headers}}', headers: { 'content-type': 'text/plain' } },
    });
    const agents = new NetworkAgents(proxied());
    try {
      const connection: AzureRmConnection = {
        name: D.serviceConnectionId,
        scheme: 'WorkloadIdentityFederation',
        tenantId: D.tenantId,
        clientId: D.wifClientId,
        oidcRequestUri: OIDC_URL,
        accessToken,
        cloud,
      };
      const error = await createAzureCredential(connection, { agents, onSecret: () => undefined, retry: { maxRetries: 0 } })
        .getToken('https://vault.azure.net/.default')
        .then(
          () => assert.fail('the token request must fail'),
          (e: unknown) => e,
        );
      const text = errorText(error);
      assert.match(text, /Azure DevOps: requesting the pipeline OIDC token for workload identity federation failed with HTTP 401: gateway says: .*Bearer \*\*\*/);
      for (let i = 0; i + 12 <= accessToken.length; i += 6) {
        assert.ok(!text.includes(accessToken.slice(i, i + 12)), `a piece of the job token at ${i} is in the message`);
      }
    } finally {
      agents.destroy();
      await rig.control.clearFaults();
    }
  });
});

describe("the AzureRM connection's cloud URLs", () => {
  const agents = new NetworkAgents(DIRECT);
  after(() => agents.destroy());
  const spn = (data: Parameters<typeof resolveCloud>[0]): AzureRmConnection => ({
    name: 'my-arm-connection',
    scheme: 'ServicePrincipal',
    authenticationType: 'spnKey',
    tenantId: 't',
    clientId: 'c',
    clientSecret: 's',
    cloud: resolveCloud(data),
  });

  // Refusing unusable endpoints is the connection reader's job (test/reliability/bad-inputs.test.ts).
  it('builds a credential for the https endpoints of the known clouds and of Azure Stack', () => {
    for (const data of [{}, { environment: 'AzureChinaCloud' }, { environment: 'AzureStack', resourceManagerUrl: 'https://management.local.azurestack.external/', authorityUrl: 'https://adfs.local.azurestack.external/adfs' }]) {
      assert.doesNotThrow(() => createAzureCredential(spn(data), { agents, onSecret: () => undefined }));
    }
  });
});
