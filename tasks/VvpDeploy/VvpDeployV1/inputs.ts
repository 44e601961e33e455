import * as path from 'node:path';
import { InputError } from '../../common/errors/errors';
import { InputReader, type InputSource } from '../../common/inputs/parse';
import {
  checkSpecDocument,
  parseSpecText,
  replaceTokens,
  SpecFileProblem,
} from '../../common/vvp/deployment-spec';
import { isAbsoluteUri, withCommit } from '../../common/vvp/jar-uri';
import { jarUriSecrets, maskJarUriQuery } from '../../common/vvp/jar-uri-secrets';
import { isJsonObject, jarUriOf, pick, type JsonObject } from '../../common/vvp/resources';
import type { DeployArtifact } from '../../common/vvp/artifact';
import { readSqlScriptInput, type SqlScriptFile } from '../../common/sql/script-input';
import { runAnnotations } from '../../common/vvp/run-annotations';
import { readAccessInputs, type VvpAccessConfig } from './access-inputs';
import { acceptedUrlForm, checkServiceUrl } from '../../common/http/url-policy';

/** What the step does (input `action`). */
const ACTIONS = ['deploy', 'plan', 'suspend', 'resume', 'cancel', 'savepoint', 'delete'] as const;
type DeployAction = (typeof ACTIONS)[number];

const UPGRADE_STRATEGIES = ['STATEFUL', 'STATELESS'] as const;
const RESTORE_STRATEGIES = ['LATEST_STATE', 'LATEST_SAVEPOINT', 'NONE'] as const;

/** Everything VvpDeploy@1 needs, parsed and checked once. */
export interface DeployConfig {
  /** Default `deploy`. */
  action: DeployAction;
  /**
   * With `plan`: whether a token source is given, so the live deployment is read (online) or
   * only the spec file is checked (offline). Always true for the other actions.
   */
  online: boolean;
  /** AzureRM service connection (input `azureSubscription`, alias `ConnectedServiceNameARM`). */
  azureSubscription: string;
  keyVaultName: string;
  tokenSecretName: string;
  /**
   * VVP base URL (input `vvpUrl`) without trailing slash, query or fragment. Undefined when the
   * Ververica Platform service connection or the AKS tunnel provides the address.
   */
  vvpUrl?: URL;
  /** Where the token comes from and how VVP is reached (token source, access mode). */
  access: VvpAccessConfig;
  /** Plain http:// to a host other than loopback was allowed explicitly (input `allowInsecureHttp`). */
  allowInsecureHttp?: boolean;
  namespace: string;
  /** Deployment name (VVP 2.4+) or id. */
  deployment: string;
  /** True when `deployment` is a UUID. */
  deploymentIsId: boolean;
  /**
   * The jarUri to deploy, `?commit=` included; '' for a SQL deployment and for lifecycle actions.
   * Kept for the JAR flow: `artifact` says the same and more.
   */
  jarUri: string;
  /**
   * What `deploy` and `plan` write: the JAR (`jarUri`) or the SQL script (`sqlScriptFile`), with
   * `additionalDependencies`. Lifecycle actions write no artifact: for them it is a JAR with
   * jarUri '' and no dependencies, never read.
   */
  artifact: DeployArtifact;
  /**
   * Credentials in the query of the jarUri and of every additional dependency (a SAS `sig=`…):
   * registered as secrets by the entry.
   */
  jarUriSecrets: string[];
  /** Catalog for SQL validation (input `sqlCatalog`); undefined: VVP's default (`vvp`). */
  sqlCatalog?: string;
  /** Database for SQL validation (input `sqlDatabase`); undefined: VVP's default (`default`). */
  sqlDatabase?: string;
  /** The spec file with `JARURI`/`DEPLOYMENTTARGETID` replaced; undefined without a file. */
  specFile?: { path: string; document: JsonObject };
  createIfMissing: boolean;
  waitForRunning: boolean;
  timeoutInMs: number;
  pollIntervalInMs: number;
  rollbackOnFailure: boolean;
  /** After the new job runs, watch it this long; 0: no health check. */
  healthCheckInMs: number;
  /** Flink job restarts tolerated during the health check. */
  maxJobRestarts: number;
  /** Sets `spec.upgradeStrategy.kind` with the change; undefined: keep the deployment's. */
  upgradeStrategy?: (typeof UPGRADE_STRATEGIES)[number];
  /** Sets `spec.restoreStrategy.kind` with the change; undefined: keep. */
  restoreStrategy?: (typeof RESTORE_STRATEGIES)[number];
  /** What state a rolled-back job starts from. */
  rollbackStateFrom: 'upgradeSavepoint' | 'restoreStrategy';
  /** Record the pipeline run in the deployment's annotations with every write of `deploy`. */
  annotateDeployment: boolean;
  /** The pipeline run as deployment annotations (KubernetesManifest@1's keys), from the agent's variables. */
  runAnnotations: Record<string, string>;
}

