/**
 * `npm run demo`: the whole pipeline, locally and offline. Unpacks the VSIX that `npm run package`
 * built, starts Azurite, the VVP simulator and the Entra ID / Key Vault fakes behind the local
 * proxy, then runs the steps of `test/demo/pipeline.yml` from the unpacked VSIX exactly as the
 * agent would (inputs as the YAML passes them, step outputs feeding later steps), and prints what
 * a user sees in the pipeline log.
 *
 *   npm run demo                          both tasks succeed
 *   npm run demo -- --scenario failing    the upgrade fails, rollbackOnFailure restores the old JAR
 *   npm run demo -- --scenario crashloop  the new job crash-loops; the health check fails the step
 *                                         and the old JAR comes back from the pre-upgrade savepoint
 *   npm run demo -- --scenario plan       a pull-request plan: offline without secrets, then online
 *   npm run demo -- --scenario lifecycle  savepoint, suspend and resume of the running deployment
 *   npm run demo -- --scenario sql        Flink SQL as code: a UDF JAR uploaded, a plan with the
 *                                         script's line diff, the script deployed, and a typo
 *                                         annotated at its line with nothing written
 *   npm run demo -- --target real --pipeline my-pipeline.yml   your own Azure + VVP (docs/demo.md)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import JSZip from 'jszip';
import { parse } from 'yaml';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { ROOT } from '../rig/bundles';
import { RIG_DEFAULTS } from '../rig/config';
import { rigProxyAgent } from '../rig/proxy-agent';
import { startRig, type Rig } from '../rig/rig';
import { runTask, type TaskRunResult } from '../rig/run-task';
import { azureRmEndpoint, type ServiceEndpoint } from '../rig/service-endpoints';
import { startSimulator, type RunningSimulator } from '../vvp-simulator/client';
import { sqlScriptSha256 } from '../../tasks/common/sql/script-input';
import { parseVsoLine } from '../rig/vso-commands';
import type { DeploymentTruth } from '../vvp-simulator/simulator-state';
import { renderPipelineLog } from './render-log';

const SCENARIOS = ['upgrade', 'failing', 'crashloop', 'plan', 'lifecycle', 'sql'] as const;
type Scenario = (typeof SCENARIOS)[number];

/** The pipeline a scenario runs (test/demo/) and the simulator scenario it runs against. */
const SCENARIO_FILES: Record<Scenario, { pipeline: string; simulator: string }> = {
  upgrade: { pipeline: 'pipeline.yml', simulator: 'demo.yaml' },
  failing: { pipeline: 'pipeline.yml', simulator: 'failing.yaml' },
  crashloop: { pipeline: 'pipelines/crashloop.yml', simulator: 'crash-loop.yaml' },
  plan: { pipeline: 'pipelines/plan.yml', simulator: 'demo.yaml' },
  lifecycle: { pipeline: 'pipelines/lifecycle.yml', simulator: 'demo.yaml' },
  sql: { pipeline: 'pipelines/sql.yml', simulator: 'sql-demo.yaml' },
};

/** The deployment a scenario's pipeline changes. */
const deploymentOf = (scenario: Scenario): string => (scenario === 'sql' ? 'big-orders' : 'top-speed-windowing');

/** The pipeline file of a scenario. */
export function scenarioPipeline(scenario: Scenario): string {
  return path.join(ROOT, 'test', 'demo', SCENARIO_FILES[scenario].pipeline);
}

interface DemoOptions {
  scenario: Scenario;
  target: 'local' | 'real';
  pipelineFile: string;
  /** Print the pipeline log (the demo) or stay quiet (the test). */
  print: (line: string) => void;
}

interface PipelineStep {
  task: string;
  name: string;
  displayName?: string;
  inputs: Record<string, string>;
}

interface StepRun {
  step: PipelineStep;
  run: TaskRunResult;
}

interface DemoResult {
  steps: StepRun[];
  /** True when the run ended the way the scenario means to show. */
  asExpected: boolean;
  recap: string;
}

