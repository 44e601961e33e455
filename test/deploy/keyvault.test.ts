import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { azureServiceError } from '../../tasks/common/azure/azure-error';
import { keyVaultHint, keyVaultUrl } from '../../tasks/common/keyvault/secret-reader';

const VAULT = 'my-kv.vault.azure.net';
const hint = (error: object): string => azureServiceError('Azure Key Vault', `reading secret 'vvpAPIToken' from Key Vault ${VAULT}`, error, (d) => keyVaultHint(d, VAULT, 'vvpAPIToken')).message;

describe('Key Vault secret reader errors', () => {
  it('builds the vault URL from the cloud suffix', () => {
    assert.equal(keyVaultUrl('my-kv', 'vault.azure.net'), 'https://my-kv.vault.azure.net');
    assert.equal(keyVaultUrl('my-kv', '.vault.azure.cn'), 'https://my-kv.vault.azure.cn');
  });

  it('names the vault and the secret when the secret does not exist', () => {
    const m = hint({ name: 'RestError', statusCode: 404, code: 'SecretNotFound', message: "A secret with (name/id) vvpAPIToken was not found in this key vault." });
    assert.match(m, /HTTP 404/);
    assert.match(m, /Vault my-kv.vault.azure.net has no secret named 'vvpAPIToken'/);
  });

  it('names the role and the access-policy permission on 403', () => {
    const m = hint({ name: 'RestError', statusCode: 403, code: 'Forbidden', message: "Caller is not authorized to perform action on resource. ForbiddenByRbac" });
    assert.match(m, /"Key Vault Secrets User"/);
    assert.match(m, /"get" secret permission/);
    assert.match(m, /my-kv.vault.azure.net/);
  });

  it('points at the firewall when the vault blocks the agent', () => {
    assert.match(hint({ statusCode: 403, code: 'Forbidden', message: 'Client address is not authorized and caller is not a trusted service. ForbiddenByFirewall' }), /firewall/);
  });

  it('names the vault host when DNS fails', () => {
    assert.match(hint({ name: 'RestError', code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND my-kv.vault.azure.net' }), /host my-kv.vault.azure.net could not be resolved: check keyVaultName/);
  });

  it('points at the vault name and a redirecting proxy when the vault answers a redirect', () => {
    const m = hint({ name: 'RestError', statusCode: 302, message: 'Azure Key Vault answered with a redirect (HTTP 302) to https://login.example.com/; it is not followed, so the token goes nowhere else' });
    assert.match(m, /failed with HTTP 302: Azure Key Vault answered with a redirect/);
    assert.match(m, /Check keyVaultName .* a proxy between the agent and my-kv\.vault\.azure\.net that redirects/);
  });

  it('shows the Entra AADSTS code on sign-in failures', () => {
    const m = hint({ name: 'AuthenticationError', statusCode: 401, errorResponse: { error: 'invalid_client', errorDescription: 'AADSTS7000215: Invalid client secret provided.\nTrace ID: x' } });
    assert.match(m, /Microsoft Entra ID/);
    assert.match(m, /AADSTS7000215: Invalid client secret provided/);
    assert.ok(!m.includes('Trace ID'));
  });

  it('recognises the Entra refusal the SDK wraps in AuthenticationRequiredError', () => {
    const wrapped = Object.assign(
      new Error(
        "invalid_client: Error(s): 7000215 - Timestamp: 2025-01-01 00:00:00Z - Description: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent is the value. Trace ID: abc Correlation ID: def",
      ),
      { name: 'AuthenticationRequiredError' },
    );
    const m = hint(wrapped);
    assert.match(m, /^Microsoft Entra ID: getting a token for Azure Key Vault .* failed: invalid_client: AADSTS7000215: Invalid client secret provided\. Ensure the secret being sent is the value\. Check the service connection/);
    assert.ok(!m.includes('Trace ID'));
  });

});
