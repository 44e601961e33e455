import type { TokenCredential } from '@azure/identity';
import { azureServiceError } from '../azure/azure-error';
import { isAbortError, ServiceError, truncate } from '../errors/errors';
import type { NetworkAgents } from '../http/network';
import { axios } from '../lazy/libraries';
import { isRetryableNetworkCode, isRetryableStatus, RetryExhaustedError, withRetry, type RetryPolicy } from '../http/retry';
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

export interface ManagedClusterClientOptions {
  /** Proxy + CA agent provider. */
  agents?: Pick<NetworkAgents, 'agentFor'>;
  logger?: Logger;
  /** Bound for each request. Default 30 000. */
  timeoutInMs?: number;
  /** Retries of transient failures. Default: 4 attempts, 0.5–8 s backoff. */
  retry?: Partial<RetryPolicy>;
  /** `api-version` of the ContainerService provider. Default `2024-05-01`. */
  apiVersion?: string;
}

/** The role that carries `Microsoft.ContainerService/managedClusters/listClusterUserCredential/action`. */
export const CLUSTER_USER_ROLE = 'Azure Kubernetes Service Cluster User Role';

/**
 * AKS through Azure Resource Manager with the service connection's credential: the cluster user
 * kubeconfig (`POST …/managedClusters/{name}/listClusterUserCredential`) and, for clusters
 * with Entra ID integration, the API server token, so kubelogin is not needed on the agent.
 */
export class ManagedClusterClient implements ManagedClusterApi {
  private readonly base: string;

  constructor(
    resourceManagerUrl: string,
    private readonly credential: TokenCredential,
    private readonly options: ManagedClusterClientOptions = {},
  ) {
    this.base = resourceManagerUrl.replace(/\/+$/, '');
  }

  /**
   * @throws ServiceError: 404 names the cluster, resource group and subscription to check; 403
   * names the role to grant; Entra failures keep the AADSTS code.
   */
  async getUserKubeconfig(cluster: ManagedClusterRef, options: { abortSignal?: AbortSignal } = {}): Promise<string> {
    const path =
      `/subscriptions/${enc(cluster.subscriptionId)}/resourceGroups/${enc(cluster.resourceGroup)}` +
      `/providers/Microsoft.ContainerService/managedClusters/${enc(cluster.name)}/listClusterUserCredential`;
    const url = `${this.base}${path}?api-version=${this.options.apiVersion ?? '2024-05-01'}`;
    const operation = `getting the user credentials of AKS cluster '${cluster.name}' in resource group '${cluster.resourceGroup}'`;
    const token = await this.token(`${this.base}/.default`, 'Azure Resource Manager', operation, options.abortSignal);
    let answer: { status: number; text: string };
    try {
      // listClusterUserCredential is a POST that only reads, so repeating it is safe.
      answer = await withRetry(() => this.post(url, token, options.abortSignal), {
        policy: this.options.retry,
        abortSignal: options.abortSignal,
        isRetryable: (error) => {
          const e = error as { status?: number; code?: string };
          return { retry: e.status !== undefined ? isRetryableStatus(e.status) : isRetryableNetworkCode(e.code) };
        },
        onRetry: ({ attempt, delayInMs }) => this.options.logger?.debug(`ARM POST ${path} attempt ${attempt} failed; retrying in ${delayInMs} ms`),
      });
    } catch (error) {
      if (options.abortSignal?.aborted || isAbortError(error)) throw error;
      const last = error instanceof RetryExhaustedError ? error.lastError : error;
      const e = last as { status?: number; text?: string; code?: string; message?: string };
      throw new ServiceError({
        service: 'Azure Resource Manager',
        operation,
        status: e.status,
        attempts: error instanceof RetryExhaustedError ? error.attempts : undefined,
        serviceMessage: e.status !== undefined ? armErrorText(e.text ?? '') : e.message,
        hint: armHint(e.status, armErrorCode(e.text ?? ''), cluster, new URL(this.base).host),
        cause: last,
      });
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

  private async post(url: string, token: string, abortSignal: AbortSignal | undefined): Promise<{ status: number; text: string }> {
    const started = Date.now();
    const agent = this.options.agents?.agentFor(url);
    let response;
    try {
      response = await axios().post<string>(url, '', {
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', 'Content-Type': 'application/json' },
        timeout: this.options.timeoutInMs ?? 30_000,
        signal: abortSignal,
        proxy: false,
        ...(agent ? { httpAgent: agent, httpsAgent: agent } : {}),
        maxRedirects: 0,
        responseType: 'text',
        transformResponse: [(data: unknown) => data],
        validateStatus: () => true,
      });
    } catch (error) {
      if (isAbortError(error) || abortSignal?.aborted) throw error;
      const code = (error as { code?: string }).code;
      this.options.logger?.debug(`ARM POST listClusterUserCredential → ${code ?? 'network error'} in ${Date.now() - started} ms`);
      throw Object.assign(new Error(`${(error as Error).message} (${new URL(url).host})`), { code });
    }
    this.options.logger?.debug(`ARM POST listClusterUserCredential → ${response.status} in ${Date.now() - started} ms`);
    const text = typeof response.data === 'string' ? response.data : '';
    if (response.status !== 200) throw Object.assign(new Error(`HTTP ${response.status}`), { status: response.status, text });
    return { status: response.status, text };
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
    if (error && typeof error.message === 'string') return `${typeof error.code === 'string' ? `${error.code}: ` : ''}${error.message}`;
  } catch {
    // not JSON
  }
  return truncate(text.trim() || 'no details in the answer', 500);
}

/** What to check for a failed listClusterUserCredential. Exported for tests. */
export function armHint(status: number | undefined, code: string | undefined, cluster: ManagedClusterRef, armHost: string): string | undefined {
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