/** Reads the `steps:` of an azure-pipelines.yml-style file. */
function readPipeline(file: string): PipelineStep[] {
  const doc = parse(fs.readFileSync(file, 'utf8')) as { steps?: unknown };
  if (!Array.isArray(doc?.steps)) throw new Error(`${file}: expected a 'steps:' list`);
  return doc.steps.map((s, i): PipelineStep => {
    const step = s as { task?: unknown; name?: unknown; displayName?: unknown; inputs?: Record<string, unknown> };
    if (typeof step.task !== 'string') throw new Error(`${file}: step ${i + 1} has no 'task:'`);
    const inputs = Object.fromEntries(Object.entries(step.inputs ?? {}).map(([k, v]) => [k, String(v)]));
    return { task: step.task, name: typeof step.name === 'string' ? step.name : `step${i + 1}`, displayName: step.displayName as string | undefined, inputs };
  });
}

/** Expands `$(name)` like the agent: known variables are replaced, unknown macros stay as written. */
export function expandMacros(value: string, variables: Record<string, string>): string {
  return value.replace(/\$\(([\w.]+)\)/g, (m, name: string) => variables[name] ?? variables[name.toLowerCase()] ?? m);
}

/** Unzips the single dist/*.vsix into a temporary folder (the agent does the same with a task zip). */
async function unpackVsix(into: string): Promise<string> {
  const dist = path.join(ROOT, 'dist');
  const vsix = fs.existsSync(dist) ? fs.readdirSync(dist).filter((f) => f.endsWith('.vsix')) : [];
  if (vsix.length !== 1) throw new Error('expected one dist/*.vsix: run `npm run package` first');
  const zip = await JSZip.loadAsync(fs.readFileSync(path.join(dist, vsix[0])));
  for (const [name, entry] of Object.entries(zip.files)) {
    if (entry.dir) continue;
    const target = path.join(into, name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, await entry.async('nodebuffer'));
  }
  return path.join(into, vsix[0]);
}

/** A small but real JAR (a zip with a manifest), as `mvn package` would leave it in target/. */
async function writeJobJar(file: string, marker: string): Promise<void> {
  const zip = new JSZip();
  zip.file('META-INF/MANIFEST.MF', 'Manifest-Version: 1.0\r\nMain-Class: com.ververica.example.TopSpeedWindowing\r\n\r\n');
  zip.file('com/ververica/example/TopSpeedWindowing.class', Buffer.concat([Buffer.from([0xca, 0xfe, 0xba, 0xbe]), Buffer.from(marker)]));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
}

function sourceVersion(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return randomBytes(20).toString('hex');
  }
}

interface Environment {
  endpoints: ServiceEndpoint[];
  env: Record<string, string>;
  simulator?: RunningSimulator;
  stop(): Promise<void>;
}

/** Azurite, the fakes behind the proxy, and the VVP simulator with the scenario's deployment. */
async function startLocal(scenario: Scenario): Promise<Environment> {
  const scenarioFile = path.join(ROOT, 'test', 'vvp-simulator', 'scenarios', SCENARIO_FILES[scenario].simulator);
  const simulator = await startSimulator({ scenario: scenarioFile });
  let rig: Rig | undefined;
  try {
    // The Key Vault fake holds the API token; the simulator accepts it as an editor of `default`.
    await simulator.control.addToken({ token: RIG_DEFAULTS.vvpApiToken, namespace: 'default', role: 'editor' });
    rig = await startRig({ azurite: true, vvpUrl: simulator.url });
    const az = rig.azurite!;
    const service = new BlobServiceClient(az.blobEndpoint, new StorageSharedKeyCredential(az.accountName, az.accountKey), {
      agent: rigProxyAgent(rig),
    } as object);
    await service.getContainerClient('vvp').createIfNotExists();
  } catch (error) {
    await rig?.stop();
    await simulator.stop();
    throw error;
  }
  const started = rig;
  return {
    endpoints: [azureRmEndpoint({ scheme: 'ServicePrincipal', id: 'my-arm-connection' })],
    // The agent's own proxy settings (Agent.ProxyUrl, Agent.CAInfo): how a corporate agent runs.
    env: started.env('agent'),
    simulator,
    stop: async () => {
      await started.stop();
      await simulator.stop();
    },
  };
}

/**
 * Your own Azure and VVP: a service principal from the environment (AZURE_TENANT_ID,
 * AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_SUBSCRIPTION_ID) stands in for the pipeline's
 * service connection named in the pipeline file. Nothing local is started.
 */
