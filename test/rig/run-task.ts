import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { minimalEnv } from './azurite';
import { trackChild } from './child-processes';
import { RIG_DEFAULTS } from './config';
import type { ServiceEndpoint } from './service-endpoints';
import { parseVsoLine } from './vso-commands';

/** A pipeline variable; `secret: true` passes it the way the agent passes secret variables. */
export type PipelineVariable = string | { value: string; secret: true };

export interface SignalAfter {
  signal: NodeJS.Signals;
  /** Send once stdout matches (checked on the whole output so far). */
  whenStdoutMatches?: RegExp;
  /** Send this many ms after start, or after the match when both are given. */
  afterMs?: number;
}

export interface RunTaskOptions {
  /** Folder holding the task's `index.js` (a bundled task, or tsc output). */
  taskDir: string;
  /** Task inputs by name, as in `task.json`; booleans and numbers are stringified. */
  inputs?: Record<string, string | boolean | number | undefined>;
  endpoints?: ServiceEndpoint[];
  /** Pipeline variables by name (`Build.SourceVersion`); they override the rig's defaults. */
  variables?: Record<string, PipelineVariable>;
  /** Raw environment, e.g. `rig.env('agent')`; applied last. */
  env?: Record<string, string | undefined>;
  /** Working directory (`System.DefaultWorkingDirectory`). Default: a fresh temp folder, removed after the run. */
  workDir?: string;
  /** Files to create under the working directory first (relative path → content). */
  files?: Record<string, string | Buffer>;
  /** Kill (SIGKILL) after this long. Default 60 000 ms. */
  timeoutMs?: number;
  signalAfter?: SignalAfter;
  /** Keep the temp folders (for debugging a failing test). Default false. */
  keepTempDirs?: boolean;
  /**
   * Run a full garbage collection in the task process this often (`--expose-gc` and
   * `gc-preload.js`), for steps that wait on a server that never answers. Default: none.
   */
  gcEveryMs?: number;
}

/** The variable naming the node binary that runs tasks (the Node 24 leg of `npm test` sets it). */
export const TASK_NODE_VARIABLE = 'VVP_TASK_NODE';

/** The node binary the rig runs tasks with: `VVP_TASK_NODE`, else the one running the tests. */
export function taskNode(): string {
  return process.env[TASK_NODE_VARIABLE] || process.execPath;
}

export type TaskResultName = 'Succeeded' | 'SucceededWithIssues' | 'Failed' | 'Cancelled' | 'Skipped';

export interface TaskRunResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
  /** True when the run hit `timeoutMs` and was killed. */
  timedOut: boolean;
  /** From the last `##vso[task.complete result=...]`; undefined when the task never sent one. */
  result?: TaskResultName;
  /** The message of that `task.complete`. */
  message?: string;
  /** `task.setvariable ... isOutput=true` values by variable name. */
  outputs: Record<string, string>;
  /** Every `task.setvariable` value by name (outputs included). */
  variables: Record<string, string>;
  /** Values registered with `task.setsecret`, plus `task.setvariable issecret=true` values. */
  secrets: string[];
  /** Contents of files named by `task.uploadsummary` (and summary attachments). */
  summaries: string[];
  /** `task.issue type=error` / `type=warning` messages. */
  errors: string[];
  warnings: string[];
  /** Output lines that are not logging commands. */
  logs: string[];
  /** When the run used the signal option: when it was sent (ms after start). */
  signalSentAtMs?: number;
}

/**
 * Runs a task the way the Azure Pipelines agent's Node handler does: `node <taskDir>/<entry>`
 * (with {@link taskNode})
 * with inputs, endpoints and variables in the environment, then decodes its logging commands.
 * The exit code is 0 even for a failed task; look at `result`.
 */
