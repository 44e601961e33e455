import type { TokenCredential } from '@azure/identity';
import { writeClusterKubeconfig } from '../../common/aks/cluster-kubeconfig';
import { ManagedClusterClient, type ManagedClusterApi } from '../../common/aks/managed-cluster-client';
import type { AzureRmConnection } from '../../common/azure/credential';
import { InputError } from '../../common/errors/errors';
import type { NetworkAgents } from '../../common/http/network';
import type { ConnectionUrlRules, VvpServiceConnection } from '../../common/vvp/service-connection';
import { KeyVaultSecretReader, keyVaultUrl, type SecretReader } from '../../common/keyvault/secret-reader';
import { ensureKubectl, type ToolCache } from '../../common/kubectl/kubectl-installer';
import { openPortForward } from '../../common/kubectl/port-forward';
import { inGroup, type Logger } from '../../common/logging/logger';
import type { AksPortForwardConfig } from './access-inputs';
import type { DeployConfig } from './inputs';

/**
 * Where and how to reach VVP for this run, resolved in this one place before the flow starts:
 * the token (Key Vault secret or Ververica Platform service connection) and the base URL
 * (`vvpUrl`, the service connection's URL, or the loopback end of a port-forward into AKS).
 */
export interface VvpAccess {
  /** Base URL of VVP for API calls: `vvpUrl`, the connection's URL, or `http://127.0.0.1:<port>` of the tunnel. */
  baseUrl: URL;
  /** The API token, already registered as a secret; undefined for VVP without authentication. */
  token: string | undefined;
  /** Where the token came from, for the 401 hint. No secret in it. */
  tokenSource: string;
  /** Where people open VVP (links in the run summary); undefined behind a tunnel without `vvpUrl`. */
  publicUrl?: URL;
  /**
   * Behind a tunnel: aborts (reason: a ServiceError naming the service, the cluster and
   * kubectl's last error) once the tunnel is down for good. Every VVP call must then fail at once
   * without sending anything: the token would go to a local port another process may hold.
   * Undefined for direct access.
   */
  connectionLost?: AbortSignal;
  /** Releases what access needed: stops kubectl and deletes the kubeconfig. Safe to call twice. */
  dispose(): Promise<void>;
}

export interface AccessDeps {
  /**
   * The AzureRM service connection and its credential, read on first use: only Key Vault and
   * AKS need them, so a step with a Ververica Platform connection and direct access reads none.
   */
  azure(): { connection: AzureRmConnection; credential: TokenCredential };
  /**
   * Reads the Ververica Platform service connection of input `vvpServiceConnection` (the pipeline
   * adapter), its Server URL checked by `urlRules`.
   */
  readVvpConnection(urlRules: ConnectionUrlRules): VvpServiceConnection;
  agents: NetworkAgents;
  /** The agent's tool cache (kubectl). */
  toolCache: ToolCache;
  /** `Agent.TempDirectory`: the kubeconfig and the kubectl download go there. */
  tempDirectory: string;
  /** Masks a secret in all agent output; called the moment a secret is read. */
  registerSecret(value: string): void;
  logger: Logger;
  abortSignal?: AbortSignal;
  /** Key Vault reader; default: one for `keyVaultName` with the AzureRM credential. */
  secrets?: SecretReader;
  /** AKS through ARM; default: a ManagedClusterClient with the AzureRM credential. */
  clusters?: ManagedClusterApi;
}

/**
 * Reads the token and, for `accessMode: aksPortForward`, opens the tunnel: cluster credentials
 * from ARM, kubectl from the tool cache (downloaded and verified when missing), and
 * `kubectl port-forward` to the VVP service. Each phase is a log group.
 *
 * @throws ServiceError naming the vault and secret, the cluster, the download or kubectl's own
 * error; InputError for an unusable service connection.
 */
export async function resolveVvpAccess(config: DeployConfig, deps: AccessDeps): Promise<VvpAccess> {
  const { token, tokenSource, connectionUrl } = await inGroup(deps.logger, 'Read the VVP API token', () => readToken(config, deps));
  const publicUrl = config.vvpUrl ?? connectionUrl;
  const portForward = config.access.portForward;
  if (!portForward) {
    if (!publicUrl) {
      // parseDeployInputs requires vvpUrl unless the connection provides it; keep the guard for hand-built configs.
      throw new InputError([{ input: 'vvpUrl', value: '', expected: 'is required: the base URL of Ververica Platform' }]);
    }
    return { baseUrl: publicUrl, token, tokenSource, publicUrl, dispose: async () => undefined };
  }
  const tunnel = await openAksTunnel(portForward, deps);
  if (config.vvpUrl) deps.logger.info(`VVP calls go through the tunnel; vvpUrl (${config.vvpUrl.origin}) is only used for links.`);
  return { baseUrl: tunnel.baseUrl, token, tokenSource, publicUrl, connectionLost: tunnel.lost, dispose: tunnel.close };
}