function realEnvironment(steps: PipelineStep[]): Environment {
  const need = ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_SUBSCRIPTION_ID'];
  const missing = need.filter((k) => !process.env[k]);
  if (missing.length > 0) throw new Error(`--target real needs ${missing.join(', ')} in the environment (see docs/demo.md)`);
  const ids = [...new Set(steps.map((s) => s.inputs.azureSubscription).filter(Boolean))];
  const endpoints = ids.map((id) =>
    azureRmEndpoint({
      scheme: 'ServicePrincipal',
      id,
      tenantId: process.env.AZURE_TENANT_ID,
      clientId: process.env.AZURE_CLIENT_ID,
      clientSecret: process.env.AZURE_CLIENT_SECRET,
      subscriptionId: process.env.AZURE_SUBSCRIPTION_ID,
    }),
  );
  return { endpoints, env: {}, stop: async () => undefined };
}

const taskFolder = (vsixDir: string, task: string): string => {
  const [name, major] = task.split('@');
  return path.join(vsixDir, 'tasks', name, `${name}V${major}`);
};

/** Runs the demo pipeline and returns what happened; the caller prints or asserts. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { print } = options;
  const steps = readPipeline(options.pipelineFile);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vvp-demo-'));
  const vsixDir = path.join(work, 'vsix');
  const sources = path.join(work, 's');
  const variables: Record<string, string> = { 'Build.SourceVersion': sourceVersion() };
  const runs: StepRun[] = [];
  let environment: Environment | undefined;
  try {
    const vsix = await unpackVsix(vsixDir);
    print(`Unpacked ${path.basename(vsix)} (tasks: ${fs.readdirSync(path.join(vsixDir, 'tasks')).join(', ')}) into a temporary folder`);
    if (options.target === 'local') {
      await writeJobJar(path.join(sources, 'flink-job', 'target', 'top-speed-windowing-1.0.jar'), variables['Build.SourceVersion']);
      await writeJobJar(path.join(sources, 'flink-job', 'target', 'original-top-speed-windowing-1.0.jar'), 'unshaded');
      fs.mkdirSync(path.join(sources, 'vvp'), { recursive: true });
      fs.copyFileSync(path.join(ROOT, 'test', 'demo', 'pipelines', 'deployment.yaml'), path.join(sources, 'vvp', 'deployment.yaml'));
      if (options.scenario === 'sql') {
        // A SQL-as-code repository: the scripts under sql/, the UDF JAR its build leaves in udf/target/.
        fs.cpSync(path.join(ROOT, 'test', 'demo', 'pipelines', 'sql'), path.join(sources, 'sql'), { recursive: true });
        await writeJobJar(path.join(sources, 'udf', 'target', 'orders-udfs-1.0.jar'), `udf ${variables['Build.SourceVersion']}`);
      }
    } else {
      fs.mkdirSync(sources, { recursive: true });
    }
    print(options.target === 'local' ? 'Starting Azurite, the VVP simulator and the Entra ID / Key Vault fakes behind a local proxy…' : 'Using your Azure subscription and VVP');
    environment = options.target === 'local' ? await startLocal(options.scenario) : realEnvironment(steps);
    const sourcesDir = options.target === 'local' ? sources : process.cwd();

    for (const step of steps) {
      const inputs = Object.fromEntries(Object.entries(step.inputs).map(([k, v]) => [k, expandMacros(v, variables)]));
      print('');
      print(`━━━ ${step.displayName ?? step.task} (${step.task}, name: ${step.name}) ━━━`);
      const run = await runTask({
        taskDir: taskFolder(vsixDir, step.task),
        inputs,
        endpoints: environment.endpoints,
        variables: {
          'Build.SourceVersion': variables['Build.SourceVersion'],
          'System.DefaultWorkingDirectory': sourcesDir,
          'Build.SourcesDirectory': sourcesDir,
        },
        env: environment.env,
        workDir: sourcesDir,
        timeoutMs: 120_000,
      });
      runs.push({ step, run });
      for (const line of renderPipelineLog(run)) print(line);
      for (const [name, value] of Object.entries(run.outputs)) variables[`${step.name}.${name}`] = value;
      if (run.result !== 'Succeeded' && run.result !== 'SucceededWithIssues') break;
    }

    let oldJobId: string | undefined;
    let truth: DeploymentTruth | undefined;
    if (environment.simulator) {
      truth = await environment.simulator.control.truth('default', deploymentOf(options.scenario));
      oldJobId = [...truth.jobs].sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0]?.id;
      const running = truth.runningJob;
      const runsWhat = running?.sqlScript ? `SQL script sha256 ${sqlScriptSha256(running.sqlScript).slice(0, 12)}` : (running?.jarUri ?? '(nothing)');
      print('');
      print(`VVP simulator's own record: deployment ${truth.statusState}, running job ${running?.id ?? '(none)'} with ${runsWhat}`);
    }
    const recap = options.scenario === 'sql' ? sqlRecap(runs, oldJobId) : recapOf(options.scenario, runs, oldJobId);
    const asExpected =
      options.scenario === 'failing' || options.scenario === 'crashloop'
        ? failingAsExpected(runs)
        : options.scenario === 'sql'
          ? sqlAsExpected(runs, steps.length, truth)
          : runs.length === steps.length && runs.every((r) => r.run.result === 'Succeeded');
    print('');
    print(recap);
    return { steps: runs, asExpected, recap };
  } finally {
    await environment?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function failingAsExpected(runs: StepRun[]): boolean {
  const deploy = runs.find((r) => r.step.task.startsWith('VvpDeploy'));
  const o = deploy?.run.outputs ?? {};
  return runs[0]?.run.result === 'Succeeded' && deploy?.run.result === 'Failed' && o.rolledBack === 'true' && !!o.jobId && o.jarUri === o.previousJarUri;
}

/**
 * The SQL scenario: the upload, the plan and the deploy succeed, the typo's deploy fails with an
 * annotation at a line of its file, and (locally) the job the deploy started still runs its script.
 */
