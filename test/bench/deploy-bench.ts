/**
 * Deploy benchmark (issue 4): verdict latency and request rate of the bundled VvpDeploy@1, run
 * as the agent runs it (Key Vault fake for the token, the VVP simulator behind
 * `https://vvp.example.com` through the rig's proxy), compared with the hand-written
 * "PATCH, sleep 90, GET once" script users run today, plus whether each verdict was true.
 *
 * Every task run gets its own deployment and its own VVP token (its own Key Vault secret), so
 * the simulator's request log attributes each request to exactly one run, and runs can overlap.
 */
import { randomBytes } from 'node:crypto';
import { RIG_DEFAULTS as D } from '../rig/config';
import type { Rig } from '../rig/rig';
import { runTask, type TaskRunResult } from '../rig/run-task';
import { azureRmEndpoint } from '../rig/service-endpoints';
import type { BehaviourPatch, DeploymentTruth, RecordedRequest, RunningSimulator } from '../vvp-simulator/client';
import { handWrittenDeploy, type HandWrittenResult } from './handwritten-deploy';
import { median, percentile, pool, sleep, sum } from './stats';

export const NAMESPACE = 'default';
const JAR_BASE = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/app.jar';
export const OLD_JAR = `${JAR_BASE}?commit=0000000`;
/** runTask's default Build.SourceVersion becomes the `?commit=` of the task's jarUri. */
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
export const NEW_JAR = `${JAR_BASE}?commit=${COMMIT}`;

export interface DeployBenchContext {
  rig: Rig;
  /** Real-time simulator behind `https://vvp.example.com` (rig route). */
  sim: RunningSimulator;
  /** Time-scaled simulator behind `https://<scaledHost>` (rig route), for the hand-written script and verdict checks. */
  scaledSim: RunningSimulator;
  scaledHost: string;
  timeScale: number;
  /** Owner token on both simulators for the benchmark's own reads (not counted: other token). */
  benchToken: string;
  /** The bundled VvpDeploy@1 folder, resolved once (a source edited meanwhile must not stop the run). */
  taskDir: string;
  log: (line: string) => void;
}

/** The realistic upgrade of the latency runs; `startMs` is spread over the runs. */
export function latencyScenario(runs: number): { base: BehaviourPatch; startMsOf: (i: number) => number; description: string } {
  const base = { staleRunningMs: 2000, savepointMs: 1000, terminateMs: 500 };
  const first = 1500;
  const last = 11_500;
  const startMsOf = (i: number): number => (runs <= 1 ? first : Math.round(first + ((last - first) * i) / (runs - 1)));
  return {
    base,
    startMsOf,
    description:
      `STATEFUL upgrade: old job still shown RUNNING for ${base.staleRunningMs} ms after the PATCH, savepoint ${base.savepointMs} ms, ` +
      `old job terminates in ${base.terminateMs} ms, new job STARTING -> STARTED in ${first}..${last} ms (evenly spread over the ${runs} runs), ` +
      `so the new job starts ${(base.staleRunningMs + base.savepointMs + base.terminateMs + first) / 1000}..${(base.staleRunningMs + base.savepointMs + base.terminateMs + last) / 1000} s after the PATCH`,
  };
}

export interface LatencyRun {
  deployment: string;
  result?: string;
  /** The task succeeded and the simulator's truth runs the new jarUri. */
  correct: boolean;
  /** New job STARTED minus PATCH arrival. */
  upgradeMs: number;
  /** Task process end minus new job STARTED. */
  latencyMs: number;
  /** Requests after the PATCH, and the span from the PATCH to the task's end. */
  waitRequests: number;
  /** Reads after the verdict that report on it (the upgrade savepoint lookup). */
  reportReads: number;
  waitSeconds: number;
  requestsPerSecond: number;
  /** Most requests within any 1 s window of the wait. */
  peakRequestsIn1s: number;
  totalRequests: number;
  byKind: Record<string, number>;
  /** When the deployment was read after the PATCH (ms after it): the poll schedule as VVP saw it. */
  probeOffsetsMs: number[];
  message?: string;
}

