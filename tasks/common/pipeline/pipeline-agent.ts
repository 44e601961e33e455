/**
 * The one module that talks to the Azure Pipelines agent (azure-pipelines-task-lib). Everything
 * else is plain TypeScript that receives typed data and a Logger, so it can be tested without
 * the agent.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tl from 'azure-pipelines-task-lib/task';
import { TaskCommand } from 'azure-pipelines-task-lib/taskcommand';
import { missingConnectionFields, type AzureRmConnection } from '../azure/credential';
import { cloudProblems, resolveCloud } from '../azure/cloud';
import { CancelledError, InputError, isAbortError } from '../errors/errors';
import { networkSettingsFromEnv, type NetworkSettings } from '../http/network';
import type { InputSource } from '../inputs/parse';
import type { ToolCache } from '../kubectl/kubectl-installer';
import { checkConnectionUrl, type ConnectionUrlRules, type VvpServiceConnection } from '../vvp/service-connection';
import type { Logger } from '../logging/logger';
import type { SourceProblem } from '../sql/problem';
import { toolLib } from '../lazy/libraries';
import { neutraliseCommands } from '../logging/neutralise';
import { addMaskedSecret, maskSecrets } from '../logging/secret-mask';

/** Raw task input as the agent passes it (`INPUT_<NAME>`). */
export const readInput: InputSource = (name) => tl.getInput(name, false);

/** A pipeline variable (`Build.SourceVersion`, `System.DefaultWorkingDirectory`…). */
export function readVariable(name: string): string | undefined {
  const value = tl.getVariable(name);
  return value === undefined || value === '' ? undefined : value;
}

/** Registers a value with the agent so it is masked everywhere. Call it the moment a secret is read. */
export function registerSecret(value: string | undefined): void {
  if (!value) return;
  // The agent masks line by line: register each line of a multi-line secret (PEM) too.
  for (const line of value.split(/\r?\n/)) {
    if (line.trim().length >= 4) remember(line.trim());
  }
  if (!/[\r\n]/.test(value)) return;
  remember(value.replace(/\r?\n/g, ''));
}

function remember(secret: string): void {
  addMaskedSecret(secret);
  tl.setSecret(secret);
}

/**
 * Text from servers or errors made safe to print: registered secrets masked (the agent masks
 * its log, but not everything this prints reaches it as a line: the result message, the run
 * summary) and logging commands defused.
 */
function printable(text: string): string {
  return neutraliseCommands(maskSecrets(text));
}

/**
 * Files matching multi-line glob patterns (`!` lines exclude) under `root`, with task-lib's
 * matching, the same as the built-in tasks use.
 */
export function findFiles(root: string, patterns: string[]): string[] {
  return tl.findMatch(root, patterns);
}

/** Sets an output variable (`$(step.name)` in later steps); `secret` makes it a secret variable. */
export function setOutput(name: string, value: string, secret = false): void {
  tl.setVariable(name, value, secret, true);
}

/**
 * Attaches a markdown section to the run summary (the run's Extensions tab). The agent names
 * the section after the file (`Path.GetFileName`) and the page shows it without `.md`, so the
 * file is `<title>.md`, alone in a folder of its own: `title` is what people read, e.g.
 * `VVP artifact upload`. Characters no agent OS allows in a file name become `-`.
 */
export function uploadSummary(title: string, markdown: string): void {
  const root = readVariable('Agent.TempDirectory') ?? os.tmpdir();
  const dir = fs.mkdtempSync(path.join(root, 'vvp-summary-'));
  const file = path.join(dir, `${summaryFileStem(title)}.md`);
  fs.writeFileSync(file, maskSecrets(markdown), 'utf8');
  tl.uploadSummary(file);
}

