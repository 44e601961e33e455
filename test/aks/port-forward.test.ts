/**
 * The tunnel against a fake kubectl (a Node script speaking kubectl's output) that forwards to
 * a local HTTP server: real processes, real sockets, no cluster.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ServiceError } from '../../tasks/common/errors/errors';
import { MemoryLogger } from '../support/memory-logger';
import { openPortForward, type PortForward, type PortForwardOptions } from '../../tasks/common/kubectl/port-forward';
import { isProcessAlive } from '../rig/child-processes';
import { clearRecords, readRecords, setBehaviour, writeFakeKubectl, type FakeKubectlBehaviour } from './fake-kubectl';

const skip = process.platform === 'win32' ? 'the fake kubectl is a shebang script' : false;

async function get(url: URL): Promise<number> {
  const res = await fetch(new URL('/api/v1/status', url));
  await res.text();
  return res.status;
}

/** The reason `tunnel.lost` aborts with (fails the test after `timeoutInMs`). */
function lostReason(tunnel: PortForward, timeoutInMs = 15_000): Promise<unknown> {
  if (tunnel.lost.aborted) return Promise.resolve(tunnel.lost.reason);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the tunnel was not marked lost in time')), timeoutInMs);
    tunnel.lost.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(tunnel.lost.reason);
    });
  });
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutInMs = 5000): Promise<void> {
  const end = Date.now() + timeoutInMs;
  while (!(await check())) {
    if (Date.now() > end) assert.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('kubectl port-forward tunnel', { skip }, () => {
  let work: string;
  let kubectl: string;
  let behaviourFile: string;
  let recordDir: string;
  let backend: http.Server;
  let target: string;
  const kubeconfig = (): string => {
    const file = path.join(work, 'kubeconfig.yaml');
    fs.writeFileSync(file, 'apiVersion: v1\nclusters: [{name: c, cluster: {server: "https://aks.example:443"}}]\nusers: [{name: u, user: {token: abc}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n', { mode: 0o600 });
    return file;
  };
  const behave = (b: Partial<FakeKubectlBehaviour>): void =>
    setBehaviour(behaviourFile, { version: 'v1.34.2', target, services: ['vvp/vvp-ververica-platform:80'], mode: 'ok', recordDir, ...b });
  const options = (logger: MemoryLogger, more: Partial<PortForwardOptions> = {}): PortForwardOptions => ({
    kubectlPath: kubectl,
    kubeconfigPath: kubeconfig(),
    namespace: 'vvp',
    service: 'vvp-ververica-platform',
    servicePort: 80,
    description: 'service vvp/vvp-ververica-platform:80 in AKS cluster test',
    logger,
    readyTimeoutInMs: 8000,
    ...more,
  });

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'port-forward-'));
    behaviourFile = path.join(work, 'behaviour.json');
    recordDir = path.join(work, 'records');
    kubectl = path.join(work, 'kubectl');
    writeFakeKubectl(kubectl, behaviourFile);
    backend = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    target = `127.0.0.1:${(backend.address() as AddressInfo).port}`;
  });
  after(async () => {
    backend.closeAllConnections();
    await new Promise((r) => backend.close(r));
    fs.rmSync(work, { recursive: true, force: true });
  });
  beforeEach(() => clearRecords(recordDir));

  it('forwards a free loopback port to the service and stops kubectl on stop()', async () => {
    behave({});
    const logger = new MemoryLogger();
    const tunnel = await openPortForward(options(logger));
    assert.match(tunnel.baseUrl.href, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(await get(tunnel.baseUrl), 200);
    const [record] = readRecords(recordDir);
    assert.deepEqual(record?.args.slice(0, 5), ['port-forward', 'service/vvp-ververica-platform', ':80', '-n', 'vvp']);
    assert.ok(record?.args.includes('--kubeconfig'));
    assert.equal(record?.localPort, tunnel.localPort);
    await tunnel.stop();
    assert.equal(isProcessAlive(record!.pid), false, 'kubectl is gone');
    assert.equal(readRecords(recordDir)[0]?.signal, 'SIGTERM');
    await tunnel.stop();
    assert.match(logger.lines.join('\n'), /Tunnel open: http:\/\/127\.0\.0\.1:\d+ → service vvp\/vvp-ververica-platform:80/);
  });

  it("surfaces kubectl's own error with what to check when RBAC forbids it", async () => {
    behave({ mode: 'forbidden' });
    await assert.rejects(openPortForward(options(new MemoryLogger())), (e: unknown) => {
      assert.ok(e instanceof ServiceError);
      assert.match(e.message, /^kubectl port-forward: opening a tunnel to service vvp\/vvp-ververica-platform:80 in AKS cluster test failed: Error from server \(Forbidden\): services "vvp-ververica-platform" is forbidden: User ".*" cannot get resource "services"/);
      assert.match(e.message, /"create" on pods\/portforward/);
      return true;
    });
  });

  it('names vvpServiceName and kubernetesNamespace when the service does not exist', async () => {
    behave({});
    await assert.rejects(openPortForward(options(new MemoryLogger(), { service: 'nope' })), /services "nope" not found\. Check vvpServiceName \('nope'\) and kubernetesNamespace \('vvp'\)/);
    await assert.rejects(openPortForward(options(new MemoryLogger(), { servicePort: 8080 })), /does not have a service port 8080\. Service 'vvp-ververica-platform' has no port 8080: check vvpServicePort/);
  });

  it('says the API server is unreachable when kubectl cannot connect', async () => {
    behave({ mode: 'unreachable' });
    await assert.rejects(openPortForward(options(new MemoryLogger())), /no such host\. kubectl cannot reach the cluster's API server/);
  });

  it('starts kubectl once more on the same port when it drops before the tunnel answers', async () => {
    behave({ mode: 'dropOnce' });
    const logger = new MemoryLogger();
    const tunnel = await openPortForward(options(logger));
    try {
      assert.equal(await get(tunnel.baseUrl), 200);
      const records = readRecords(recordDir);
      assert.equal(records.length, 2);
      assert.equal(records[1]?.args[2], `${tunnel.localPort}:80`, 'the restart asks for the same local port');
      assert.match(logger.lines.join('\n'), /warning: kubectl port-forward exited \(exit code 1\): .*lost connection to pod\. Starting it again on local port \d+/);
    } finally {
      await tunnel.stop();
    }
  });

  it('restarts once when the tunnel drops later, keeping the base URL', async () => {
    behave({});
    const logger = new MemoryLogger();
    const tunnel = await openPortForward(options(logger));
    try {
      const first = readRecords(recordDir)[0]!;
      process.kill(first.pid, 'SIGKILL');
      await waitUntil(() => readRecords(recordDir).some((r) => r.pid !== first.pid && r.localPort === tunnel.localPort));
      assert.equal(await get(tunnel.baseUrl), 200);
      const second = readRecords(recordDir).find((r) => r.pid !== first.pid)!;
      process.kill(second.pid, 'SIGKILL');
      await waitUntil(() => tunnel.lost.aborted);
      assert.equal(readRecords(recordDir).length, 2, 'only one restart');
      assert.ok(logger.lines.some((l) => /^warning: kubectl port-forward: keeping the tunnel to .* open failed: the tunnel was lost: kubectl ended by signal SIGKILL/.test(l)), logger.lines.join('\n'));
    } finally {
      await tunnel.stop();
    }
  });

  it("marks the tunnel lost with kubectl's error when it drops and cannot be started again", async () => {
    behave({});
    const logger = new MemoryLogger();
    const tunnel = await openPortForward(options(logger));
    try {
      assert.equal(tunnel.lost.aborted, false);
      const first = readRecords(recordDir)[0]!;
      // The pod goes away, and the restart is refused.
      behave({ mode: 'forbidden' });
      process.kill(first.pid, 'SIGUSR2');
      const reason = await lostReason(tunnel);
      assert.ok(reason instanceof ServiceError);
      assert.match(
        reason.message,
        /^kubectl port-forward: keeping the tunnel to service vvp\/vvp-ververica-platform:80 in AKS cluster test open failed: the tunnel was lost: Error from server \(Forbidden\): services "vvp-ververica-platform" is forbidden: .*\. VVP calls through 127\.0\.0\.1:\d+ were stopped, as another process could listen on that port now\. The cluster identity may not port-forward/,
      );
      assert.ok(reason.message.includes(`127.0.0.1:${tunnel.localPort} were stopped`), 'it names the port that is no longer used');
      assert.match(logger.lines.join('\n'), /warning: kubectl port-forward exited \(exit code 1\): .*lost connection to pod\. Starting it again/);
      assert.match(logger.lines.join('\n'), /warning: kubectl port-forward: keeping the tunnel to .* the tunnel was lost: /);
    } finally {
      await tunnel.stop();
    }
  });

  it('marks the tunnel lost at once when kubectl drops and no restart is allowed', async () => {
    behave({});
    const tunnel = await openPortForward(options(new MemoryLogger(), { maxRestarts: 0 }));
    try {
      process.kill(readRecords(recordDir)[0]!.pid, 'SIGUSR2');
      const reason = await lostReason(tunnel);
      assert.ok(reason instanceof ServiceError);
      assert.match(reason.message, /lost: E1122 .*lost connection to pod\. VVP calls through .* were stopped.*\. The service has no running pod to forward to/);
      assert.equal(readRecords(recordDir).length, 1, 'no restart');
    } finally {
      await tunnel.stop();
    }
  });

  it('marks the tunnel lost and stops kubectl when a restart never starts forwarding', async () => {
    behave({});
    const tunnel = await openPortForward(options(new MemoryLogger(), { readyTimeoutInMs: 3000 }));
    try {
      const first = readRecords(recordDir)[0]!;
      behave({ mode: 'stuck' });
      process.kill(first.pid, 'SIGUSR2');
      const reason = await lostReason(tunnel);
      assert.ok(reason instanceof ServiceError);
      assert.match(reason.message, /lost: kubectl did not start forwarding again within 3 s\./);
      const restarted = readRecords(recordDir).find((r) => r.pid !== first.pid);
      assert.ok(restarted);
      await waitUntil(() => !isProcessAlive(restarted.pid));
    } finally {
      await tunnel.stop();
    }
  });

  it('is not marked lost when it is stopped', async () => {
    behave({});
    const tunnel = await openPortForward(options(new MemoryLogger()));
    await tunnel.stop();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(tunnel.lost.aborted, false);
  });

  it('stops kubectl when cancelled while waiting for the tunnel to answer', async () => {
    behave({ mode: 'hang' });
    const controller = new AbortController();
    // Cancel once kubectl listens and the task is waiting for an answer.
    void waitUntil(() => readRecords(recordDir).some((r) => r.connections! > 0), 8000).then(() => controller.abort());
    const opening = openPortForward(options(new MemoryLogger(), { abortSignal: controller.signal }));
    await assert.rejects(opening, (e: unknown) => (e as Error).name === 'AbortError');
    assert.ok(controller.signal.aborted);
    const [record] = readRecords(recordDir);
    assert.ok(record);
    assert.equal(isProcessAlive(record.pid), false, 'kubectl is gone');
  });

  it('gives up after the bound when nothing answers, and stops kubectl', async () => {
    behave({ mode: 'hang' });
    await assert.rejects(
      // The bound leaves the fake kubectl (a Node process) time to start on a loaded machine:
      // at 1.2 s it sometimes had not printed its forwarding line yet, and the other bound fired.
      openPortForward(options(new MemoryLogger(), { readyTimeoutInMs: 3000, probeTimeoutInMs: 300 })),
      /nothing answered through 127\.0\.0\.1:\d+ within 3 s/,
    );
    assert.equal(isProcessAlive(readRecords(recordDir)[0]!.pid), false);
  });

  /** kubectl's error output when it fails before forwarding, and what the failure says to check. */
  const failures: { stderr: string; hint: RegExp | undefined }[] = [
    { stderr: 'error: You must be logged in to the server (Unauthorized)', hint: /The cluster rejected the credentials from listClusterUserCredential/ },
    { stderr: 'Error from server (NotFound): namespaces "vvp" not found', hint: /There is no namespace 'vvp' in the cluster: check kubernetesNamespace/ },
    { stderr: 'error: unable to forward port because pod is not running. Current status=Pending', hint: /The service has no running pod to forward to/ },
    { stderr: 'Unable to connect to the server: dial tcp 10.0.0.1:443: i/o timeout', hint: /for a private cluster run the step on an agent in a network that reaches it/ },
    { stderr: 'something else', hint: undefined },
  ];
  for (const f of failures) {
    it(`${f.hint ? 'says what to check' : 'adds nothing to kubectl\'s message'} when kubectl fails with "${f.stderr}"`, async () => {
      behave({ mode: 'fails', stderr: f.stderr });
      await assert.rejects(openPortForward(options(new MemoryLogger())), (e: unknown) => {
        assert.ok(e instanceof ServiceError);
        const rest = e.message.split(`failed: ${f.stderr}`)[1] ?? assert.fail(e.message);
        if (f.hint) assert.match(rest, f.hint);
        else assert.equal(rest.replace(/\.$/, ''), '');
        return true;
      });
    });
  }
});
