import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { minimalEnv, startAzurite, type AzuriteHandle } from './azurite';
import { stopChild, trackChild } from './child-processes';
import { RIG_DEFAULTS, defaultRigConfig, type RigConfig, type RouteConfig } from './config';
import { RigControl } from './control-client';
import { readPem, tlsFiles } from './tls-files';

export interface RigOptions {
  /** Changes to the default scenario ({@link defaultRigConfig}); top-level keys replace. */
  config?: Partial<RigConfig>;
  /** Start Azurite and route `*.blob.core.windows.net` (and the China suffix) to it. Default false. */
  azurite?: boolean;
  /** Backend for `vvp.example.com` (e.g. the VVP simulator at `http://127.0.0.1:<port>`). */
  vvpUrl?: string;
  /** More backend routes; newest wins over the defaults. */
  routes?: RouteConfig[];
}

export interface RigAzurite {
  port: number;
  accountName: string;
  accountKey: string;
  /** `https://<account>.blob.core.windows.net`: reach it through the proxy, like production. */
  blobEndpoint: string;
}

/** How the code under test learns about the proxy and the CA. */
export type RigEnvMode = 'env' | 'agent';

export interface Rig {
  /** `http://127.0.0.1:<port>`, without credentials. */
  proxyUrl: string;
  /** Path of the test CA certificate (PEM). */
  caFile: string;
  caPem: string;
  control: RigControl;
  /** The configuration the services started with. */
  config: RigConfig;
  azurite?: RigAzurite;
  /**
   * Environment for a child process (task) so all its traffic goes through the rig:
   * - `'env'`: `HTTPS_PROXY`, `HTTP_PROXY` (with credentials when proxy auth is on) and
   *   `NODE_EXTRA_CA_CERTS` — read by Node at start-up, so only for child processes.
   * - `'agent'`: the agent's variables `AGENT_PROXYURL`, `AGENT_PROXYUSERNAME`,
   *   `SECRET_AGENT_PROXYPASSWORD` (a secret variable, as the agent sets it), `AGENT_CAINFO`,
   *   with `VSTS_PUBLIC_VARIABLES`/`VSTS_SECRET_VARIABLES` naming them (`runTask` merges those lists).
   *
   * Proxy credentials come from `options.proxyAuth`, else from the start-up configuration
   * (switch proxy auth on with `control.patchConfig({ proxyAuth })`).
   */
  env(mode: RigEnvMode, options?: { proxyAuth?: { username: string; password: string } }): Record<string, string>;
  /** `AZURE_POD_IDENTITY_AUTHORITY_HOST` pointing at the IMDS fake's own loopback port (the documented IMDS override). */
  imdsEnv(): Record<string, string>;
  /** Pids of the services process and Azurite. */
  pids(): number[];
  /** Stops every child and removes Azurite's data. Safe to call twice. */
  stop(): Promise<void>;
}

interface ReadyLine {
  event: 'ready';
  proxyPort: number;
  controlPort: number;
  imdsPort: number;
}

/**
 * Starts the offline test rig: Azurite when asked, then the services child process (proxy,
 * Entra ID / Key Vault / pipeline OIDC / IMDS fakes, control API). Call `stop()` in an `after`
 * hook; children are also killed when this process exits.
 *
 * @throws Error when a child fails to start within its bound (everything started is stopped).
 */
