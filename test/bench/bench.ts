/**
 * `npm run bench`: one run against one rig (proxy + Entra ID / Key Vault fakes + Azurite) and two
 * VVP simulators (real time, and 10x time-scaled for the 90 s script). Prints progress, the
 * result tables, and FIGURES: each target figure beside its reference (the SDK-free upload
 * client, `node -e 0`, the target values) with PASS/MISS; as the last line, one JSON object with
 * every figure. A target missed is reported, not failed; the exit code is 1 only when something
 * errors.
 *
 * Knobs (environment): BENCH_UPLOAD_SIZES_MIB (default "256,1024"), BENCH_UPLOAD_REPS (5),
 * BENCH_UPLOAD_ROUTE (proxy|direct, default proxy: task and limit client both through the rig's
 * TLS proxy, as behind an agent proxy), BENCH_LIMIT_MD5 (1: one extra limit run with per-block
 * Content-MD5, for information; default 0), BENCH_COLD_RUNS (11), BENCH_DEPLOY_RUNS (20),
 * BENCH_DEPLOY_PARALLEL (4), BENCH_SIM_SEEDS (2000: simulation seeds), BENCH_ONLY (comma list of cold,upload,deploy,sim),
 * BENCH_UPLOAD_TASK_DIR / BENCH_DEPLOY_TASK_DIR (measure another build, e.g. an unpacked VSIX).
 */
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { bundledTaskDir } from '../rig/bundles';
import { startRig, type Rig } from '../rig/rig';
import { startSimulator, type RunningSimulator } from '../vvp-simulator/client';
import { coldStarts, NODE_REFERENCE, type ColdStartRun } from './cold-start';
import { CpuMeter, type CpuUse } from './cpu-meter';
import {
  benchCorrectness,
  benchHandWrittenLatency,
  benchTaskLatency,
  latencyScenario,
  summariseDeploy,
  type DeployFigures,
  type RateFigures,
} from './deploy-bench';
import { fmt, median, passMiss, round, table } from './stats';
import { benchUpload, type UploadFigures } from './upload-bench';
import { benchSimulation, type SimFigures } from '../sim/sim-bench';

const env = process.env;
const SIZES = (env.BENCH_UPLOAD_SIZES_MIB ?? '256,1024').split(',').map((s) => Number(s.trim())).filter((n) => n > 0);
const REPS = Number(env.BENCH_UPLOAD_REPS ?? 5);
const ROUTE = (env.BENCH_UPLOAD_ROUTE ?? 'proxy') === 'direct' ? 'direct' : 'proxy';
const LIMIT_MD5 = (env.BENCH_LIMIT_MD5 ?? '0') !== '0';
const COLD_RUNS = Number(env.BENCH_COLD_RUNS ?? 11);
const DEPLOY_RUNS = Number(env.BENCH_DEPLOY_RUNS ?? 20);
const DEPLOY_PARALLEL = Number(env.BENCH_DEPLOY_PARALLEL ?? 4);
const SIM_SEEDS = Number(env.BENCH_SIM_SEEDS ?? 2000);
const ONLY = new Set((env.BENCH_ONLY ?? 'cold,upload,deploy,sim').split(',').map((s) => s.trim()));
const TIME_SCALE = 0.1;
const SCALED_HOST = 'vvp-scaled.example.com';

const TARGET_PERCENT_OF_LIMIT = 90;
const TARGET_RSS_MB = 150;
const TARGET_MEDIAN_LATENCY_MS = 1000;
const TARGET_REQUESTS_PER_SECOND = 1;
const TARGET_COLD_START_FACTOR = 3;
/** CI runs 2,000 seeds in under a minute. */
const TARGET_SIM_SEEDS_PER_SECOND = 2000 / 60;

const log = (line: string): void => console.log(line);

interface ColdFigures {
  bundle: string;
  runs: number;
  medianToCompleteMs: number;
  minToCompleteMs: number;
  maxToCompleteMs: number;
  medianToExitMs: number;
  result?: string;
}