/** What parsing needs besides the inputs; injected so parsing stays pure and testable. */
export interface InputContext {
  /** A pipeline variable (`Build.SourceVersion`, `System.DefaultWorkingDirectory`). */
  readVariable(name: string): string | undefined;
  /** Reads a text file; throws a Node fs error (`code` ENOENT, EACCES, EISDIR…). */
  readTextFile(file: string): string;
  /**
   * Reads a file's bytes (the SQL script: decoded here, so a BOM and broken UTF-8 are seen);
   * throws a Node fs error.
   */
  readFile(file: string): Uint8Array;
  isDirectory(file: string): boolean;
  /**
   * Files matching glob patterns under a root (task-lib's `findMatch`, `findFiles` of the
   * pipeline adapter), for a `sqlScriptFile` glob. Without it `sqlScriptFile` must be a path.
   */
  findFiles?(root: string, patterns: string[]): string[];
  /**
   * The namespace field of a Ververica Platform service connection (by id); undefined when it
   * has none or cannot be read. The default of `namespace` with `tokenSource: serviceConnection`.
   */
  readConnectionNamespace?(connectionId: string): string | undefined;
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KEY_VAULT_NAME = /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;
const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;
const COMMIT_ID = /^[A-Za-z0-9._-]{1,128}$/;
const MACRO = /^\$\(([^)]+)\)$/;

const NAME_RULE = 'lower-case letters, digits and hyphens, starting and ending with a letter or digit, at most 63 characters';

/** True for a VVP resource name (`metadata.name`). */
function isVvpName(value: string): boolean {
  return value.length <= 63 && NAME.test(value);
}

function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * Parses the VvpDeploy@1 inputs into one typed config, reading and checking the spec file too.
 *
 * @throws InputError listing every bad input with its value and the accepted form.
 */
