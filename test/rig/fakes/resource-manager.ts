import { createHash } from 'node:crypto';
import type { ManagedClusterConfig } from '../config';
import { header, jsonResponse, newGuid, type FakeHandler, type FakeRequest, type FakeResponse } from './fake-http';
import { objectIdFor, type RigState } from './rig-state';

/** Resource manager hosts the fake answers for (the ones in the rig certificate). */
export const RESOURCE_MANAGER_HOSTS = ['management.azure.com', 'management.chinacloudapi.cn', 'management.usgovcloudapi.net'];

/** Application id of the "Azure Kubernetes Service AAD Server" app: the audience of API server tokens. */
export const AKS_SERVER_APP_ID = '6dae42f8-4368-4678-94ff-3960e28e3630';
/** Client id kubelogin uses for device-code logins (what `az aks get-credentials` puts in the exec args). */
const AZURE_CLI_AKS_CLIENT_ID = '80faf920-1908-4b52-b5ef-a8e7bedfc67a';

const LIST_USER_CREDENTIAL =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerService\/managedClusters\/([^/]+)\/listClusterUserCredential$/i;

/**
 * Azure Resource Manager for the one call the deploy task makes,
 * `POST …/managedClusters/{name}/listClusterUserCredential`: tokens must be signed by the
 * Entra ID fake with a resource manager audience; unknown subscription, resource group or
 * cluster get ARM's 404 bodies; principals listed in `deniedClientIds` get ARM's 403
 * AuthorizationFailed. The kubeconfig is a local-account one or, for `entra`, the exec/kubelogin
 * form AKS returns for Entra-integrated clusters.
 */
