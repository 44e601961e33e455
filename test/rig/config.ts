/**
 * What the rig's fakes know: tenants, app registrations, vaults, the pipeline's OIDC issuer and
 * routes to backends. Plain JSON, because it crosses into the services child process and back
 * through the control API.
 */
export interface RigConfig {
  tenants: TenantConfig[];
  clients: ClientConfig[];
  managedIdentities: ManagedIdentityConfig[];
  vaults: VaultConfig[];
  pipeline: PipelineConfig;
  /** Host → backend forwarding (Azurite, the VVP simulator, anything a test brings). */
  routes: RouteConfig[];
  /** When set, the proxy demands `Proxy-Authorization: Basic` with these (answers 407 otherwise). */
  proxyAuth?: { username: string; password: string };
  /** Lifetime of issued access tokens. Default 3599 (what Entra ID returns). */
  tokenLifetimeSeconds?: number;
  /** AKS clusters the Azure Resource Manager fake knows (`listClusterUserCredential`). */
  managedClusters?: ManagedClusterConfig[];
  /** Download hosts served from local folders (e.g. `dl.k8s.io` with a kubectl release). */
  staticSites?: StaticSiteConfig[];
}

/** An AKS cluster behind the Azure Resource Manager fake. */
export interface ManagedClusterConfig {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  /** `local`: a local-account kubeconfig (client certificate, key, token); `entra`: exec kubelogin (Entra ID integration). */
  kubeconfig: 'local' | 'entra';
  /** Client ids (appid of the ARM token) that get 403 AuthorizationFailed. */
  deniedClientIds?: string[];
}

/** A host whose GET/HEAD requests are answered with the files under `root` (path = URL path). */
export interface StaticSiteConfig {
  host: string;
  root: string;
}

export interface TenantConfig {
  id: string;
}

/** An app registration (service principal) the Entra ID fake accepts. */
export interface ClientConfig {
  tenantId: string;
  clientId: string;
  /** Service principal object id, put in `oid` of its tokens. Default: derived from clientId. */
  objectId?: string;
  /** Accepted client secret (`client_secret`). */
  secret?: string;
  /** PEM certificate whose key may sign `client_assertion` (x5t / x5t#S256 must match). */
  certificatePem?: string;
  /**
   * Federated credentials: the `sub` values of pipeline OIDC tokens this app accepts, e.g.
   * `sc://org/project/connection`. Empty or absent: any token the OIDC fake issued.
   */
  federatedSubjects?: string[];
}

/** A managed identity the IMDS fake hands tokens for. The first one is the system-assigned one. */
export interface ManagedIdentityConfig {
  tenantId: string;
  clientId: string;
  objectId?: string;
  /** ARM resource id, for `msi_res_id` requests. */
  resourceId?: string;
}

export interface VaultConfig {
  /** Vault name, the first label of its host. */
  name: string;
  /** DNS suffix. Default `vault.azure.net`, the only one the proxy routes to the fake. */
  dnsSuffix?: string;
  /** Tenant whose tokens the vault accepts; its 401 challenge names this tenant. */
  tenantId: string;
  secrets: Record<string, string | SecretConfig>;
  /** Client ids (appid of the token) that get 403 ForbiddenByRbac on every secret. */
  deniedClientIds?: string[];
}

export interface SecretConfig {
  value: string;
  /** Default true; a disabled secret answers 403 SecretDisabled. */
  enabled?: boolean;
  contentType?: string;
  /** 32 hex chars. Default: derived from name and value, so it is stable across restarts. */
  version?: string;
  tags?: Record<string, string>;
}

/** The job side of workload identity federation: what `System.OidcRequestUri` answers. */
export interface PipelineConfig {
  /** The job's `System.AccessToken`; the OIDC endpoint answers 401 to anything else. */
  accessToken: string;
  /** Azure DevOps organization name: the endpoint lives at `https://dev.azure.com/<org>/...`. */
  organization: string;
  /** Project name, for the `sub` claim (`sc://<org>/<project>/<connection>`). */
  project: string;
  /** Organization id, used as the issuer path (`https://vstoken.dev.azure.com/<id>`). */
  organizationId: string;
  /**
   * Service connection id → name (`sub` uses the name). Ids not listed get 400 like a
   * connection the pipeline is not authorized for.
   */
  serviceConnections: Record<string, string>;
  /** Lifetime of OIDC tokens. Default 600 s. */
  oidcTokenLifetimeSeconds?: number;
}

