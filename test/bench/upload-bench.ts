/**
 * Upload benchmark: the bundled VvpUploadArtifact@1, run as the agent runs it, against a
 * minimal SDK-free Put Block client (the practical limit), same Azurite, same block size and
 * concurrency, same Entra ID bearer auth. Route `proxy` (the default): both go through the rig's
 * TLS-terminating proxy to `vvpstorage.blob.core.windows.net`, as an agent behind a proxy does;
 * route `direct`: both talk to Azurite path-style (`https://127.0.0.1:<port>/<account>`), and
 * only the task's token request goes through the proxy.
 */
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_BLOCK_SIZE_IN_BYTES, DEFAULT_CONCURRENCY, MIB } from '../../tasks/common/blob/block-plan';
import { minimalEnv } from '../rig/azurite';
import { RIG_DEFAULTS as D } from '../rig/config';
import { sendRequest } from '../rig/http-request';
import { rigProxyAgent } from '../rig/proxy-agent';
import type { Rig } from '../rig/rig';
import { runTask } from '../rig/run-task';
import { azureRmEndpoint } from '../rig/service-endpoints';
import type { BlockPutOptions, BlockPutResult } from './block-put-client';
import type { CpuMeter } from './cpu-meter';
import { rssProbe } from './measured-env';
import { median } from './stats';

export interface UploadAttempt {
  /** Upload phase: staging + commit + verify, from the task's summary line. */
  mibPerSecond: number;
  uploadSeconds: number;
  /** Whole step: process spawn to exit. */
  wallSeconds: number;
  peakRssMB?: number;
  blocks: number;
  blockMiB: number;
  /** Average CPU cores other work on the machine used during the run. */
  foreignCores?: number;
}

export interface LimitAttempt {
  mibPerSecond: number;
  seconds: number;
  peakRssMB?: number;
  blocks: number;
  foreignCores?: number;
}

export interface UploadSizeFigures {
  sizeMiB: number;
  task: UploadAttempt[];
  limit: LimitAttempt[];
  /** The limit client with a per-block Content-MD5 (one run, for information). */
  limitWithMd5?: LimitAttempt;
  /** Medians and bests over the runs (the targets are judged on the bests). */
  medianTaskMiBps: number;
  medianLimitMiBps: number;
  bestTaskMiBps: number;
  bestLimitMiBps: number;
  /** Best task rate / best limit rate (interference from other load only ever slows a run down). */
  percentOfLimit: number;
  /** Median task rate / median limit rate. */
  percentOfLimitMedian: number;
  /**
   * Task rate / limit rate of each repetition (the two ran back to back, under the same load
   * from the rest of the machine and Azurite's state), and their median: what the verdict uses,
   * since one lucky or unlucky run of either side moves best/best and median/median alike.
   */
  pairedPercents: number[];
  medianPairedPercent: number;
  /** Highest peak RSS over the task runs of this size (MB = 10^6 bytes, and MiB). */
  taskPeakRssMB?: number;
  taskPeakRssMiB?: number;
  limitPeakRssMB?: number;
  /** Median wall time of the task runs (spawn to exit). */
  taskWallSeconds: number;
  taskUploadSeconds: number;
}

export interface UploadFigures {
  route: 'direct' | 'proxy';
  blobEndpoint: string;
  blockSizeMiB: number;
  concurrency: number;
  repetitions: number;
  sizes: UploadSizeFigures[];
}

const CONTAINER = 'vvp';

/** Entra ID token for Blob Storage from the rig's fake, fetched through its proxy like any client would. */
export async function storageToken(rig: Rig): Promise<string> {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: D.clientId,
    client_secret: D.clientSecret,
    scope: 'https://storage.azure.com/.default',
  }).toString();
  const res = await sendRequest(`https://login.microsoftonline.com/${D.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(Buffer.byteLength(body)) },
    body,
    agent: rigProxyAgent(rig),
  });
  if (res.status !== 200) throw new Error(`token request failed: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  return (JSON.parse(res.body) as { access_token: string }).access_token;
}

