import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../tasks/common/errors/errors';
import { parseDeployInputs } from '../../tasks/VvpDeploy/VvpDeployV1/inputs';

const JAR = 'wasbs://vvp@acct.blob.core.windows.net/artifacts/namespaces/default/app.jar';
const BASE: Record<string, string> = { deployment: 'top-speed-windowing', jarUri: JAR, commitId: '' };
const PORT_FORWARD = { accessMode: 'aksPortForward', aksResourceGroup: 'rg-vvp', aksCluster: 'aks-vvp' };
const context = {
  readVariable: () => undefined,
  readTextFile: (): string => {
    throw new Error('no files');
  },
  readFile: (): Uint8Array => {
    throw new Error('no files');
  },
  isDirectory: () => false,
};

const parse = (inputs: Record<string, string | undefined>) => parseDeployInputs((name) => inputs[name], context);
function problems(inputs: Record<string, string | undefined>): string[] {
  try {
    parse(inputs);
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return e.problems.map((p) => `${p.input}: ${p.expected}`);
  }
  assert.fail('expected an InputError');
}

describe('VvpDeploy@1 token source and access mode inputs', () => {
  it('port-forward with Key Vault needs no vvpUrl and fills the documented defaults', () => {
    const c = parse({ ...BASE, ...PORT_FORWARD, azureSubscription: 'arm', keyVaultName: 'my-keyvault' });
    assert.equal(c.vvpUrl, undefined);
    assert.deepEqual(c.access.token, { kind: 'keyVault' });
    const pf = c.access.portForward!;
    assert.deepEqual(
      { ...pf, kubectlDownloadUrl: pf.kubectlDownloadUrl.href },
      {
        resourceGroup: 'rg-vvp',
        cluster: 'aks-vvp',
        kubernetesNamespace: 'vvp',
        serviceName: 'vvp-ververica-platform',
        servicePort: 80,
        kubectlVersion: '1.34.2',
        kubectlDownloadUrl: 'https://dl.k8s.io/',
      },
    );
  });

  it('a service connection replaces Key Vault and the AzureRM connection, and may keep vvpUrl as an override', () => {
    const c = parse({ ...BASE, tokenSource: 'serviceConnection', vvpServiceConnection: 'c0ffee00-0000-4000-8000-000000000001' });
    assert.deepEqual(c.access, { token: { kind: 'serviceConnection', connection: 'c0ffee00-0000-4000-8000-000000000001' } });
    assert.equal(c.azureSubscription, '');
    assert.equal(c.keyVaultName, '');
    assert.equal(c.vvpUrl, undefined);
    const withUrl = parse({ ...BASE, tokenSource: 'serviceConnection', vvpServiceConnection: 'x', vvpUrl: 'https://vvp.example.com/' });
    assert.equal(withUrl.vvpUrl?.href, 'https://vvp.example.com/');
  });

  it('port-forward still needs the AzureRM connection with a service connection token (it gets the cluster credentials)', () => {
    assert.deepEqual(
      problems({ ...BASE, ...PORT_FORWARD, tokenSource: 'serviceConnection', vvpServiceConnection: 'x' }).map((p) => p.split(':')[0]),
      ['azureSubscription'],
    );
  });

  it('lists every bad port-forward input with the accepted form', () => {
    const p = problems({
      ...BASE,
      azureSubscription: 'arm',
      keyVaultName: 'my-keyvault',
      accessMode: 'aksPortForward',
      aksResourceGroup: 'rg.',
      aksCluster: '-aks',
      kubernetesNamespace: 'VVP',
      vvpServiceName: '9svc',
      vvpServicePort: '70000',
      kubectlVersion: 'latest',
      kubectlDownloadUrl: 'http://mirror.example.com',
    });
    assert.deepEqual(p.map((x) => x.split(':')[0]), [
      'aksResourceGroup',
      'aksCluster',
      'kubernetesNamespace',
      'vvpServiceName',
      'vvpServicePort',
      'kubectlVersion',
      'kubectlDownloadUrl',
    ]);
    assert.match(p.join('\n'), /kubectlVersion: an exact kubectl release such as 1\.34\.2/);
    assert.match(p.join('\n'), /kubectlDownloadUrl: an https:\/\/ URL/);
  });

  it('accepts a v-prefixed kubectl version and a mirror with a path', () => {
    const c = parse({ ...BASE, ...PORT_FORWARD, azureSubscription: 'arm', keyVaultName: 'kv1', kubectlVersion: 'v1.33.4', kubectlDownloadUrl: 'https://mirror.example.com/k8s' });
    assert.equal(c.access.portForward?.kubectlVersion, '1.33.4');
    assert.equal(c.access.portForward?.kubectlDownloadUrl.href, 'https://mirror.example.com/k8s');
  });

  it('ignores the port-forward inputs in direct mode (their task.json defaults are always sent)', () => {
    const c = parse({ ...BASE, azureSubscription: 'arm', keyVaultName: 'kv1', vvpUrl: 'https://vvp.example.com', kubectlVersion: 'nonsense', aksCluster: '-' });
    assert.equal(c.access.portForward, undefined);
  });
});