async function readToken(config: DeployConfig, deps: AccessDeps): Promise<{ token: string; tokenSource: string; connectionUrl?: URL }> {
  const source = config.access.token;
  switch (source.kind) {
    case 'keyVault': {
      const tokenSource = `Key Vault secret '${config.tokenSecretName}' in vault '${config.keyVaultName}'`;
      const secrets = deps.secrets ?? keyVaultReader(config, deps);
      const token = await secrets.getSecret(config.tokenSecretName, { abortSignal: deps.abortSignal });
      deps.registerSecret(token);
      deps.logger.info(`Read the VVP API token from ${tokenSource}.`);
      return { token, tokenSource };
    }
    case 'serviceConnection': {
      // The URL is only needed when nothing else gives the address (vvpUrl overrides it, the tunnel replaces it).
      const connection = deps.readVvpConnection({ allowInsecureHttp: config.allowInsecureHttp ?? false, required: !config.vvpUrl && !config.access.portForward });
      deps.registerSecret(connection.token);
      const tokenSource = `the API token of Ververica Platform service connection '${connection.id}'`;
      const connectionUrl = connection.url;
      const where = config.vvpUrl ? `; vvpUrl ${config.vvpUrl.origin} overrides its URL` : connectionUrl ? ` (${connectionUrl.origin})` : '';
      deps.logger.info(`Read the VVP API token from Ververica Platform service connection '${connection.id}'${where}.`);
      return { token: connection.token, tokenSource, connectionUrl };
    }
    default: {
      const unknown: never = source;
      throw new Error(`unknown token source ${JSON.stringify(unknown)}`);
    }
  }
}

function keyVaultReader(config: DeployConfig, deps: AccessDeps): SecretReader {
  const { connection, credential } = deps.azure();
  return new KeyVaultSecretReader(keyVaultUrl(config.keyVaultName, connection.cloud.keyVaultSuffix), credential, { agents: deps.agents });
}

/** A tunnel to VVP inside AKS and how to take it down again. */
interface AksTunnel {
  baseUrl: URL;
  /** Aborts when the tunnel is down for good (see `PortForward.lost`). */
  lost: AbortSignal;
  close(): Promise<void>;
}

async function openAksTunnel(pf: AksPortForwardConfig, deps: AccessDeps): Promise<AksTunnel> {
  const { logger, abortSignal } = deps;
  const { connection, credential } = deps.azure();
  if (!connection.subscriptionId) {
    throw new InputError([
      { input: 'azureSubscription', value: connection.name, expected: 'a service connection scoped to a subscription (the AKS cluster is looked up in it)' },
    ]);
  }
  const cluster = { subscriptionId: connection.subscriptionId, resourceGroup: pf.resourceGroup, name: pf.cluster };
  const clusters = deps.clusters ?? new ManagedClusterClient(connection.cloud.resourceManagerUrl, credential, { agents: deps.agents, logger });
  const kubeconfig = await inGroup(logger, 'Get the AKS cluster credentials', () =>
    writeClusterKubeconfig({
      api: clusters,
      cluster,
      directory: deps.tempDirectory,
      registerSecret: deps.registerSecret,
      logger,
      abortSignal,
      proxyFor: (server) => proxyUrlFor(deps.agents, server),
    }),
  );
  try {
    const kubectl = await inGroup(logger, 'Install kubectl', () =>
      ensureKubectl({
        version: pf.kubectlVersion,
        downloadBaseUrl: pf.kubectlDownloadUrl,
        toolCache: deps.toolCache,
        tempDirectory: deps.tempDirectory,
        logger,
        abortSignal,
      }),
    );
    const forward = await inGroup(logger, 'Open the tunnel to VVP in AKS', () =>
      openPortForward({
        kubectlPath: kubectl.path,
        kubeconfigPath: kubeconfig.path,
        namespace: pf.kubernetesNamespace,
        service: pf.serviceName,
        servicePort: pf.servicePort,
        description: `service ${pf.kubernetesNamespace}/${pf.serviceName}:${pf.servicePort} in AKS cluster '${pf.cluster}' (resource group '${pf.resourceGroup}')`,
        logger,
        abortSignal,
      }),
    );
    let closed: Promise<void> | undefined;
    return {
      baseUrl: forward.baseUrl,
      lost: forward.lost,
      close: () =>
        (closed ??= (async () => {
          try {
            await forward.stop();
            logger.info('Tunnel closed: kubectl stopped, kubeconfig deleted.');
          } finally {
            kubeconfig.remove();
          }
        })()),
    };
  } catch (error) {
    kubeconfig.remove();
    throw error;
  }
}

/**
 * The agent's proxy (with its credentials) for kubectl's `proxy-url`, when requests to the API
 * server go through it by the agent's rules; kubectl does not read the agent's settings itself.
 */
function proxyUrlFor(agents: NetworkAgents, server: URL): string | undefined {
  const settings = agents.settings;
  if (!settings.proxyUrl || !agents.usesProxy(server)) return undefined;
  const url = new URL(settings.proxyUrl);
  if (settings.proxyUsername) {
    url.username = encodeURIComponent(settings.proxyUsername);
    url.password = encodeURIComponent(settings.proxyPassword ?? '');
  }
  return url.href.replace(/\/$/, '');
}
