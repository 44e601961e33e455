import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ServiceError } from '../../tasks/common/errors/errors';
import { AKS_SERVER_APP_ID, kubeconfigSecrets, parseKubeconfig, renderKubeconfig } from '../../tasks/common/aks/kubeconfig';

const LOCAL = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0E=
    server: https://aks-dns-1.hcp.westeurope.azmk8s.io:443
  name: aks
- cluster:
    server: https://other:443
  name: other
contexts:
- context:
    cluster: aks
    user: clusterUser_rg_aks
  name: aks
current-context: aks
kind: Config
users:
- name: clusterUser_rg_aks
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZLXNlY3JldC1rZXk=
    token: 0123456789abcdef0123456789abcdef
`;

const entra = (user: string): string => LOCAL.replace(/users:[\s\S]*$/, `users:\n- name: clusterUser_rg_aks\n  user:\n${user}`);

const EXEC = entra(`    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - get-token
      - --server-id
      - 11111111-2222-4333-8444-555555555555
      - --login
      - devicecode
      command: kubelogin
`);

describe('AKS kubeconfig', () => {
  it('reads the current context of a local-account kubeconfig and keeps its user as is', () => {
    const k = parseKubeconfig(LOCAL);
    assert.equal(k.server.host, 'aks-dns-1.hcp.westeurope.azmk8s.io');
    assert.deepEqual(k.auth, { kind: 'local' });
    assert.deepEqual(kubeconfigSecrets(k).sort(), ['0123456789abcdef0123456789abcdef', 'S0VZLXNlY3JldC1rZXk='].sort());
    const out = parse(renderKubeconfig(k)) as Record<string, any>;
    assert.equal(out['current-context'], 'aks');
    assert.equal(out.clusters.length, 1, 'only the cluster of the current context');
    assert.equal(out.users[0].user['client-key-data'], 'S0VZLXNlY3JldC1rZXk=');
    assert.equal(out.contexts[0].context.namespace, undefined);
  });

  it('recognises kubelogin (exec) and the old azure auth provider as Entra ID, with the server id', () => {
    assert.deepEqual(parseKubeconfig(EXEC).auth, { kind: 'entra', serverId: '11111111-2222-4333-8444-555555555555' });
    const noId = entra('    exec:\n      command: /usr/local/bin/kubelogin\n      args: [get-token]\n');
    assert.deepEqual(parseKubeconfig(noId).auth, { kind: 'entra', serverId: AKS_SERVER_APP_ID });
    const windows = entra('    exec:\n      command: C:\\\\tools\\\\kubelogin.exe\n      args: ["--server-id=6dae42f8-4368-4678-94ff-3960e28e3630"]\n');
    assert.deepEqual(parseKubeconfig(windows).auth, { kind: 'entra', serverId: AKS_SERVER_APP_ID });
    const provider = entra('    auth-provider:\n      name: azure\n      config:\n        apiserver-id: 6dae42f8-4368-4678-94ff-3960e28e3630\n        client-id: x\n');
    assert.deepEqual(parseKubeconfig(provider).auth, { kind: 'entra', serverId: AKS_SERVER_APP_ID });
    assert.equal(parseKubeconfig(entra('    exec:\n      command: aws-iam-authenticator\n')).auth.kind, 'unsupported');
  });

  it('replaces an Entra user with the bearer token and adds the proxy, so kubectl needs no plugin', () => {
    const text = renderKubeconfig(parseKubeconfig(EXEC), { token: 'eyJ.token.sig', proxyUrl: 'http://proxy:8888' });
    const out = parse(text) as Record<string, any>;
    assert.deepEqual(out.users[0].user, { token: 'eyJ.token.sig' });
    assert.equal(out.clusters[0].cluster['proxy-url'], 'http://proxy:8888');
    assert.equal(out.clusters[0].cluster['certificate-authority-data'], 'Q0E=');
    assert.ok(!text.includes('kubelogin'));
  });

  it('writes long base64 values on one line', () => {
    const long = 'A'.repeat(3000);
    const text = renderKubeconfig(parseKubeconfig(LOCAL.replace('S0VZLXNlY3JldC1rZXk=', long)));
    assert.ok(text.split('\n').some((l) => l.endsWith(long)));
  });

  it('says what is missing in a broken kubeconfig', () => {
    assert.throws(() => parseKubeconfig(': : :'), (e: unknown) => e instanceof ServiceError && /^Azure Resource Manager: reading the cluster user kubeconfig failed: not YAML/.test(e.message));
    assert.throws(() => parseKubeconfig(LOCAL.replace('current-context: aks', 'current-context: nope')), /no context named 'nope'/);
    assert.throws(() => parseKubeconfig(LOCAL.replace('    user: clusterUser_rg_aks', '    user: ghost')), /no user named 'ghost'/);
    assert.throws(() => parseKubeconfig(LOCAL.replace('server: https://aks-dns-1.hcp.westeurope.azmk8s.io:443', 'server: ""')), /no valid server URL/);
  });
});