/** A sparse file (no disk blocks) with 4 KiB of random bytes at every MiB, so every block differs. */
function writeSparseFile(file: string, sizeInBytes: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '');
  fs.truncateSync(file, sizeInBytes);
  const fd = fs.openSync(file, 'r+');
  try {
    const mark = Buffer.alloc(4096);
    for (let offset = 0; offset + mark.length <= sizeInBytes; offset += MIB) fs.writeSync(fd, randomFillSync(mark), 0, mark.length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

async function createContainer(accountUrl: string, token: string, ca: string, agent?: https.Agent): Promise<void> {
  const res = await sendRequest(`${accountUrl}/${CONTAINER}?restype=container`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${token}`, 'x-ms-version': '2025-01-05', 'Content-Length': '0' },
    agent: agent ?? new https.Agent({ ca }),
  });
  if (res.status !== 201 && res.status !== 409) throw new Error(`creating container '${CONTAINER}' at ${accountUrl}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
}

/** Runs the limit client as its own process (so its RSS is its own), returns its figures. */
function runLimitClient(options: BlockPutOptions, probeDir: string, name: string): Promise<LimitAttempt> {
  const rss = rssProbe(probeDir, name);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'block-put-client.js')], {
      env: { ...minimalEnv(), ...rss.env, BENCH_BLOCK_PUT: JSON.stringify(options) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`limit client failed (exit ${code}): ${err.slice(-2000)}`));
      const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as BlockPutResult;
      resolve({ mibPerSecond: r.mibPerSecond, seconds: r.durationMs / 1000, blocks: r.blocks, peakRssMB: rss.read()?.mb });
    });
  });
}

const other = (cores: number | undefined): string => (cores === undefined ? '' : `; other load on the box ${cores.toFixed(2)} cores`);

const SUMMARY = /Uploaded \S+ \(([\d.]+) MiB\) in ([\d.]+) s \(([\d.]+) MiB\/s, (\d+) block\(s\) of ([\d.]+) MiB\)/;

