/**
 * `resolveVvpAccess` with `accessMode: aksPortForward` in the test process: a canned AKS
 * kubeconfig, the fake kubectl already in a tool cache (with its recorded SHA-256), and a local
 * HTTP server behind the tunnel. What the VVP client gets: the loopback base URL, and a signal
 * that fires when the tunnel is lost for good.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ServiceError } from '../../tasks/common/errors/errors';
import { resolveCloud } from '../../tasks/common/azure/cloud';
import { NetworkAgents } from '../../tasks/common/http/network';
import { DIRECT } from '../support/direct-network';
import { kubectlPlatform } from '../../tasks/common/kubectl/kubectl-release';
import { MemoryLogger } from '../support/memory-logger';
import { resolveVvpAccess, type AccessDeps } from '../../tasks/VvpDeploy/VvpDeployV1/access';
import type { DeployConfig } from '../../tasks/VvpDeploy/VvpDeployV1/inputs';
import { deployConfig } from '../deploy/deploy-config';
import { readRecords, setBehaviour, writeFakeKubectl, type FakeKubectlBehaviour } from './fake-kubectl';

const skip = process.platform === 'win32' ? 'the fake kubectl is a shebang script' : false;

const KUBECONFIG = `apiVersion: v1
clusters:
- cluster:
    server: https://aks-dns-1.hcp.westeurope.azmk8s.io:443
  name: aks
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
    token: 0123456789abcdef0123456789abcdef
`;

describe('VVP access through a port-forward into AKS', { skip }, () => {
  let work: string;
  let behaviourFile: string;
  let recordDir: string;
  let backend: http.Server;
  let target: string;
  const platform = kubectlPlatform(process.platform, process.arch);

  const behave = (b: Partial<FakeKubectlBehaviour> = {}): void =>
    setBehaviour(behaviourFile, { version: 'v1.34.2', target, services: ['vvp/vvp-ververica-platform:80'], mode: 'ok', recordDir, ...b });

  const config: DeployConfig = deployConfig({
    azureSubscription: 'arm-connection',
    keyVaultName: '',
    deployment: 'app',
    jarUri: 'wasbs://c@a.blob.core.windows.net/app.jar',
    timeoutInMs: 60_000,
    pollIntervalInMs: 1000,
    access: {
      token: { kind: 'serviceConnection', connection: 'vvp-connection' },
      portForward: {
        resourceGroup: 'rg',
        cluster: 'aks',
        kubernetesNamespace: 'vvp',
        serviceName: 'vvp-ververica-platform',
        servicePort: 80,
        kubectlVersion: '1.34.2',
        kubectlDownloadUrl: new URL('https://dl.k8s.io'),
      },
    },
  });


  const deps = (toolsDir: string, logger: MemoryLogger): AccessDeps => ({
    azure: () => ({
      connection: { name: 'arm-connection', scheme: 'ServicePrincipal', authenticationType: 'spnKey', tenantId: 't', clientId: 'c', clientSecret: 's', subscriptionId: 'sub-1', cloud: resolveCloud({}) },
      credential: { getToken: async () => assert.fail('no token is needed for a local-account cluster') },
    }),
    readVvpConnection: (urlRules) => {
      // The tunnel gives the address: the connection's URL is not needed.
      assert.deepEqual(urlRules, { allowInsecureHttp: false, required: false });
      return { id: 'vvp-connection', token: 'vvp-api-token-for-tunnel' };
    },
    agents: new NetworkAgents(DIRECT),
    toolCache: {
      find: (tool, version, arch) => {
        const dir = path.join(toolsDir, tool, version, arch);
        return fs.existsSync(`${dir}.complete`) ? dir : undefined;
      },
      download: async () => assert.fail('kubectl is in the tool cache'),
      cacheFile: async () => assert.fail('kubectl is in the tool cache'),
    },
    tempDirectory: path.join(work, 'temp'),
    registerSecret: () => undefined,
    logger,
    clusters: { getUserKubeconfig: async () => KUBECONFIG, getServerToken: async () => assert.fail('local account') },
  });

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'access-tunnel-'));
    fs.mkdirSync(path.join(work, 'temp'));
    behaviourFile = path.join(work, 'behaviour.json');
    recordDir = path.join(work, 'records');
    backend = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    target = `127.0.0.1:${(backend.address() as AddressInfo).port}`;
  });
  after(async () => {
    backend.closeAllConnections();
    await new Promise((r) => backend.close(r));
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('hands the VVP client a signal that fires with the cluster and kubectl\'s error once the tunnel is lost', async () => {
    behave();
    const toolsDir = path.join(work, 'tools');
    const dir = path.join(toolsDir, 'kubectl', '1.34.2', process.arch);
    const binary = writeFakeKubectl(path.join(dir, platform.executable), behaviourFile);
    fs.writeFileSync(path.join(dir, `${platform.executable}.sha256`), `${createHash('sha256').update(binary).digest('hex')}  kubectl\n`);
    fs.writeFileSync(`${dir}.complete`, '');

    const logger = new MemoryLogger();
    const access = await resolveVvpAccess(config, deps(toolsDir, logger));
    try {
      assert.match(access.baseUrl.href, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const lost = access.connectionLost;
      assert.ok(lost, 'a tunnel comes with a connectionLost signal');
      assert.equal(lost.aborted, false);
      const reason = new Promise<unknown>((resolve) => lost.addEventListener('abort', () => resolve(lost.reason)));
      const first = readRecords(recordDir).find((r) => r.command === 'port-forward')!;
      behave({ mode: 'unreachable' });
      process.kill(first.pid, 'SIGUSR2');
      const error = await reason;
      assert.ok(error instanceof ServiceError);
      assert.match(
        error.message,
        /^kubectl port-forward: keeping the tunnel to service vvp\/vvp-ververica-platform:80 in AKS cluster 'aks' \(resource group 'rg'\) open failed: the tunnel was lost: Unable to connect to the server: dial tcp: lookup aks-dns-1\.hcp\.westeurope\.azmk8s\.io .*no such host\. VVP calls through 127\.0\.0\.1:\d+ were stopped/,
      );
    } finally {
      await access.dispose();
    }
  });

  it('has no connectionLost signal for direct access', async () => {
    const direct = { ...config, vvpUrl: new URL('https://vvp.example.com'), access: { token: config.access.token } };
    const access = await resolveVvpAccess(direct, deps(path.join(work, 'no-tools'), new MemoryLogger()));
    assert.equal(access.connectionLost, undefined);
    await access.dispose();
  });
});