export async function runTask(options: RunTaskOptions): Promise<TaskRunResult> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-task-'));
  const workDir = options.workDir ?? path.join(root, 's');
  const tempDir = path.join(root, '_temp');
  fs.mkdirSync(workDir, { recursive: true });
  fs.mkdirSync(tempDir, { recursive: true });
  for (const [rel, content] of Object.entries(options.files ?? {})) {
    const file = path.join(workDir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  try {
    const env = buildTaskEnv(options, { workDir, tempDir, agentRoot: root });
    const run = await spawnTask(path.join(options.taskDir, 'index.js'), workDir, env, options);
    return interpret(run);
  } finally {
    if (!options.keepTempDirs) fs.rmSync(root, { recursive: true, force: true });
  }
}

const AGENT_OS: Readonly<Record<string, string>> = { linux: 'Linux', win32: 'Windows_NT', darwin: 'Darwin' };

/** The environment the agent would give the task; exported for MockTestRunner-based tests. */
export function buildTaskEnv(
  options: Pick<RunTaskOptions, 'inputs' | 'endpoints' | 'variables' | 'env'> & { taskDir?: string },
  dirs: { workDir: string; tempDir: string; agentRoot: string },
): Record<string, string> {
  const d = RIG_DEFAULTS;
  const collectionUri = `https://dev.azure.com/${d.organization}/`;
  const variables: Record<string, PipelineVariable> = {
    'Agent.Version': '4.264.2',
    'Agent.Name': 'rig-agent',
    'Agent.OS': AGENT_OS[process.platform] ?? 'Linux',
    'Agent.OSArchitecture': process.arch === 'arm64' ? 'ARM64' : 'X64',
    'Agent.JobName': 'Job',
    'Agent.JobStatus': 'Succeeded',
    'Agent.TempDirectory': dirs.tempDir,
    'Agent.WorkFolder': dirs.agentRoot,
    'Agent.BuildDirectory': dirs.agentRoot,
    'System.DefaultWorkingDirectory': dirs.workDir,
    'System.Culture': 'en-US',
    'System.Debug': 'false',
    'System.CollectionUri': collectionUri,
    'System.TeamFoundationCollectionUri': collectionUri,
    'System.TeamProject': d.project,
    'System.TeamProjectId': d.projectId,
    'System.HostType': 'build',
    'System.ServerType': 'Hosted',
    'System.PlanId': d.planId,
    'System.JobId': d.jobId,
    'System.OidcRequestUri': `${collectionUri}${d.projectId}/_apis/distributedtask/hubs/build/plans/${d.planId}/jobs/${d.jobId}/oidctoken`,
    'Build.BuildId': '4242',
    'Build.BuildNumber': '20240101.1',
    'Build.SourceVersion': '0123456789abcdef0123456789abcdef01234567',
    'Build.SourcesDirectory': dirs.workDir,
    'Build.Repository.Name': 'flink-job',
    ...options.variables,
  };

  const env: Record<string, string> = { ...minimalEnv() };
  const publicNames: string[] = [];
  const secretNames: string[] = [];
  for (const [name, v] of Object.entries(variables)) {
    if (typeof v === 'string') {
      env[variableKey(name)] = v;
      publicNames.push(name);
    } else {
      env[`SECRET_${variableKey(name)}`] = v.value;
      secretNames.push(name);
    }
  }

  for (const [name, value] of Object.entries({ ...(options.taskDir ? agentDefaults(options.taskDir, options.inputs ?? {}, variables) : {}), ...options.inputs })) {
    if (value === undefined) continue;
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = String(value);
  }

  // The job's own connection, which carries System.AccessToken.
  const endpoints: ServiceEndpoint[] = [
    { id: 'SYSTEMVSSCONNECTION', url: collectionUri, scheme: 'OAuth', parameters: { AccessToken: d.systemAccessToken } },
    ...(options.endpoints ?? []),
  ];
  for (const e of endpoints) Object.assign(env, endpointEnv(e));

  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) continue;
    if (k === 'VSTS_PUBLIC_VARIABLES') publicNames.push(...(JSON.parse(v) as string[]));
    else if (k === 'VSTS_SECRET_VARIABLES') secretNames.push(...(JSON.parse(v) as string[]));
    else env[k] = v;
  }
  env['VSTS_PUBLIC_VARIABLES'] = JSON.stringify(publicNames);
  env['VSTS_SECRET_VARIABLES'] = JSON.stringify(secretNames);
  return env;
}

/**
 * The agent's environment variables for one endpoint (Handler.AddEndpointsToEnvironment):
 * `ENDPOINT_URL_<id>`, `ENDPOINT_AUTH_<id>` (JSON), `ENDPOINT_AUTH_SCHEME_<id>`,
 * `ENDPOINT_AUTH_PARAMETER_<id>_<KEY>`, `ENDPOINT_DATA_<id>` (JSON), `ENDPOINT_DATA_<id>_<KEY>`;
 * keys upper-cased with spaces as `_`, the id as given (lower-case GUID).
 */
function endpointEnv(e: ServiceEndpoint): Record<string, string> {
  const key = (k: string): string => k.replace(/ /g, '_').toUpperCase();
  const env: Record<string, string> = {
    [`ENDPOINT_URL_${e.id}`]: e.url,
    [`ENDPOINT_AUTH_${e.id}`]: JSON.stringify({ parameters: e.parameters, scheme: e.scheme }),
    [`ENDPOINT_AUTH_SCHEME_${e.id}`]: e.scheme,
  };
  for (const [k, v] of Object.entries(e.parameters)) env[`ENDPOINT_AUTH_PARAMETER_${e.id}_${key(k)}`] = v;
  if (e.data) {
    env[`ENDPOINT_DATA_${e.id}`] = JSON.stringify(e.data);
    for (const [k, v] of Object.entries(e.data)) env[`ENDPOINT_DATA_${e.id}_${key(k)}`] = v;
  }
  return env;
}

