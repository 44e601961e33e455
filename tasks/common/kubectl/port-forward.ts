import { spawn, type ChildProcess } from 'node:child_process';
import type * as http from 'node:http';
import { ServiceError, maskAndShorten } from '../errors/errors';
import { formatDuration } from '../logging/duration';
import type { Logger } from '../logging/logger';
import { systemClock, type Clock } from '../poll/clock';
import { pollUntilDone } from '../poll/poller';
import { withTimeout } from '../poll/timeout';

/** What to tunnel to and how. */
export interface PortForwardOptions {
  kubectlPath: string;
  kubeconfigPath: string;
  namespace: string;
  service: string;
  servicePort: number;
  /** The target for messages, e.g. "service vvp/vvp-ververica-platform:80 in AKS cluster rg/aks". */
  description: string;
  logger: Logger;
  abortSignal?: AbortSignal;
  /** Bound for kubectl to start forwarding and for the tunnel to answer HTTP; also for a restart to forward again. Default 60 000. */
  readyTimeoutInMs?: number;
  /** How often kubectl is started again after it exits on its own. Default 1. */
  maxRestarts?: number;
  /** Path requested through the tunnel to see that VVP answers; any HTTP status counts. Default `/api/v1/status`. */
  probePath?: string;
  /** Bound for one probe request. Default 5 000. */
  probeTimeoutInMs?: number;
  clock?: Clock;
  /** Environment of kubectl. Default: this process's. */
  env?: NodeJS.ProcessEnv;
}

/** A running tunnel. */
export interface PortForward {
  /** `http://127.0.0.1:<port>`: the VVP base URL while the tunnel runs. */
  readonly baseUrl: URL;
  readonly localPort: number;
  /**
   * Aborts, with a ServiceError saying why as its reason, once the tunnel is down for good:
   * kubectl exited and could not be started again. From then on nothing listens for us on
   * `localPort` and another process may, so no request carrying the API token may go there.
   * Not aborted by `stop()`.
   */
  readonly lost: AbortSignal;
  /** Stops kubectl and waits until it exited. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The tunnel dropped after it was open and kubectl could not be started again. `description`
 * says what it led to ("service vvp/vvp-ververica-platform:80 in AKS cluster 'aks' (resource
 * group 'rg')"), `lastError` is kubectl's last error line or how it ended.
 */
function tunnelLost(description: string, localPort: number, lastError: string, hint: string | undefined): ServiceError {
  return new ServiceError({
    service: 'kubectl port-forward',
    operation: `keeping the tunnel to ${description} open`,
    serviceMessage: `the tunnel was lost: ${lastError}. VVP calls through 127.0.0.1:${localPort} were stopped, as another process could listen on that port now`,
    hint,
  });
}

/** kubectl's line once it listens: `Forwarding from 127.0.0.1:41234 -> 8080`. */
const FORWARDING = /^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/m;

/**
 * Starts `kubectl port-forward service/<service> :<port> -n <namespace>` on a free loopback
 * port, waits (bounded) until VVP answers through it, and keeps it up for the step: when kubectl
 * exits on its own (a dropped connection to the pod), it is started once more on the same local
 * port, so the base URL stays valid. When that fails too, `lost` aborts. kubectl is stopped on
 * `stop()`, on failure, on cancellation, and when this process exits, so it never outlives the step.
 *
 * @throws ServiceError with kubectl's own error output and what to check (RBAC, service or
 * namespace missing, API server unreachable), or when the tunnel does not answer in time.
 * @throws the abort reason when `abortSignal` fires.
 */
export async function openPortForward(options: PortForwardOptions): Promise<PortForward> {
  const tunnel = new Tunnel(options);
  try {
    await tunnel.open();
    return tunnel;
  } catch (error) {
    await tunnel.stop();
    throw error;
  }
}

/** kubectl ended by itself; `forwarded` says whether it had started listening. */
class KubectlExited extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderr: string,
    readonly forwarded: boolean,
  ) {
    super(`kubectl port-forward exited (${signal ? `signal ${signal}` : `exit code ${exitCode}`})${stderr ? `: ${stderr}` : ''}`);
  }
}

/** One kubectl process and what it said. */
class KubectlProcess {
  readonly child: ChildProcess;
  /** Resolves with the local port once kubectl prints its Forwarding line. */
  readonly forwarding: Promise<number>;
  /** Resolves when the process is gone, whoever ended it. */
  readonly exited: Promise<KubectlExited>;
  exit: KubectlExited | undefined;
  private stderrLines: string[] = [];
  private forwarded = false;