function coldFigures(bundle: string, runs: ColdStartRun[]): ColdFigures {
  const complete = runs.map((r) => r.toCompleteMs);
  return {
    bundle,
    runs: runs.length,
    medianToCompleteMs: median(complete),
    minToCompleteMs: Math.min(...complete),
    maxToCompleteMs: Math.max(...complete),
    medianToExitMs: median(runs.map((r) => r.toExitMs)),
    result: runs[0]?.result,
  };
}

function machine(): Record<string, string | number> {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '?',
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const m = machine();
  log(`VVP tasks benchmark — ${new Date().toISOString()} — ${m.cpus} CPU (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}`);
  // Fail early on a stale bundle.
  // BENCH_*_TASK_DIR: measure another build of a task (e.g. the previous release's unpacked VSIX).
  const uploadDir = env.BENCH_UPLOAD_TASK_DIR ?? bundledTaskDir('VvpUploadArtifact');
  const deployDir = env.BENCH_DEPLOY_TASK_DIR ?? bundledTaskDir('VvpDeploy');

  const benchToken = `bench-owner-${randomBytes(12).toString('hex')}`;
  const tokens = [{ token: benchToken, namespace: '*', role: 'owner' as const }];
  let sim: RunningSimulator | undefined;
  let scaledSim: RunningSimulator | undefined;
  let rig: Rig | undefined;
  let cold: ColdFigures[] = [];
  let upload: UploadFigures | undefined;
  let deploy: DeployFigures | undefined;
  let simulation: SimFigures | undefined;
  const load: Record<string, CpuUse | undefined> = {};
  try {
    sim = await startSimulator({ tokens, stderr: 'ignore' });
    scaledSim = await startSimulator({ tokens, timeScale: TIME_SCALE, stderr: 'ignore' });
    rig = await startRig({ azurite: ONLY.has('upload'), vvpUrl: sim.url, routes: [{ host: SCALED_HOST, target: scaledSim.url }] });
    const ours = (): number[] => [...(rig?.pids() ?? []), sim?.pid ?? -1, scaledSim?.pid ?? -1];
    const phaseMeter = new CpuMeter(ours);
    const measured = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      phaseMeter.begin();
      try {
        return await fn();
      } finally {
        load[name] = phaseMeter.end();
      }
    };

    if (ONLY.has('cold')) {
      log(`\n[cold start] ${COLD_RUNS} rounds of ${NODE_REFERENCE}, then each bundle, nothing else of the benchmark running`);
      const bundles = [['VvpUploadArtifact@1', uploadDir], ['VvpDeploy@1', deployDir]] as const;
      const runs = await measured('cold start', () => coldStarts(bundles, COLD_RUNS));
      cold = [...runs].map(([name, r]) => coldFigures(name, r));
      for (const c of cold) {
        log(`  ${c.bundle}: median ${c.medianToCompleteMs.toFixed(0)} ms${c.result ? ` to task.complete (${c.result}), ${c.medianToExitMs.toFixed(0)} ms to exit` : ' to exit'}`);
      }
    }

    if (ONLY.has('upload')) {
      log(`\n[upload] sizes ${SIZES.join(', ')} MiB, ${REPS} run(s) each of the task and the limit client, route ${ROUTE}`);
      const r = rig;
      upload = await measured('upload', () =>
        benchUpload(r, { taskDir: uploadDir, sizesMiB: SIZES, repetitions: REPS, route: ROUTE, limitWithMd5: LIMIT_MD5, meter: new CpuMeter(ours), log }),
      );
    }

    if (ONLY.has('deploy')) {
      const scenario = latencyScenario(DEPLOY_RUNS);
      log(`\n[deploy] ${DEPLOY_RUNS} task runs, ${DEPLOY_PARALLEL} at a time (each its own deployment and token). Scenario: ${scenario.description}`);
      const ctx = { rig, sim, scaledSim, scaledHost: SCALED_HOST, timeScale: TIME_SCALE, benchToken, taskDir: deployDir, log };
      const taskRuns = await measured('deploy: task latency runs', () => benchTaskLatency(ctx, DEPLOY_RUNS, DEPLOY_PARALLEL));
      log(`\n[deploy] hand-written PATCH / sleep 90 / GET, ${DEPLOY_RUNS} runs at once on the ${TIME_SCALE}x time-scaled simulator (sleep ${90 * TIME_SCALE} s)`);
      const hwRuns = await measured('deploy: hand-written runs', () => benchHandWrittenLatency(ctx, DEPLOY_RUNS));
      log(`\n[deploy] verdict vs truth: hand-written script and task on the same upgrade scenarios (time-scaled simulator)`);
      const correctness = await measured('deploy: verdict checks', () => benchCorrectness(ctx));
      deploy = summariseDeploy(scenario.description, taskRuns, hwRuns, correctness, TIME_SCALE);
    }

    if (ONLY.has('sim')) {
      log(`\n[simulation] ${SIM_SEEDS} CI seeds through the real harness (in-memory VVP, faults, invariants, the next deploy), one at a time`);
      simulation = await measured('simulation', () => benchSimulation(SIM_SEEDS));
      log(`  ${simulation.seeds} seeds in ${simulation.seconds.toFixed(1)} s: ${simulation.seedsPerSecond.toFixed(0)} seeds/s; slowest seed ${simulation.slowestSeed} (${simulation.slowestSeedMs.toFixed(0)} ms); ${simulation.failing} failing`);
    }
  } finally {
    await Promise.all([rig?.stop(), sim?.stop(), scaledSim?.stop()]);
  }

  report({ cold, upload, deploy, simulation, load, machine: m, seconds: (Date.now() - started) / 1000 });
}

