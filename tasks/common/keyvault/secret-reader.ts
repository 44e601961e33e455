import type { TokenCredential } from '@azure/identity';
import type { SecretClient, SecretClientOptions } from '@azure/keyvault-secrets';
import { azureServiceError, type AzureErrorDetail } from '../azure/azure-error';
import { tryTimeoutPolicy } from '../azure/request-timeout';
import { ServiceError } from '../errors/errors';
import { keyVaultSecrets } from '../lazy/libraries';
import type { NetworkAgents } from '../http/network';
import { refuseRedirectsPolicy } from '../http/refuse-redirects-policy';

/** Reads one secret value; what the deploy flow's token resolution depends on. */
export interface SecretReader {
  /**
   * The current version's value without surrounding whitespace (a trailing newline from
   * `az keyvault secret set --file`). The caller must register it as a secret
   * (`registerSecret`) the moment it returns, before anything else can log.
   *
   * @throws ServiceError when the secret is missing, empty or only whitespace.
   */
  getSecret(name: string, options?: { abortSignal?: AbortSignal }): Promise<string>;
}

interface KeyVaultSecretReaderOptions {
  /** Proxy + CA agent provider; its agent is handed to the SDK (`agent` client option). */
  agents?: Pick<NetworkAgents, 'agentFor'>;
  /**
   * Bound for each try of a Key Vault request; a vault (or proxy) that never answers fails as
   * "no answer from <vault host>" after the SDK's retries instead of hanging. Default 30 000.
   */
  tryTimeoutInMs?: number;
  /** Extra SDK options (tests: retry counts, challenge verification against a local fake). */
  clientOptions?: SecretClientOptions;
}

/** `https://<vaultName>.<keyVaultSuffix>`, e.g. `https://my-kv.vault.azure.net`. */
export function keyVaultUrl(vaultName: string, keyVaultSuffix: string): string {
  return `https://${vaultName}.${keyVaultSuffix.replace(/^\.+/, '')}`;
}

/**
 * Reads secrets from one Azure Key Vault with the service connection's credential, through the
 * agent's proxy and CA. Failures become ServiceErrors that name the vault and secret and say what
 * to check: the missing secret, the role or access-policy permission, the firewall, the DNS name,
 * or (for sign-in failures) Entra's AADSTS code.
 */
export class KeyVaultSecretReader implements SecretReader {
  readonly vaultUrl: string;
  private readonly client: SecretClient;

  constructor(vaultUrl: string, credential: TokenCredential, options: KeyVaultSecretReaderOptions = {}) {
    this.vaultUrl = vaultUrl.replace(/\/+$/, '');
    const agent = options.agents?.agentFor(this.vaultUrl);
    const { SecretClient: Client } = keyVaultSecrets();
    this.client = new Client(this.vaultUrl, credential, {
      ...(agent ? { agent } : {}),
      retryOptions: { maxRetries: 3 },
      // core-rest-pipeline's redirect policy runs before the Sign phase, so a redirected request
      // is signed again (1.24 skips cross-origin targets by default, older releases did not):
      // follow none, so the token goes to the vault and nowhere else. A 3xx fails as HTTP 3xx.
      redirectOptions: { maxRetries: 0 },
      additionalPolicies: [
        { policy: refuseRedirectsPolicy('Azure Key Vault'), position: 'perCall' },
        { policy: tryTimeoutPolicy(options.tryTimeoutInMs ?? 30_000), position: 'perRetry' },
      ],
      ...options.clientOptions,
    } as SecretClientOptions);
  }

  async getSecret(name: string, options: { abortSignal?: AbortSignal } = {}): Promise<string> {
    const vault = new URL(this.vaultUrl).hostname;
    const operation = `reading secret '${name}' from Key Vault ${vault}`;
    let value: string | undefined;
    try {
      const secret = await this.client.getSecret(name, { abortSignal: options.abortSignal });
      value = secret.value;
    } catch (error) {
      if (options.abortSignal?.aborted) throw error;
      throw azureServiceError('Azure Key Vault', operation, error, (detail) => keyVaultHint(detail, vault, name));
    }
    // `az keyvault secret set --file` keeps the file's trailing newline, and a token with a
    // newline is a bad Authorization header: surrounding whitespace is never part of a token.
    const trimmed = value?.trim();
    if (!trimmed) {
      throw new ServiceError({
        service: 'Azure Key Vault',
        operation,
        serviceMessage: value ? 'the secret value is only whitespace' : 'the secret has no value',
        hint: `Store the VVP API token as the value of secret '${name}'`,
      });
    }
    return trimmed;
  }
}

/** What to check for a Key Vault failure, by status and error code. */
function keyVaultHint(detail: AzureErrorDetail, vaultHost: string, secretName: string): string | undefined {
  if (detail.authentication) return undefined; // the Entra default hint applies
  const text = `${detail.code ?? ''} ${detail.message}`;
  if (detail.status === 404) {
    return `Vault ${vaultHost} has no secret named '${secretName}' (or it was deleted): check tokenSecretName and keyVaultName`;
  }
  if (detail.status === 403) {
    if (/ForbiddenByFirewall|Client address is not authorized/i.test(text)) {
      return `The firewall of vault ${vaultHost} blocks this agent: allow the agent's network or IP in the vault's networking settings`;
    }
    if (/disabled/i.test(text)) return `Secret '${secretName}' is disabled in vault ${vaultHost}: enable it`;
    return (
      `The service connection's identity may not read secrets in vault ${vaultHost}: grant it the role ` +
      `"Key Vault Secrets User" (vault using Azure RBAC) or the "get" secret permission (vault using access policies)`
    );
  }
  if (detail.status !== undefined && detail.status >= 300 && detail.status < 400) {
    return `Check keyVaultName and the cloud of the service connection, and for a proxy between the agent and ${vaultHost} that redirects`;
  }
  if (detail.status === 401) {
    return `Vault ${vaultHost} rejected the token: check that the vault is in the tenant of the service connection`;
  }
  if (detail.status === undefined && /ENOTFOUND|EAI_AGAIN|getaddrinfo/i.test(text)) {
    return `The host ${vaultHost} could not be resolved: check keyVaultName and the cloud of the service connection (private DNS for private endpoints)`;
  }
  if (detail.status === undefined) return `Check that the agent can reach ${vaultHost} (proxy settings, firewall, private endpoint)`;
  return undefined;
}
