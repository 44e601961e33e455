import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { armHint } from '../../tasks/common/aks/managed-cluster-client';
import { InputError } from '../../tasks/common/errors/errors';
import { NetworkAgents } from '../../tasks/common/http/network';
import { DIRECT } from '../support/direct-network';
import { MemoryLogger } from '../support/memory-logger';
import { connectionUrlOf, resolveVvpAccess, type AccessDeps } from '../../tasks/VvpDeploy/VvpDeployV1/access';
import type { DeployConfig } from '../../tasks/VvpDeploy/VvpDeployV1/inputs';
import { deployConfig } from '../deploy/deploy-config';

const config = (over: Partial<DeployConfig>): DeployConfig =>
  deployConfig({
    azureSubscription: '',
    keyVaultName: '',
    deployment: 'app',
    jarUri: 'wasbs://c@a.blob.core.windows.net/app.jar',
    timeoutInMs: 60_000,
    pollIntervalInMs: 1000,
    access: { token: { kind: 'serviceConnection', connection: 'conn-1' } },
    ...over,
  });

function deps(url: string | undefined, registered: string[]): AccessDeps {
  const fail = (what: string) => (): never => assert.fail(`${what} must not be used`);
  return {
    azure: fail('the AzureRM connection'),
    readVvpConnection: () => ({ id: 'conn-1', url, token: 'token-from-connection' }),
    agents: new NetworkAgents(DIRECT),
    toolCache: { find: fail('the tool cache'), download: fail('the tool cache'), cacheFile: fail('the tool cache') },
    tempDirectory: '/nonexistent',
    registerSecret: (v) => registered.push(v),
    logger: new MemoryLogger(),
    secrets: { getSecret: fail('Key Vault') },
  };
}

describe('VVP access with a Ververica Platform service connection', () => {
  it('takes URL and token from the connection, registers the token, and reads no AzureRM connection or Key Vault', async () => {
    const registered: string[] = [];
    const access = await resolveVvpAccess(config({}), deps('https://vvp.example.com/', registered));
    assert.equal(access.baseUrl.href, 'https://vvp.example.com/');
    assert.equal(access.token, 'token-from-connection');
    assert.deepEqual(registered, ['token-from-connection']);
    assert.equal(access.tokenSource, "the API token of Ververica Platform service connection 'conn-1'");
    await access.dispose();
  });

  it('lets vvpUrl override the URL, even when the connection has none', async () => {
    const access = await resolveVvpAccess(config({ vvpUrl: new URL('https://other.example.com') }), deps(undefined, []));
    assert.equal(access.baseUrl.href, 'https://other.example.com/');
  });

  it('refuses a connection without a usable URL when nothing else gives one', async () => {
    await assert.rejects(resolveVvpAccess(config({}), deps(undefined, [])), /input 'vvpServiceConnection' 'conn-1': a connection whose Server URL is set/);
  });

  it('applies the vvpUrl rules to the connection URL', () => {
    const c = (url: string) => ({ id: 'c', url, token: 't' });
    assert.equal(connectionUrlOf(c('https://vvp.example.com/vvp/'), false, true)?.href, 'https://vvp.example.com/vvp');
    assert.equal(connectionUrlOf(c('http://127.0.0.1:8080'), false, true)?.href, 'http://127.0.0.1:8080/');
    assert.equal(connectionUrlOf(c('http://vvp.internal'), true, true)?.href, 'http://vvp.internal/');
    for (const bad of ['http://vvp.internal', 'https://u:p@vvp.example.com', 'https://vvp.example.com/?x=1', 'vvp.example.com']) {
      assert.throws(() => connectionUrlOf(c(bad), false, true), InputError, bad);
      assert.equal(connectionUrlOf(c(bad), false, false), undefined, 'ignored when not needed');
    }
  });
});

describe('listClusterUserCredential failures', () => {
  const cluster = { subscriptionId: 'sub-1', resourceGroup: 'rg', name: 'aks' };
  it('say what to check for each status', () => {
    assert.match(armHint(404, 'ResourceNotFound', cluster, 'management.azure.com') ?? '', /Check aksCluster and aksResourceGroup: there is no AKS cluster 'aks' in resource group 'rg' of subscription sub-1/);
    assert.match(armHint(404, 'ResourceGroupNotFound', cluster, 'management.azure.com') ?? '', /Check aksResourceGroup/);
    assert.match(armHint(403, 'AuthorizationFailed', cluster, 'management.azure.com') ?? '', /the role "Azure Kubernetes Service Cluster User Role" on cluster 'aks'/);
    assert.match(armHint(undefined, undefined, cluster, 'management.azure.com') ?? '', /reach management\.azure\.com/);
    assert.equal(armHint(500, undefined, cluster, 'management.azure.com'), undefined);
  });
});