export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const files = tlsFiles();
  let azurite: AzuriteHandle | undefined;
  let services: ChildProcess | undefined;
  const stopAll = async (): Promise<void> => {
    await Promise.all([services ? stopChild(services) : undefined, azurite?.stop()]);
  };
  try {
    if (options.azurite) {
      azurite = await startAzurite({ accountName: RIG_DEFAULTS.storageAccount, accountKey: RIG_DEFAULTS.storageAccountKey });
    }
    const config: RigConfig = { ...defaultRigConfig(readPem('clientCert')), ...options.config };
    config.routes = [
      ...(azurite ? azuriteRoutes(azurite) : []),
      ...(options.vvpUrl ? [{ host: 'vvp.example.com', target: options.vvpUrl }] : []),
      ...(config.routes ?? []),
      ...(options.routes ?? []),
    ];

    services = spawn(process.execPath, [path.join(__dirname, 'services-main.js')], {
      env: { ...minimalEnv(), RIG_SERVICES_CONFIG: JSON.stringify(config) },
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    trackChild(services);
    const ready = await readReadyLine(services, 15_000);
    const proxyUrl = `http://127.0.0.1:${ready.proxyPort}`;
    const imdsUrl = `http://127.0.0.1:${ready.imdsPort}`;
    const caPem = readPem('caCert');
    const child = services;
    const az = azurite;
    let stopped: Promise<void> | undefined;

    return {
      proxyUrl,
      caFile: files.caCert,
      caPem,
      control: new RigControl(`http://127.0.0.1:${ready.controlPort}`),
      config,
      azurite: az && {
        port: az.port,
        accountName: az.accountName,
        accountKey: az.accountKey,
        blobEndpoint: `https://${az.accountName}.blob.core.windows.net`,
      },
      env: (mode, opts) => proxyEnv(mode, proxyUrl, files.caCert, opts?.proxyAuth ?? config.proxyAuth),
      imdsEnv: () => ({ AZURE_POD_IDENTITY_AUTHORITY_HOST: imdsUrl }),
      pids: () => [child.pid ?? -1, ...(az ? [az.pid] : [])],
      stop: () => (stopped ??= stopAll()),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function azuriteRoutes(az: AzuriteHandle): RouteConfig[] {
  const target = `https://127.0.0.1:${az.port}`;
  return ['blob.core.windows.net', 'blob.core.chinacloudapi.cn'].map((suffix) => ({
    host: `*.${suffix}`,
    target,
    // Another account name does not resolve, as its DNS name would not.
    onlyLabels: [az.accountName],
  }));
}

function proxyEnv(
  mode: RigEnvMode,
  proxyUrl: string,
  caFile: string,
  auth: RigConfig['proxyAuth'],
): Record<string, string> {
  if (mode === 'env') {
    const url = new URL(proxyUrl);
    if (auth) {
      url.username = encodeURIComponent(auth.username);
      url.password = encodeURIComponent(auth.password);
    }
    const withAuth = url.toString().replace(/\/$/, '');
    return { HTTPS_PROXY: withAuth, HTTP_PROXY: withAuth, NODE_EXTRA_CA_CERTS: caFile };
  }
  const publicNames = ['Agent.ProxyUrl', 'Agent.CAInfo'];
  const env: Record<string, string> = { AGENT_PROXYURL: proxyUrl, AGENT_CAINFO: caFile };
  if (auth) {
    env['AGENT_PROXYUSERNAME'] = auth.username;
    publicNames.push('Agent.ProxyUsername');
    env['SECRET_AGENT_PROXYPASSWORD'] = auth.password;
    env['VSTS_SECRET_VARIABLES'] = JSON.stringify(['Agent.ProxyPassword']);
  }
  env['VSTS_PUBLIC_VARIABLES'] = JSON.stringify(publicNames);
  return env;
}

function readReadyLine(child: ChildProcess, timeoutMs: number): Promise<ReadyLine> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`rig services did not start within ${timeoutMs} ms. stderr:\n${err}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stdout?.resume();
      try {
        const line = JSON.parse(out.slice(0, nl)) as ReadyLine;
        if (line.event !== 'ready') throw new Error(`unexpected first line ${out.slice(0, nl)}`);
        resolve(line);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    };
    child.stdout?.on('data', onData);
    // Keep stderr drained (and available for the failure message).
    child.stderr?.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-8000)));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`rig services exited during start-up (code ${code}, signal ${signal}). stderr:\n${err}`));
    });
  });
}
