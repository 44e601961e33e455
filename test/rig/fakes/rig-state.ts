import { createHash } from 'node:crypto';
import type { ClientConfig, RigConfig, SecretConfig, VaultConfig } from '../config';
import { TokenIssuer, type IssuedToken } from './token-issuer';

/**
 * The mutable world the fakes share inside the services process: the configuration (changed
 * through the control API), the tokens handed out, and the two signing keys.
 */
export class RigState {
  config: RigConfig;
  readonly issuedTokens: IssuedToken[] = [];
  /** Signs access tokens (plays Entra ID). */
  readonly entra = new TokenIssuer(this.issuedTokens);
  /** Signs pipeline OIDC tokens (plays the Azure DevOps token issuer). */
  readonly oidc = new TokenIssuer(this.issuedTokens);

  constructor(private readonly initial: RigConfig) {
    this.config = structuredClone(initial);
  }

  /** Back to the configuration the process started with; forgets issued tokens. */
  reset(): void {
    this.config = structuredClone(this.initial);
    this.issuedTokens.length = 0;
  }

  hasTenant(tenantId: string): boolean {
    return this.config.tenants.some((t) => t.id.toLowerCase() === tenantId.toLowerCase());
  }

  findClient(tenantId: string, clientId: string): ClientConfig | undefined {
    return this.config.clients.find(
      (c) => c.tenantId.toLowerCase() === tenantId.toLowerCase() && c.clientId.toLowerCase() === clientId.toLowerCase(),
    );
  }

  /** The vault a host names (`<name>.<dnsSuffix>`), if configured. */
  findVaultByHost(host: string): VaultConfig | undefined {
    const h = host.toLowerCase();
    return this.config.vaults.find((v) => `${v.name}.${v.dnsSuffix ?? 'vault.azure.net'}`.toLowerCase() === h);
  }

  findVault(name: string): VaultConfig | undefined {
    return this.config.vaults.find((v) => v.name.toLowerCase() === name.toLowerCase());
  }
}

/** A secret in its full form, with its (stable) version id. */
export function normalizeSecret(name: string, secret: string | SecretConfig): Required<Omit<SecretConfig, 'contentType'>> & SecretConfig {
  const s: SecretConfig = typeof secret === 'string' ? { value: secret } : secret;
  return {
    value: s.value,
    enabled: s.enabled ?? true,
    contentType: s.contentType,
    tags: s.tags ?? {},
    version: s.version ?? createHash('md5').update(`${name}\n${s.value}`).digest('hex'),
  };
}

/** A stable object id for a client that has none configured (tokens need an `oid`). */
export function objectIdFor(clientId: string, objectId?: string): string {
  if (objectId) return objectId;
  const h = createHash('sha256').update(`oid:${clientId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