export interface RateFigures {
  runs: number;
  succeeded: number;
  correct: number;
  medianLatencyMs: number;
  p95LatencyMs: number;
  minLatencyMs: number;
  maxLatencyMs: number;
  /** Sum of requests during the waits / sum of wait time. */
  requestsPerSecond: number;
  requestsPerMinute: number;
  worstRunRequestsPerSecond: number;
  peakRequestsIn1s: number;
  requestsPerRunByKind: Record<string, number>;
}

export interface CorrectnessRow {
  scenario: string;
  description: string;
  truth: string;
  newJarRan: boolean;
  handWritten: { verdict: string; observed: string; atVerdict: string; correct: boolean; note?: string };
  task: { result: string; correct: boolean; message: string };
}

export interface DeployFigures {
  scenario: string;
  task: RateFigures & { runsDetail: LatencyRun[] };
  handWritten: RateFigures & { timeScale: number; sleepSeconds: number; runsDetail: LatencyRun[] };
  correctness: CorrectnessRow[];
}

/** VVP timestamps have microseconds; Date.parse is only sure about milliseconds. */
export function parseVvpTime(value: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(value);
  if (!m) return Date.parse(value);
  return Date.parse(`${m[1]}Z`) + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0);
}

function kindOf(r: RecordedRequest): string {
  if (/\/deployments\/[^/]+$/.test(r.path)) return `${r.method} deployment`;
  if (/\/jobs\/[^/]+$/.test(r.path)) return `${r.method} job`;
  if (/\/jobs$/.test(r.path)) return `${r.method} jobs list`;
  if (/\/events$/.test(r.path)) return `${r.method} events`;
  return `${r.method} ${r.path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '{id}')}`;
}

function peakIn1s(times: number[]): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i] - t[j] >= 1000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

async function jobStartedAt(sim: RunningSimulator, token: string, jobId: string): Promise<number> {
  const res = await fetch(`${sim.url}/api/v1/namespaces/${NAMESPACE}/jobs/${jobId}`, { headers: { Authorization: `Bearer ${token}` } });
  const job = (await res.json()) as { status?: { state?: string; started?: { startedAt?: string } } };
  const at = job.status?.started?.startedAt;
  if (!res.ok || !at) throw new Error(`job ${jobId}: no startedAt (HTTP ${res.status}, state ${job.status?.state})`);
  return parseVvpTime(at);
}

/** Figures of one run from the simulator's request log and truth. */
async function analyse(
  sim: RunningSimulator,
  benchToken: string,
  requests: RecordedRequest[],
  deployment: string,
  endedAt: number,
  scale: number,
): Promise<Omit<LatencyRun, 'deployment' | 'result' | 'correct' | 'message'> & { truth: DeploymentTruth }> {
  const truth = await sim.control.truth(NAMESPACE, deployment);
  const patch = requests.find((r) => r.method === 'PATCH');
  if (!patch) throw new Error(`${deployment}: no PATCH in the request log`);
  const patchAt = parseVvpTime(patch.at);
  const newJob = truth.jobs.find((j) => j.jarUri === NEW_JAR && j.state === 'STARTED');
  const startedAt = newJob ? await jobStartedAt(sim, benchToken, newJob.id) : Number.NaN;
  // The wait's reads: every request after the PATCH but the one savepoint lookup, which runs
  // after the verdict to report the upgrade savepoint (it is no poll).
  const after = requests.filter((r) => r.seq > patch.seq && !r.path.endsWith('/savepoints'));
  const reportReads = requests.filter((r) => r.seq > patch.seq && r.path.endsWith('/savepoints')).length;
  const waitSeconds = (endedAt - patchAt) / 1000 / scale;
  const byKind: Record<string, number> = {};
  for (const r of requests) byKind[kindOf(r)] = (byKind[kindOf(r)] ?? 0) + 1;
  return {
    truth,
    upgradeMs: (startedAt - patchAt) / scale,
    latencyMs: (endedAt - startedAt) / scale,
    waitRequests: after.length,
    reportReads,
    waitSeconds,
    requestsPerSecond: after.length / waitSeconds,
    peakRequestsIn1s: peakIn1s(after.map((r) => parseVvpTime(r.at) / scale)),
    totalRequests: requests.length,
    byKind,
    probeOffsetsMs: after.filter((r) => r.method === 'GET' && /\/deployments\/[^/]+$/.test(r.path)).map((r) => (parseVvpTime(r.at) - patchAt) / scale),
  };
}

