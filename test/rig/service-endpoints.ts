import { RIG_DEFAULTS } from './config';

/** A service connection as the agent hands it to a task (see `runTask`). */
export interface ServiceEndpoint {
  /** The connection id (a GUID; the input of a `connectedService:*` input holds it). */
  id: string;
  url: string;
  /** `ServicePrincipal`, `WorkloadIdentityFederation`, `ManagedServiceIdentity`, `Token`, ... */
  scheme: string;
  /** Authorization parameters (secret: the agent puts them in the task's vault). */
  parameters: Record<string, string>;
  /** Endpoint data (public). */
  data?: Record<string, string>;
}

export type AzureCloudName = 'AzureCloud' | 'AzureChinaCloud';

/** What an AzureRM connection of each scheme needs; ids default to the rig's default scenario. */
export type AzureRmEndpointOptions = {
  id?: string;
  tenantId?: string;
  subscriptionId?: string;
  cloud?: AzureCloudName;
} & (
  | { scheme: 'ServicePrincipal'; authenticationType?: 'spnKey'; clientId?: string; clientSecret?: string }
  | { scheme: 'ServicePrincipal'; authenticationType: 'spnCertificate'; clientId?: string; certificatePem: string }
  | { scheme: 'WorkloadIdentityFederation' }
  | { scheme: 'ManagedServiceIdentity'; msiClientId?: string }
);

/** Per-cloud endpoint data as Azure DevOps fills it for AzureRM connections. */
const CLOUD_DATA: Readonly<Record<AzureCloudName, Record<string, string>>> = {
  AzureCloud: {
    environmentUrl: 'https://management.azure.com/',
    activeDirectoryAuthority: 'https://login.microsoftonline.com/',
    environmentAuthorityUrl: 'https://login.windows.net/',
    activeDirectoryServiceEndpointResourceId: 'https://management.core.windows.net/',
    graphUrl: 'https://graph.windows.net/',
    microsoftGraphUrl: 'https://graph.microsoft.com/',
    galleryUrl: 'https://gallery.azure.com/',
    managementPortalUrl: 'https://manage.windowsazure.com/',
    armManagementPortalUrl: 'https://portal.azure.com/',
    serviceManagementUrl: 'https://management.core.windows.net/',
    resourceManagerUrl: 'https://management.azure.com/',
    AzureKeyVaultDnsSuffix: 'vault.azure.net',
    AzureKeyVaultServiceEndpointResourceId: 'https://vault.azure.net',
    StorageEndpointSuffix: 'core.windows.net',
    sqlDatabaseDnsSuffix: '.database.windows.net',
  },
  AzureChinaCloud: {
    environmentUrl: 'https://management.chinacloudapi.cn/',
    activeDirectoryAuthority: 'https://login.chinacloudapi.cn/',
    environmentAuthorityUrl: 'https://login.chinacloudapi.cn/',
    activeDirectoryServiceEndpointResourceId: 'https://management.core.chinacloudapi.cn/',
    graphUrl: 'https://graph.chinacloudapi.cn/',
    microsoftGraphUrl: 'https://microsoftgraph.chinacloudapi.cn/',
    galleryUrl: 'https://gallery.chinacloudapi.cn/',
    managementPortalUrl: 'https://manage.windowsazure.cn/',
    armManagementPortalUrl: 'https://portal.azure.cn/',
    serviceManagementUrl: 'https://management.core.chinacloudapi.cn/',
    resourceManagerUrl: 'https://management.chinacloudapi.cn/',
    AzureKeyVaultDnsSuffix: 'vault.azure.cn',
    AzureKeyVaultServiceEndpointResourceId: 'https://vault.azure.cn',
    StorageEndpointSuffix: 'core.chinacloudapi.cn',
    sqlDatabaseDnsSuffix: '.database.chinacloudapi.cn',
  },
};

/**
 * An AzureRM service connection shaped like the ones Azure DevOps sends (auth parameter and data
 * key names as read by the official `azure-arm-rest` package). Defaults point at the rig's
 * default tenant, clients and subscription.
 */
export function azureRmEndpoint(options: AzureRmEndpointOptions): ServiceEndpoint {
  const d = RIG_DEFAULTS;
  const cloud = options.cloud ?? 'AzureCloud';
  const tenantId = options.tenantId ?? d.tenantId;
  const subscriptionId = options.subscriptionId ?? d.subscriptionId;
  const parameters: Record<string, string> = { tenantid: tenantId, scope: `/subscriptions/${subscriptionId}` };
  const data: Record<string, string> = {
    ...CLOUD_DATA[cloud],
    environment: cloud,
    scopeLevel: 'Subscription',
    subscriptionId,
    subscriptionName: 'Rig Subscription',
    creationMode: 'Manual',
  };
  switch (options.scheme) {
    case 'ServicePrincipal':
      parameters['serviceprincipalid'] = options.clientId ?? (options.authenticationType === 'spnCertificate' ? d.certClientId : d.clientId);
      if (options.authenticationType === 'spnCertificate') {
        parameters['authenticationType'] = 'spnCertificate';
        parameters['servicePrincipalCertificate'] = options.certificatePem;
      } else {
        parameters['authenticationType'] = 'spnKey';
        parameters['serviceprincipalkey'] = options.clientSecret ?? d.clientSecret;
      }
      break;
    case 'WorkloadIdentityFederation':
      parameters['serviceprincipalid'] = d.wifClientId;
      parameters['workloadIdentityFederationSubject'] = `sc://${d.organization}/${d.project}/${d.serviceConnectionName}`;
      parameters['workloadIdentityFederationIssuer'] = `https://vstoken.dev.azure.com/${d.organizationId}`;
      break;
    case 'ManagedServiceIdentity':
      if (options.msiClientId) data['msiclientId'] = options.msiClientId;
      break;
  }
  return {
    id: options.id ?? d.serviceConnectionId,
    url: CLOUD_DATA[cloud]['resourceManagerUrl']!,
    scheme: options.scheme,
    parameters,
    data,
  };
}

/** A generic token-based connection (e.g. a VVP connection holding URL and API token). */
export function tokenEndpoint(id: string, url: string, apiToken: string, scheme = 'Token'): ServiceEndpoint {
  return { id, url, scheme, parameters: { apitoken: apiToken } };
}
