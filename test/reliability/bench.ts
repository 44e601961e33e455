/**
 * Shared set-up of the reliability tests: a rig (proxy, Entra ID / Key Vault fakes, optional
 * Azurite) with the VVP simulator behind `https://vvp.example.com`, a bundled-task runner that
 * remembers every run for the secret scan, and the checks every run repeats (no leftover
 * process; no secret in the output). Start one bench per test file in a `before` hook:
 *
 * ```ts
 * let bench: Bench;
 * before(async () => { bench = await startBench(); });
 * after(async () => { await bench?.stop(); });
 * ```
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { bundledTaskDir } from '../rig/bundles';
import { RIG_DEFAULTS as D } from '../rig/config';
import { startRig, type Rig } from '../rig/rig';
import { runTask, type RunTaskOptions, type TaskRunResult } from '../rig/run-task';
import { assertNoSecretLeak } from '../rig/secret-scan';
import { azureRmEndpoint, type ServiceEndpoint } from '../rig/service-endpoints';
import { startSimulator, type BehaviourPatch, type RunningSimulator } from '../vvp-simulator/client';

const OLD_COMMIT = '0000000';

/** The blob of one build: versioned names, so a rollback can bring the previous JAR back. */
function blobFor(commit: string): string {
  return `wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing-${commit}.jar`;
}

/** What VvpDeploy@1 deploys for `jarUri: blobFor(commit), commitId: <commit>`. */
export function jarFor(commit: string): string {
  return `${blobFor(commit)}?commit=${commit}`;
}

/** An upgrade in about 0.7 s, 0.2 s of it the stale-RUNNING window. */
const QUICK: BehaviourPatch = { staleRunningMs: 200, savepointMs: 100, terminateMs: 50, startMs: 200, finishMs: 100 };

/** Environment marker of one task run, to find processes it left behind. */
const MARKER = 'VVP_RELIABILITY_RUN';

/** A rig, optionally the VVP simulator behind it, and every task run made through them. */
export interface Bench {
  rig: Rig;
  sim?: RunningSimulator;
  /** Every run, for the closing secret scan. */
  runs: TaskRunResult[];
  stop(): Promise<void>;
}

/**
 * Starts the VVP simulator (unless `simulator: false`; it accepts the rig's VVP token, phases
 * {@link QUICK}), then a rig routing `vvp.example.com` to it, with Azurite when `azurite: true`.
 */
export async function startBench(options: { simulator?: boolean; azurite?: boolean } = {}): Promise<Bench> {
  const sim = options.simulator === false ? undefined : await startSimulator({ tokens: [{ token: D.vvpApiToken, namespace: 'default', role: 'editor' }], stderr: 'ignore' });
  let rig: Rig;
  try {
    rig = await startRig({ azurite: options.azurite, ...(sim ? { vvpUrl: sim.url } : {}) });
  } catch (error) {
    await sim?.stop();
    throw error;
  }
  if (sim) await sim.control.setBehaviour(QUICK);
  return {
    rig,
    sim,
    runs: [],
    stop: async () => {
      await Promise.all([rig.stop(), sim?.stop()]);
    },
  };
}

type RunOptions = Omit<RunTaskOptions, 'taskDir' | 'endpoints'> & { endpoint?: ServiceEndpoint };

/**
 * Runs a bundled task as the agent would (`rig.env('env')`, a secret service principal unless
 * given), records it, and checks that it left no process behind.
 */
export async function runBundled(bench: Bench, task: 'VvpDeploy' | 'VvpUploadArtifact', options: RunOptions): Promise<TaskRunResult> {
  const marker = randomUUID();
  const endpoint = options.endpoint ?? azureRmEndpoint({ scheme: 'ServicePrincipal' });
  const run = await runTask({
    timeoutMs: 30_000,
    ...options,
    taskDir: bundledTaskDir(task),
    endpoints: [endpoint],
    inputs: { azureSubscription: endpoint.id, ...options.inputs },
    env: { ...bench.rig.env('env'), ...options.env, [MARKER]: marker },
  });
  bench.runs.push(run);
  assert.deepEqual(leftoverProcesses(marker), [], `the ${task} run left processes behind`);
  return run;
}

/** VvpDeploy@1 inputs for `deployment`, deploying `jarFor(commit)`. */
export function deployInputs(deployment: string, commit: string, more: RunTaskOptions['inputs'] = {}): RunTaskOptions['inputs'] {
  return {
    keyVaultName: D.vaultName,
    vvpUrl: 'https://vvp.example.com',
    deployment,
    jarUri: blobFor(commit),
    commitId: commit,
    pollIntervalSeconds: 1,
    timeoutMinutes: 1,
    ...more,
  };
}