function rateFigures(runs: LatencyRun[]): RateFigures {
  const ok = runs.filter((r) => Number.isFinite(r.latencyMs));
  const latencies = ok.map((r) => r.latencyMs);
  const kinds: Record<string, number> = {};
  for (const r of runs) for (const [k, n] of Object.entries(r.byKind)) kinds[k] = (kinds[k] ?? 0) + n / runs.length;
  const rps = sum(runs.map((r) => r.waitRequests)) / sum(runs.map((r) => r.waitSeconds));
  return {
    runs: runs.length,
    succeeded: runs.filter((r) => r.result === 'Succeeded' || r.result === 'success').length,
    correct: runs.filter((r) => r.correct).length,
    medianLatencyMs: median(latencies),
    p95LatencyMs: percentile(latencies, 95),
    minLatencyMs: Math.min(...latencies),
    maxLatencyMs: Math.max(...latencies),
    requestsPerSecond: rps,
    requestsPerMinute: rps * 60,
    worstRunRequestsPerSecond: Math.max(...runs.map((r) => r.requestsPerSecond)),
    peakRequestsIn1s: Math.max(...runs.map((r) => r.peakRequestsIn1s)),
    requestsPerRunByKind: kinds,
  };
}

/** One bundled VvpDeploy@1 run against `host`, with its own token (registered in `sim` and Key Vault). */
async function runDeployTask(ctx: DeployBenchContext, sim: RunningSimulator, host: string, deployment: string): Promise<{ run: TaskRunResult; endedAt: number; token: string }> {
  const token = `bench-${deployment}-${randomBytes(8).toString('hex')}`;
  const secretName = `vvp-token-${deployment}`;
  await sim.control.addToken({ token, namespace: NAMESPACE, role: 'editor' });
  await ctx.rig.control.setSecret(D.vaultName, secretName, token);
  const endpoint = azureRmEndpoint({ scheme: 'ServicePrincipal' });
  const run = await runTask({
    taskDir: ctx.taskDir,
    endpoints: [endpoint],
    inputs: {
      azureSubscription: endpoint.id,
      keyVaultName: D.vaultName,
      tokenSecretName: secretName,
      vvpUrl: `https://${host}`,
      namespace: NAMESPACE,
      deployment,
      jarUri: JAR_BASE,
      // Everything else at its default: pollIntervalSeconds 5, timeoutMinutes 15, no rollback.
    },
    variables: { 'Build.SourceVersion': COMMIT },
    env: ctx.rig.env('env'),
    timeoutMs: 5 * 60_000,
  });
  return { run, endedAt: Date.now(), token };
}

const byToken = (requests: RecordedRequest[], token: string): RecordedRequest[] => requests.filter((r) => r.headers.authorization === `Bearer ${token}`);

/** The task's verdict latency and request rate over `runs` upgrades (real-time simulator). */
export async function benchTaskLatency(ctx: DeployBenchContext, runs: number, parallel: number): Promise<LatencyRun[]> {
  const scenario = latencyScenario(runs);
  const jobs = Array.from({ length: runs }, (_, i) => async (): Promise<LatencyRun> => {
    const deployment = `latency-${String(i + 1).padStart(2, '0')}`;
    await ctx.sim.control.seedDeployment({ name: deployment, jarUri: OLD_JAR, behaviour: { ...scenario.base, startMs: scenario.startMsOf(i) } });
    const { run, endedAt, token } = await runDeployTask(ctx, ctx.sim, 'vvp.example.com', deployment);
    const requests = byToken(await ctx.sim.control.requests(), token);
    const a = await analyse(ctx.sim, ctx.benchToken, requests, deployment, endedAt, 1);
    const correct = run.result === 'Succeeded' && a.truth.runningJob?.jarUri === NEW_JAR;
    const { truth: _truth, ...figures } = a;
    const r: LatencyRun = { deployment, result: run.result, correct, message: run.message, ...figures };
    ctx.log(
      `  task ${deployment}: ${run.result}, new job STARTED ${(r.upgradeMs / 1000).toFixed(2)} s after PATCH, verdict +${(r.latencyMs / 1000).toFixed(2)} s, ` +
        `${r.waitRequests} requests in ${r.waitSeconds.toFixed(1)} s (${r.requestsPerSecond.toFixed(2)}/s)` + (r.reportReads ? ` + ${r.reportReads} savepoint lookup after the verdict` : ''),
    );
    if (!correct) ctx.log(`    ! ${run.message}\n${run.stdout.slice(-1500)}`);
    return r;
  });
  // Staggered, a few at a time: the runs share 2 cores with the simulator, the proxy and the fakes.
  return pool(jobs, parallel, 1500);
}

