/**
 * VvpDeploy@1 with `accessMode: aksPortForward`, the bundled task run as the agent runs it,
 * through the offline rig: the ARM fake at management.azure.com hands out the cluster
 * kubeconfig, a fake kubectl release is served at dl.k8s.io (with its .sha256), tool-lib
 * downloads it through the agent proxy with the agent CA into a per-file tool cache, and the
 * fake kubectl forwards the tunnel to the VVP simulator.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kubectlDownload, kubectlPlatform } from '../../tasks/common/kubectl/kubectl-release';
import { bundledTaskDir } from '../rig/bundles';
import { isProcessAlive } from '../rig/child-processes';
import { RIG_DEFAULTS as D, type ManagedClusterConfig } from '../rig/config';
import { AKS_SERVER_APP_ID, localAccountSecrets } from '../rig/fakes/resource-manager';
import { startRig, type Rig } from '../rig/rig';
import { runTask, type RunTaskOptions, type TaskRunResult } from '../rig/run-task';
import { assertNoSecretLeak } from '../rig/secret-scan';
import { azureRmEndpoint, tokenEndpoint } from '../rig/service-endpoints';
import { startSimulator, type RunningSimulator } from '../vvp-simulator/client';
import { clearRecords, readRecords, setBehaviour, writeFakeKubectl, type FakeKubectlBehaviour } from './fake-kubectl';

const skip = process.platform === 'win32' ? 'the fake kubectl is a shebang script (Windows naming is unit-tested)' : false;

const JAR = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing.jar';
const RG = 'rg-vvp';
const CLUSTERS: ManagedClusterConfig[] = [
  { subscriptionId: D.subscriptionId, resourceGroup: RG, name: 'aks-local', kubeconfig: 'local' },
  { subscriptionId: D.subscriptionId, resourceGroup: RG, name: 'aks-entra', kubeconfig: 'entra' },
  { subscriptionId: D.subscriptionId, resourceGroup: RG, name: 'aks-locked', kubeconfig: 'local', deniedClientIds: [D.clientId] },
];
const FAST = { staleRunningMs: 150, savepointMs: 100, terminateMs: 100, startMs: 200 };

describe('VvpDeploy@1 through a kubectl port-forward into AKS (bundled task, rig)', { skip }, () => {
  let rig: Rig;
  let sim: RunningSimulator;
  let taskDir: string;
  let work: string;
  let toolsDir: string;
  let recordDir: string;
  let behaviourFile: string;
  let counter = 0;
  const target = kubectlPlatform(process.platform, process.arch);
  const release = (version: string) => kubectlDownload('https://dl.k8s.io', version, target);

  const behave = (b: Partial<FakeKubectlBehaviour> = {}): void => {
    clearRecords(recordDir);
    setBehaviour(behaviourFile, { version: 'v1.34.2', target: `127.0.0.1:${sim.port}`, services: ['vvp/vvp-ververica-platform:80'], mode: 'ok', recordDir, ...b });
  };
  const seed = async (): Promise<string> => {
    const name = `aks-job-${++counter}`;
    await sim.control.seedDeployment({ name, jarUri: `${JAR}?commit=0000000`, behaviour: FAST });
    return name;
  };
  const run = async (inputs: RunTaskOptions['inputs'], more: Partial<RunTaskOptions> = {}): Promise<TaskRunResult> => {
    const arm = azureRmEndpoint({ scheme: 'ServicePrincipal' });
    const { endpoints, ...rest } = more;
    return runTask({
      taskDir,
      timeoutMs: 30_000,
      env: rig.env('agent'),
      endpoints: [arm, ...(endpoints ?? [])],
      variables: { 'Agent.ToolsDirectory': toolsDir, 'Build.SourceVersion': 'feedface' },
      ...rest,
      inputs: {
        azureSubscription: arm.id,
        keyVaultName: D.vaultName,
        accessMode: 'aksPortForward',
        aksResourceGroup: RG,
        aksCluster: 'aks-local',
        namespace: 'default',
        jarUri: JAR,
        timeoutMinutes: 1,
        pollIntervalSeconds: 1,
        ...inputs,
      },
    });
  };
  const until = async <T>(probe: () => T | undefined, timeoutInMs = 15_000): Promise<T> => {
    const end = Date.now() + timeoutInMs;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (Date.now() > end) assert.fail('condition not met in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const explain = (r: TaskRunResult): string => `${r.result}: ${r.message}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`;
  const downloadsSince = async (since: number) => rig.control.requests({ since, host: 'dl.k8s.io', scheme: 'https' });
  const assertKubectlGone = (): void => {
    const records = readRecords(recordDir).filter((r) => r.command === 'port-forward');
    assert.ok(records.length > 0, 'kubectl port-forward ran');
    for (const r of records) assert.equal(isProcessAlive(r.pid), false, `kubectl ${r.pid} is still running`);
  };
  const allSecrets = async (): Promise<string[]> => {
    const local = localAccountSecrets({ name: 'aks-local', resourceGroup: RG });
    return [D.clientSecret, D.vvpApiToken, local.token, local.clientKeyData, ...(await rig.control.tokens()).map((t) => t.token)];
  };

  before(async () => {
    taskDir = bundledTaskDir('VvpDeploy');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'aks-e2e-'));
    toolsDir = path.join(work, 'tools');
    recordDir = path.join(work, 'records');
    behaviourFile = path.join(work, 'behaviour.json');
    const site = path.join(work, 'dl.k8s.io');
    // The published release, and a v1.33.9 whose binary does not match its published SHA-256.
    const binary = writeFakeKubectl(path.join(site, new URL(release('1.34.2').binaryUrl).pathname), behaviourFile);
    fs.writeFileSync(path.join(site, new URL(release('1.34.2').sha256Url).pathname), createHash('sha256').update(binary).digest('hex'));
    writeFakeKubectl(path.join(site, new URL(release('1.33.9').binaryUrl).pathname), behaviourFile);
    fs.appendFileSync(path.join(site, new URL(release('1.33.9').binaryUrl).pathname), '// tampered on the way\n');
    fs.writeFileSync(path.join(site, new URL(release('1.33.9').sha256Url).pathname), createHash('sha256').update(binary).digest('hex'));

    sim = await startSimulator({ tokens: [{ token: D.vvpApiToken, namespace: 'default', role: 'editor' }] });
    rig = await startRig({ config: { managedClusters: CLUSTERS, staticSites: [{ host: 'dl.k8s.io', root: site }] } });
  });
  after(async () => {
    await rig?.stop();
    await sim?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('local-account cluster: downloads and verifies kubectl, caches it, tunnels, deploys, and leaves nothing behind', async () => {
    behave();
    const name = await seed();
    const since = await rig.control.mark();
    const r = await run({ deployment: name }, { keepTempDirs: true });
    // The agent folder is kept to see that the kubeconfig is gone; removed whatever happens.
    const agentRoot = readRecords(recordDir).find((x) => x.kubeconfig)?.kubeconfig?.replace(/[\\/]_temp[\\/][^\\/]+$/, '');
    try {
      assert.equal(r.result, 'Succeeded', explain(r));
      assert.match(r.message ?? '', /runs job/);
      assert.equal((await sim.control.truth('default', name)).runningJob?.jarUri, `${JAR}?commit=feedface`);

      const downloads = await downloadsSince(since);
      assert.deepEqual(downloads.map((d) => `${d.method} ${d.path} ${d.status}`), [
        `GET ${new URL(release('1.34.2').binaryUrl).pathname} 200`,
        `GET ${new URL(release('1.34.2').sha256Url).pathname} 200`,
      ]);
      assert.ok(fs.existsSync(path.join(toolsDir, 'kubectl', '1.34.2', `${process.arch}.complete`)), 'cached in Agent.ToolsDirectory');
      const log = r.logs.join('\n');
      assert.match(log, /Verified kubectl v1\.34\.2: SHA-256 [0-9a-f]{64}/);
      assert.match(log, /local account, API server aks-local-dns-[0-9a-f]+\.hcp\.westeurope\.azmk8s\.io/);
      assert.match(log, /Tunnel closed: kubectl stopped, kubeconfig deleted/);

      const armCalls = await rig.control.requests({ since, host: 'management.azure.com', scheme: 'https' });
      assert.deepEqual(armCalls.map((c) => `${c.method} ${c.path.split('?')[0]} ${c.status}`), [
        `POST /subscriptions/${D.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/aks-local/listClusterUserCredential 200`,
      ]);

      const [pf] = readRecords(recordDir).filter((x) => x.command === 'port-forward');
      assert.ok(pf);
      assert.equal(pf.kubeconfigMode, 0o600, 'the kubeconfig is owner-only');
      assert.equal(pf.userKind, 'token');
      assert.equal(pf.proxyHost, new URL(rig.proxyUrl).host, "kubectl reaches the API server through the agent's proxy");
      assert.ok(pf.kubeconfig && !fs.existsSync(pf.kubeconfig), 'the kubeconfig is deleted');
      assert.equal(path.dirname(pf.kubeconfig), path.join(agentRoot!, '_temp'), 'under Agent.TempDirectory');
      assertKubectlGone();
      assertNoSecretLeak(r, await allSecrets());
    } finally {
      if (agentRoot) fs.rmSync(agentRoot, { recursive: true, force: true });
    }
  });

  it('Entra-integrated cluster: uses the cached kubectl and an AKS API server token instead of kubelogin', async () => {
    behave();
    const name = await seed();
    const since = await rig.control.mark();
    await rig.control.clearRequests();
    const tokensBefore = (await rig.control.tokens()).length;
    const r = await run({ deployment: name, aksCluster: 'aks-entra' });
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.deepEqual(await downloadsSince(since), [], 'no second download');
    assert.match(r.logs.join('\n'), /Using kubectl v1\.34\.2 from the tool cache/);
    assert.match(r.logs.join('\n'), /Microsoft Entra ID, using a token of the service connection .* \(no kubelogin needed\)/);
    const issued = (await rig.control.tokens()).slice(tokensBefore);
    assert.ok(
      issued.some((t) => t.audience === AKS_SERVER_APP_ID && t.clientId === D.clientId),
      `a token for the AKS server app was requested: ${issued.map((t) => t.audience).join(', ')}`,
    );
    const tokenRequests = (await rig.control.requests({ host: 'login.microsoftonline.com', method: 'POST' })).map((q) => q.requestBody ?? '');
    assert.ok(tokenRequests.some((b) => new URLSearchParams(b).get('scope') === `${AKS_SERVER_APP_ID}/.default`), 'scope 6dae42f8-…/.default');
    const [pf] = readRecords(recordDir).filter((x) => x.command === 'port-forward');
    assert.equal(pf?.userKind, 'token');
    assert.equal(pf?.tokenAudience, AKS_SERVER_APP_ID);
    assertKubectlGone();
    assertNoSecretLeak(r, await allSecrets());
  });

  it('refuses a kubectl whose SHA-256 differs from the published one, and caches nothing', async () => {
    behave();
    const r = await run({ deployment: 'never-touched', kubectlVersion: '1.33.9' });
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(r.message ?? '', /^kubectl download: verifying https:\/\/dl\.k8s\.io\/release\/v1\.33\.9\/.*kubectl failed: its SHA-256 is [0-9a-f]{64}, but .*\.sha256 says [0-9a-f]{64}; the file was not used/);
    assert.equal(fs.existsSync(path.join(toolsDir, 'kubectl', '1.33.9', `${process.arch}.complete`)), false);
    assert.deepEqual(readRecords(recordDir), [], 'the tampered binary never ran');
  });

  it('a cluster ARM does not know fails with what to check, before any download', async () => {
    behave();
    const since = await rig.control.mark();
    const r = await run({ deployment: 'x', aksCluster: 'aks-missing', kubectlVersion: '1.30.0' });
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(r.message ?? '', /^Azure Resource Manager: getting the user credentials of AKS cluster 'aks-missing' in resource group 'rg-vvp' failed with HTTP 404: ResourceNotFound: .*Check aksCluster and aksResourceGroup/);
    assert.deepEqual(await downloadsSince(since), []);
  });

  it('names the role to grant when the identity may not list the cluster credentials (403)', async () => {
    behave();
    const r = await run({ deployment: 'x', aksCluster: 'aks-locked' });
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(r.message ?? '', /failed with HTTP 403: AuthorizationFailed: The client '.*' .*listClusterUserCredential\/action.*Grant the service connection's identity the role "Azure Kubernetes Service Cluster User Role" on cluster 'aks-locked'/s);
  });

  it("a failing port-forward fails the step with kubectl's own error, and kubectl is gone", async () => {
    behave({ mode: 'forbidden' });
    const r = await run({ deployment: 'x' });
    assert.equal(r.result, 'Failed', explain(r));
    assert.match(r.message ?? '', /^kubectl port-forward: opening a tunnel to service vvp\/vvp-ververica-platform:80 in AKS cluster 'aks-local' .*failed: Error from server \(Forbidden\): services "vvp-ververica-platform" is forbidden/);
    assert.match(r.message ?? '', /"create" on pods\/portforward/);
    behave();
    const missing = await run({ deployment: 'x', vvpServiceName: 'vvp-missing' });
    assert.equal(missing.result, 'Failed', explain(missing));
    assert.match(missing.message ?? '', /services "vvp-missing" not found\. Check vvpServiceName/);
  });

  it('survives a tunnel that drops while it comes up, with a Ververica Platform connection as token source', async () => {
    behave({ mode: 'dropOnce' });
    const name = await seed();
    const vvpConnection = tokenEndpoint('5e1ec7ed-0000-4000-8000-00000000c0de', 'https://vvp.example.com', D.vvpApiToken);
    const since = await rig.control.mark();
    const r = await run(
      { deployment: name, tokenSource: 'serviceConnection', vvpServiceConnection: vvpConnection.id, keyVaultName: undefined },
      { endpoints: [vvpConnection] },
    );
    assert.equal(r.result, 'Succeeded', explain(r));
    assert.ok(r.warnings.some((w) => /lost connection to pod\. Starting it again on local port \d+/.test(w)), r.warnings.join('\n'));
    assert.equal(readRecords(recordDir).filter((x) => x.command === 'port-forward').length, 2);
    assert.deepEqual(await rig.control.requests({ since, host: /vault\.azure\.net$/ }), [], 'Key Vault is not contacted');
    assertKubectlGone();
    assertNoSecretLeak(r, await allSecrets());
  });

  it('cancellation while waiting for the tunnel stops kubectl and ends the step as cancelled', async () => {
    behave({ mode: 'hang' });
    const running = run({ deployment: 'x' });
    // Cancel once kubectl listens and the task is waiting for an answer through the tunnel; the
    // agent signals the task process, which is kubectl's parent.
    const waiting = await until(() => readRecords(recordDir).find((x) => (x.connections ?? 0) > 0));
    const cancelledAt = Date.now();
    process.kill(waiting.ppid, 'SIGINT');
    const r = await running;
    assert.equal(r.result, 'Cancelled', explain(r));
    assert.match(r.message ?? '', /Cancelled during Open the tunnel to VVP in AKS/);
    assert.ok(Date.now() - cancelledAt < 4000, 'stopped promptly');
    assertKubectlGone();
  });
});