function sqlAsExpected(runs: StepRun[], stepCount: number, truth: DeploymentTruth | undefined): boolean {
  const typo = runs[runs.length - 1];
  const good = runs.slice(0, -1);
  const deploy = runs.find((r) => r.step.name === 'deploy')?.run;
  const stillRuns = !truth || (truth.runningJob?.id === deploy?.outputs.jobId && sqlScriptSha256(truth.runningJob?.sqlScript ?? '') === deploy?.outputs.sqlScriptSha256);
  return runs.length === stepCount && good.every((r) => r.run.result === 'Succeeded') && typo.run.result === 'Failed' && annotationsOf(typo.run).some((a) => a.line !== undefined) && stillRuns;
}

/** The file annotations (`task.logissue` with a sourcepath) a step printed. */
export function annotationsOf(run: TaskRunResult): { file: string; line?: number; column?: number; message: string }[] {
  return run.stdout
    .split(/\r?\n/)
    .map(parseVsoLine)
    .filter((c): c is NonNullable<typeof c> => c !== undefined && (c.command === 'task.logissue' || c.command === 'task.issue') && c.properties.sourcepath !== undefined)
    .map((c) => ({
      file: c.properties.sourcepath,
      line: c.properties.linenumber ? Number(c.properties.linenumber) : undefined,
      column: c.properties.columnnumber ? Number(c.properties.columnnumber) : undefined,
      message: c.message,
    }));
}

function sqlRecap(runs: StepRun[], oldJobId: string | undefined): string {
  const out = (name: string): Record<string, string> => runs.find((r) => r.step.name === name)?.run.outputs ?? {};
  const typo = runs.find((r) => r.step.name === 'typo')?.run;
  const parts = ['Recap:'];
  parts.push(`The UDF JAR is at ${out('udf').jarUri ?? '?'} (${out('udf').uploaded === 'true' ? 'uploaded' : 'already there'}).`);
  parts.push(`The plan found ${out('plan').planChanges ?? '?'} changed fields, the script as a line diff with the JDBC password masked (restartRequired=${out('plan').restartRequired ?? '?'}).`);
  parts.push(`The deploy put sql/orders.sql (sha256 ${out('deploy').sqlScriptSha256?.slice(0, 12) ?? '?'}) with the UDF JAR on the classpath: VVP runs job ${out('deploy').jobId ?? '?'}, replacing job ${oldJobId ?? '(unknown)'} (state ${out('deploy').state ?? '?'}).`);
  const annotation = typo ? annotationsOf(typo).find((a) => a.line !== undefined) : undefined;
  parts.push(
    annotation
      ? `The script with a typo was refused before any write: the pull request shows "${firstLine(annotation.message)}" on ${annotation.file} line ${annotation.line}, column ${annotation.column ?? '?'}; the job above still runs.`
      : `The step with the typo ended ${typo?.result ?? 'not run'} without a file annotation.`,
  );
  return parts.join(' ');
}

