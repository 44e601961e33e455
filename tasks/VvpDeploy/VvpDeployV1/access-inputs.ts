import type { InputReader } from '../../common/inputs/parse';
import { normalizeKubectlVersion } from '../../common/kubectl/kubectl-release';
import { acceptedUrlForm, checkServiceUrl } from '../../common/http/url-policy';

/** Where the VVP API token comes from. */
type TokenSourceConfig =
  /** A Key Vault secret (`keyVaultName`, `tokenSecretName`), read with `azureSubscription`. */
  | { kind: 'keyVault' }
  /** A Ververica Platform service connection (its id): URL and API token. */
  | { kind: 'serviceConnection'; connection: string };

/** `accessMode: aksPortForward`: a kubectl port-forward into AKS for the duration of the step. */
export interface AksPortForwardConfig {
  /** Resource group and name of the cluster, in the subscription of `azureSubscription`. */
  resourceGroup: string;
  cluster: string;
  /** Kubernetes namespace of the VVP service. Default `vvp`. */
  kubernetesNamespace: string;
  /** Default `vvp-ververica-platform`. */
  serviceName: string;
  /** Default 80. */
  servicePort: number;
  /** Exact version without `v`, e.g. `1.34.2`. */
  kubectlVersion: string;
  /** Default `https://dl.k8s.io`. */
  kubectlDownloadUrl: URL;
}

/** How the step reaches VVP and where its token comes from. */
export interface VvpAccessConfig {
  token: TokenSourceConfig;
  /** Undefined for `accessMode: direct` (call `vvpUrl`). */
  portForward?: AksPortForwardConfig;
}

/** The kubectl release the task installs when `kubectlVersion` is not set (task.json default). */
const DEFAULT_KUBECTL_VERSION = '1.34.2';

const RESOURCE_GROUP = /^[-\w.()\p{L}\p{N}]{1,90}$/u;
const CLUSTER_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?$/;
/** Kubernetes namespace: an RFC 1123 label. */
const K8S_NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Kubernetes service name: an RFC 1035 label. */
const K8S_SERVICE = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Reads `tokenSource`, `vvpServiceConnection`, `accessMode` and, for `aksPortForward`, the
 * cluster, service and kubectl inputs. Problems go to `r` (one InputError lists them all).
 */
export function readAccessInputs(r: InputReader): VvpAccessConfig {
  const tokenKind = r.choice('tokenSource', ['keyVault', 'serviceConnection'] as const, 'keyVault');
  const token: TokenSourceConfig =
    tokenKind === 'serviceConnection'
      ? { kind: 'serviceConnection', connection: r.required('vvpServiceConnection', 'the Ververica Platform service connection (tokenSource: serviceConnection)') }
      : { kind: 'keyVault' };
  const mode = r.choice('accessMode', ['direct', 'aksPortForward'] as const, 'direct');
  if (mode === 'direct') return { token };

  const resourceGroup = r.required('aksResourceGroup', 'the resource group of the AKS cluster (accessMode: aksPortForward)');
  if (resourceGroup && (!RESOURCE_GROUP.test(resourceGroup) || resourceGroup.endsWith('.'))) {
    r.reject('aksResourceGroup', resourceGroup, 'a resource group name: 1-90 letters, digits, underscores, hyphens, periods and parentheses, not ending with a period');
  }
  const cluster = r.required('aksCluster', 'the name of the AKS cluster running Ververica Platform (accessMode: aksPortForward)');
  if (cluster && !CLUSTER_NAME.test(cluster)) {
    r.reject('aksCluster', cluster, 'an AKS cluster name: 1-63 letters, digits, underscores and hyphens, starting and ending with a letter or digit');
  }
  const kubernetesNamespace = r.optional('kubernetesNamespace') ?? 'vvp';
  if (!K8S_NAMESPACE.test(kubernetesNamespace)) {
    r.reject('kubernetesNamespace', kubernetesNamespace, 'a Kubernetes namespace: at most 63 lower-case letters, digits and hyphens, starting and ending with a letter or digit');
  }
  const serviceName = r.optional('vvpServiceName') ?? 'vvp-ververica-platform';
  if (!K8S_SERVICE.test(serviceName)) {
    r.reject('vvpServiceName', serviceName, 'a Kubernetes service name: at most 63 lower-case letters, digits and hyphens, starting with a letter');
  }
  const servicePort = r.integer('vvpServicePort', 80, 1, 65535);
  const rawVersion = r.optional('kubectlVersion') ?? DEFAULT_KUBECTL_VERSION;
  const kubectlVersion = normalizeKubectlVersion(rawVersion);
  if (!kubectlVersion) r.reject('kubectlVersion', rawVersion, 'an exact kubectl release such as 1.34.2 (or v1.34.2)');
  const kubectlDownloadUrl = readDownloadUrl(r);
  return {
    token,
    portForward: {
      resourceGroup,
      cluster,
      kubernetesNamespace,
      serviceName,
      servicePort,
      kubectlVersion: kubectlVersion ?? DEFAULT_KUBECTL_VERSION,
      kubectlDownloadUrl: kubectlDownloadUrl ?? new URL('https://dl.k8s.io'),
    },
  };
}

function readDownloadUrl(r: InputReader): URL | undefined {
  const raw = r.optional('kubectlDownloadUrl') ?? 'https://dl.k8s.io';
  // No allowInsecureHttp here: the SHA-256 comes from the same host, so over plain HTTP both
  // could be swapped on the way. The value is quoted masked: a mirror URL may carry a SAS.
  const checked = checkServiceUrl(raw, { baseUrlOnly: true });
  if (checked.problem) {
    r.reject('kubectlDownloadUrl', checked.problem.value, acceptedUrlForm(checked.problem.kind, 'kubectlMirror'));
    return undefined;
  }
  return checked.url;
}