export function resourceManagerHandler(state: RigState): FakeHandler {
  return (req) => {
    const m = LIST_USER_CREDENTIAL.exec(req.url.pathname);
    if (!m) return armError(404, 'InvalidResourceType', `The rig ARM fake has no route for ${req.method} ${req.url.pathname}.`);
    if (req.method !== 'POST') return armError(405, 'MethodNotAllowed', `The requested resource does not support http method '${req.method}'.`);
    if (!req.url.searchParams.get('api-version')) {
      return armError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
    }
    const auth = authenticate(state, req);
    if ('error' in auth) return auth.error;
    const [, subscriptionId, resourceGroup, name] = m.map((s) => decodeURIComponent(s ?? '')) as [string, string, string, string];
    const clusters = state.config.managedClusters ?? [];
    const inSubscription = clusters.filter((c) => c.subscriptionId.toLowerCase() === subscriptionId.toLowerCase());
    if (inSubscription.length === 0) return armError(404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`);
    const inGroup = inSubscription.filter((c) => c.resourceGroup.toLowerCase() === resourceGroup.toLowerCase());
    if (inGroup.length === 0) return armError(404, 'ResourceGroupNotFound', `Resource group '${resourceGroup}' could not be found.`);
    const cluster = inGroup.find((c) => c.name.toLowerCase() === name.toLowerCase());
    const scope = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${name}`;
    if (cluster?.deniedClientIds?.some((id) => id.toLowerCase() === auth.appId.toLowerCase())) {
      return armError(
        403,
        'AuthorizationFailed',
        `The client '${auth.appId}' with object id '${auth.objectId}' does not have authorization to perform action ` +
          `'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action' over scope '${scope}' or the scope is invalid. ` +
          'If access was recently granted, please refresh your credentials.',
      );
    }
    if (!cluster) {
      return armError(404, 'ResourceNotFound', `The Resource 'Microsoft.ContainerService/managedClusters/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
    }
    const kubeconfig = clusterKubeconfig(cluster, auth.tenantId);
    return jsonResponse(200, { kubeconfigs: [{ name: 'clusterUser', value: Buffer.from(kubeconfig).toString('base64') }] }, requestIds());
  };
}

type Authenticated = { appId: string; objectId: string; tenantId: string };

function authenticate(state: RigState, req: FakeRequest): Authenticated | { error: FakeResponse } {
  const value = header(req, 'authorization');
  if (!value) return { error: armError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.") };
  const m = /^Bearer (.+)$/i.exec(value);
  const jwt = m ? state.entra.verify(m[1]!) : undefined;
  if (!jwt) return { error: armError(401, 'InvalidAuthenticationToken', 'The access token is invalid.') };
  const aud = String(jwt.payload['aud'] ?? '').replace(/\/+$/, '');
  const host = req.url.hostname.toLowerCase();
  const accepted = [`https://${host}`, 'https://management.core.windows.net', 'https://management.core.chinacloudapi.cn', 'https://management.core.usgovcloudapi.net'];
  if (!accepted.includes(aud)) {
    return {
      error: armError(401, 'InvalidAuthenticationTokenAudience', `The access token has been obtained for wrong audience or resource '${aud}'. It should exactly match with one of the allowed audiences 'https://${host}/','https://management.core.windows.net/'.`),
    };
  }
  if (Number(jwt.payload['exp']) * 1000 < Date.now()) {
    return { error: armError(401, 'ExpiredAuthenticationToken', "The access token expiry UTC time is earlier than current UTC time.") };
  }
  const appId = String(jwt.payload['appid'] ?? '');
  return { appId, objectId: String(jwt.payload['oid'] ?? objectIdFor(appId)), tenantId: String(jwt.payload['tid'] ?? '') };
}

/** The secret parts of a local-account kubeconfig of `cluster`, deterministic so tests can scan logs for them. */
export function localAccountSecrets(cluster: Pick<ManagedClusterConfig, 'name' | 'resourceGroup'>): { clientKeyData: string; token: string } {
  const seed = `${cluster.resourceGroup}/${cluster.name}`;
  const key = `-----BEGIN RSA PRIVATE KEY-----\nrig-fake-cluster-user-key-${createHash('sha256').update(`key:${seed}`).digest('hex')}\n-----END RSA PRIVATE KEY-----\n`;
  return {
    clientKeyData: Buffer.from(key).toString('base64'),
    token: createHash('sha256').update(`token:${seed}`).digest('hex').repeat(2),
  };
}

/** The API server of `cluster` as AKS names it: `https://<name>-dns-<hash>.hcp.<region>.azmk8s.io:443`. */
export function apiServerUrl(cluster: Pick<ManagedClusterConfig, 'name' | 'resourceGroup'>): string {
  const hash = createHash('sha256').update(`${cluster.resourceGroup}/${cluster.name}`).digest('hex').slice(0, 8);
  return `https://${cluster.name.toLowerCase()}-dns-${hash}.hcp.westeurope.azmk8s.io:443`;
}

/** The kubeconfig AKS returns from listClusterUserCredential, in its YAML layout. */
export function clusterKubeconfig(cluster: ManagedClusterConfig, tenantId: string): string {
  const user = `clusterUser_${cluster.resourceGroup}_${cluster.name}`;
  const ca = Buffer.from(`-----BEGIN CERTIFICATE-----\nrig-fake-cluster-ca-${cluster.name}\n-----END CERTIFICATE-----\n`).toString('base64');
  const cert = Buffer.from(`-----BEGIN CERTIFICATE-----\nrig-fake-cluster-user-${cluster.name}\n-----END CERTIFICATE-----\n`).toString('base64');
  const head = [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${ca}`,
    `    server: ${apiServerUrl(cluster)}`,
    `  name: ${cluster.name}`,
    'contexts:',
    '- context:',
    `    cluster: ${cluster.name}`,
    `    user: ${user}`,
    `  name: ${cluster.name}`,
    `current-context: ${cluster.name}`,
    'kind: Config',
    'preferences: {}',
    'users:',
    `- name: ${user}`,
    '  user:',
  ];
  if (cluster.kubeconfig === 'entra') {
    return [
      ...head,
      '    exec:',
      '      apiVersion: client.authentication.k8s.io/v1beta1',
      '      args:',
      '      - get-token',
      '      - --environment',
      '      - AzurePublicCloud',
      '      - --server-id',
      `      - ${AKS_SERVER_APP_ID}`,
      '      - --client-id',
      `      - ${AZURE_CLI_AKS_CLIENT_ID}`,
      '      - --tenant-id',
      `      - ${tenantId}`,
      '      - --login',
      '      - devicecode',
      '      command: kubelogin',
      '      env: null',
      '      installHint: |2',
      '',
      '        kubelogin is not installed which is required to connect to AAD enabled cluster.',
      '',
      '        To learn more, please go to https://aka.ms/aks/kubelogin',
      '      interactiveMode: IfAvailable',
      '      provideClusterInfo: false',
      '',
    ].join('\n');
  }
  const secrets = localAccountSecrets(cluster);
  return [...head, `    client-certificate-data: ${cert}`, `    client-key-data: ${secrets.clientKeyData}`, `    token: ${secrets.token}`, ''].join('\n');
}

function requestIds(): Record<string, string> {
  const id = newGuid();
  return { 'x-ms-request-id': id, 'x-ms-correlation-request-id': id, 'x-ms-ratelimit-remaining-subscription-writes': '1199' };
}

/** ARM's error body: `{"error":{"code","message"}}`. */
function armError(status: number, code: string, message: string): FakeResponse {
  return jsonResponse(status, { error: { code, message } }, requestIds());
}
