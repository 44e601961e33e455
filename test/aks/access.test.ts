import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NetworkAgents } from '../../tasks/common/http/network';
import { DIRECT } from '../support/direct-network';
import { MemoryLogger } from '../support/memory-logger';
import { resolveVvpAccess, type AccessDeps } from '../../tasks/VvpDeploy/VvpDeployV1/access';
import { checkConnectionUrl, type ConnectionUrlRules } from '../../tasks/common/vvp/service-connection';
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

function deps(url: string | undefined, registered: string[], asked: ConnectionUrlRules[] = []): AccessDeps {
  const fail = (what: string) => (): never => assert.fail(`${what} must not be used`);
  return {
    azure: fail('the AzureRM connection'),
    readVvpConnection: (urlRules) => {
      asked.push(urlRules);
      return { id: 'conn-1', url: url === undefined ? undefined : new URL(url), token: 'token-from-connection' };
    },
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

  it('asks the reader for a required URL with the allowInsecureHttp rule when nothing else gives the address', async () => {
    const asked: ConnectionUrlRules[] = [];
    await resolveVvpAccess(config({ allowInsecureHttp: true }), deps('http://vvp.internal', [], asked));
    await resolveVvpAccess(config({}), deps('https://vvp.example.com', [], asked));
    assert.deepEqual(asked, [
      { allowInsecureHttp: true, required: true },
      { allowInsecureHttp: false, required: true },
    ]);
  });

  it('asks the reader for an optional URL when vvpUrl gives the address', async () => {
    const asked: ConnectionUrlRules[] = [];
    await resolveVvpAccess(config({ vvpUrl: new URL('https://other.example.com') }), deps(undefined, [], asked));
    assert.deepEqual(asked, [{ allowInsecureHttp: false, required: false }]);
  });
});

describe('checkConnectionUrl (the Server URL of a Ververica Platform service connection)', () => {
  it('applies the vvpUrl rules and drops trailing slashes of the path', () => {
    assert.equal(checkConnectionUrl('https://vvp.example.com/vvp/', false).url?.href, 'https://vvp.example.com/vvp');
    assert.equal(checkConnectionUrl('http://127.0.0.1:8080', false).url?.href, 'http://127.0.0.1:8080/');
    assert.equal(checkConnectionUrl('http://vvp.internal', true).url?.href, 'http://vvp.internal/');
    for (const bad of ['http://vvp.internal', 'https://u:p@vvp.example.com', 'https://vvp.example.com/?x=1', 'vvp.example.com']) {
      const checked = checkConnectionUrl(bad, false);
      assert.equal(checked.url, undefined, bad);
      assert.ok(checked.problem?.value, `${bad} is quoted`);
    }
  });

  it('states the accepted form of each broken rule, quoting the URL as the agent normalises it', () => {
    assert.deepEqual(checkConnectionUrl('http://vvp.internal', false).problem, {
      value: 'http://vvp.internal/',
      expected: 'an https:// URL (http:// only for 127.0.0.1, localhost or ::1, or with allowInsecureHttp: true): the API token must not travel in clear text',
    });
    assert.deepEqual(checkConnectionUrl('https://u:p@vvp.example.com', false).problem, { value: 'https://***@vvp.example.com/', expected: 'a URL without credentials' });
    assert.deepEqual(checkConnectionUrl('https://vvp.example.com/?x=1', false).problem, { value: 'https://vvp.example.com/?***', expected: 'the base URL only, without ?query or #fragment' });
    assert.deepEqual(checkConnectionUrl('vvp.example.com', false).problem, { value: 'vvp.example.com', expected: 'an absolute URL such as https://vvp.example.com' });
  });

  it('reports a missing URL without a value to quote', () => {
    for (const missing of [undefined, '', '   ']) assert.deepEqual(checkConnectionUrl(missing, false).problem, { expected: 'set' });
  });
});
