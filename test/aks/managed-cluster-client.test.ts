import assert from 'node:assert/strict';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ManagedClusterClient } from '../../tasks/common/aks/managed-cluster-client';
import { ServiceError } from '../../tasks/common/errors/errors';
import { LocalHttpServer, sendJson } from '../deploy/local-http-server';

const ARM_TOKEN = 'arm-tok-4d1e7a9c2b';
const KUBECONFIG = 'apiVersion: v1\nkind: Config\nclusters: []\n';
const CLUSTER = { subscriptionId: 'sub-1', resourceGroup: 'rg-1', name: 'aks-1' };
const PATH = '/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.ContainerService/managedClusters/aks-1/listClusterUserCredential?api-version=2024-05-01';
const FAST_RETRY = { baseDelayInMs: 1, maxDelayInMs: 2 };

/** A credential that hands out one fixed token and remembers the scopes asked for. */
class FixedCredential implements TokenCredential {
  readonly scopes: string[] = [];
  async getToken(scopes: string | string[]): Promise<AccessToken> {
    this.scopes.push(...(Array.isArray(scopes) ? scopes : [scopes]));
    return { token: ARM_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

function credentialsBody(kubeconfig: string): unknown {
  return { kubeconfigs: [{ name: 'clusterUser', value: Buffer.from(kubeconfig).toString('base64') }] };
}

describe('ManagedClusterClient against a local ARM stand-in', () => {
  const arm = new LocalHttpServer();
  const other = new LocalHttpServer();
  let credential: FixedCredential;
  const client = (options: { timeoutInMs?: number; maxResponseBytes?: number } = {}): ManagedClusterClient =>
    new ManagedClusterClient(arm.url, credential, { retry: FAST_RETRY, ...options });

  before(async () => {
    await arm.start();
    await other.start();
  });
  after(async () => {
    await arm.stop();
    await other.stop();
  });
  beforeEach(() => {
    arm.seen.length = 0;
    other.seen.length = 0;
    credential = new FixedCredential();
  });

  it('POSTs listClusterUserCredential with the ARM token and decodes the kubeconfig', async () => {
    arm.handler = (_req, res) => sendJson(res, 200, credentialsBody(KUBECONFIG));
    assert.equal(await client().getUserKubeconfig(CLUSTER), KUBECONFIG);
    assert.deepEqual(credential.scopes, [`${arm.url}/.default`]);
    assert.equal(arm.seen.length, 1);
    assert.equal(arm.seen[0].method, 'POST');
    assert.equal(arm.seen[0].url, PATH);
    assert.equal(arm.seen[0].authorization, `Bearer ${ARM_TOKEN}`);
    assert.equal(arm.seen[0].body, '');
  });

  it('repeats the read-only POST on 503 and 429', async () => {
    let n = 0;
    arm.handler = (_req, res) => (++n === 1 ? sendJson(res, 503, {}) : n === 2 ? sendJson(res, 429, {}, { 'Retry-After': '0' }) : sendJson(res, 200, credentialsBody(KUBECONFIG)));
    assert.equal(await client().getUserKubeconfig(CLUSTER), KUBECONFIG);
    assert.equal(arm.seen.length, 3);
  });

  it('names the cluster, group and subscription on 404, without retrying', async () => {
    arm.handler = (_req, res) => sendJson(res, 404, { error: { code: 'ResourceNotFound', message: "The Resource 'Microsoft.ContainerService/managedClusters/aks-1' was not found." } });
    await assert.rejects(client().getUserKubeconfig(CLUSTER), (e: unknown) => {
      assert.ok(e instanceof ServiceError);
      assert.equal(e.status, 404);
      assert.match(e.message, /failed with HTTP 404: ResourceNotFound: The Resource .* was not found\. Check aksCluster and aksResourceGroup: there is no AKS cluster 'aks-1' in resource group 'rg-1' of subscription sub-1/);
      return true;
    });
    assert.equal(arm.seen.length, 1);
  });

  /** What a failed listClusterUserCredential says to check, by ARM's status and error code. */
  const failures: { what: string; status: number; code?: string; hint: RegExp | undefined }[] = [
    { what: 'a missing resource group', status: 404, code: 'ResourceGroupNotFound', hint: /Check aksResourceGroup: subscription sub-1 of the service connection has no resource group 'rg-1'$/ },
    { what: 'a missing subscription', status: 404, code: 'SubscriptionNotFound', hint: /Check the service connection: subscription sub-1 was not found in this cloud$/ },
    { what: 'a missing role', status: 403, code: 'AuthorizationFailed', hint: /Grant the service connection's identity the role "Azure Kubernetes Service Cluster User Role" on cluster 'aks-1' \(or its resource group\)/ },
    { what: 'a rejected token', status: 401, code: 'InvalidAuthenticationToken', hint: /127\.0\.0\.1:\d+ rejected the token: check that the service connection's tenant is the subscription's tenant$/ },
    { what: 'a server error', status: 500, code: 'InternalServerError', hint: undefined },
  ];
  for (const f of failures) {
    it(`says what to check for ${f.what} (HTTP ${f.status}${f.code ? ` ${f.code}` : ''})${f.hint ? '' : ': nothing'}`, async () => {
      arm.handler = (_req, res) => sendJson(res, f.status, { error: { code: f.code, message: 'The request failed.' } });
      await assert.rejects(client().getUserKubeconfig(CLUSTER), (e: unknown) => {
        assert.ok(e instanceof ServiceError);
        assert.equal(e.status, f.status);
        const afterServiceMessage = e.message.split(`${f.code}: The request failed`)[1] ?? assert.fail(e.message);
        if (f.hint) assert.match(afterServiceMessage, f.hint);
        else assert.doesNotMatch(afterServiceMessage, /Check|Grant/);
        return true;
      });
    });
  }

  it('says to check that the agent can reach ARM when it gets no answer', async () => {
    arm.handler = (req) => req.socket.destroy();
    await assert.rejects(client().getUserKubeconfig(CLUSTER), (e: unknown) => {
      assert.ok(e instanceof ServiceError);
      assert.equal(e.status, undefined);
      assert.match(e.message, /Check that the agent can reach 127\.0\.0\.1:\d+ \(proxy settings, firewall\)/);
      return true;
    });
  });

  it('never follows a redirect: the ARM token does not reach the other host', async () => {
    arm.handler = (_req, res) => (res.writeHead(302, { Location: `${other.url}/steal?code=1` }), res.end());
    await assert.rejects(client().getUserKubeconfig(CLUSTER), (e: unknown) => {
      assert.ok(e instanceof ServiceError);
      assert.equal(e.status, 302);
      assert.match(e.message, new RegExp(`redirect to ${other.url}/steal\\. The Azure token is never sent to a redirect target`));
      return true;
    });
    assert.equal(other.seen.length, 0);
    assert.equal(arm.seen.length, 1);
  });

  it('ends an answer that trickles in at the total timeout', { timeout: 20_000 }, async () => {
    arm.handler = (_req, res) => arm.trickle(res, 200, 20);
    await assert.rejects(client({ timeoutInMs: 200 }).getUserKubeconfig(CLUSTER), (e: unknown) => {
      assert.ok(e instanceof ServiceError);
      assert.equal(e.attempts, 4);
      assert.match(e.message, /no complete answer from 127\.0\.0\.1:\d+ within 0\.2 s .*Check that the agent can reach 127\.0\.0\.1:\d+/);
      return true;
    });
  });

  it('refuses an answer over the size limit', async () => {
    arm.handler = (_req, res) => sendJson(res, 200, credentialsBody('x'.repeat(100_000)));
    await assert.rejects(client({ maxResponseBytes: 10_000 }).getUserKubeconfig(CLUSTER), /is larger than 9\.8 KiB/);
    assert.equal(arm.seen.length, 1);
  });

  it('masks the ARM token in an error body that echoes it', async () => {
    arm.handler = (req, res) => sendJson(res, 400, { error: { code: 'BadRequest', message: `bad header ${req.headers.authorization}` } });
    await assert.rejects(client().getUserKubeconfig(CLUSTER), (e: unknown) => e instanceof ServiceError && !e.message.includes(ARM_TOKEN) && /bad header Bearer \*\*\*/.test(e.message));
  });
});