export function parseDeployInputs(source: InputSource, context: InputContext): DeployConfig {
  const r = new InputReader(source);

  const action = r.choice('action', ACTIONS, 'deploy');
  const access = readAccessInputs(r);
  const fromKeyVault = access.token.kind === 'keyVault';
  // A plan needs no secrets: without a token source (a pull-request build) it is offline only.
  const online = action !== 'plan' || (fromKeyVault ? r.optional('keyVaultName') !== undefined : true);

  // The AzureRM connection reads Key Vault and gets the AKS credentials; neither: not needed.
  const azureSubscription =
    online && (fromKeyVault || access.portForward)
      ? r.required('azureSubscription', 'the name of an Azure Resource Manager service connection')
      : (r.optional('azureSubscription') ?? '');

  const keyVaultName = online && fromKeyVault ? r.required('keyVaultName', 'the name of the key vault holding the VVP API token') : '';
  if (keyVaultName && !KEY_VAULT_NAME.test(keyVaultName)) {
    r.reject('keyVaultName', keyVaultName, 'a key vault name: 3-24 letters, digits and single hyphens, starting with a letter and ending with a letter or digit');
  }
  const tokenSecretName = r.optional('tokenSecretName') ?? 'vvpAPIToken';
  if (fromKeyVault && !SECRET_NAME.test(tokenSecretName)) r.reject('tokenSecretName', tokenSecretName, 'a Key Vault secret name: 1-127 letters, digits and hyphens');

  const allowInsecureHttp = r.boolean('allowInsecureHttp', false);
  // Required only when nothing else provides the address: the tunnel or the service connection.
  const vvpUrl = parseVvpUrl(r, allowInsecureHttp, online && fromKeyVault && !access.portForward);

  // A namespace other than the task's default wins; the default ('default', which the agent sets
  // when the step names none) gives way to the service connection's: its token belongs there.
  const namespaceInput = r.optional('namespace');
  const explicitNamespace = namespaceInput === 'default' ? undefined : namespaceInput;
  const connectionNamespace =
    explicitNamespace === undefined && access.token.kind === 'serviceConnection' && access.token.connection ? context.readConnectionNamespace?.(access.token.connection)?.trim() || undefined : undefined;
  const namespace = explicitNamespace ?? connectionNamespace ?? 'default';
  if (!isVvpName(namespace)) {
    r.reject('namespace', namespace, `a VVP namespace name: ${NAME_RULE}${explicitNamespace === undefined ? ' (taken from the Ververica Platform service connection: set namespace on the step or fix the connection)' : ''}`);
  }

  const deployment = r.required('deployment', 'the deployment name or id');
  const deploymentIsId = isUuid(deployment);
  if (deployment && !deploymentIsId && !isVvpName(deployment)) {
    r.reject('deployment', deployment, `a deployment name (${NAME_RULE}) or a deployment id (UUID)`);
  }

  const jarUriInput = r.optional('jarUri');
  const jarUriValid = jarUriInput === undefined || isAbsoluteUri(jarUriInput);
  if (!jarUriValid) {
    r.reject('jarUri', maskJarUriQuery(jarUriInput), 'an absolute URI without spaces, e.g. wasbs://<container>@<account>.blob.core.windows.net/artifacts/namespaces/<ns>/app.jar');
  }

  const additionalDependencies = r.lines('additionalDependencies');
  for (const dependency of additionalDependencies) {
    if (!isAbsoluteUri(dependency)) {
      r.reject('additionalDependencies', maskJarUriQuery(dependency), 'one absolute URI per line, e.g. wasbs://<container>@<account>.blob.core.windows.net/artifacts/namespaces/<ns>/udf.jar or $(<upload step>.jarUri)');
    }
  }
  const sqlCatalog = r.optional('sqlCatalog');
  const sqlDatabase = r.optional('sqlDatabase');

  const deploymentTargetId = r.optional('deploymentTargetId');
  if (deploymentTargetId !== undefined && !isUuid(deploymentTargetId)) {
    r.reject('deploymentTargetId', deploymentTargetId, 'a deployment target id (UUID)');
  }

  const changesSpec = action === 'deploy' || action === 'plan';
  const commitId = changesSpec ? parseCommitId(source, context, r) : undefined;
  // The one place the committed jarUri is made: the PATCH body and every JARURI token get it.
  const committedInput = jarUriInput === undefined || !jarUriValid ? undefined : withCommit(jarUriInput, commitId);

  const createIfMissing = r.boolean('createIfMissing', true);
  const waitForRunning = r.boolean('waitForRunning', true);
  const rollbackOnFailure = r.boolean('rollbackOnFailure', false);
  const timeoutMinutes = r.number('timeoutMinutes', 15, 0.1, 360);
  const pollIntervalSeconds = r.integer('pollIntervalSeconds', 5, 1, 300);

  const healthCheckSeconds = r.number('healthCheckSeconds', 0, 0, 3600);
  const maxJobRestarts = r.integer('maxJobRestarts', 0, 0, 10_000);
  const upgradeStrategy = optionalChoice(r, 'upgradeStrategy', UPGRADE_STRATEGIES);
  const restoreStrategy = optionalChoice(r, 'restoreStrategy', RESTORE_STRATEGIES);
  const rollbackStateFrom = r.choice('rollbackStateFrom', ['upgradeSavepoint', 'restoreStrategy'] as const, 'upgradeSavepoint');
  const annotateDeployment = r.boolean('annotateDeployment', true);

  const sqlScriptInput = changesSpec ? filePathInput(r, context, 'sqlScriptFile') : undefined;
  if (sqlScriptInput !== undefined && jarUriInput !== undefined) {
    r.reject('sqlScriptFile', sqlScriptInput, 'is not allowed together with jarUri: give jarUri for a JAR deployment or sqlScriptFile for a SQL deployment, not both');
  }
  const sql = sqlScriptInput === undefined ? undefined : readSqlScript(r, context, sqlScriptInput);

  const problemsBeforeFile = r.problems.length;
  const specFile = !changesSpec ? undefined : readSpecFile(r, context, {
    deployment,
    namespace,
    deploymentIsId,
    jarUri: committedInput,
    deploymentTargetId,
  });

  let jarUri = committedInput;
  if (!changesSpec) {
    // Lifecycle actions act on the deployment as it is: no jarUri, no spec file.
  } else if (sqlScriptInput !== undefined) {
    // A SQL deployment: the spec file may set everything but the artifact the script replaces.
    if (specFile) checkSqlSpecArtifact(r, specFile);
  } else if (!jarUriValid) {
    // Reported above; the file's jarUri does not stand in for a bad input.
  } else if (jarUri === undefined && specFile) {
    const fromFile = jarUriOf(specFile.document);
    if (fromFile === undefined) {
      r.reject('jarUri', undefined, 'is required unless deploymentSpecFile sets spec.template.spec.artifact.jarUri (or give sqlScriptFile for a SQL deployment)');
    } else if (!isAbsoluteUri(fromFile)) {
      r.reject('deploymentSpecFile', specFile.path, `spec.template.spec.artifact.jarUri '${maskJarUriQuery(fromFile)}' is not an absolute URI (e.g. wasbs://…/app.jar)`);
    } else {
      jarUri = withCommit(fromFile, commitId);
    }
  } else if (jarUri === undefined && r.problems.length === problemsBeforeFile) {
    r.reject('jarUri', undefined, 'is required: the new artifact URI, usually $(<upload step>.jarUri); or give a deploymentSpecFile that sets spec.template.spec.artifact.jarUri; or give sqlScriptFile for a SQL deployment');
  }

  if (r.problems.length > 0) throw new InputError(r.problems);
  const artifact: DeployArtifact = sql
    ? { kind: 'SQLSCRIPT', sqlScript: sql.script, sha256: sql.sha256, file: sql.file, additionalDependencies }
    : { kind: 'JAR', jarUri: jarUri ?? '', additionalDependencies: changesSpec ? additionalDependencies : [] };
  return {
    action,
    online,
    azureSubscription,
    keyVaultName,
    tokenSecretName,
    vvpUrl,
    access,
    allowInsecureHttp,
    namespace,
    deployment,
    deploymentIsId,
    jarUri: sql ? '' : (jarUri ?? ''),
    artifact,
    jarUriSecrets: [...new Set([artifact.kind === 'JAR' ? artifact.jarUri : '', ...artifact.additionalDependencies].filter((u) => u !== '').flatMap(jarUriSecrets))],
    sqlCatalog,
    sqlDatabase,
    specFile,
    createIfMissing,
    waitForRunning,
    timeoutInMs: Math.round(timeoutMinutes * 60_000),
    pollIntervalInMs: pollIntervalSeconds * 1000,
    rollbackOnFailure,
    healthCheckInMs: Math.round(healthCheckSeconds * 1000),
    maxJobRestarts,
    upgradeStrategy,
    restoreStrategy,
    rollbackStateFrom,
    annotateDeployment,
    runAnnotations: runAnnotations(context.readVariable),
  };
}