/** Runs VvpUploadArtifact@1 for `artifacts/namespaces/default/<blobName>` in container `vvp` with `content` as the one JAR. */
export function runUpload(bench: Bench, blobName: string, content: Buffer, more: RunOptions = {}): Promise<TaskRunResult> {
  return runBundled(bench, 'VvpUploadArtifact', {
    ...more,
    inputs: { storageAccount: D.storageAccount, containerName: 'vvp', artifactPath: '**/target/*.jar', blobName, ...more.inputs },
    files: { 'flink-job/target/job.jar': content },
  });
}

/**
 * Routes the storage account's host to the rig's control API, for benches without Azurite whose
 * upload scenarios stop at a fault before any blob is written: the property read answers 404
 * ("no blob yet"), everything after it is decided by fault rules.
 */
export async function routeBlobHostNowhere(bench: Bench): Promise<void> {
  await bench.rig.control.addRoute({ host: `${D.storageAccount}.blob.core.windows.net`, target: bench.rig.control.baseUrl });
}

/** Seeds a RUNNING deployment on `jarFor(OLD_COMMIT)` with quick phases; returns its id. */
export async function seed(bench: Bench, name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const sim = requireSim(bench);
  const created = await sim.control.seedDeployment({ name, jarUri: jarFor(OLD_COMMIT), behaviour: QUICK, ...extra } as never);
  return (created as unknown as { metadata: { id: string } }).metadata.id;
}

/** The bench's simulator; fails the test on a bench started without one. */
export function requireSim(bench: Bench): RunningSimulator {
  assert.ok(bench.sim, 'this bench has no simulator');
  return bench.sim;
}

/** Pids of live processes carrying the run's marker in their environment (Linux; [] elsewhere). */
function leftoverProcesses(marker: string): number[] {
  if (process.platform !== 'linux') return [];
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`${MARKER}=${marker}`)) found.push(Number(entry));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
}

/** The run's outcome and its output tail, for assertion messages. */
export function explain(run: TaskRunResult): string {
  const out = run.stdout
    .split('\n')
    .filter((l) => !l.startsWith('##vso[task.debug]'))
    .join('\n');
  return `${run.result}: ${run.message}\n--- stdout (tail) ---\n${out.slice(-2500)}\n--- stderr ---\n${run.stderr.slice(-1500)}`;
}

/**
 * Fails when a run's output holds a 24-character piece of a long secret (a token cut short by
 * a length limit before masking could match it), outside the lines that hand secrets to the agent.
 */
function assertNoSecretFragments(run: TaskRunResult, secrets: string[]): void {
  const text = [
    ...run.stdout.split(/\r?\n/).filter((l) => !/##vso\[task\.setsecret[\s\]]/i.test(l) && !/##vso\[task\.setvariable [^\]]*issecret=true/i.test(l)),
    run.stderr,
    ...run.summaries,
    ...Object.values(run.outputs),
  ].join('\n');
  for (const secret of secrets) {
    if (secret.length < 48) continue;
    for (let i = 0; i + 24 <= secret.length; i += 24) {
      const piece = secret.slice(i, i + 24);
      const at = text.indexOf(piece);
      assert.equal(at, -1, `a piece of a secret (characters ${i}-${i + 24} of ${secret.length}) is in the output: …${text.slice(Math.max(0, at - 60), at)}<PIECE>…`);
    }
  }
}

/**
 * Scans every run of a bench for every secret the rig and the simulator know: the SPN key, the
 * VVP API token, the job's access token, every access and OIDC token the fakes issued, and
 * whatever the runs registered as secrets themselves.
 */
export async function scanBench(bench: Bench): Promise<void> {
  const issued = (await bench.rig.control.tokens()).map((t) => t.token);
  const registered = bench.runs.flatMap((r) => r.secrets).filter((s) => s.length >= 6);
  const secrets = [...new Set([D.clientSecret, D.vvpApiToken, D.systemAccessToken, ...issued, ...registered])];
  for (const run of bench.runs) {
    assertNoSecretLeak(run, secrets);
    assertNoSecretFragments(run, secrets);
  }
  // The VVP token may only ever travel to the VVP host (never to a redirect target or another service).
  const elsewhere = (await bench.rig.control.requests()).filter((r) => r.host !== 'vvp.example.com' && JSON.stringify(r.requestHeaders).includes(D.vvpApiToken));
  assert.deepEqual(elsewhere.map((r) => `${r.method} ${r.host}${r.path}`), [], 'the VVP token went to another host');
}
