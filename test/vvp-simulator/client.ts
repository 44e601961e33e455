/**
 * Test helper: starts the simulator as a child process (never inside the test process,
 * whose event loop may be blocked by spawnSync) and talks to its control API.
 *
 * ```ts
 * const sim = await startSimulator({ timeScale: 0.05, tokens: [{ token: 't', namespace: 'default', role: 'editor' }] });
 * await sim.control.seedDeployment({ name: 'top-speed-windowing', jarUri: 'wasbs://...jar?commit=0000000' });
 * ... // point the client under test at sim.url
 * await sim.stop();
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ApiToken } from './auth';
import type { Behaviour, BehaviourPatch } from './behaviour';
import type { FaultRule } from './faults';
import type { RecordedRequest, RequestFilter } from './request-log';
import type { Deployment } from './resources';
import type { DeploymentSeed, DeploymentTruth, SimulatorConfig } from './simulator-state';

export type { ApiToken, Behaviour, BehaviourPatch, DeploymentSeed, DeploymentTruth, FaultRule, RecordedRequest, RequestFilter, SimulatorConfig };

/** Options of {@link startSimulator}. */
export interface StartSimulatorOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Scenario file (YAML/JSON) to seed from. */
  scenario?: string;
  /** Multiplier for every controller duration. Default 1 (or the scenario's). */
  timeScale?: number;
  /** Enables auth with these tokens. */
  tokens?: ApiToken[];
  /** `revisionInformation.buildVersion`. Default `2.7.1`. */
  buildVersion?: string;
  errorFormat?: 'json' | 'text';
  /** Where the child's stderr (state-change log) goes. Default `buffer` (see `stderrLines()`). */
  stderr?: 'buffer' | 'inherit' | 'ignore';
  /** How long to wait for the ready line. Default 10 000. */
  readyTimeoutInMs?: number;
}

/** A running simulator child process. */
export interface RunningSimulator {
  /** Base URL, e.g. `http://127.0.0.1:41234` (the VVP URL for the client under test). */
  url: string;
  port: number;
  /** Child process id. */
  pid: number;
  control: SimulatorControl;
  /** The last stderr lines (state changes), when `stderr` is `buffer`. */
  stderrLines(): string[];
  /** Stops the child (SIGTERM, SIGKILL after 3 s) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Error from the control API, with its status. */
export class SimulatorControlError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'SimulatorControlError';
  }
}

