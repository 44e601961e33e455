import { InputError } from '../../common/errors/errors';
import { InputReader, maskUrlSecrets, type InputSource } from '../../common/inputs/parse';
import { OVERWRITE_MODES, type OverwriteMode } from '../../common/blob/overwrite-policy';
import { blobNameProblem } from './artifact-location';
import { parseBlobNameTemplate, sampleBlobName, type BlobNameTemplate } from './blob-name-template';
import { acceptedUrlForm, checkServiceUrl } from '../../common/http/url-policy';

/** Reads a pipeline variable (`System.DefaultWorkingDirectory`…); undefined when unset. */
type VariableSource = (name: string) => string | undefined;

/** VvpUploadArtifact@1's inputs, checked and typed. */
export interface UploadConfig {
  /** Name of the AzureRM service connection; the pipeline adapter reads its details. */
  azureSubscription: string;
  storageAccount: string;
  containerName: string;
  namespace: string;
  /** `artifactPath` lines; `!` lines exclude. */
  artifactPatterns: string[];
  /**
   * Name under `artifacts/namespaces/<namespace>/`, its tokens (`{name}`, `{ext}`, `{sha256}`,
   * `{sha256:N}`) replaced per upload; undefined: the file's name.
   */
  blobName?: BlobNameTemplate;
  overwrite: OverwriteMode;
  /** Custom blob endpoint without trailing slash; undefined: `https://<account>.blob.<suffix>`. */
  blobEndpoint?: string;
  /** Root for relative patterns: `System.DefaultWorkingDirectory` (the process's directory when unset). */
  workingDirectory: string;
  /** `Build.SourceVersion`, stored as the blob's `commit` metadata when it is plain ASCII. */
  sourceVersion?: string;
  /** `Build.BuildNumber`, shown in the run summary. */
  buildNumber?: string;
}

const ACCOUNT_FORM = '3 to 24 lowercase letters and digits (the storage account name, not its URL)';
const CONTAINER_FORM =
  '3 to 63 characters: lowercase letters, digits and hyphens, starting and ending with a letter or digit, no two hyphens in a row';
const NAMESPACE_FORM = 'a VVP namespace name: up to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit';

/** Why `name` is not a storage account name, or undefined. */
/**
 * The account name from a storage account resource ID, which is what the classic editor's
 * account picker stores (it needs the ID to list the account's containers); a name passes as is.
 */
function accountNameOf(value: string): string {
  const m = /^\/?subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Storage\/storageAccounts\/([^/]+)\/?$/i.exec(value);
  return m ? m[1] : value;
}

function storageAccountProblem(name: string): string | undefined {
  return /^[a-z0-9]{3,24}$/.test(name) ? undefined : ACCOUNT_FORM;
}

/** Why `name` is not a blob container name Azure accepts, or undefined. */
function containerNameProblem(name: string): string | undefined {
  const ok = name.length >= 3 && name.length <= 63 && /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(name) && !name.includes('--');
  return ok ? undefined : CONTAINER_FORM;
}

/** Why `name` is not a VVP namespace name (a Kubernetes-style DNS label), or undefined. */
function namespaceProblem(name: string): string | undefined {
  return name.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) ? undefined : NAMESPACE_FORM;
}

/**
 * Checks a custom blob endpoint and returns it without trailing slash. https only, except
 * plain http to the local machine (an emulator): tokens must not cross a network in clear.
 * Credentials and query strings are refused: a SAS pasted here would land in logs and outputs.
 */
function parseBlobEndpoint(value: string): { url?: string; problem?: string } {
  // No allowInsecureHttp: plain http only to this machine (an emulator).
  const checked = checkServiceUrl(value, { baseUrlOnly: true });
  if (checked.problem) return { problem: acceptedUrlForm(checked.problem.kind, 'blobEndpoint') };
  return { url: checked.url.href.replace(/\/+$/, '') };
}

/**
 * Parses the task's inputs once, before any network call.
 *
 * @throws InputError listing every bad input with its value and the accepted form.
 */
export function parseUploadInputs(source: InputSource, variables: VariableSource): UploadConfig {
  const r = new InputReader(source);
  const azureSubscription = r.required('azureSubscription', 'the name of an Azure Resource Manager service connection');

  const storageAccount = accountNameOf(r.required('storageAccount', ACCOUNT_FORM));
  if (storageAccount && storageAccountProblem(storageAccount)) r.reject('storageAccount', storageAccount, ACCOUNT_FORM);

  const containerName = r.required('containerName', CONTAINER_FORM);
  if (containerName && containerNameProblem(containerName)) r.reject('containerName', containerName, CONTAINER_FORM);

  const namespace = r.optional('namespace') ?? 'default';
  const namespaceOk = namespaceProblem(namespace) === undefined;
  if (!namespaceOk) r.reject('namespace', namespace, NAMESPACE_FORM);

  const artifactPatterns = r.lines('artifactPath');
  if (artifactPatterns.length === 0) {
    r.reject('artifactPath', source('artifactPath'), 'is required: a file path or glob pattern, e.g. **/target/*.jar');
  } else if (artifactPatterns.every((p) => p.startsWith('!') || p.startsWith('#'))) {
    r.reject('artifactPath', artifactPatterns.join('\n'), "needs at least one pattern that is not an exclusion ('!') or a comment ('#')");
  }

  let blobName: BlobNameTemplate | undefined;
  const blobNameInput = r.optional('blobName');
  if (blobNameInput !== undefined) {
    const parsed = parseBlobNameTemplate(blobNameInput);
    if ('problem' in parsed) {
      r.reject('blobName', blobNameInput, parsed.problem);
    } else {
      blobName = parsed.template;
      // With tokens, the shape is checked on stand-in values here and on the real name before the upload.
      const problem = blobNameProblem(sampleBlobName(blobName), namespaceOk ? namespace : 'default');
      if (problem) r.reject('blobName', blobNameInput, problem);
    }
  }

  const overwrite = r.choice('overwrite', OVERWRITE_MODES, 'ifChanged');

  let blobEndpoint: string | undefined;
  const endpointInput = r.optional('blobEndpoint');
  if (endpointInput !== undefined) {
    const parsed = parseBlobEndpoint(endpointInput);
    // A SAS or credentials pasted into the URL must not reach the log through the message.
    if (parsed.problem) r.reject('blobEndpoint', maskUrlSecrets(endpointInput), parsed.problem);
    blobEndpoint = parsed.url;
  }

  if (r.problems.length > 0) throw new InputError(r.problems);

  const sourceVersion = variables('Build.SourceVersion')?.trim();
  return {
    azureSubscription,
    storageAccount,
    containerName,
    namespace,
    artifactPatterns,
    blobName,
    overwrite,
    blobEndpoint,
    workingDirectory: variables('System.DefaultWorkingDirectory') ?? process.cwd(),
    // Metadata values travel as HTTP headers: only printable ASCII is safe.
    sourceVersion: sourceVersion && /^[\x20-\x7e]{1,256}$/.test(sourceVersion) ? sourceVersion : undefined,
    buildNumber: variables('Build.BuildNumber')?.trim() || undefined,
  };
}
