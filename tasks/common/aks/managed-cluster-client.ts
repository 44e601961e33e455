import type { TokenCredential } from '@azure/identity';
import { azureServiceError } from '../azure/azure-error';
import { ServiceError, maskAndShorten } from '../errors/errors';
import { JsonTransport, type AgentProvider } from '../http/json-transport';
import { HttpRequestError } from '../http/http-request-error';
import type { RetryPolicy } from '../http/retry';
import { acceptedUrlForm, checkServiceUrl } from '../http/url-policy';
import type { Logger } from '../logging/logger';
import { AKS_SERVER_APP_ID } from './kubeconfig';

/** One AKS cluster in Azure Resource Manager. */
export interface ManagedClusterRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

/** What the AKS access flow needs from Azure; tests may stand in for it. */
export interface ManagedClusterApi {
  /** The cluster user kubeconfig (YAML), as `az aks get-credentials` gets it. */
  getUserKubeconfig(cluster: ManagedClusterRef, options?: { abortSignal?: AbortSignal }): Promise<string>;
  /** An Entra ID token for the API server of an Entra-integrated cluster (audience `serverId`). */
  getServerToken(serverId: string, options?: { abortSignal?: AbortSignal }): Promise<string>;
}

interface ManagedClusterClientOptions {
  /** Proxy + CA agent provider. */
  agents?: AgentProvider;
  logger?: Logger;
  /** Total time one attempt may take: connecting, the headers and the whole body. Default 30 000. */
  timeoutInMs?: number;
  /** Largest answer body accepted, in bytes. Default 16 MiB. */
  maxResponseBytes?: number;
  /** Retries of transient failures. Default: 4 attempts, 0.5–8 s backoff. */
  retry?: Partial<RetryPolicy>;
  /** `api-version` of the ContainerService provider. Default `2024-05-01`. */
  apiVersion?: string;
}

/** The role that carries `Microsoft.ContainerService/managedClusters/listClusterUserCredential/action`. */
const CLUSTER_USER_ROLE = 'Azure Kubernetes Service Cluster User Role';

/**
 * AKS through Azure Resource Manager with the service connection's credential: the cluster user
 * kubeconfig (`POST …/managedClusters/{name}/listClusterUserCredential`) and, for clusters
 * with Entra ID integration, the API server token, so kubelogin is not needed on the agent.
 */
export class ManagedClusterClient implements ManagedClusterApi {
  private readonly base: string;
  private readonly transport: JsonTransport;

  /**
   * @param resourceManagerUrl - The cloud's ARM endpoint, e.g. `https://management.azure.com`.
   * @throws Error when that URL breaks the URL policy (see url-policy.ts): the connection's
   * cloud is checked when it is read (`readAzureRmConnection`), so this is a caller's bug.
   */
  constructor(
    resourceManagerUrl: string,
    private readonly credential: TokenCredential,
    private readonly options: ManagedClusterClientOptions = {},
  ) {
    // The ARM token goes there: the same rule as every other service URL, and no opt-out.
    const checked = checkServiceUrl(resourceManagerUrl, { baseUrlOnly: true });
    if (checked.problem) {
      throw new Error(`ManagedClusterClient refuses the Resource Manager URL '${checked.problem.value}': it must be ${acceptedUrlForm(checked.problem.kind, 'arm')}`);
    }
    this.base = checked.url.href.replace(/\/+$/, '');
    this.transport = new JsonTransport({
      label: 'ARM',
      agents: options.agents,
      logger: options.logger,
      timeoutInMs: options.timeoutInMs,
      maxResponseBytes: options.maxResponseBytes,
      retry: options.retry,
    });
  }

  /**
   * @throws ServiceError: 404 names the cluster, resource group and subscription to check; 403
   * names the role to grant; Entra failures keep the AADSTS code.
   */
  async getUserKubeconfig(cluster: ManagedClusterRef, options: { abortSignal?: AbortSignal } = {}): Promise<string> {
    const path =
      `/subscriptions/${enc(cluster.subscriptionId)}/resourceGroups/${enc(cluster.resourceGroup)}` +
      `/providers/Microsoft.ContainerService/managedClusters/${enc(cluster.name)}/listClusterUserCredential`;
    const url = new URL(`${this.base}${path}?api-version=${encodeURIComponent(this.options.apiVersion ?? '2024-05-01')}`);
    const operation = `getting the user credentials of AKS cluster '${cluster.name}' in resource group '${cluster.resourceGroup}'`;
    const token = await this.token(`${this.base}/.default`, 'Azure Resource Manager', operation, options.abortSignal);
    const armHost = url.host;
    let answer;
    try {
      answer = await this.transport.send({
        method: 'POST',
        url,
        display: path,
        body: '',
        bearerToken: token,
        // listClusterUserCredential is a POST that only reads, so repeating it is safe.
        repeatable: true,
        abortSignal: options.abortSignal,
      });
    } catch (error) {
      if (!(error instanceof HttpRequestError)) throw error;
      throw armError(error, operation, cluster, armHost);
    }
    const kubeconfig = firstKubeconfig(answer.text);
    if (kubeconfig === undefined) {
      throw new ServiceError({ service: 'Azure Resource Manager', operation, status: answer.status, serviceMessage: 'the answer holds no kubeconfig (kubeconfigs[0].value)' });
    }
    return kubeconfig;
  }