/** Forward every request for `host` to `target` (an origin such as `http://127.0.0.1:8080`). */
export interface RouteConfig {
  /** Exact host name, or `*.suffix` for any single label in front of the suffix. */
  host: string;
  target: string;
  /**
   * For `*.suffix` routes: the first labels that exist (e.g. the storage account names); other
   * names are refused like a host whose DNS lookup fails. Default: every name.
   */
  onlyLabels?: string[];
}

/** Fixed ids and secrets of the default scenario, so tests can name them. */
export const RIG_DEFAULTS = {
  tenantId: '8d2c3a5e-1b7f-4c1e-9a4d-0f6b2e7c9a11',
  clientId: '2f1e0d9c-8b7a-4c5d-9e6f-a1b2c3d4e5f6',
  clientSecret: 'rig-spn-secret~Q8v.4Lx_Zr7pW2mN9kT5yB3hJ6dF1sG0aC',
  certClientId: '6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d',
  wifClientId: '9c8b7a6d-5e4f-4321-8a9b-0c1d2e3f4a5b',
  deniedClientId: '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e',
  /** The system-assigned identity (the first managed identity: IMDS answers with it when no client id is asked for). */
  managedIdentityClientId: '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a',
  userAssignedClientId: '7e6d5c4b-3a2f-4e1d-9c0b-a9f8e7d6c5b4',
  subscriptionId: '4f3e2d1c-0b9a-4876-9543-21fedcba9876',
  serviceConnectionId: 'c0ffee00-1234-4abc-9def-0123456789ab',
  serviceConnectionName: 'my-arm-connection',
  systemAccessToken: 'rig-system-access-token.eyJ0ZXN0IjoiYWNjZXNzIn0.job',
  organization: 'rigorg',
  organizationId: 'a1a2a3a4-b1b2-4c1c-8d1d-e1e2e3e4e5e6',
  project: 'rigproject',
  projectId: 'f0e1d2c3-b4a5-4968-8776-655443322110',
  planId: '11111111-2222-4333-8444-555555555555',
  jobId: '66666666-7777-4888-9999-aaaaaaaaaaaa',
  vaultName: 'my-keyvault',
  tokenSecretName: 'vvpAPIToken',
  vvpApiToken: 'vvp-api-token-7Yq3Zk9Pm2Xw5Rt8Lv1Nc4Hb6Jd0Gs',
  storageAccount: 'vvpstorage',
  /** Base64 of 64 fixed bytes: Azurite account keys must be base64. */
  storageAccountKey: Buffer.from('rig-storage-account-key-0123456789abcdef-0123456789abcdef-012345').toString('base64'),
} as const;

/**
 * The default scenario: one tenant with a secret SPN, a certificate SPN, a federated SPN, an SPN
 * the vault denies, a user-assigned managed identity, and the vault `my-keyvault` holding the
 * VVP API token.
 *
 * @param clientCertificatePem the client certificate registered for `certClientId`.
 */
export function defaultRigConfig(clientCertificatePem: string): RigConfig {
  const d = RIG_DEFAULTS;
  return {
    tenants: [{ id: d.tenantId }],
    clients: [
      { tenantId: d.tenantId, clientId: d.clientId, secret: d.clientSecret },
      { tenantId: d.tenantId, clientId: d.certClientId, certificatePem: clientCertificatePem },
      {
        tenantId: d.tenantId,
        clientId: d.wifClientId,
        federatedSubjects: [`sc://${d.organization}/${d.project}/${d.serviceConnectionName}`],
      },
      { tenantId: d.tenantId, clientId: d.deniedClientId, secret: d.clientSecret },
    ],
    managedIdentities: [
      { tenantId: d.tenantId, clientId: d.managedIdentityClientId },
      { tenantId: d.tenantId, clientId: d.userAssignedClientId },
    ],
    vaults: [
      {
        name: d.vaultName,
        tenantId: d.tenantId,
        secrets: { [d.tokenSecretName]: d.vvpApiToken },
        deniedClientIds: [d.deniedClientId],
      },
    ],
    pipeline: {
      accessToken: d.systemAccessToken,
      organization: d.organization,
      organizationId: d.organizationId,
      project: d.project,
      serviceConnections: { [d.serviceConnectionId]: d.serviceConnectionName },
    },
    routes: [],
  };
}