function recapOf(scenario: Scenario, runs: StepRun[], oldJobId: string | undefined): string {
  const upload = runs.find((r) => r.step.task.startsWith('VvpUploadArtifact'))?.run;
  const deploy = runs.find((r) => r.step.task.startsWith('VvpDeploy'))?.run;
  const parts: string[] = ['Recap:'];
  if (upload) {
    parts.push(
      upload.result === 'Succeeded'
        ? `The JAR (sha256 ${upload.outputs.sha256?.slice(0, 16)}…) is at ${upload.outputs.jarUri} (${upload.outputs.uploaded === 'true' ? 'uploaded' : 'already there'}, ${ms(upload.durationMs)}).`
        : `The upload ended ${upload.result}: ${upload.message}.`,
    );
  }
  if (deploy) {
    const o = deploy.outputs;
    if (deploy.result === 'Succeeded') {
      parts.push(
        `VVP now runs job ${o.jobId} with ${o.jarUri}, replacing job ${oldJobId ?? '(unknown)'} that ran ${o.previousJarUri}; the step reached its verdict ${ms(deploy.durationMs)} after it started (state ${o.state}).`,
      );
    } else {
      parts.push(
        `The deployment step failed after ${ms(deploy.durationMs)} (${firstLine(deploy.message ?? '')})` +
          (o.rolledBack === 'true' && o.jobId ? `, and the previous JAR ${o.previousJarUri} runs again in job ${o.jobId} (rolledBack=true; the job before the step was ${oldJobId ?? 'unknown'}).` : '.'),
      );
    }
  }
  if (scenario === 'failing') parts.push('This scenario shows a failing upgrade: the step fails with the reason VVP gave, and the previous JAR is restored.');
  if (scenario === 'crashloop') {
    parts.push(
      `This scenario shows a job that starts and then crash-loops while VVP keeps the deployment RUNNING: the health check fails the step, and the previous JAR runs again from the savepoint taken before the upgrade (${deploy?.outputs.savepointLocation || 'none'}).`,
    );
  }
  if (scenario === 'plan') {
    const online = runs.find((r) => r.step.name === 'online')?.run.outputs;
    parts.push(`The plan wrote nothing: offline it checked the spec file; online it found ${online?.planChanges ?? '?'} changed fields (restartRequired=${online?.restartRequired ?? '?'}).`);
  }
  if (scenario === 'lifecycle') {
    const out = (name: string) => runs.find((r) => r.step.name === name)?.run.outputs ?? {};
    parts.push(`Savepoint ${out('savepoint').savepointId || '?'} taken while the job ran; suspended with savepoint ${out('suspend').savepointId || '?'}; resumed as job ${out('resume').jobId || '?'} restored from ${out('resume').restoredFrom || 'nothing'}.`);
  }
  return parts.join(' ');
}

const ms = (n: number): string => (n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`);
const firstLine = (s: string): string => s.split('\n')[0];

function parseArgs(argv: string[]): Omit<DemoOptions, 'print'> {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const scenario = (value('--scenario') ?? 'upgrade') as Scenario;
  if (!SCENARIOS.includes(scenario)) throw new Error(`--scenario must be one of ${SCENARIOS.join(', ')}, not ${scenario}`);
  const target = value('--target') ?? 'local';
  if (target !== 'local' && target !== 'real') throw new Error(`--target must be local or real, not ${target}`);
  return { scenario, target, pipelineFile: path.resolve(value('--pipeline') ?? scenarioPipeline(scenario)) };
}

if (require.main === module) {
  const started = Date.now();
  const args = parseArgs(process.argv.slice(2));
  runDemo({ ...args, print: (line) => console.log(line) })
    .then((result) => {
      console.log(`\nDemo finished in ${ms(Date.now() - started)}: ${result.asExpected ? 'the pipeline behaved as this scenario shows' : 'UNEXPECTED outcome'}.`);
      process.exitCode = result.asExpected ? 0 : 1;
    })
    .catch((error: unknown) => {
      console.error(`Demo failed: ${(error as Error).message}`);
      process.exitCode = 1;
    });
}