export async function benchUpload(
  rig: Rig,
  options: { taskDir: string; sizesMiB: number[]; repetitions: number; route: 'direct' | 'proxy'; limitWithMd5: boolean; meter?: CpuMeter; log: (line: string) => void },
): Promise<UploadFigures> {
  const az = rig.azurite;
  if (!az) throw new Error('the rig was started without Azurite');
  const { log } = options;
  const direct = options.route === 'direct';
  const accountUrl = direct ? `https://127.0.0.1:${az.port}/${az.accountName}` : az.blobEndpoint;
  const { taskDir } = options;
  const token = await storageToken(rig);
  await createContainer(accountUrl, token, rig.caPem, direct ? undefined : (rigProxyAgent(rig) as https.Agent));
  const endpoint = azureRmEndpoint({ scheme: 'ServicePrincipal' });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vvp-bench-upload-'));
  const sizes: UploadSizeFigures[] = [];
  try {
    for (const sizeMiB of options.sizesMiB) {
      const workDir = path.join(root, `s${sizeMiB}`);
      const fileName = `bench-${sizeMiB}mib.jar`;
      writeSparseFile(path.join(workDir, 'target', fileName), sizeMiB * MIB);
      const task: UploadAttempt[] = [];
      const limit: LimitAttempt[] = [];

      let limitWithMd5: LimitAttempt | undefined;
      const runLimit = async (rep: number, blockMd5 = false): Promise<void> => {
        const label = blockMd5 ? `limit-md5-${sizeMiB}mib` : `limit-${sizeMiB}mib-${rep + 1}`;
        // A fresh blob name per run: no overwrite (and no Azurite clean-up of the old extents) in the measurement.
        const blobUrl = `${accountUrl}/${CONTAINER}/artifacts/namespaces/default/bench/${label}.jar`;
        options.meter?.begin();
        const r = await runLimitClient(
          { blobUrl, token, filePath: path.join(workDir, 'target', fileName), blockSizeInBytes: DEFAULT_BLOCK_SIZE_IN_BYTES, concurrency: DEFAULT_CONCURRENCY, ca: rig.caPem, blockMd5, proxyUrl: direct ? undefined : rig.proxyUrl },
          root,
          label,
        );
        r.foreignCores = options.meter?.end()?.foreignCores;
        if (blockMd5) limitWithMd5 = r;
        else limit.push(r);
        log(
          `  ${sizeMiB} MiB limit client${blockMd5 ? ' + per-block Content-MD5 (info)' : ` #${rep + 1}`}: ${r.mibPerSecond.toFixed(1)} MiB/s ` +
            `(${r.seconds.toFixed(2)} s, ${r.blocks} blocks), peak RSS ${r.peakRssMB?.toFixed(0) ?? '?'} MB${other(r.foreignCores)}`,
        );
      };
      const runTheTask = async (rep: number): Promise<void> => {
        const rss = rssProbe(root, `task-${sizeMiB}-${rep}`);
        options.meter?.begin();
        const run = await runTask({
          taskDir,
          workDir,
          endpoints: [endpoint],
          inputs: {
            azureSubscription: endpoint.id,
            storageAccount: D.storageAccount,
            containerName: CONTAINER,
            artifactPath: `target/${fileName}`,
            blobName: `bench/task-${sizeMiB}mib-${rep + 1}.jar`,
            overwrite: 'always',
            ...(direct ? { blobEndpoint: accountUrl } : {}),
          },
          env: { ...rig.env('env'), ...rss.env },
          timeoutMs: 15 * 60_000,
        });
        const foreignCores = options.meter?.end()?.foreignCores;
        const m = SUMMARY.exec(run.message ?? '');
        if (run.result !== 'Succeeded' || !m) {
          throw new Error(`upload task run failed (${run.result}): ${run.message}\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`);
        }
        const a: UploadAttempt = {
          mibPerSecond: Number(m[3]),
          uploadSeconds: Number(m[2]),
          wallSeconds: run.durationMs / 1000,
          peakRssMB: rss.read()?.mb,
          blocks: Number(m[4]),
          blockMiB: Number(m[5]),
          foreignCores,
        };
        task.push(a);
        log(
          `  ${sizeMiB} MiB task #${rep + 1}: upload phase ${a.mibPerSecond.toFixed(1)} MiB/s (${a.uploadSeconds.toFixed(1)} s, ${a.blocks} x ${a.blockMiB} MiB), ` +
            `step ${a.wallSeconds.toFixed(1)} s, peak RSS ${a.peakRssMB?.toFixed(0) ?? '?'} MB${other(a.foreignCores)}`,
        );
      };

      for (let rep = 0; rep < options.repetitions; rep++) {
        // Alternate the order, so neither side always runs first.
        if (rep % 2 === 0) {
          await runLimit(rep);
          await runTheTask(rep);
        } else {
          await runTheTask(rep);
          await runLimit(rep);
        }
      }
      if (options.limitWithMd5) await runLimit(0, true);
      fs.rmSync(workDir, { recursive: true, force: true });

      const taskRss = task.map((t) => t.peakRssMB).filter((v): v is number => v !== undefined);
      const limitRss = limit.map((l) => l.peakRssMB).filter((v): v is number => v !== undefined);
      const medianTaskMiBps = median(task.map((t) => t.mibPerSecond));
      const medianLimitMiBps = median(limit.map((l) => l.mibPerSecond));
      const peakMB = taskRss.length ? Math.max(...taskRss) : undefined;
      sizes.push({
        sizeMiB,
        task,
        limit,
        limitWithMd5,
        medianTaskMiBps,
        medianLimitMiBps,
        bestTaskMiBps: Math.max(...task.map((t) => t.mibPerSecond)),
        bestLimitMiBps: Math.max(...limit.map((l) => l.mibPerSecond)),
        percentOfLimit: (Math.max(...task.map((t) => t.mibPerSecond)) / Math.max(...limit.map((l) => l.mibPerSecond))) * 100,
        percentOfLimitMedian: (medianTaskMiBps / medianLimitMiBps) * 100,
        pairedPercents: task.map((t, i) => (t.mibPerSecond / limit[i].mibPerSecond) * 100),
        medianPairedPercent: median(task.map((t, i) => (t.mibPerSecond / limit[i].mibPerSecond) * 100)),
        taskPeakRssMB: peakMB,
        taskPeakRssMiB: peakMB === undefined ? undefined : (peakMB * 1e6) / MIB,
        limitPeakRssMB: limitRss.length ? Math.max(...limitRss) : undefined,
        taskWallSeconds: median(task.map((t) => t.wallSeconds)),
        taskUploadSeconds: median(task.map((t) => t.uploadSeconds)),
      });
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return {
    route: options.route,
    blobEndpoint: accountUrl,
    blockSizeMiB: DEFAULT_BLOCK_SIZE_IN_BYTES / MIB,
    concurrency: DEFAULT_CONCURRENCY,
    repetitions: options.repetitions,
    sizes,
  };
}
