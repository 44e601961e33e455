import * as path from 'node:path';
import { MockTestRunner } from 'azure-pipelines-task-lib/mock-test';

export interface MockRunOptions {
  /** The compiled L0 mock-run script (it builds a TaskMockRunner and calls `run()`). */
  testFile: string;
  /** `task.json` of the task, when the mock-run script needs it. */
  taskJsonPath?: string;
  /** Environment for the run (e.g. `rig.env('agent')`), set on this process around the spawn. */
  env?: Record<string, string>;
  /** The task is killed after this long (MockTestRunner itself has no timeout). Default 60 000 ms. */
  timeoutMs?: number;
}

/**
 * Runs an L0 test through azure-pipelines-task-lib's MockTestRunner without it downloading
 * Node: `nodePath` is set to this Node and `runAsync()` is called with no version argument (a
 * version argument makes it fetch that Node from the internet).
 *
 * MockTestRunner uses `spawnSync` and passes this process's environment, so:
 * - `env` is applied to `process.env` for the duration of the run and then restored;
 * - this test process is blocked meanwhile, so any server the task talks to (the rig) must run
 *   in another process — it does;
 * - a watchdog preload (`NODE_OPTIONS=--require watchdog-preload.js`) bounds the run.
 */
export async function runMockTest(options: MockRunOptions): Promise<MockTestRunner> {
  const tr = new MockTestRunner(options.testFile, options.taskJsonPath);
  tr.nodePath = process.execPath;
  const overrides: Record<string, string> = {
    ...options.env,
    RIG_WATCHDOG_MS: String(options.timeoutMs ?? 60_000),
    NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --require ${JSON.stringify(path.join(__dirname, 'watchdog-preload.js'))}`.trim(),
  };
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(overrides)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    await tr.runAsync();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return tr;
}