/** The hand-written script on the time-scaled simulator, same upgrades as the task's latency runs. */
export async function benchHandWrittenLatency(ctx: DeployBenchContext, runs: number): Promise<LatencyRun[]> {
  const scenario = latencyScenario(runs);
  const sim = ctx.scaledSim;
  const token = ctx.benchToken;
  const deployments = Array.from({ length: runs }, (_, i) => `handwritten-${String(i + 1).padStart(2, '0')}`);
  for (const [i, name] of deployments.entries()) {
    await sim.control.seedDeployment({ name, jarUri: OLD_JAR, behaviour: { ...scenario.base, startMs: scenario.startMsOf(i) } });
  }
  const results = await Promise.all(
    deployments.map((deployment) => handWrittenDeploy({ baseUrl: sim.url, token, namespace: NAMESPACE, deployment, jarUri: NEW_JAR, sleepMs: 90_000 * ctx.timeScale })),
  );
  const all = await sim.control.requests();
  const out: LatencyRun[] = [];
  for (const [i, deployment] of deployments.entries()) {
    const mine = all.filter((r) => r.headers.authorization === `Bearer ${token}` && r.path.endsWith(`/deployments/${deployment}`));
    const a = await analyse(sim, token, mine, deployment, results[i].endedAt, ctx.timeScale);
    const { truth, ...figures } = a;
    const newJarRan = truth.runningJob?.jarUri === NEW_JAR;
    out.push({ deployment, result: results[i].verdict, correct: (results[i].verdict === 'success') === newJarRan, message: results[i].observed, ...figures });
  }
  return out;
}

interface CorrectnessScenario {
  key: string;
  description: string;
  behaviour: BehaviourPatch;
  upgradeStrategy?: string;
}

/** Upgrades where "RUNNING after 90 s" and "the new JAR runs" part ways (durations in VVP time). */
export const CORRECTNESS_SCENARIOS: CorrectnessScenario[] = [
  { key: 'normal', description: 'normal upgrade, new job STARTED 7.5 s after the PATCH', behaviour: { staleRunningMs: 2000, savepointMs: 1000, terminateMs: 500, startMs: 4000 } },
  { key: 'slow-upgrade', description: 'slow upgrade: savepoint 60 s, new job STARTED 102.5 s after the PATCH', behaviour: { staleRunningMs: 2000, savepointMs: 60_000, terminateMs: 500, startMs: 40_000 } },
  { key: 'fast-failure', description: 'new job fails to start (4 attempts x 1.5 s), FAILED 9.5 s after the PATCH', behaviour: { staleRunningMs: 2000, savepointMs: 1000, terminateMs: 500, startMs: 1500, outcome: 'fails' } },
  { key: 'slow-failure', description: 'new job fails to start (4 attempts x 25 s), FAILED 103.5 s after the PATCH', behaviour: { staleRunningMs: 2000, savepointMs: 1000, terminateMs: 500, startMs: 25_000, outcome: 'fails' } },
  { key: 'late-pickup-failure', description: 'VVP shows the old job RUNNING for 100 s after the PATCH, then the new job fails (FAILED at 107.5 s)', behaviour: { staleRunningMs: 100_000, savepointMs: 1000, terminateMs: 500, startMs: 1500, outcome: 'fails' } },
  { key: 'upgrade-none', description: "upgradeStrategy NONE: the template changes, the old job keeps running, the new JAR never runs", behaviour: {}, upgradeStrategy: 'NONE' },
];
/** Every scenario has ended this long (VVP time) after its PATCH. */
const SCENARIOS_SETTLED_MS = 112_000;

