import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { blobConflict, blobServiceError, storageErrorDetail } from '../../tasks/common/blob/blob-errors';

const CONTEXT = {
  operation: "committing blob 'artifacts/namespaces/default/job.jar'",
  accountName: 'vvpstorage',
  accountHost: 'vvpstorage.blob.core.windows.net',
  container: 'vvp',
  maxTries: 5,
};

/** Shaped like @azure/core-rest-pipeline's RestError (name, statusCode, code, message). */
function restError(statusCode: number | undefined, code: string | undefined, message: string): Error {
  return Object.assign(new Error(message), { name: 'RestError', statusCode, code });
}

describe('blobServiceError', () => {
  test('names the data-plane role, the account and the container scope on 403 AuthorizationPermissionMismatch', () => {
    const error = blobServiceError(
      restError(403, 'AuthorizationPermissionMismatch', 'This request is not authorized to perform this operation using this permission.\nRequestId:1'),
      CONTEXT,
    );
    assert.equal(error.status, 403);
    assert.match(error.message, /^Azure Blob Storage: committing blob .* failed with HTTP 403: AuthorizationPermissionMismatch: This request is not authorized/);
    assert.match(error.message, /"Storage Blob Data Contributor" role on the storage account 'vvpstorage' or on the container 'vvp'/);
    assert.match(error.message, /storageAccounts\/vvpstorage\/blobServices\/default\/containers\/vvp/);
    assert.doesNotMatch(error.message, /RequestId/);
  });

  test('adds the firewall to the role hint on 403 AuthorizationFailure', () => {
    const error = blobServiceError(restError(403, 'AuthorizationFailure', 'This request is not authorized to perform this operation.'), CONTEXT);
    assert.match(error.message, /Storage Blob Data Contributor/);
    assert.match(error.message, /firewall/);
  });

  test('names the container and the account when the container does not exist', () => {
    const error = blobServiceError(restError(404, 'ContainerNotFound', 'The specified container does not exist.'), CONTEXT);
    assert.match(error.message, /HTTP 404: ContainerNotFound: The specified container does not exist\./);
    assert.match(error.message, /container 'vvp' does not exist in the storage account 'vvpstorage' \(vvpstorage\.blob\.core\.windows\.net\)/);
  });

  test('reads the error code of a body-less HEAD response from details.errorCode', () => {
    const head = Object.assign(new Error(''), { name: 'RestError', statusCode: 404, details: { errorCode: 'ContainerNotFound' } });
    assert.equal(storageErrorDetail(head).code, 'ContainerNotFound');
    assert.match(blobServiceError(head, CONTEXT).message, /HTTP 404: ContainerNotFound\. The container 'vvp' does not exist/);
  });

  test('names the account host and the attempts when DNS cannot resolve it', () => {
    const error = blobServiceError(
      restError(undefined, 'ENOTFOUND', 'getaddrinfo ENOTFOUND vvpstorage.blob.core.windows.net'),
      CONTEXT,
    );
    assert.equal(error.attempts, 5);
    assert.match(error.message, /failed after 5 attempts: getaddrinfo ENOTFOUND vvpstorage\.blob\.core\.windows\.net\./);
    assert.match(error.message, /The host vvpstorage\.blob\.core\.windows\.net cannot be resolved: check that the storage account 'vvpstorage' exists/);
  });

  test('says how many attempts the SDK made for retried network errors and 503', () => {
    assert.match(blobServiceError(restError(undefined, 'ECONNRESET', 'socket hang up'), CONTEXT).message, /after 5 attempts.*reach vvpstorage\.blob\.core\.windows\.net/);
    assert.equal(blobServiceError(restError(503, 'ServerBusy', 'The server is busy.'), CONTEXT).attempts, 5);
    assert.equal(blobServiceError(restError(400, 'InvalidBlockId', 'bad'), CONTEXT).attempts, undefined);
  });

  test("shows Entra ID's AADSTS code when no token could be had", () => {
    const auth = Object.assign(new Error('ClientSecretCredential authentication failed'), {
      name: 'AuthenticationError',
      statusCode: 401,
      errorResponse: { error: 'invalid_client', errorDescription: "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent is the client secret value.\nTrace ID: x" },
    });
    const error = blobServiceError(auth, CONTEXT);
    assert.equal(error.service, 'Microsoft Entra ID');
    assert.match(error.message, /invalid_client: AADSTS7000215: Invalid client secret provided/);
    assert.doesNotMatch(error.message, /Trace ID/);
  });

  test("recognises @azure/identity 4's AuthenticationRequiredError as Entra's refusal", () => {
    const refusal = Object.assign(
      new Error(
        "invalid_client: Error(s): 7000215 - Timestamp: 2025-01-01 00:00:00Z - Description: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value. Trace ID: t Correlation ID: c Timestamp: 2025-01-01 00:00:00Z - Correlation ID: c - Trace ID: t",
      ),
      { name: 'AuthenticationRequiredError' },
    );
    const error = blobServiceError(refusal, CONTEXT);
    assert.equal(error.service, 'Microsoft Entra ID');
    assert.match(
      error.message,
      /^Microsoft Entra ID: getting a token for Azure Blob Storage \(committing blob .*\) failed: invalid_client: AADSTS7000215: Invalid client secret provided\. Ensure the secret being sent in the request is the client secret value\. Check the service connection/,
    );
    assert.equal(error.cause, refusal);
  });
});

describe('blobConflict', () => {
  const local = { sizeInBytes: 10, sha256Hex: 'aa'.repeat(32), md5Base64: 'bG9jYWw=' };
  test('names the blob and both SHA-256 hashes', () => {
    const error = blobConflict('https://a.blob.core.windows.net/vvp/x.jar', { local, existing: { sizeInBytes: 12, sha256Hex: 'bb'.repeat(32) } });
    assert.match(error.message, /The blob https:\/\/a\.blob\.core\.windows\.net\/vvp\/x\.jar already exists with different content/);
    assert.match(error.message, new RegExp(`SHA-256 ${'bb'.repeat(32)}.*SHA-256 ${'aa'.repeat(32)}`));
    assert.match(error.message, /left unchanged/);
  });

  test('compares Content-MD5 when the blob has no sha256 metadata, and says so when it has no hash at all', () => {
    assert.match(
      blobConflict('u', { local, existing: { sizeInBytes: 10, md5Base64: 'b3RoZXI=' } }).message,
      /Content-MD5 b3RoZXI= \(no sha256 metadata\).*Content-MD5 bG9jYWw=/,
    );
    assert.match(blobConflict('u', { local, existing: { sizeInBytes: 10 } }).message, /without sha256 metadata or Content-MD5/);
  });
});