/** One line of FIGURES: what was measured, what it is compared with, the target and the verdict. */
interface Figure {
  measured: string;
  reference: string;
  target: string;
  /** The number the verdict is judged on (a ratio, MB, requests/s, seconds). */
  value: number | undefined;
  verdict: 'PASS' | 'MISS';
}

function report(r: {
  cold: ColdFigures[];
  upload?: UploadFigures;
  deploy?: DeployFigures;
  simulation?: SimFigures;
  load: Record<string, CpuUse | undefined>;
  machine: Record<string, string | number>;
  seconds: number;
}): void {
  const targets: Record<string, Figure> = {};
  const { upload, deploy } = r;
  log('\n' + '='.repeat(100));
  if (upload) {
    log(
      `\nUPLOAD — VvpUploadArtifact@1 bundle vs minimal SDK-free Put Block client (practical limit), same Azurite, ` +
        `${upload.route === 'direct' ? `both direct to ${upload.blobEndpoint}` : 'both through the rig proxy'}; ` +
        `${upload.blockSizeMiB} MiB blocks x ${upload.concurrency} in flight, bearer token from the Entra ID fake; ` +
        `${upload.repetitions} runs each, alternating order; best (median); paired %: median over the repetitions of task / limit run back to back.`,
    );
    log(
      table([
        ['size', 'task MiB/s', 'limit MiB/s', 'task % of limit', 'paired %', ...(LIMIT_MD5 ? ['limit+MD5 MiB/s'] : []), 'task step s', 'MiB/s by step', 'task upload s', 'task peak RSS', 'limit peak RSS'],
        ...upload.sizes.map((s) => [
          `${s.sizeMiB} MiB`,
          `${fmt(s.bestTaskMiBps)} (${fmt(s.medianTaskMiBps)})`,
          `${fmt(s.bestLimitMiBps)} (${fmt(s.medianLimitMiBps)})`,
          `${fmt(s.percentOfLimit)} % (${fmt(s.percentOfLimitMedian)} %)`,
          `${fmt(s.medianPairedPercent)} %`,
          ...(LIMIT_MD5 ? [fmt(s.limitWithMd5?.mibPerSecond)] : []),
          fmt(s.taskWallSeconds),
          fmt(s.sizeMiB / s.taskWallSeconds),
          fmt(s.taskUploadSeconds),
          `${fmt(s.taskPeakRssMB, 0)} MB (${fmt(s.taskPeakRssMiB, 0)} MiB)`,
          `${fmt(s.limitPeakRssMB, 0)} MB`,
        ]),
      ]),
    );
    log(
      "task MiB/s: from the task's own summary line, its first read of the file to the verified commit (the file read once: Put Block x N " +
        'while a worker thread hashes SHA-256 + MD5, conditional Put Block List, committed block list read back).',
    );
    log('Runs: ' + upload.sizes.map((s) => `${s.sizeMiB} MiB task ${s.task.map((t) => t.mibPerSecond.toFixed(1)).join('/')}, limit ${s.limit.map((l) => l.mibPerSecond.toFixed(1)).join('/')}`).join('; ') + ' MiB/s.');
    log(
      'task step s: spawn to exit (start-up, token, existing-blob check, upload), median; MiB/s by step: size / step s, which compares builds ' +
        "whose summary lines time different things (1.0's left out its hashing pass). Peak RSS: maxrss of the process; MB = 10^6 bytes.",
    );
    log('limit MiB/s: the SDK-free client, same file, block size and concurrency, no hashing (Put Block x N + Put Block List + HEAD), its own process.');
    if (LIMIT_MD5) log('limit+MD5: the same client also sending a per-block Content-MD5 (which Azurite then checks), one run, for information.');
    for (const s of upload.sizes) {
      const ratio = s.medianPairedPercent / 100;
      targets[`upload ${s.sizeMiB >= 1024 ? `${s.sizeMiB / 1024} GiB` : `${s.sizeMiB} MiB`}`] = {
        measured: `median ${fmt(s.medianTaskMiBps)} MiB/s (best ${fmt(s.bestTaskMiBps)})`,
        reference: `SDK-free Put Block client median ${fmt(s.medianLimitMiBps)} MiB/s (best ${fmt(s.bestLimitMiBps)})`,
        target:
          `>= ${TARGET_PERCENT_OF_LIMIT / 100} x reference, median of ${upload.repetitions} back-to-back pairs: ${ratio.toFixed(2)} x ` +
          `(best/best ${(s.percentOfLimit / 100).toFixed(2)} x, median/median ${(s.percentOfLimitMedian / 100).toFixed(2)} x)`,
        value: round(ratio, 3),
        verdict: passMiss(s.medianPairedPercent >= TARGET_PERCENT_OF_LIMIT),
      };
    }
    const gib = upload.sizes.find((s) => s.sizeMiB === 1024);
    if (gib) {
      targets['peak RSS, upload 1 GiB'] = {
        measured: `${fmt(gib.taskPeakRssMB, 0)} MB (highest of ${gib.task.length} runs)`,
        reference: `SDK-free client ${fmt(gib.limitPeakRssMB, 0)} MB`,
        target: `<= ${TARGET_RSS_MB} MB`,
        value: gib.taskPeakRssMB === undefined ? undefined : round(gib.taskPeakRssMB, 1),
        verdict: passMiss(gib.taskPeakRssMB !== undefined && gib.taskPeakRssMB <= TARGET_RSS_MB),
      };
    }
  }
  if (r.cold.length) {
    const node = r.cold.find((c) => c.bundle === NODE_REFERENCE);
    const factor = (c: ColdFigures): number | undefined => (node ? c.medianToCompleteMs / node.medianToCompleteMs : undefined);
    log(
      `\nCOLD START — bundle spawned with the agent's environment and no inputs, until ##vso[task.complete] (it fails on the missing inputs, ` +
        `listing them all); ${NODE_REFERENCE} spawned the same way, until exit; ${r.cold[0].runs} interleaved rounds`,
    );
    log(
      table([
        ['process', 'median ms', 'min ms', 'max ms', 'median to exit ms', `x ${NODE_REFERENCE}`],
        ...r.cold.map((c) => [c.bundle, fmt(c.medianToCompleteMs, 0), fmt(c.minToCompleteMs, 0), fmt(c.maxToCompleteMs, 0), fmt(c.medianToExitMs, 0), fmt(factor(c), 2)]),
      ]),
    );
    for (const c of r.cold.filter((x) => x !== node)) {
      const f = factor(c);
      targets[`cold start ${c.bundle}, no inputs`] = {
        measured: `${fmt(c.medianToCompleteMs, 0)} ms (median)`,
        reference: `${NODE_REFERENCE} ${fmt(node?.medianToCompleteMs, 0)} ms`,
        target: `<= ${TARGET_COLD_START_FACTOR} x reference: ${fmt(f, 2)} x`,
        value: f === undefined ? undefined : round(f, 2),
        verdict: passMiss(f !== undefined && f <= TARGET_COLD_START_FACTOR),
      };
    }
  }
  if (deploy) {
    const t = deploy.task;
    const h = deploy.handWritten;
    log(`\nDEPLOY — verdict latency = new job STARTED (simulator's job.status.started.startedAt) -> task/script process end; requests = what VVP received after the PATCH until the end`);
    log(`scenario: ${deploy.scenario}`);
    const row = (name: string, f: RateFigures): string[] => [
      name,
      String(f.runs),
      `${f.correct}/${f.runs}`,
      fmt(f.medianLatencyMs / 1000, 2),
      fmt(f.p95LatencyMs / 1000, 2),
      `${fmt(f.minLatencyMs / 1000, 2)}..${fmt(f.maxLatencyMs / 1000, 2)}`,
      fmt(f.requestsPerSecond, 3),
      fmt(f.requestsPerMinute, 1),
      fmt(f.worstRunRequestsPerSecond, 3),
      String(f.peakRequestsIn1s),
    ];
    log(
      table([
        ['approach', 'runs', 'verdict right', 'median s', 'p95 s', 'range s', 'req/s', 'req/min', 'worst run req/s', 'max req in 1 s'],
        row('VvpDeploy@1 (defaults, pollIntervalSeconds 5)', t),
        row('hand-written PATCH; sleep 90; GET', h),
      ]),
    );
    log(
      `hand-written: run on the simulator with timeScale ${h.timeScale} (every VVP duration x${h.timeScale}) with sleep ${90 * h.timeScale} s; ` +
        `its times are divided by ${h.timeScale} (timer jitter is multiplied by ${1 / h.timeScale}, i.e. +-tens of ms).`,
    );
    const kinds = (k: Record<string, number>): string => Object.entries(k).map(([name, n]) => `${name} ${n.toFixed(1)}`).join(', ');
    log(`task requests per run (whole run): ${kinds(t.requestsPerRunByKind)}`);
    const longest = t.runsDetail.reduce((a, b) => (b.probeOffsetsMs.length > a.probeOffsetsMs.length ? b : a));
    log(`task poll schedule as VVP saw it (${longest.deployment}, s after the PATCH): ${longest.probeOffsetsMs.map((ms) => (ms / 1000).toFixed(2)).join(', ')}`);
    log(`hand-written requests per run:     ${kinds(h.requestsPerRunByKind)}`);

    log(`\nVERDICT vs TRUTH — same scenarios for both (time-scaled simulator, VVP times given unscaled); truth = what the simulator runs once the scenario has played out`);
    log(
      table([
        ['scenario', 'truth (after it played out)', 'at the script\'s GET (90 s)', 'script verdict', 'right?', 'VvpDeploy@1', 'right?'],
        ...deploy.correctness.map((c) => [c.scenario, c.truth, c.handWritten.atVerdict, c.handWritten.verdict, c.handWritten.correct ? 'yes' : 'NO', c.task.result, c.task.correct ? 'yes' : 'NO']),
      ]),
    );
    for (const c of deploy.correctness) {
      log(`  ${c.scenario}: ${c.description}`);
      if (c.handWritten.note) log(`    script: ${c.handWritten.note}`);
      log(`    task:   ${c.task.message}`);
    }

    targets['VVP requests while waiting (every request after the PATCH but the savepoint lookup after the verdict)'] = {
      measured: `${fmt(t.requestsPerSecond, 2)} /s over ${t.runs} runs, worst run ${fmt(t.worstRunRequestsPerSecond, 2)} /s`,
      reference: `hand-written script ${fmt(h.requestsPerSecond, 3)} /s (and a verdict ${fmt(h.medianLatencyMs / 1000, 0)} s late)`,
      target: `<= ${TARGET_REQUESTS_PER_SECOND} /s in every run`,
      value: round(t.worstRunRequestsPerSecond, 3),
      verdict: passMiss(t.requestsPerSecond <= TARGET_REQUESTS_PER_SECOND && t.worstRunRequestsPerSecond <= TARGET_REQUESTS_PER_SECOND),
    };
    targets['deploy verdict after the new job runs'] = {
      measured: `median ${fmt(t.medianLatencyMs / 1000, 2)} s, p95 ${fmt(t.p95LatencyMs / 1000, 2)} s, max ${fmt(t.maxLatencyMs / 1000, 2)} s`,
      reference: `hand-written script median ${fmt(h.medianLatencyMs / 1000, 1)} s`,
      target: `median <= ${TARGET_MEDIAN_LATENCY_MS / 1000} s`,
      value: round(t.medianLatencyMs / 1000, 3),
      verdict: passMiss(t.medianLatencyMs <= TARGET_MEDIAN_LATENCY_MS),
    };
  }

  if (r.simulation) {
    const s = r.simulation;
    targets['simulation seeds per second (the real harness)'] = {
      measured: `${fmt(s.seedsPerSecond, 0)} seeds/s (${s.seeds} seeds in ${fmt(s.seconds, 1)} s, slowest ${fmt(s.slowestSeedMs, 0)} ms)`,
      reference: '2,000 CI seeds in under 60 s',
      target: `>= ${fmt(TARGET_SIM_SEEDS_PER_SECOND, 1)} seeds/s`,
      value: round(s.seedsPerSecond, 1),
      verdict: passMiss(s.seedsPerSecond >= TARGET_SIM_SEEDS_PER_SECOND),
    };
  }

  const phases = Object.entries(r.load).filter((e): e is [string, CpuUse] => e[1] !== undefined);
  if (phases.length) {
    log(`\nLOAD — average CPU cores in use during each phase (machine has ${r.machine.cpus}): by the benchmark's own processes / by anything else on the box`);
    log(table([['phase', 'seconds', 'own cores', 'other cores'], ...phases.map(([name, u]) => [name, fmt(u.seconds, 0), fmt(u.ownCores, 2), fmt(u.foreignCores, 2)])]));
    const busy = phases.filter(([, u]) => u.foreignCores > 0.25);
    if (busy.length) log(`WARNING: other work used CPU during ${busy.map(([n]) => n).join(', ')}: those figures are depressed and noisy; rerun on a quiet machine.`);
  }

  log('\nFIGURES — each beside its reference');
  if (Object.keys(targets).length === 0) log('(none measured in this run)');
  else log(table([['figure', 'measured', 'reference', 'target', 'verdict'], ...Object.entries(targets).map(([name, v]) => [name, v.measured, v.reference, v.target, v.verdict])]));
  log(`\nbench took ${r.seconds.toFixed(0)} s`);

  const json = {
    bench: 'vvp-azure-pipelines',
    at: new Date().toISOString(),
    machine: r.machine,
    seconds: round(r.seconds, 1),
    otherLoadCores: Object.fromEntries(Object.entries(r.load).map(([k, u]) => [k, u ? round(u.foreignCores, 2) : null])),
    targets,
    upload: upload && {
      route: upload.route,
      blockSizeMiB: upload.blockSizeMiB,
      concurrency: upload.concurrency,
      repetitions: upload.repetitions,
      sizes: upload.sizes.map((s) => ({
        sizeMiB: s.sizeMiB,
        taskMiBpsMedian: s.medianTaskMiBps,
        taskMiBpsBest: s.bestTaskMiBps,
        limitMiBpsMedian: round(s.medianLimitMiBps, 1),
        limitMiBpsBest: round(s.bestLimitMiBps, 1),
        percentOfLimit: round(s.percentOfLimit, 1),
        percentOfLimitMedian: round(s.percentOfLimitMedian, 1),
        pairedPercents: s.pairedPercents.map((p) => round(p, 1)),
        medianPairedPercent: round(s.medianPairedPercent, 1),
        limitWithMd5MiBps: s.limitWithMd5 ? round(s.limitWithMd5.mibPerSecond, 1) : null,
        taskWallSecondsMedian: round(s.taskWallSeconds, 2),
        taskPeakRssMB: s.taskPeakRssMB === undefined ? null : round(s.taskPeakRssMB, 1),
        taskPeakRssMiB: s.taskPeakRssMiB === undefined ? null : round(s.taskPeakRssMiB, 1),
        limitPeakRssMB: s.limitPeakRssMB === undefined ? null : round(s.limitPeakRssMB, 1),
        taskRuns: s.task.map((a) => ({
          MiBps: a.mibPerSecond,
          uploadS: a.uploadSeconds,
          wallS: round(a.wallSeconds, 2),
          rssMB: a.peakRssMB === undefined ? null : round(a.peakRssMB, 1),
          otherLoadCores: a.foreignCores === undefined ? null : round(a.foreignCores, 2),
        })),
        limitRuns: s.limit.map((l) => ({
          MiBps: round(l.mibPerSecond, 1),
          s: round(l.seconds, 2),
          rssMB: l.peakRssMB === undefined ? null : round(l.peakRssMB, 1),
          otherLoadCores: l.foreignCores === undefined ? null : round(l.foreignCores, 2),
        })),
      })),
    },
    simulation: r.simulation && { seeds: r.simulation.seeds, seconds: round(r.simulation.seconds, 2), seedsPerSecond: round(r.simulation.seedsPerSecond, 1), slowestSeedMs: round(r.simulation.slowestSeedMs, 0), failing: r.simulation.failing },
    coldStart: r.cold.map((c) => ({ bundle: c.bundle, runs: c.runs, medianMs: round(c.medianToCompleteMs, 0), minMs: round(c.minToCompleteMs, 0), maxMs: round(c.maxToCompleteMs, 0), medianToExitMs: round(c.medianToExitMs, 0) })),
    deploy: deploy && {
      scenario: deploy.scenario,
      task: rateJson(deploy.task),
      handWritten: { ...rateJson(deploy.handWritten), timeScale: deploy.handWritten.timeScale, sleepSeconds: deploy.handWritten.sleepSeconds },
      correctness: deploy.correctness.map((c) => ({
        scenario: c.scenario,
        truth: c.truth,
        handWritten: { verdict: c.handWritten.verdict, saw: c.handWritten.atVerdict, right: c.handWritten.correct, note: c.handWritten.note ?? null },
        task: { result: c.task.result, right: c.task.correct },
      })),
    },
  };
  log(JSON.stringify(json));
}