/** A pickList whose empty value means "keep": undefined, or one of `choices`. */
function optionalChoice<T extends string>(r: InputReader, name: string, choices: readonly T[]): T | undefined {
  const value = r.optional(name);
  if (value === undefined) return undefined;
  return r.choice(name, choices, choices[0]);
}

function parseVvpUrl(r: InputReader, allowInsecureHttp: boolean, required: boolean): URL | undefined {
  const raw = required ? r.required('vvpUrl', 'the base URL of Ververica Platform, e.g. https://vvp.example.com') : r.optional('vvpUrl');
  if (!raw) return undefined;
  const checked = checkServiceUrl(raw, { allowInsecureHttp, baseUrlOnly: true });
  if (checked.problem) {
    r.reject('vvpUrl', checked.problem.value, acceptedUrlForm(checked.problem.kind, 'vvp'));
    return undefined;
  }
  const url = checked.url;
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/**
 * `commitId`. The agent gives an omitted input its default `$(Build.SourceVersion)` (expanded),
 * and task-lib stores no empty `INPUT_` value: so an input that is not there was set to `''`
 * on purpose, and means "no ?commit=". An unexpanded macro means the variable does not exist in
 * this pipeline (a release): it is read here, and when it is unset nothing is appended.
 */
function parseCommitId(source: InputSource, context: InputContext, r: InputReader): string | undefined {
  const raw = source('commitId')?.trim();
  if (!raw) return undefined;
  const macro = MACRO.exec(raw);
  const value = (macro ? context.readVariable(macro[1]) : raw)?.trim();
  if (!value) return undefined;
  if (!COMMIT_ID.test(value)) {
    r.reject('commitId', value, 'a commit id: 1-128 letters, digits, dots, underscores or hyphens (or empty for no ?commit=)');
    return undefined;
  }
  return value;
}

function readSpecFile(
  r: InputReader,
  context: InputContext,
  target: { deployment: string; namespace: string; deploymentIsId: boolean; jarUri?: string; deploymentTargetId?: string },
): DeployConfig['specFile'] {
  const raw = filePathInput(r, context, 'deploymentSpecFile');
  if (raw === undefined) return undefined;
  const file = path.resolve(workingDirectoryOf(context), raw);
  if (context.isDirectory(file)) {
    r.reject('deploymentSpecFile', raw, 'a YAML or JSON file, not a directory');
    return undefined;
  }
  let text: string;
  try {
    text = context.readTextFile(file);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'ENOENT' ? `no such file (${file})` : `cannot be read (${code ?? (error as Error).message})`;
    r.reject('deploymentSpecFile', raw, `a readable YAML or JSON Deployment file: ${why}`);
    return undefined;
  }
  let document: JsonObject;
  try {
    document = parseSpecText(text);
  } catch (error) {
    if (!(error instanceof SpecFileProblem)) throw error;
    r.reject('deploymentSpecFile', raw, `a YAML or JSON Deployment: ${error.message}`);
    return undefined;
  }
  const replaced = replaceTokens(document, { JARURI: target.jarUri, DEPLOYMENTTARGETID: target.deploymentTargetId });
  for (const token of replaced.unresolved) {
    const input = token === 'JARURI' ? 'jarUri' : 'deploymentTargetId';
    r.reject(input, undefined, `is required: the deployment spec file ${raw} contains the token ${token}, which this input replaces`);
  }
  for (const problem of checkSpecDocument(replaced.document, target)) {
    r.reject('deploymentSpecFile', raw, `a Deployment matching the inputs: ${problem}`);
  }
  return { path: file, document: replaced.document };
}

/** Where relative file inputs start: `System.DefaultWorkingDirectory`, else the process's directory. */
function workingDirectoryOf(context: InputContext): string {
  return path.resolve(context.readVariable('System.DefaultWorkingDirectory') ?? '');
}

/**
 * A `filePath` input, or undefined when it is not set. The agent passes an empty filePath input
 * as the repository root (the working or sources directory): that is "not set" too.
 */
function filePathInput(r: InputReader, context: InputContext, name: string): string | undefined {
  const raw = r.optional(name);
  if (raw === undefined) return undefined;
  const roots = [context.readVariable('System.DefaultWorkingDirectory'), context.readVariable('Build.SourcesDirectory')].filter((d): d is string => !!d).map((d) => path.resolve(d));
  return roots.includes(path.resolve(workingDirectoryOf(context), raw)) ? undefined : raw;
}

/** `sqlScriptFile` resolved and read; undefined (with a problem recorded) when it cannot be. */
function readSqlScript(r: InputReader, context: InputContext, raw: string): SqlScriptFile | undefined {
  const read = readSqlScriptInput(raw, workingDirectoryOf(context), {
    readFile: context.readFile,
    isDirectory: (file) => context.isDirectory(file),
    findFiles: context.findFiles,
  });
  if ('expected' in read) {
    r.reject('sqlScriptFile', raw, read.expected);
    return undefined;
  }
  return read.file;
}

/**
 * With `sqlScriptFile`, the spec file's artifact may only say what the script agrees with: no
 * jarUri, no script of its own, no kind other than SQLSCRIPT (the step sets the artifact).
 */
function checkSqlSpecArtifact(r: InputReader, specFile: NonNullable<DeployConfig['specFile']>): void {
  const artifact = pick(specFile.document.spec, 'template', 'spec', 'artifact');
  if (!isJsonObject(artifact)) return;
  const clash = [
    artifact.jarUri !== undefined ? 'jarUri' : undefined,
    artifact.sqlScript !== undefined ? 'sqlScript' : undefined,
    artifact.kind !== undefined && String(artifact.kind).toUpperCase() !== 'SQLSCRIPT' ? `kind ${String(artifact.kind)}` : undefined,
  ].filter((c): c is string => c !== undefined);
  if (clash.length > 0) {
    r.reject('deploymentSpecFile', specFile.path, `a Deployment without an artifact of its own when sqlScriptFile is given (the step sets spec.template.spec.artifact to the SQL script): remove ${clash.join(', ')} from spec.template.spec.artifact`);
  }
}
