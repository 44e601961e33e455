import assert from 'node:assert/strict';
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { SecretClientOptions } from '@azure/keyvault-secrets';
import { describe, it } from 'node:test';
import { KeyVaultSecretReader, keyVaultUrl } from '../../tasks/common/keyvault/secret-reader';

const VAULT = 'my-kv.vault.azure.net';

type HttpClient = NonNullable<SecretClientOptions['httpClient']>;
type PipelineRequest = Parameters<HttpClient['sendRequest']>[0];
type PipelineResponse = Awaited<ReturnType<HttpClient['sendRequest']>>;

/** What the vault does with the signed secret read: an answer, or an error thrown on the way (DNS). */
type VaultAnswer = { status: number; body?: object; headers?: Record<string, string> } | Error;

function responseHeaders(values: Record<string, string>): PipelineResponse['headers'] {
  const map = new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    get: (name) => map.get(name.toLowerCase()),
    has: (name) => map.has(name.toLowerCase()),
    set: (name, value) => void map.set(name.toLowerCase(), String(value)),
    delete: (name) => void map.delete(name.toLowerCase()),
    toJSON: () => Object.fromEntries(map),
    [Symbol.iterator]: () => map.entries(),
  };
}

/**
 * The vault's HTTP side as the SDK sees it: the unsigned first read gets Key Vault's 401
 * challenge, the signed read gets `answer`.
 */
function vault(answer: VaultAnswer): HttpClient {
  return {
    sendRequest: async (request: PipelineRequest): Promise<PipelineResponse> => {
      if (!request.headers.get('authorization')) {
        return {
          request,
          status: 401,
          headers: responseHeaders({ 'WWW-Authenticate': 'Bearer authorization="https://login.microsoftonline.com/tenant-1", resource="https://vault.azure.net"' }),
          bodyAsText: '',
        };
      }
      if (answer instanceof Error) throw answer;
      return {
        request,
        status: answer.status,
        headers: responseHeaders({ 'content-type': 'application/json', ...answer.headers }),
        bodyAsText: answer.body ? JSON.stringify(answer.body) : '',
      };
    },
  };
}

const signsIn: TokenCredential = { getToken: async (): Promise<AccessToken> => ({ token: 'kv-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };

/** The message of the reader's failure to read secret vvpAPIToken, the vault answering `answer`. */
async function failureOf(answer: VaultAnswer, credential: TokenCredential = signsIn): Promise<string> {
  const reader = new KeyVaultSecretReader(`https://${VAULT}`, credential, { clientOptions: { httpClient: vault(answer), retryOptions: { maxRetries: 0 } } });
  try {
    await reader.getSecret('vvpAPIToken');
  } catch (error) {
    return (error as Error).message;
  }
  return assert.fail('the read must fail');
}

const refusedSignIn = (error: object): TokenCredential => ({
  getToken: async () => {
    throw error;
  },
});

describe('Key Vault secret reader errors', () => {
  it('builds the vault URL from the cloud suffix', () => {
    assert.equal(keyVaultUrl('my-kv', 'vault.azure.net'), 'https://my-kv.vault.azure.net');
    assert.equal(keyVaultUrl('my-kv', '.vault.azure.cn'), 'https://my-kv.vault.azure.cn');
  });

  it('reads the value of a secret the vault has (the stand-in answers like Key Vault)', async () => {
    const reader = new KeyVaultSecretReader(`https://${VAULT}`, signsIn, {
      clientOptions: { httpClient: vault({ status: 200, body: { value: 'token-value\n', id: `https://${VAULT}/secrets/vvpAPIToken/1` } }), retryOptions: { maxRetries: 0 } },
    });
    assert.equal(await reader.getSecret('vvpAPIToken'), 'token-value');
  });

  it('names the vault and the secret when the secret does not exist', async () => {
    const m = await failureOf({ status: 404, body: { error: { code: 'SecretNotFound', message: 'A secret with (name/id) vvpAPIToken was not found in this key vault.' } } });
    assert.match(m, /HTTP 404/);
    assert.match(m, /Vault my-kv.vault.azure.net has no secret named 'vvpAPIToken'/);
  });

  it('names the role and the access-policy permission on 403', async () => {
    const m = await failureOf({ status: 403, body: { error: { code: 'Forbidden', message: 'Caller is not authorized to perform action on resource. ForbiddenByRbac' } } });
    assert.match(m, /"Key Vault Secrets User"/);
    assert.match(m, /"get" secret permission/);
    assert.match(m, /my-kv.vault.azure.net/);
  });

  it('points at the firewall when the vault blocks the agent', async () => {
    const m = await failureOf({ status: 403, body: { error: { code: 'Forbidden', message: 'Client address is not authorized and caller is not a trusted service. ForbiddenByFirewall' } } });
    assert.match(m, /firewall/);
  });

  it('names the vault host when DNS fails', async () => {
    const dns = Object.assign(new Error(`getaddrinfo ENOTFOUND ${VAULT}`), { name: 'RestError', code: 'ENOTFOUND' });
    assert.match(await failureOf(dns), /host my-kv.vault.azure.net could not be resolved: check keyVaultName/);
  });

  it('points at the vault name and a redirecting proxy when the vault answers a redirect', async () => {
    const m = await failureOf({ status: 302, headers: { location: 'https://login.example.com/' } });
    assert.match(m, /failed with HTTP 302: Azure Key Vault answered with a redirect/);
    assert.match(m, /Check keyVaultName .* a proxy between the agent and my-kv\.vault\.azure\.net that redirects/);
  });

  it('shows the Entra AADSTS code on sign-in failures', async () => {
    const m = await failureOf(
      { status: 200 },
      refusedSignIn({ name: 'AuthenticationError', statusCode: 401, errorResponse: { error: 'invalid_client', errorDescription: 'AADSTS7000215: Invalid client secret provided.\nTrace ID: x' } }),
    );
    assert.match(m, /Microsoft Entra ID/);
    assert.match(m, /AADSTS7000215: Invalid client secret provided/);
    assert.ok(!m.includes('Trace ID'));
  });

  it('recognises the Entra refusal the SDK wraps in AuthenticationRequiredError', async () => {
    const wrapped = Object.assign(
      new Error(
        'invalid_client: Error(s): 7000215 - Timestamp: 2025-01-01 00:00:00Z - Description: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent is the value. Trace ID: abc Correlation ID: def',
      ),
      { name: 'AuthenticationRequiredError' },
    );
    const m = await failureOf({ status: 200 }, refusedSignIn(wrapped));
    assert.match(m, /^Microsoft Entra ID: getting a token for Azure Key Vault .* failed: invalid_client: AADSTS7000215: Invalid client secret provided\. Ensure the secret being sent is the value\. Check the service connection/);
    assert.ok(!m.includes('Trace ID'));
  });
});