/** Typed client of the `/__sim/` control API. */
export class SimulatorControl {
  /** @param baseUrl The simulator's base URL (no trailing slash needed). */
  constructor(readonly baseUrl: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl.replace(/\/$/, '')}/__sim/${path}`, {
      method,
      headers: body !== undefined ? { 'Content-Type': 'application/json' } : {},
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    if (!response.ok) throw new SimulatorControlError(`${method} /__sim/${path} failed with ${response.status}: ${text}`, response.status);
    return JSON.parse(text) as T;
  }

  private static seg(value: string): string {
    return encodeURIComponent(value);
  }

  /** Back to the startup state (scenario deployments re-seeded unless `deployments: false`); clears faults and the request log. */
  async reset(options: { deployments?: boolean } = {}): Promise<void> {
    await this.call('POST', 'reset', options);
  }

  config(): Promise<SimulatorConfig> {
    return this.call('GET', 'config');
  }

  setConfig(patch: Partial<SimulatorConfig>): Promise<SimulatorConfig> {
    return this.call('PUT', 'config', patch);
  }

  async addNamespace(name: string): Promise<void> {
    await this.call('POST', 'namespaces', { name });
  }

  /** Replaces tokens (enables auth when `tokens` is given) and/or switches auth. */
  setAuth(auth: { enabled?: boolean; tokens?: ApiToken[] }): Promise<{ enabled: boolean; tokens: ApiToken[] }> {
    return this.call('PUT', 'auth', auth);
  }

  /** Adds one token and enables auth. */
  async addToken(token: ApiToken): Promise<void> {
    await this.call('POST', 'tokens', token);
  }

  /** Merges into the global default behaviour. */
  setBehaviour(patch: BehaviourPatch): Promise<Behaviour> {
    return this.call('PUT', 'behaviour', patch);
  }

  /** Merges into one deployment's behaviour (by name; may precede its creation). */
  setDeploymentBehaviour(namespace: string, name: string, patch: BehaviourPatch): Promise<Behaviour> {
    return this.call('PUT', `deployments/${SimulatorControl.seg(namespace)}/${SimulatorControl.seg(name)}/behaviour`, patch);
  }

  /** Creates a deployment directly, RUNNING with a STARTED job unless `state` says otherwise. */
  seedDeployment(seed: DeploymentSeed): Promise<Deployment> {
    return this.call('POST', 'deployments', seed);
  }

  /** What really runs (job states, the STARTED job and its jarUri, events). */
  truth(namespace: string, nameOrId: string): Promise<DeploymentTruth> {
    return this.call('GET', `deployments/${SimulatorControl.seg(namespace)}/${SimulatorControl.seg(nameOrId)}/truth`);
  }

  /** Sets a `status.running.conditions` entry (e.g. `JobFailing` True). */
  setCondition(namespace: string, nameOrId: string, condition: { type: string; status: 'True' | 'False' | 'Unknown'; reason?: string; message?: string }): Promise<Deployment> {
    return this.call('POST', `deployments/${SimulatorControl.seg(namespace)}/${SimulatorControl.seg(nameOrId)}/conditions`, condition);
  }

  /**
   * Adds a fault rule, e.g. `{method: 'GET', path: '/deployments/', times: 2, status: 429, retryAfterSeconds: 1}`,
   * `{method: 'PATCH', action: 'lostResponse'}`, `{action: 'hang', deployment: 'x'}`, `{action: 'delay', delayMs: 500}`.
   */
  addFault(fault: Record<string, unknown>): Promise<FaultRule> {
    return this.call('POST', 'faults', fault);
  }

  async faults(): Promise<FaultRule[]> {
    return (await this.call<{ items: FaultRule[] }>('GET', 'faults')).items;
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', 'faults');
  }

  /** Recorded AppManager requests (headers include Authorization), oldest first. */
  async requests(filter: RequestFilter = {}): Promise<RecordedRequest[]> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) if (value !== undefined) query.set(key, String(value));
    const suffix = query.size > 0 ? `?${query.toString()}` : '';
    return (await this.call<{ items: RecordedRequest[] }>('GET', `requests${suffix}`)).items;
  }

  async clearRequests(): Promise<void> {
    await this.call('DELETE', 'requests');
  }

  /**
   * Polls `truth` until `predicate` holds.
   * @throws Error after `timeoutInMs` (default 10 000) with the last truth.
   */
  async waitFor(namespace: string, nameOrId: string, predicate: (truth: DeploymentTruth) => boolean, timeoutInMs = 10_000): Promise<DeploymentTruth> {
    const deadline = Date.now() + timeoutInMs;
    for (;;) {
      const truth = await this.truth(namespace, nameOrId);
      if (predicate(truth)) return truth;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutInMs} ms waiting on ${namespace}/${nameOrId}; last truth: ${JSON.stringify(truth)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

function cliArgs(options: StartSimulatorOptions): string[] {
  const args = ['--port', String(options.port ?? 0), '--host', options.host ?? '127.0.0.1', '--exit-on-stdin-close'];
  if (options.scenario) args.push('--scenario', options.scenario);
  if (options.timeScale !== undefined) args.push('--time-scale', String(options.timeScale));
  if (options.buildVersion) args.push('--build-version', options.buildVersion);
  if (options.errorFormat) args.push('--error-format', options.errorFormat);
  for (const t of options.tokens ?? []) args.push('--token', `${t.token}:${t.namespace}:${t.role}`);
  return args;
}

function waitForExit(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

/**
 * Spawns `main.js` (next to this file) with `--exit-on-stdin-close`, so the child also
 * dies when the test process does, and resolves once it prints its ready line.
 * @throws Error when the child exits or stays silent past `readyTimeoutInMs`.
 */
export async function startSimulator(options: StartSimulatorOptions = {}): Promise<RunningSimulator> {
  const stderrMode = options.stderr ?? 'buffer';
  const child = spawn(process.execPath, [join(__dirname, 'main.js'), ...cliArgs(options)], {
    stdio: ['pipe', 'pipe', stderrMode === 'buffer' ? 'pipe' : stderrMode],
  });
  const lines: string[] = [];
  if (child.stderr) {
    createInterface({ input: child.stderr }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 2000) lines.shift();
    });
  }
  const ready = await new Promise<{ port: number; url: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vvp-simulator did not become ready within ${options.readyTimeoutInMs ?? 10_000} ms; stderr: ${lines.join('\n')}`));
    }, options.readyTimeoutInMs ?? 10_000);
    const stdout = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    stdout.on('line', (line) => {
      try {
        const message = JSON.parse(line) as { event?: string; port?: number; url?: string };
        if (message.event === 'ready' && typeof message.port === 'number' && typeof message.url === 'string') {
          clearTimeout(timer);
          resolve({ port: message.port, url: message.url });
        }
      } catch {
        // Not the ready line; ignore.
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`vvp-simulator exited before ready (code ${code}, signal ${signal}); stderr: ${lines.join('\n')}`));
    });
  });
  // A forgotten simulator must not keep the test process alive; when the test process
  // exits, the child sees stdin close and exits too.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  let stopped: Promise<void> | undefined;
  return {
    url: ready.url,
    port: ready.port,
    pid: child.pid as number,
    control: new SimulatorControl(ready.url),
    stderrLines: () => [...lines],
    stop: () => {
      stopped ??= (async () => {
        child.ref();
        const exited = waitForExit(child);
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(killer);
        child.stdin?.destroy();
      })();
      return stopped;
    },
  };
}