/** `title` as a file name valid on Windows, Linux and macOS agents (the agent refuses others). */
function summaryFileStem(title: string): string {
  // eslint-disable-next-line no-control-regex
  const stem = title.replace(/[<>:"/\\|?*\u0000-\u001f]+/g, '-').replace(/[. ]+$/, '').trim();
  return stem || 'summary';
}

/** Agent proxy and certificate settings; `HTTPS_PROXY`/`NO_PROXY` when the agent has no proxy. */
export function readNetworkSettings(): NetworkSettings {
  const proxy = tl.getHttpProxyConfiguration();
  const certs = tl.getHttpCertConfiguration();
  const fromEnv = networkSettingsFromEnv(process.env);
  registerSecret(proxy?.proxyPassword);
  registerSecret(certs?.passphrase);
  const settings: NetworkSettings = proxy
    ? {
        proxyUrl: proxy.proxyUrl,
        proxyUsername: proxy.proxyUsername || undefined,
        proxyPassword: proxy.proxyPassword || undefined,
        proxyBypass: (proxy.proxyBypassHosts ?? []).map((p) => ({ kind: 'regex' as const, pattern: new RegExp(p, 'i') })),
      }
    : fromEnv;
  return {
    ...settings,
    caFile: certs?.caFile || undefined,
    clientCertFile: certs?.certFile || undefined,
    clientKeyFile: certs?.keyFile || undefined,
    clientKeyPassphrase: certs?.passphrase || undefined,
  };
}

/**
 * Reads the AzureRM service connection `connectionId` (the parsed `input`, named in messages)
 * into plain data and registers its secrets at once. The parser of the connection: what it
 * returns is checked, and the credential and cloud code take it as it is.
 *
 * @throws InputError when the input is empty, the connection is unknown to the job, it uses a
 * scheme this task does not support (e.g. PublishProfile), its cloud endpoints are unusable (an
 * authority or resource manager URL that is not https, a malformed suffix) or it lacks a field
 * its scheme needs.
 */
export function readAzureRmConnection(connectionId: string, input = 'azureSubscription'): AzureRmConnection {
  const connection = readAzureRmConnectionData(connectionId, input);
  const missing = missingConnectionFields(connection);
  if (missing.length > 0) {
    throw new InputError([
      {
        input,
        value: connection.name,
        expected: `a service connection that has ${missing.join(', ')} (the connection is incomplete: edit it in Project settings > Service connections)`,
      },
    ]);
  }
  return connection;
}

/** The connection's data, its scheme and cloud checked (its fields not yet). */
function readAzureRmConnectionData(connectionId: string, input: string): AzureRmConnection {
  const id = connectionId.trim();
  if (!id) throw new InputError([{ input, value: '', expected: 'is required: the name of an Azure Resource Manager service connection' }]);
  const auth = tl.getEndpointAuthorization(id, true);
  if (!auth) {
    throw new InputError([
      { input, value: id, expected: 'an Azure Resource Manager service connection this pipeline is allowed to use' },
    ]);
  }
  // Read parameters from the authorization object: task-lib's getEndpointAuthorizationParameter
  // writes the value (the SPN key!) into a debug line.
  const params = lowerKeys(auth.parameters ?? {});
  const param = (key: string): string | undefined => {
    const v = params[key.toLowerCase()];
    return v === undefined || v === '' ? undefined : v;
  };
  const data = (key: string): string | undefined => {
    const v = tl.getEndpointDataParameter(id, key, true);
    return v === undefined || v === '' ? undefined : v;
  };
  const scheme = (tl.getEndpointAuthorizationScheme(id, true) || 'ServicePrincipal').trim();
  const cloud = resolveCloud({
    environment: data('environment'),
    authorityUrl: data('activeDirectoryAuthority') ?? data('environmentAuthorityUrl'),
    resourceManagerUrl: data('resourceManagerUrl') ?? tl.getEndpointUrl(id, true),
    storageSuffix: data('storageEndpointSuffix') ?? data('StorageEndpointSuffix'),
    keyVaultSuffix: data('AzureKeyVaultDnsSuffix'),
  });
  const problems = cloudProblems(cloud);
  if (problems.length > 0) {
    throw new InputError([{ input, value: id, expected: `a service connection with usable cloud endpoints, but ${problems.join('; ')} (edit the connection's environment data)` }]);
  }
  const base = { name: id, tenantId: param('tenantid') ?? '', subscriptionId: data('subscriptionId'), cloud };
  switch (scheme.toLowerCase()) {
    case 'serviceprincipal': {
      const clientId = param('serviceprincipalid') ?? '';
      if (param('authenticationType') === 'spnCertificate') {
        const certificatePem = param('servicePrincipalCertificate') ?? '';
        registerSecret(certificatePem);
        return { ...base, scheme: 'ServicePrincipal', authenticationType: 'spnCertificate', clientId, certificatePem };
      }
      const clientSecret = param('serviceprincipalkey') ?? '';
      registerSecret(clientSecret);
      return { ...base, scheme: 'ServicePrincipal', authenticationType: 'spnKey', clientId, clientSecret };
    }
    case 'workloadidentityfederation': {
      const job = tl.getEndpointAuthorization('SystemVssConnection', true);
      const accessToken = lowerKeys(job?.parameters ?? {}).accesstoken ?? '';
      registerSecret(accessToken);
      return {
        ...base,
        scheme: 'WorkloadIdentityFederation',
        clientId: param('serviceprincipalid') ?? '',
        oidcRequestUri: readVariable('System.OidcRequestUri') ?? '',
        accessToken,
      };
    }
    case 'managedserviceidentity':
      return { ...base, scheme: 'ManagedServiceIdentity', clientId: data('msiclientId') };
    default:
      throw new InputError([
        {
          input,
          value: `${id} (scheme ${scheme})`,
          expected: 'a service connection using Service principal (secret or certificate), Workload identity federation or Managed identity',
        },
      ]);
  }
}

/**
 * The path an annotation names: `file` relative to `sourcesDirectory` (`Build.SourcesDirectory`)
 * with forward slashes, which is how a pull request finds the file. A file outside the sources
 * directory (or no sources directory) keeps its own path, with forward slashes.
 */
function annotationSourcePath(file: string, sourcesDirectory: string | undefined): string {
  const absolute = path.resolve(file);
  const relative = sourcesDirectory ? path.relative(path.resolve(sourcesDirectory), absolute) : '';
  const inside = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  return (inside ? relative : file).split(path.sep).join('/').replace(/\\/g, '/');
}

/**
 * The logging command that puts `problem` on the file's line and column in the run and the pull
 * request: `##vso[task.logissue type=error;sourcepath=…;linenumber=…;columnnumber=…]message`,
 * escaped as task-lib escapes commands (`%AZP25`, `%0D`, `%0A`; `;` and `]` in properties). A
 * problem without a position names the file only (no "line 0"). The message is masked and its
 * own logging commands defused, like every printed text.
 */
export function errorAnnotation(problem: SourceProblem, file: string, sourcesDirectory = readVariable('Build.SourcesDirectory')): string {
  const properties: Record<string, string> = { type: 'error', sourcepath: annotationSourcePath(file, sourcesDirectory) };
  const { position } = problem;
  if (position && position.line >= 1) {
    properties.linenumber = String(position.line);
    if (position.column >= 1) properties.columnnumber = String(position.column);
  }
  return new TaskCommand('task.logissue', properties, printable(problem.message)).toString();
}

/** The Logger the core code uses, writing the agent's log format. */
const pipelineLogger: Logger = {
  info: (message) => console.log(printable(message)),
  warn: (message) => tl.warning(printable(message)),
  debug: (message) => tl.debug(printable(message)),
  startGroup: (name) => console.log(`##[group]${printable(name)}`),
  endGroup: () => console.log('##[endgroup]'),
  progress: (percent, label) => tl.setProgress(Math.max(0, Math.min(100, Math.round(percent))), label),
};

/** What a task's main function gets. */
interface TaskRun {
  logger: Logger;
  /** Aborted when the agent cancels the step (SIGINT, then SIGTERM). */
  signal: AbortSignal;
}

/** What a task's main function returns on success. */
interface TaskOutcome {
  message: string;
  /** `SucceededWithIssues` when the step worked but something deserves attention. */
  withIssues?: boolean;
}

/** Milliseconds a cancelled step gets to wind down before the process ends anyway. */
const CANCEL_GRACE_MS = 4_000;

/**
 * Runs a task's main function the way every entry file does: one AbortController wired to
 * SIGINT/SIGTERM, one try/catch, and exactly one `task.complete` with a readable message.
 * Expected failures (TaskError) print their message only; anything else is a bug and also
 * prints its stack to the debug log.
 */
export function runTask(main: (run: TaskRun) => Promise<TaskOutcome>): void {
  const controller = new AbortController();
  let phase = 'startup';
  let completed = false;
  const complete = (result: tl.TaskResult, message: string): void => {
    if (completed) return;
    completed = true;
    // The message may quote a server (VVP events, error bodies): no secrets, no logging commands.
    tl.setResult(result, printable(message), true);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) return;
    console.log(`Cancellation requested (${signal}): stopping.`);
    controller.abort(new CancelledError(phase));
    // If the work does not wind down in time, end the step anyway rather than hang the agent.
    setTimeout(() => {
      complete(tl.TaskResult.Cancelled, `Cancelled (${signal}) during ${phase}; the step did not stop within ${CANCEL_GRACE_MS} ms`);
      process.exit(1);
    }, CANCEL_GRACE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const logger: Logger = {
    ...pipelineLogger,
    startGroup: (name) => {
      phase = name;
      pipelineLogger.startGroup(name);
    },
  };
  main({ logger, signal: controller.signal })
    .then((outcome) => complete(outcome.withIssues ? tl.TaskResult.SucceededWithIssues : tl.TaskResult.Succeeded, outcome.message))
    .catch((error: unknown) => {
      if (controller.signal.aborted && (isAbortError(error) || error instanceof CancelledError)) {
        const message = error instanceof CancelledError ? error.message : `Cancelled during ${phase}`;
        complete(tl.TaskResult.Cancelled, message);
        return;
      }
      const e = error as { expected?: boolean; message?: string; stack?: string };
      if (!e?.expected) tl.debug(printable(e?.stack ?? String(error)));
      complete(tl.TaskResult.Failed, e?.message ?? String(error));
    })
    .finally(() => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    });
}

/**
 * Reads the Ververica Platform service connection `connectionId` (the parsed `input`) (URL and API token) and
 * registers the token as a secret at once. The token comes from the authorization object:
 * task-lib's getEndpointAuthorizationParameter would print it in a debug line. The parser of the
 * connection: its Server URL is checked with the rules of `vvpUrl` (`checkConnectionUrl`), so what
 * it returns is a usable base URL or none.
 *
 * @throws InputError when the input is empty, the connection is unknown to the job, it has no API
 * token, or its Server URL is missing or unusable while `urlRules.required`.
 */
export function readVvpServiceConnection(connectionId: string, urlRules: ConnectionUrlRules, input = 'vvpServiceConnection'): VvpServiceConnection {
  const id = connectionId.trim();
  if (!id) throw new InputError([{ input, value: '', expected: 'is required: a Ververica Platform service connection' }]);
  const auth = tl.getEndpointAuthorization(id, true);
  if (!auth) {
    throw new InputError([{ input, value: id, expected: 'a Ververica Platform service connection this pipeline is allowed to use' }]);
  }
  const token = lowerKeys(auth.parameters ?? {}).apitoken ?? '';
  registerSecret(token);
  if (!token.trim()) {
    throw new InputError([{ input, value: id, expected: 'a Ververica Platform service connection with an API token (edit it in Project settings > Service connections)' }]);
  }
  const checked = checkConnectionUrl(tl.getEndpointUrl(id, true) || undefined, urlRules.allowInsecureHttp);
  if (checked.problem && urlRules.required) {
    const { value = id, expected } = checked.problem;
    throw new InputError([{ input, value, expected: `a connection whose Server URL is ${expected} (edit it in Project settings > Service connections, or set vvpUrl)` }]);
  }
  return { id, url: checked.url, token: token.trim() };
}

/**
 * The `namespace` field of a Ververica Platform service connection (vss-extension.json: the
 * namespace its token belongs to); undefined when the connection has none or is not readable.
 */
export function readVvpConnectionNamespace(connectionId: string): string | undefined {
  const id = connectionId.trim();
  if (!id) return undefined;
  return tl.getEndpointDataParameter(id, 'namespace', true)?.trim() || undefined;
}

/**
 * The agent's tool cache through azure-pipelines-tool-lib: `Agent.ToolsDirectory`, downloads
 * through the agent's proxy and with its CA (typed-rest-client reads task-lib's settings).
 * The library is loaded on first use: it reads the proxy settings when loaded, and only the
 * AKS path needs it.
 */
export const agentToolCache: ToolCache = {
  find: (tool, version, arch) => toolLib().findLocalTool(tool, version, arch) || undefined,
  download: (url, destination) => toolLib().downloadTool(url, destination),
  cacheFile: (file, targetName, tool, version, arch) => toolLib().cacheFile(file, targetName, tool, version, arch),
};

function lowerKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k.toLowerCase(), v]));
}