/** `Agent.TempDirectory` → `AGENT_TEMPDIRECTORY`, as agent and task-lib both format names. */
function variableKey(name: string): string {
  return name.replace(/\./g, '_').replace(/ /g, '_').toUpperCase();
}

interface RawRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
  timedOut: boolean;
  signalSentAtMs?: number;
}

function spawnTask(entry: string, cwd: string, env: Record<string, string>, options: RunTaskOptions): Promise<RawRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const gc = options.gcEveryMs === undefined ? [] : ['--expose-gc', '--require', path.join(__dirname, 'gc-preload.js')];
    const childEnv = options.gcEveryMs === undefined ? env : { ...env, RIG_GC_EVERY_MS: String(options.gcEveryMs) };
    const child = spawn(taskNode(), [...gc, entry], { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    trackChild(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let signalSentAtMs: number | undefined;
    const timers: NodeJS.Timeout[] = [];
    const later = (ms: number, fn: () => void): void => {
      timers.push(setTimeout(fn, ms));
    };
    later(options.timeoutMs ?? 60_000, () => {
      timedOut = true;
      child.kill('SIGKILL');
    });

    const sig = options.signalAfter;
    let signalArmed = sig !== undefined;
    const sendSignal = (): void => {
      if (!sig || child.exitCode !== null || signalSentAtMs !== undefined) return;
      signalSentAtMs = Date.now() - started;
      child.kill(sig.signal);
    };
    const arm = (): void => {
      signalArmed = false;
      if (sig?.afterMs !== undefined) later(sig.afterMs, sendSignal);
      else sendSignal();
    };
    if (sig && !sig.whenStdoutMatches) arm();

    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      if (signalArmed && sig?.whenStdoutMatches?.test(stdout)) arm();
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', (err) => {
      timers.forEach(clearTimeout);
      reject(err);
    });
    child.once('close', (exitCode, signal) => {
      timers.forEach(clearTimeout);
      resolve({ stdout, stderr, exitCode, signal, durationMs: Date.now() - started, timedOut, signalSentAtMs });
    });
  });
}

function interpret(run: RawRun): TaskRunResult {
  const result: TaskRunResult = {
    ...run,
    outputs: {},
    variables: {},
    secrets: [],
    summaries: [],
    errors: [],
    warnings: [],
    logs: [],
  };
  for (const line of run.stdout.split(/\r?\n/)) {
    const cmd = parseVsoLine(line);
    if (!cmd) {
      if (line !== '') result.logs.push(line);
      continue;
    }
    const prop = (name: string): string | undefined =>
      Object.entries(cmd.properties).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
    switch (cmd.command.toLowerCase()) {
      case 'task.complete':
        result.result = (prop('result') as TaskResultName | undefined) ?? 'Succeeded';
        result.message = cmd.message;
        break;
      case 'task.setvariable': {
        const name = prop('variable') ?? '';
        result.variables[name] = cmd.message;
        if (prop('isOutput')?.toLowerCase() === 'true') result.outputs[name] = cmd.message;
        if (prop('issecret')?.toLowerCase() === 'true' && cmd.message) result.secrets.push(cmd.message);
        break;
      }
      case 'task.setsecret':
        if (cmd.message) result.secrets.push(cmd.message);
        break;
      case 'task.uploadsummary':
        result.summaries.push(readSummary(cmd.message));
        break;
      case 'task.addattachment':
        if (prop('type') === 'Distributedtask.Core.Summary') result.summaries.push(readSummary(cmd.message));
        break;
      case 'task.issue':
        if (prop('type') === 'error') result.errors.push(cmd.message);
        else if (prop('type') === 'warning') result.warnings.push(cmd.message);
        break;
    }
  }
  return result;
}

function readSummary(file: string): string {
  try {
    return fs.readFileSync(file.trim(), 'utf8');
  } catch {
    return `[rig: summary file not found: ${file}]`;
  }
}

/**
 * What the agent passes for inputs a step leaves out: the task.json `defaultValue`, with
 * `$(Variable)` macros expanded from the pipeline variables (an unknown one stays as written,
 * as on the agent). Inputs given under an alias count as given.
 */
function agentDefaults(
  taskDir: string,
  given: Record<string, unknown>,
  variables: Record<string, PipelineVariable>,
): Record<string, string> {
  const manifest = path.join(taskDir, 'task.json');
  if (!fs.existsSync(manifest)) return {};
  const task = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { inputs?: { name: string; aliases?: string[]; defaultValue?: unknown }[] };
  const out: Record<string, string> = {};
  for (const input of task.inputs ?? []) {
    if ([input.name, ...(input.aliases ?? [])].some((n) => n in given)) continue;
    const value = input.defaultValue === undefined ? '' : String(input.defaultValue);
    if (value === '') continue;
    out[input.name] = value.replace(/\$\(([^)]+)\)/g, (macro, name: string) => {
      const v = variables[name];
      return v === undefined ? macro : typeof v === 'string' ? v : v.value;
    });
  }
  return out;
}
