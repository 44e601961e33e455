import type { SecretReader } from '../../common/keyvault/secret-reader';
import type { Logger } from '../../common/logging/logger';
import type { DeployConfig } from './inputs';

/**
 * Where and how to reach VVP for this run. Resolved in one place before the flow starts, so the
 * later access modes (a Ververica Platform service connection as token source, a port-forward
 * into AKS whose local address replaces `vvpUrl`) only change this module.
 */
export interface VvpAccess {
  /** Base URL of VVP for API calls (later: the tunnel's loopback address). */
  baseUrl: URL;
  /** The API token, already registered as a secret; undefined for VVP without authentication. */
  token: string | undefined;
  /** Where the token came from, for the 401 hint. No secret in it. */
  tokenSource: string;
  /** Releases what access needed (later: stops the port-forward). */
  dispose(): Promise<void>;
}

export interface AccessDeps {
  secrets: SecretReader;
  /** Masks a secret in all agent output; called the moment the token is read. */
  registerSecret(value: string): void;
  logger: Logger;
  abortSignal?: AbortSignal;
}

/**
 * Reads the VVP API token from Key Vault and pairs it with `vvpUrl`.
 *
 * @throws ServiceError naming the vault and secret (missing secret, role, firewall, DNS, Entra code).
 */
export async function resolveVvpAccess(config: DeployConfig, deps: AccessDeps): Promise<VvpAccess> {
  const tokenSource = `Key Vault secret '${config.tokenSecretName}' in vault '${config.keyVaultName}'`;
  const token = await deps.secrets.getSecret(config.tokenSecretName, { abortSignal: deps.abortSignal });
  deps.registerSecret(token);
  deps.logger.info(`Read the VVP API token from ${tokenSource}.`);
  return { baseUrl: config.vvpUrl, token, tokenSource, dispose: async () => undefined };
}