function describeTruth(t: DeploymentTruth): string {
  const what = t.runningJob?.jarUri === NEW_JAR ? 'new JAR runs' : t.runningJob ? 'old JAR runs' : 'no job runs';
  return `${t.statusState}, ${what}`;
}

/** Hand-written script and the task on the same upgrade scenarios (time-scaled simulator); verdicts against truth. */
export async function benchCorrectness(ctx: DeployBenchContext): Promise<CorrectnessRow[]> {
  const sim = ctx.scaledSim;
  for (const s of CORRECTNESS_SCENARIOS) {
    for (const prefix of ['hw', 'task']) {
      await sim.control.seedDeployment({ name: `${prefix}-${s.key}`, jarUri: OLD_JAR, behaviour: s.behaviour, ...(s.upgradeStrategy ? { upgradeStrategy: s.upgradeStrategy } : {}) });
    }
  }
  const started = Date.now();
  const handWritten = Promise.all(
    CORRECTNESS_SCENARIOS.map(async (s) => {
      const deployment = `hw-${s.key}`;
      const r = await handWrittenDeploy({ baseUrl: sim.url, token: ctx.benchToken, namespace: NAMESPACE, deployment, jarUri: NEW_JAR, sleepMs: 90_000 * ctx.timeScale });
      // What really ran at the moment of the verdict.
      const atVerdict = describeTruth(await sim.control.truth(NAMESPACE, deployment));
      return { r, atVerdict };
    }),
  );
  const tasks = pool(
    CORRECTNESS_SCENARIOS.map((s) => () => runDeployTask(ctx, sim, ctx.scaledHost, `task-${s.key}`)),
    CORRECTNESS_SCENARIOS.length,
    300,
  );
  const [hw, taskRuns] = await Promise.all([handWritten, tasks]);
  const settle = started + SCENARIOS_SETTLED_MS * ctx.timeScale + 1000 - Date.now();
  if (settle > 0) await sleep(settle);
  const rows: CorrectnessRow[] = [];
  for (const [i, s] of CORRECTNESS_SCENARIOS.entries()) {
    const hwTruth = await sim.control.truth(NAMESPACE, `hw-${s.key}`);
    const taskTruth = await sim.control.truth(NAMESPACE, `task-${s.key}`);
    const hwRan = hwTruth.runningJob?.jarUri === NEW_JAR;
    const taskRan = taskTruth.runningJob?.jarUri === NEW_JAR;
    const { r, atVerdict } = hw[i];
    const run = taskRuns[i].run;
    rows.push({
      scenario: s.key,
      description: s.description,
      truth: describeTruth(hwTruth),
      newJarRan: hwRan,
      handWritten: {
        verdict: r.verdict,
        observed: r.observed,
        atVerdict,
        correct: (r.verdict === 'success') === hwRan,
        note: noteFor(r.verdict, r.observed, hwRan, hwTruth.statusState),
      },
      task: { result: run.result ?? '(none)', correct: (run.result === 'Succeeded') === taskRan, message: (run.message ?? '').split('\n')[0].slice(0, 220) },
    });
  }
  return rows;
}

/** Why the script's verdict is wrong, or right only by luck. */
function noteFor(verdict: string, observed: string, newJarRan: boolean, finalState: string): string | undefined {
  if (verdict === 'success' && !newJarRan) return `false success: green while the new JAR never ran (ends ${finalState})`;
  if (verdict === 'failure' && newJarRan) return 'false failure: red although the new JAR runs a little later';
  if (verdict === 'failure' && observed !== finalState) return `right only by timing: it saw ${observed}, not the failure, and has no failure reason`;
  return undefined;
}

export function summariseDeploy(scenario: string, taskRuns: LatencyRun[], hwRuns: LatencyRun[], correctness: CorrectnessRow[], timeScale: number): DeployFigures {
  return {
    scenario,
    task: { ...rateFigures(taskRuns), runsDetail: taskRuns },
    handWritten: { ...rateFigures(hwRuns), timeScale, sleepSeconds: 90, runsDetail: hwRuns },
    correctness,
  };
}

export type { HandWrittenResult };