  constructor(file: string, args: string[], env: NodeJS.ProcessEnv | undefined, logger: Logger) {
    this.child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true, env: env ?? process.env });
    let stdout = '';
    let resolveForwarding!: (port: number) => void;
    let rejectForwarding!: (error: unknown) => void;
    this.forwarding = new Promise<number>((resolve, reject) => {
      resolveForwarding = resolve;
      rejectForwarding = reject;
    });
    // Nobody may be waiting for it when kubectl dies later; the rejection is read through `exited`.
    this.forwarding.catch(() => undefined);
    this.child.stdout?.on('data', (chunk: Buffer) => {
      if (this.forwarded) return; // later lines are "Handling connection for <port>"
      stdout = (stdout + chunk.toString('utf8')).slice(-4096);
      const m = FORWARDING.exec(stdout);
      if (m) {
        this.forwarded = true;
        resolveForwarding(Number(m[1]));
      }
    });
    let partial = '';
    this.child.stderr?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const line of lines) this.addStderr(line, logger);
    });
    this.exited = new Promise<KubectlExited>((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.exit) return;
        if (partial) this.addStderr(partial, logger);
        this.exit = new KubectlExited(code, signal, this.stderr(), this.forwarded);
        rejectForwarding(this.exit);
        resolve(this.exit);
      };
      this.child.once('close', finish);
      this.child.once('error', (error) => {
        this.addStderr(error.message, logger);
        finish(null, null);
      });
    });
  }

  /** kubectl's error output so far (the last lines, for messages). */
  stderr(): string {
    return this.stderrLines.join('\n');
  }

  /** Ends the process (SIGTERM, then SIGKILL after `graceInMs`) and waits for it. */
  async kill(graceInMs = 3000): Promise<void> {
    if (this.exit) return;
    this.child.kill('SIGTERM');
    try {
      await withTimeout(() => this.exited, { timeoutInMs: graceInMs, timeoutError: () => new Error('kubectl did not end on SIGTERM') });
    } catch {
      // SIGKILL cannot be ignored.
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  /** kubectl's last error line, or how it ended: the "why" of a lost tunnel. */
  lastError(): string {
    const last = this.stderrLines[this.stderrLines.length - 1];
    if (last) return last;
    const exit = this.exit;
    if (!exit) return 'kubectl stopped forwarding';
    return exit.signal ? `kubectl ended by signal ${exit.signal}` : `kubectl exited with code ${exit.exitCode} and no message`;
  }

  private addStderr(line: string, logger: Logger): void {
    const text = line.trim();
    if (!text) return;
    // kubectl does not print credentials; its lines go to the debug log for diagnosis.
    logger.debug(`kubectl: ${text}`);
    this.stderrLines.push(maskAndShorten(text, 500));
    if (this.stderrLines.length > 20) this.stderrLines.shift();
  }
}

class Tunnel implements PortForward {
  private current: KubectlProcess | undefined;
  private port: number | undefined;
  private restarts = 0;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private readonly clock: Clock;
  private readonly lostController = new AbortController();
  /** A step that ends abruptly (process.exit after cancellation) must not leave kubectl behind. */
  private readonly killOnExit = (): void => {
    this.current?.child.kill('SIGKILL');
  };

  constructor(private readonly options: PortForwardOptions) {
    this.clock = options.clock ?? systemClock;
    process.on('exit', this.killOnExit);
  }

  get localPort(): number {
    if (this.port === undefined) throw new Error('the tunnel is not open');
    return this.port;
  }

  get baseUrl(): URL {
    return new URL(`http://127.0.0.1:${this.localPort}`);
  }

  get lost(): AbortSignal {
    return this.lostController.signal;
  }

  /** Starts kubectl and waits until the tunnel answers, restarting kubectl once if it drops meanwhile. */
  async open(): Promise<void> {
    const o = this.options;
    const timeoutInMs = o.readyTimeoutInMs ?? 60_000;
    const deadline = this.clock.now() + timeoutInMs;
    for (;;) {
      const proc = this.start();
      try {
        this.port = await this.untilForwarding(proc, deadline, timeoutInMs);
        await this.untilAnswering(proc, deadline, timeoutInMs);
        o.logger.info(`Tunnel open: ${this.baseUrl.origin} → ${o.description} (kubectl pid ${proc.child.pid})`);
        void proc.exited.then((exit) => this.onUnexpectedExit(proc, exit));
        return;
      } catch (error) {
        if (error instanceof KubectlExited && error.forwarded && this.restarts < (o.maxRestarts ?? 1) && !this.stopped) {
          this.restarts++;
          o.logger.warn(`${error.message}. Starting it again on local port ${this.port}.`);
          continue;
        }
        throw this.failure(error, proc);
      }
    }
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.stopping ??= (async () => {
      try {
        await this.current?.kill();
      } finally {
        process.removeListener('exit', this.killOnExit);
      }
    })();
    return this.stopping;
  }

  private start(): KubectlProcess {
    const o = this.options;
    // The first start lets kubectl pick a free port; a restart asks for the same one, so the
    // VVP client's base URL stays valid.
    const ports = `${this.port ?? ''}:${o.servicePort}`;
    const args = ['port-forward', `service/${o.service}`, ports, '-n', o.namespace, '--kubeconfig', o.kubeconfigPath, '--address', '127.0.0.1'];
    o.logger.debug(`Starting ${o.kubectlPath} ${args.join(' ')}`);
    this.current = new KubectlProcess(o.kubectlPath, args, o.env, o.logger);
    return this.current;
  }

  private untilForwarding(proc: KubectlProcess, deadline: number, timeoutInMs: number): Promise<number> {
    return withTimeout(() => proc.forwarding, {
      timeoutInMs: Math.max(0, deadline - this.clock.now()),
      abortSignal: this.options.abortSignal,
      timeoutError: () =>
        new ServiceError({
          service: 'kubectl port-forward',
          operation: `opening a tunnel to ${this.options.description}`,
          serviceMessage: `kubectl did not start forwarding within ${formatDuration(timeoutInMs)}${proc.stderr() ? `: ${proc.stderr()}` : ''}`,
          hint: portForwardHint(proc.stderr(), this.options) ?? API_SERVER_HINT,
        }),
    });
  }

  private async untilAnswering(proc: KubectlProcess, deadline: number, timeoutInMs: number): Promise<void> {
    const o = this.options;
    const port = this.localPort;
    const outcome = await pollUntilDone<number, number>({
      probe: async (signal) => {
        if (proc.exit) throw proc.exit;
        return probeHttp(port, o.probePath ?? '/api/v1/status', o.probeTimeoutInMs ?? 5000, signal);
      },
      classify: (status) => ({ status: 'succeeded', state: `answered HTTP ${status}`, result: status }),
      schedule: { initialIntervalInMs: 100, growthFactor: 2, maxIntervalInMs: 1000 },
      timeoutInMs: Math.max(0, deadline - this.clock.now()),
      clock: this.clock,
      abortSignal: o.abortSignal,
      // Refused or reset while kubectl connects to the pod: still coming up. A dead kubectl is not.
      isTransientProbeError: (error) => !(error instanceof KubectlExited),
      describeProbeError: (error) => `no answer through the tunnel yet (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      onProgress: (p) => o.logger.debug(`Tunnel on port ${port}: ${p.verdict.state}`),
    });
    if (outcome.kind === 'succeeded') return;
    throw new ServiceError({
      service: 'kubectl port-forward',
      operation: `opening a tunnel to ${o.description}`,
      serviceMessage: `nothing answered through 127.0.0.1:${port} within ${formatDuration(timeoutInMs)} (${outcome.state})${proc.stderr() ? `; kubectl said: ${proc.stderr()}` : ''}`,
      hint: portForwardHint(proc.stderr(), o) ?? `Check that the VVP pods behind service '${o.service}' run and listen on the service's target port (kubectl get pods -n ${o.namespace})`,
    });
  }

  /** After the tunnel was open: start kubectl again once; when that is spent or fails, the tunnel is lost. */
  private onUnexpectedExit(proc: KubectlProcess, exit: KubectlExited): void {
    if (this.stopped || proc !== this.current) return;
    const o = this.options;
    if (this.restarts >= (o.maxRestarts ?? 1)) {
      this.markLost(proc);
      return;
    }
    this.restarts++;
    o.logger.warn(`${exit.message}. Starting it again on local port ${this.port}.`);
    void this.restart(this.start());
  }

  /** Waits (bounded) for a restarted kubectl to forward again; marks the tunnel lost when it does not. */
  private async restart(next: KubectlProcess): Promise<void> {
    const o = this.options;
    const timeoutInMs = o.readyTimeoutInMs ?? 60_000;
    try {
      await withTimeout(() => next.forwarding, {
        timeoutInMs,
        timeoutError: () => new Error(`kubectl did not start forwarding again within ${formatDuration(timeoutInMs)}`),
      });
    } catch (error) {
      if (this.stopped) return;
      if (error instanceof KubectlExited) {
        this.markLost(next);
        return;
      }
      // Stalled: kubectl runs but does not listen. Lost first (VVP calls stop now), then end it.
      const said = next.stderr() ? `; kubectl said: ${next.lastError()}` : '';
      this.markLost(next, `${(error as Error).message}${said}`);
      await next.kill();
      return;
    }
    if (this.stopped) return;
    o.logger.info(`Tunnel open again on ${this.baseUrl.origin} (kubectl pid ${next.child.pid})`);
    void next.exited.then((e) => this.onUnexpectedExit(next, e));
  }

  /** The tunnel is down for good: abort `lost`, so no VVP call sends the token to the freed port. */
  private markLost(proc: KubectlProcess, lastError = proc.lastError()): void {
    if (this.stopped || this.lostController.signal.aborted) return;
    const o = this.options;
    const error = tunnelLost(o.description, this.localPort, lastError, portForwardHint(proc.stderr(), o));
    o.logger.warn(error.message);
    this.lostController.abort(error);
  }

  private failure(error: unknown, proc: KubectlProcess): unknown {
    if (!(error instanceof KubectlExited)) return error;
    return new ServiceError({
      service: 'kubectl port-forward',
      operation: `opening a tunnel to ${this.options.description}`,
      serviceMessage: error.stderr || (error.signal ? `kubectl ended by signal ${error.signal}` : `kubectl exited with code ${error.exitCode} and no message`),
      hint: portForwardHint(proc.stderr(), this.options),
      cause: error,
    });
  }
}

const API_SERVER_HINT =
  "kubectl cannot reach the cluster's API server: for a private cluster run the step on an agent in a network that reaches it, " +
  "otherwise check the cluster's authorized IP ranges and the agent's proxy";

/** What to check, from kubectl's error output. */
function portForwardHint(stderr: string, target: { namespace: string; service: string; servicePort: number }): string | undefined {
  const ns = target.namespace;
  if (/forbidden/i.test(stderr)) {
    return (
      `The cluster identity may not port-forward in namespace '${ns}': it needs "get" and "list" on services and pods and "create" on pods/portforward ` +
      '(a Kubernetes Role and RoleBinding for it, or with Azure RBAC for Kubernetes a role assignment on the cluster or namespace that allows this)'
    );
  }
  if (/Unauthorized|must be logged in|provide credentials/i.test(stderr)) {
    return 'The cluster rejected the credentials from listClusterUserCredential: check that the service connection identity is known to the cluster (Entra ID integration, local accounts)';
  }
  if (/namespaces? "[^"]*" not found/i.test(stderr)) return `There is no namespace '${ns}' in the cluster: check kubernetesNamespace`;
  if (/does not have a service port|port .* not found|not a valid port/i.test(stderr)) {
    return `Service '${target.service}' has no port ${target.servicePort}: check vvpServicePort (kubectl get service ${target.service} -n ${ns})`;
  }
  if (/not found/i.test(stderr)) {
    return `Check vvpServiceName ('${target.service}') and kubernetesNamespace ('${ns}'): kubectl get services -n ${ns} lists the services`;
  }
  if (/no pods?|pod is not running|unable to find a pod|lost connection to pod/i.test(stderr)) {
    return `The service has no running pod to forward to: check the VVP pods (kubectl get pods -n ${ns})`;
  }
  if (/Unable to connect to the server|dial tcp|i\/o timeout|no such host|TLS handshake timeout|connection refused/i.test(stderr)) return API_SERVER_HINT;
  if (/unable to listen|address already in use/i.test(stderr)) return 'kubectl could not listen on a local port on 127.0.0.1: check what else runs on the agent';
  return undefined;
}

/** One GET through the tunnel, without credentials; resolves with the status of any HTTP answer. */
function probeHttp(port: number, path: string, timeoutInMs: number, signal: AbortSignal | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    // Required here, not at the top: only the AKS path uses it, and loading it slows every start.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const req = (require('node:http') as typeof http).get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutInMs, signal, headers: { Accept: 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutInMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}
