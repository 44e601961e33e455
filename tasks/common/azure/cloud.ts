/**
 * Endpoints of one Azure cloud. Known clouds come from a table; the service connection's
 * data (authority, Key Vault suffix, storage suffix, resource manager URL) overrides it, which
 * is how Azure Stack and custom clouds work.
 */
export interface AzureCloud {
  /** `AzureCloud`, `AzureChinaCloud`, `AzureUSGovernment`, `AzureGermanCloud`, `AzureStack`… */
  name: string;
  /** Entra ID authority host, e.g. `https://login.microsoftonline.com`. No trailing slash. */
  authorityHost: string;
  /** Resource manager URL, e.g. `https://management.azure.com`. No trailing slash. */
  resourceManagerUrl: string;
  /** Storage suffix, e.g. `core.windows.net` (blob host: `<account>.blob.<suffix>`). */
  storageSuffix: string;
  /** Key Vault suffix, e.g. `vault.azure.net` (vault host: `<vault>.<suffix>`). */
  keyVaultSuffix: string;
}

const KNOWN: Record<string, Omit<AzureCloud, 'name'>> = {
  azurecloud: {
    authorityHost: 'https://login.microsoftonline.com',
    resourceManagerUrl: 'https://management.azure.com',
    storageSuffix: 'core.windows.net',
    keyVaultSuffix: 'vault.azure.net',
  },
  azurechinacloud: {
    authorityHost: 'https://login.chinacloudapi.cn',
    resourceManagerUrl: 'https://management.chinacloudapi.cn',
    storageSuffix: 'core.chinacloudapi.cn',
    keyVaultSuffix: 'vault.azure.cn',
  },
  azureusgovernment: {
    authorityHost: 'https://login.microsoftonline.us',
    resourceManagerUrl: 'https://management.usgovcloudapi.net',
    storageSuffix: 'core.usgovcloudapi.net',
    keyVaultSuffix: 'vault.usgovcloudapi.net',
  },
  azuregermancloud: {
    authorityHost: 'https://login.microsoftonline.de',
    resourceManagerUrl: 'https://management.microsoftazure.de',
    storageSuffix: 'core.cloudapi.de',
    keyVaultSuffix: 'vault.microsoftazure.de',
  },
};

/** What the service connection says about its cloud (all optional except the name). */
interface CloudData {
  environment?: string;
  authorityUrl?: string;
  resourceManagerUrl?: string;
  storageSuffix?: string;
  keyVaultSuffix?: string;
}

/**
 * Resolves the cloud of a connection. Explicit endpoint data wins over the table; an unknown
 * cloud without data falls back to the public cloud's suffixes only where data is missing.
 */
export function resolveCloud(data: CloudData): AzureCloud {
  const name = data.environment?.trim() || 'AzureCloud';
  const base = KNOWN[name.toLowerCase()] ?? KNOWN.azurecloud;
  return {
    name,
    authorityHost: stripSlash(data.authorityUrl?.trim() || base.authorityHost),
    resourceManagerUrl: stripSlash(data.resourceManagerUrl?.trim() || base.resourceManagerUrl),
    storageSuffix: stripDot(data.storageSuffix?.trim() || base.storageSuffix),
    keyVaultSuffix: stripDot(data.keyVaultSuffix?.trim() || base.keyVaultSuffix),
  };
}

/**
 * What is wrong with a resolved cloud's endpoints (an authority or resource manager URL that is
 * not https, a malformed DNS suffix in the service connection's data), one phrase each quoting
 * the value; empty when usable. Pure: the connection reader (readAzureRmConnection) turns them
 * into its refusal.
 *
 * Both URLs must be https: the credential's secret (or the OIDC assertion) goes to the authority,
 * and every ARM call carries a bearer token for the whole subscription.
 */
export function cloudProblems(cloud: AzureCloud): string[] {
  const problems: string[] = [];
  if (!isHttpsUrl(cloud.authorityHost)) {
    problems.push(`its Entra ID authority (activeDirectoryAuthority) '${cloud.authorityHost}' is not an https URL such as https://login.microsoftonline.com/`);
  }
  if (!isHttpsUrl(cloud.resourceManagerUrl)) {
    problems.push(`its resource manager URL (resourceManagerUrl) '${cloud.resourceManagerUrl}' is not an https URL such as https://management.azure.com/`);
  }
  const suffix = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i;
  if (!suffix.test(cloud.storageSuffix)) problems.push(`its storage suffix '${cloud.storageSuffix}' is not a DNS suffix such as core.windows.net`);
  if (!suffix.test(cloud.keyVaultSuffix)) problems.push(`its Key Vault suffix '${cloud.keyVaultSuffix}' is not a DNS suffix such as vault.azure.net`);
  return problems;
}

function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function stripDot(suffix: string): string {
  return suffix.replace(/^\.+/, '').replace(/\/+$/, '');
}
