import { azureServiceError, describeAzureError, type AzureErrorDetail } from '../azure/azure-error';
import { CancelledError, InputError, ServiceError } from '../errors/errors';

/** Where a Blob Storage call went, for messages that tell the user what to fix. */
interface BlobErrorContext {
  /** What was being done, e.g. `committing blob 'vvp/artifacts/…/job.jar'`. */
  operation: string;
  /** Storage account name (`storageAccount` input). */
  accountName: string;
  /** Host the request went to (`<account>.blob.<suffix>` or the custom endpoint). */
  accountHost: string;
  container: string;
  /** The SDK's `maxTries`, reported for failures it retries (network errors, 500, 503). */
  maxTries: number;
  /** A hint for failures only the caller understands (412 on a conditional commit…). */
  hintFor?: (detail: AzureErrorDetail) => string | undefined;
}

/** The network error codes the storage SDK retries (see its StorageRetryPolicy). */
const RETRIED_NETWORK_CODES = ['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'ENOTFOUND', 'TIMEOUT', 'EPIPE', 'REQUEST_SEND_ERROR'];

const ROLE = 'Storage Blob Data Contributor';
const SERVICE = 'Azure Blob Storage';

/**
 * Maps an Azure SDK failure of a Blob Storage call to a ServiceError that says what to check:
 * the data-plane role on 403, the container on 404, the account host on DNS failures, Entra's
 * AADSTS code when no token could be had, and how many attempts were made when the SDK retried.
 */
export function blobServiceError(error: unknown, context: BlobErrorContext): ServiceError {
  if (describeAzureError(error).authentication) return azureServiceError(SERVICE, context.operation, error, () => undefined);
  const detail = storageErrorDetail(error);
  // HEAD answers have no body; a proxy's 502 has no storage code either: then say nothing rather than ''.
  const message = detail.message || detail.code || undefined;
  return new ServiceError({
    service: SERVICE,
    operation: context.operation,
    status: detail.status,
    serviceMessage: message && detail.code && !message.includes(detail.code) ? `${detail.code}: ${message}` : message,
    hint: hintFor(detail, context),
    attempts: wasRetried(detail) ? context.maxTries : undefined,
    cause: error,
  });
}

/**
 * `describeAzureError` plus the storage error code of HEAD responses: they have no body, so the
 * SDK leaves `code` empty and keeps `x-ms-error-code` in `details.errorCode` only.
 */
export function storageErrorDetail(error: unknown): AzureErrorDetail {
  const detail = describeAzureError(error);
  if (detail.code || detail.authentication) return detail;
  const e = error as { details?: { errorCode?: unknown }; response?: { headers?: { get?(name: string): string | undefined } } } | undefined;
  const fromDetails = typeof e?.details?.errorCode === 'string' ? e.details.errorCode : undefined;
  const fromHeader = typeof e?.response?.headers?.get === 'function' ? e.response.headers.get('x-ms-error-code') : undefined;
  const code = fromDetails || fromHeader || undefined;
  return code ? { ...detail, code } : detail;
}

/** True when the SDK's retry policy would have retried this failure until it gave up. */
function wasRetried(detail: AzureErrorDetail): boolean {
  if (detail.status === 500 || detail.status === 503) return true;
  if (detail.status !== undefined && detail.status !== 0) return false;
  const text = `${detail.code ?? ''} ${detail.message}`.toUpperCase();
  return RETRIED_NETWORK_CODES.some((c) => text.includes(c));
}

function hintFor(detail: AzureErrorDetail, context: BlobErrorContext): string | undefined {
  const own = context.hintFor?.(detail);
  if (own) return own;
  const scope = `/subscriptions/<subscription>/resourceGroups/<group>/providers/Microsoft.Storage/storageAccounts/${context.accountName}/blobServices/default/containers/${context.container}`;
  const roleHint =
    `Assign the service connection's identity the "${ROLE}" role on the storage account '${context.accountName}' ` +
    `or on the container '${context.container}' (scope ${scope}). Owner or Contributor alone do not grant access to blob data, ` +
    'and a new role assignment can take a few minutes to apply';
  if (detail.authentication) return undefined;
  switch (detail.code) {
    case 'AuthorizationPermissionMismatch':
      return roleHint;
    case 'AuthorizationFailure':
      return `${roleHint}. If the role is assigned, the account's firewall or private endpoint settings may block this agent (Networking > Firewalls and virtual networks)`;
    case 'ContainerNotFound':
      return `The container '${context.container}' does not exist in the storage account '${context.accountName}' (${context.accountHost}): create it, or fix the containerName input`;
    case 'InvalidAuthenticationInfo':
    case 'AuthenticationFailed':
    case 'NoAuthenticationInformation':
      return `The storage account '${context.accountName}' did not accept the token: check that the service connection's tenant is the account's tenant`;
    case 'Md5Mismatch':
    case 'InvalidMd5':
      return 'The data was changed in transit (a proxy rewriting bodies?); run the step again';
    default:
      break;
  }
  if (detail.status === 403) return roleHint;
  const text = `${detail.code ?? ''} ${detail.message}`.toUpperCase();
  if (text.includes('ENOTFOUND') || text.includes('EAI_AGAIN')) {
    return `The host ${context.accountHost} cannot be resolved: check that the storage account '${context.accountName}' exists in this Azure cloud (storageAccount input, or blobEndpoint), and the agent's DNS and proxy settings`;
  }
  if ((detail.status === 502 || detail.status === 504) && !detail.code) {
    // No storage error code: the answer came from a proxy or gateway in between, not from Azure.
    return `A proxy or gateway between the agent and ${context.accountHost} answered instead of the storage service: check that the storage account '${context.accountName}' exists in this Azure cloud (storageAccount input, or blobEndpoint) and that the proxy can reach it`;
  }
  if (detail.status === undefined && wasRetried(detail)) {
    return `Check that the agent can reach ${context.accountHost} over HTTPS (firewall, proxy settings, private endpoint DNS)`;
  }
  return undefined;
}

/** The local file's bytes changed between hashing and uploading (`detail` says how): nothing was committed. */
export function artifactChanged(filePath: string, detail: string): InputError {
  return new InputError(
    `The file ${filePath} changed while it was being uploaded (${detail}). ` +
      'Nothing was committed; make sure no other step writes the file while this one runs',
  );
}

/** What is known about the bytes on each side of a conflict. */
interface ConflictSides {
  local: { sha256Hex: string; md5Base64: string; sizeInBytes: number };
  existing: { sha256Hex?: string; md5Base64?: string; sizeInBytes: number };
  /** True when another writer put that blob there while this step was uploading. */
  writtenMeanwhile?: boolean;
}

/** `overwrite: never` and the blob holds other bytes (or bytes that cannot be compared): the blob was left unchanged. */
export function blobConflict(blobUrl: string, { local, existing, writtenMeanwhile = false }: ConflictSides): InputError {
  const exists = writtenMeanwhile ? 'was written by another writer while this step uploaded, and now exists' : 'already exists';
  const advice =
    "and overwrite is 'never'. The blob was left unchanged: use a new blobName (e.g. with the version or build number), " +
    'or set overwrite to ifChanged or always';
  if (!existing.sha256Hex && !existing.md5Base64) {
    return new InputError(
      `The blob ${blobUrl} ${exists} (${existing.sizeInBytes} bytes) without sha256 metadata or Content-MD5, ` +
        `so it cannot be shown to hold the file's content (${local.sizeInBytes} bytes, SHA-256 ${local.sha256Hex}), ${advice}`,
    );
  }
  const theirs = existing.sha256Hex ? `SHA-256 ${existing.sha256Hex}` : `Content-MD5 ${existing.md5Base64} (no sha256 metadata)`;
  const ours = existing.sha256Hex ? `SHA-256 ${local.sha256Hex}` : `Content-MD5 ${local.md5Base64}, SHA-256 ${local.sha256Hex}`;
  return new InputError(
    `The blob ${blobUrl} ${exists} with different content (blob: ${existing.sizeInBytes} bytes, ${theirs}; ` +
      `file: ${local.sizeInBytes} bytes, ${ours}) ${advice}`,
  );
}

/**
 * The CancelledError for an aborted upload, saying what state the blob is in: cancelled while
 * staging, nothing is visible; cancelled during the commit, the service may have applied it.
 */
export function uploadCancelled(blobName: string, phase: 'staging' | 'committing'): CancelledError {
  return phase === 'staging'
    ? new CancelledError(`the upload of ${blobName}`, 'no block list was committed, so the blob under that name (if any) is unchanged')
    : new CancelledError(`the commit of ${blobName}`, 'the service may or may not have replaced the blob; check its sha256 metadata');
}
