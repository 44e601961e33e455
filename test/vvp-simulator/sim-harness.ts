/**
 * Shared helpers for the simulator's own tests: an in-process simulator (fast; the
 * child-process path is covered by simulator-process.test.ts) and small HTTP helpers.
 */
import { SimulatorControl } from './client';
import type { BehaviourPatch } from './behaviour';
import { SimulatorServer } from './server';
import type { SimulatorInit } from './simulator-state';

/** Short timings so a full STATEFUL upgrade takes ~150 ms. */
export const FAST: BehaviourPatch = { staleRunningMs: 60, savepointMs: 30, terminateMs: 20, startMs: 40, finishMs: 40 };

export const JAR_A = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing.jar?commit=aaaaaaa';
export const JAR_B = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing.jar?commit=bbbbbbb';
export const JAR_C = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing.jar?commit=ccccccc';

/** A JSON-or-text HTTP answer. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** An in-process simulator for tests. */
export interface TestSimulator {
  url: string;
  control: SimulatorControl;
  server: SimulatorServer;
  /** Calls the AppManager API; `path` is relative to `/api/v1/namespaces/default` unless it starts with `/`. */
  api(method: string, path: string, options?: { body?: unknown; rawBody?: string; headers?: Record<string, string>; token?: string }): Promise<Answer>;
  stop(): Promise<void>;
}

/** Starts an in-process simulator with {@link FAST} timings unless overridden. */
export async function startTestSimulator(init: SimulatorInit = {}): Promise<TestSimulator> {
  const server = new SimulatorServer({ ...init, behaviour: { ...FAST, ...init.behaviour } });
  const { url } = await server.listen();
  const api: TestSimulator['api'] = async (method, path, options = {}) => {
    const full = path.startsWith('/') ? `${url}${path}` : `${url}/api/v1/namespaces/default/${path}`;
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['Content-Type'] ??= 'application/json';
    }
    const response = await fetch(full, { method, headers, body });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  };
  return { url, control: new SimulatorControl(url), server, api, stop: () => server.close() };
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a truthy value. */
export async function eventually<T>(probe: () => Promise<T | undefined | false>, timeoutInMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutInMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutInMs} ms`);
    await delay(10);
  }
}

/** A minimal valid Deployment body. */
export function deploymentBody(name: string, jarUri: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'Deployment',
    apiVersion: 'v1',
    metadata: { name, labels: { app: name } },
    spec: {
      state: 'RUNNING',
      upgradeStrategy: { kind: 'STATEFUL' },
      restoreStrategy: { kind: 'LATEST_STATE' },
      template: { spec: { artifact: { kind: 'JAR', jarUri }, parallelism: 1 } },
      ...spec,
    },
  };
}

/** A PATCH body that only changes the jarUri. */
export function jarPatch(jarUri: string): Record<string, unknown> {
  return { spec: { template: { spec: { artifact: { jarUri } } } } };
}
