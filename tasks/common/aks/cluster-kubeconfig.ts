import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ServiceError } from '../errors/errors';
import type { Logger } from '../logging/logger';
import { kubeconfigSecrets, parseKubeconfig, renderKubeconfig } from './kubeconfig';
import type { ManagedClusterApi, ManagedClusterRef } from './managed-cluster-client';

interface ClusterKubeconfigOptions {
  api: ManagedClusterApi;
  cluster: ManagedClusterRef;
  /** Where the file goes (`Agent.TempDirectory`, which the agent cleans after the job). */
  directory: string;
  /** Masks a secret in all agent output; called the moment a credential is read. */
  registerSecret(value: string): void;
  logger: Logger;
  abortSignal?: AbortSignal;
  /** The proxy kubectl must use for this API server (with credentials), or undefined for none. */
  proxyFor?(server: URL): string | undefined;
}

/** A kubeconfig file on disk for the duration of the step. */
interface KubeconfigFile {
  path: string;
  /** The cluster's API server. */
  server: URL;
  /** `local` (account from the cluster) or `entra` (an Entra ID token for the API server). */
  auth: 'local' | 'entra';
  /** Deletes the file. Safe to call twice. */
  remove(): void;
}

/**
 * Gets the cluster user credentials from ARM and writes a kubeconfig kubectl can use without any
 * plugin: for an Entra-integrated cluster (the kubeconfig wants `kubelogin`) the user becomes an
 * Entra ID token for the API server, obtained with the same service connection credential. The
 * file is owner-only (0600), lives under `directory`, and is deleted by `remove()` or, at the
 * latest, when this process exits. Every credential is registered as a secret first.
 *
 * @throws ServiceError from ARM or Entra ID, or for a kubeconfig this task cannot use.
 */
export async function writeClusterKubeconfig(options: ClusterKubeconfigOptions): Promise<KubeconfigFile> {
  const { cluster, logger } = options;
  const label = `AKS cluster '${cluster.name}' (resource group '${cluster.resourceGroup}')`;
  const text = await options.api.getUserKubeconfig(cluster, { abortSignal: options.abortSignal });
  const parsed = parseKubeconfig(text, `reading the kubeconfig of ${label}`);
  for (const secret of kubeconfigSecrets(parsed)) options.registerSecret(secret);
  let token: string | undefined;
  switch (parsed.auth.kind) {
    case 'local':
      logger.info(`Got the cluster user credentials of ${label}: local account, API server ${parsed.server.host}`);
      break;
    case 'entra':
      token = await options.api.getServerToken(parsed.auth.serverId, { abortSignal: options.abortSignal });
      options.registerSecret(token);
      logger.info(`Got the cluster user credentials of ${label}: Microsoft Entra ID, using a token of the service connection for the API server ${parsed.server.host} (no kubelogin needed)`);
      break;
    case 'unsupported':
      throw new ServiceError({
        service: 'Azure Resource Manager',
        operation: `reading the kubeconfig of ${label}`,
        serviceMessage: `it authenticates with ${parsed.auth.what}, which this task cannot stand in for`,
        hint: 'Use a cluster with local accounts or with Microsoft Entra ID integration',
      });
    default: {
      const unknown: never = parsed.auth;
      throw new Error(`unknown kubeconfig auth ${JSON.stringify(unknown)}`);
    }
  }
  // The proxy password in it was registered when the agent's proxy settings were read.
  const proxyUrl = options.proxyFor?.(parsed.server);
  const file = path.join(options.directory, `vvp-kubeconfig-${randomUUID()}.yaml`);
  // Owner-only, and never over an existing file (wx): it holds cluster credentials.
  fs.writeFileSync(file, renderKubeconfig(parsed, { token, proxyUrl }), { encoding: 'utf8', mode: 0o600, flag: 'wx' });
  logger.debug(`Wrote the kubeconfig to ${file}${proxyUrl ? ' (kubectl reaches the API server through the agent proxy)' : ''}`);
  const removeNow = (): void => fs.rmSync(file, { force: true });
  process.on('exit', removeNow);
  return {
    path: file,
    server: parsed.server,
    auth: parsed.auth.kind,
    remove: () => {
      removeNow();
      process.removeListener('exit', removeNow);
    },
  };
}