function rateJson(f: RateFigures & { runsDetail: { upgradeMs: number; latencyMs: number; waitRequests: number; waitSeconds: number }[] }): Record<string, unknown> {
  return {
    runs: f.runs,
    correct: f.correct,
    medianLatencyS: round(f.medianLatencyMs / 1000),
    p95LatencyS: round(f.p95LatencyMs / 1000),
    minLatencyS: round(f.minLatencyMs / 1000),
    maxLatencyS: round(f.maxLatencyMs / 1000),
    requestsPerSecond: round(f.requestsPerSecond, 4),
    requestsPerMinute: round(f.requestsPerMinute, 2),
    worstRunRequestsPerSecond: round(f.worstRunRequestsPerSecond, 4),
    peakRequestsIn1s: f.peakRequestsIn1s,
    requestsPerRunByKind: Object.fromEntries(Object.entries(f.requestsPerRunByKind).map(([k, v]) => [k, round(v, 2)])),
    perRun: f.runsDetail.map((d) => ({ upgradeS: round(d.upgradeMs / 1000, 2), latencyS: round(d.latencyMs / 1000, 3), requests: d.waitRequests, waitS: round(d.waitSeconds, 2) })),
  };
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${(error as Error)?.stack ?? String(error)}`);
  process.exitCode = 1;
});
