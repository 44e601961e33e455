/**
 * The kubeconfig AKS hands out (`listClusterUserCredential`), reduced to what one
 * `kubectl port-forward` needs, and rewritten so no exec plugin is required. Pure.
 */
import { ServiceError } from '../errors/errors';
import { yaml } from '../lazy/libraries';

/**
 * Application id of the "Azure Kubernetes Service AAD Server" app: the audience of tokens for
 * the API server of every Entra-integrated AKS cluster (what `kubelogin --server-id` names).
 */
export const AKS_SERVER_APP_ID = '6dae42f8-4368-4678-94ff-3960e28e3630';

/** How the kubeconfig's user authenticates. */
type KubeconfigAuth =
  /** Local account: client certificate and key, often a token too; usable as is. */
  | { kind: 'local' }
  /** Entra ID: `exec: kubelogin …` or the old `auth-provider: azure`; needs a token for `serverId`. */
  | { kind: 'entra'; serverId: string }
  /** Another exec plugin or auth provider this task cannot stand in for. */
  | { kind: 'unsupported'; what: string };

/** The current context of a kubeconfig, resolved. */
interface ClusterKubeconfig {
  clusterName: string;
  /** The API server, e.g. `https://aks-dns-1a2b3c.hcp.westeurope.azmk8s.io:443`. */
  server: URL;
  /** The `cluster` entry as given (server, certificate-authority-data, tls-server-name…). */
  cluster: Record<string, unknown>;
  userName: string;
  /** The `user` entry as given. */
  user: Record<string, unknown>;
  auth: KubeconfigAuth;
}

type Named = { name?: unknown } & Record<string, unknown>;

/**
 * Reads the current context's cluster and user from a kubeconfig (YAML or JSON) as ARM handed
 * it out; `operation` names that read in messages ("reading the kubeconfig of AKS cluster …").
 *
 * @throws ServiceError (Azure Resource Manager) naming what is missing.
 */
export function parseKubeconfig(text: string, operation = 'reading the cluster user kubeconfig'): ClusterKubeconfig {
  const unusable = (why: string): ServiceError => new ServiceError({ service: 'Azure Resource Manager', operation, serviceMessage: why });
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (error) {
    throw unusable(`not YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!isRecord(doc)) throw unusable('not a kubeconfig (no mapping at the top)');
  const contexts = listOf(doc.contexts);
  const currentName = typeof doc['current-context'] === 'string' ? doc['current-context'] : undefined;
  const context = (currentName ? contexts.find((c) => c.name === currentName) : contexts[0])?.context;
  if (!isRecord(context)) throw unusable(`no context${currentName ? ` named '${currentName}'` : ''}`);
  const clusterName = String(context.cluster ?? '');
  const userName = String(context.user ?? '');
  const cluster = listOf(doc.clusters).find((c) => c.name === clusterName)?.cluster;
  const user = listOf(doc.users).find((u) => u.name === userName)?.user;
  if (!isRecord(cluster)) throw unusable(`no cluster named '${clusterName}'`);
  if (!isRecord(user)) throw unusable(`no user named '${userName}'`);
  let server: URL;
  try {
    server = new URL(String(cluster.server ?? ''));
  } catch {
    throw unusable(`cluster '${clusterName}' has no valid server URL`);
  }
  return { clusterName, server, cluster, userName, user, auth: authOf(user) };
}

function authOf(user: Record<string, unknown>): KubeconfigAuth {
  const exec = user.exec;
  if (isRecord(exec)) {
    const command = String(exec.command ?? '');
    if (/(^|[\\/])kubelogin(\.exe)?$/i.test(command)) {
      return { kind: 'entra', serverId: argValue(exec.args, '--server-id') ?? AKS_SERVER_APP_ID };
    }
    return { kind: 'unsupported', what: `the exec plugin '${command}'` };
  }
  const provider = user['auth-provider'];
  if (isRecord(provider)) {
    if (provider.name === 'azure') {
      const config = isRecord(provider.config) ? provider.config : {};
      const id = typeof config['apiserver-id'] === 'string' ? config['apiserver-id'] : undefined;
      return { kind: 'entra', serverId: id && GUID.test(id) ? id : AKS_SERVER_APP_ID };
    }
    return { kind: 'unsupported', what: `the auth provider '${String(provider.name)}'` };
  }
  return { kind: 'local' };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `--server-id X` or `--server-id=X` in exec args, when it is a GUID. */
function argValue(args: unknown, flag: string): string | undefined {
  if (!Array.isArray(args)) return undefined;
  for (let i = 0; i < args.length; i++) {
    const a = String(args[i]);
    const value = a === flag ? String(args[i + 1] ?? '') : a.startsWith(`${flag}=`) ? a.slice(flag.length + 1) : undefined;
    if (value !== undefined) return GUID.test(value) ? value : undefined;
  }
  return undefined;
}

/** Values in the user entry that grant access: registered as secrets the moment they are read. */
export function kubeconfigSecrets(k: ClusterKubeconfig): string[] {
  const keys = ['token', 'client-key-data', 'password'];
  return keys.map((key) => k.user[key]).filter((v): v is string => typeof v === 'string' && v.length > 0);
}

interface RenderOptions {
  /** Replaces the user with `token: <value>` (the Entra case, instead of kubelogin). */
  token?: string;
  /** `proxy-url` for the cluster: the agent's proxy, when the API server is not bypassed. */
  proxyUrl?: string;
}

/**
 * A kubeconfig with only the current context: one cluster, one user, no namespace. With
 * `token`, the user is just that bearer token, so kubectl needs no exec plugin.
 */
export function renderKubeconfig(k: ClusterKubeconfig, options: RenderOptions = {}): string {
  const cluster: Record<string, unknown> = { ...k.cluster };
  if (options.proxyUrl) cluster['proxy-url'] = options.proxyUrl;
  const user = options.token !== undefined ? { token: options.token } : k.user;
  return yaml().stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: k.clusterName, cluster }],
    users: [{ name: k.userName, user }],
    contexts: [{ name: k.clusterName, context: { cluster: k.clusterName, user: k.userName } }],
    'current-context': k.clusterName,
  }, { lineWidth: 0 });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function listOf(value: unknown): Named[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}