  async getServerToken(serverId: string = AKS_SERVER_APP_ID, options: { abortSignal?: AbortSignal } = {}): Promise<string> {
    return this.token(`${serverId}/.default`, 'the AKS API server', `getting a token for the Kubernetes API (audience ${serverId})`, options.abortSignal);
  }

  private async token(scope: string, service: string, operation: string, abortSignal: AbortSignal | undefined): Promise<string> {
    try {
      const token = await this.credential.getToken(scope, { abortSignal });
      if (!token?.token) throw new Error(`no token for ${scope}`);
      return token.token;
    } catch (error) {
      if (abortSignal?.aborted) throw error;
      throw azureServiceError(service, operation, error, () => undefined);
    }
  }
}

/** A failed listClusterUserCredential as a ServiceError with what to check. */
function armError(error: HttpRequestError, operation: string, cluster: ManagedClusterRef, armHost: string): ServiceError {
  const details = { service: 'Azure Resource Manager', operation, attempts: error.attempts, cause: error };
  switch (error.kind) {
    case 'status':
      return new ServiceError({
        ...details,
        status: error.status,
        serviceMessage: armErrorText(error.text),
        hint: armHint(error.status, armErrorCode(error.text), cluster, armHost),
      });
    case 'redirect':
      return new ServiceError({
        ...details,
        status: error.status,
        serviceMessage: error.location ? `Azure Resource Manager answered with a redirect to ${error.location}` : `a redirect (HTTP ${error.status}) without a Location`,
        hint: `The Azure token is never sent to a redirect target: check the Resource Manager URL of the service connection's cloud, and for a proxy between the agent and ${armHost}`,
      });
    default:
      return new ServiceError({ ...details, serviceMessage: error.message, hint: armHint(undefined, undefined, cluster, armHost) });
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

/** The kubeconfig text in `{"kubeconfigs":[{"name":"clusterUser","value":"<base64>"}]}`. */
function firstKubeconfig(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { kubeconfigs?: { value?: unknown }[] };
    const value = body.kubeconfigs?.[0]?.value;
    return typeof value === 'string' && value !== '' ? Buffer.from(value, 'base64').toString('utf8') : undefined;
  } catch {
    return undefined;
  }
}

/** `error.code` of an ARM error body (`ResourceNotFound`, `AuthorizationFailed`…). */
function armErrorCode(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** `code: message` of an ARM error body, else the text. */
function armErrorText(text: string): string {
  try {
    const error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
    // The trailing period goes: the rendered error puts one before the hint.
    if (error && typeof error.message === 'string') return `${typeof error.code === 'string' ? `${error.code}: ` : ''}${error.message.trim().replace(/\.$/, '')}`;
  } catch {
    // not JSON
  }
  return maskAndShorten(text.trim() || 'no details in the answer', 500);
}

/** What to check for a failed listClusterUserCredential. */
function armHint(status: number | undefined, code: string | undefined, cluster: ManagedClusterRef, armHost: string): string | undefined {
  switch (status) {
    case 404:
      if (code === 'ResourceGroupNotFound') return `Check aksResourceGroup: subscription ${cluster.subscriptionId} of the service connection has no resource group '${cluster.resourceGroup}'`;
      if (code === 'SubscriptionNotFound') return `Check the service connection: subscription ${cluster.subscriptionId} was not found in this cloud`;
      return `Check aksCluster and aksResourceGroup: there is no AKS cluster '${cluster.name}' in resource group '${cluster.resourceGroup}' of subscription ${cluster.subscriptionId} (the service connection's subscription)`;
    case 403:
      return `Grant the service connection's identity the role "${CLUSTER_USER_ROLE}" on cluster '${cluster.name}' (or its resource group): it allows listClusterUserCredential. Role assignments can take a few minutes to apply`;
    case 401:
      return `${armHost} rejected the token: check that the service connection's tenant is the subscription's tenant`;
    case undefined:
      return `Check that the agent can reach ${armHost} (proxy settings, firewall)`;
    default:
      return undefined;
  }
}
