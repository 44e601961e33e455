import * as http from 'node:http';
import type { RigConfig, RouteConfig } from './config';
import { controlApiHandler } from './control-api';
import { ENTRA_HOSTS, entraIdHandler } from './fakes/entra-id';
import { imdsHandler } from './fakes/imds';
import { keyVaultHandler } from './fakes/key-vault';
import { pipelineOidcHandler } from './fakes/pipeline-oidc';
import { RESOURCE_MANAGER_HOSTS, resourceManagerHandler } from './fakes/resource-manager';
import { staticFilesHandler } from './fakes/static-files';
import { RigState } from './fakes/rig-state';
import { FaultBook } from './proxy/faults';
import { ProxyServer, listenOn } from './proxy/proxy-server';
import { Recorder } from './proxy/recorder';
import { RouteTable, type Route } from './proxy/routes';
import { readPem } from './tls-files';

/** Host of Azure's Instance Metadata Service. */
const IMDS_HOST = '169.254.169.254';

export interface RunningServices {
  proxyPort: number;
  controlPort: number;
  /** Loopback port serving IMDS directly, for `AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:<port>`. */
  imdsPort: number;
  close(): Promise<void>;
}

/**
 * Starts the proxy with every fake behind it, the IMDS listener and the control API, in this
 * process. `services-main.ts` runs it in a child process; tests use `startRig`.
 */
export async function startServices(config: RigConfig): Promise<RunningServices> {
  const state = new RigState(config);
  const faults = new FaultBook();
  const recorder = new Recorder();
  const routes = new RouteTable();

  const imdsRoute: Route = { host: IMDS_HOST, target: { kind: 'fake', name: 'imds', handler: imdsHandler(state) } };
  const installDefaultRoutes = (): void => {
    const entra = entraIdHandler(state);
    for (const host of Object.keys(ENTRA_HOSTS)) routes.add({ host, target: { kind: 'fake', name: 'entra-id', handler: entra } });
    // A vault name nobody configured does not resolve, like its DNS name would not.
    routes.add({ host: '*.vault.azure.net', target: { kind: 'fake', name: 'key-vault', handler: keyVaultHandler(state) }, exists: (h) => state.findVaultByHost(h) !== undefined });
    routes.add({ host: 'dev.azure.com', target: { kind: 'fake', name: 'pipeline-oidc', handler: pipelineOidcHandler(state) } });
    routes.add(imdsRoute);
    const arm = resourceManagerHandler(state);
    for (const host of RESOURCE_MANAGER_HOSTS) routes.add({ host, target: { kind: 'fake', name: 'resource-manager', handler: arm } });
    for (const site of state.config.staticSites ?? []) routes.add({ host: site.host, target: { kind: 'fake', name: 'static-files', handler: staticFilesHandler(site) } });
    for (const r of state.config.routes) routes.add(backendRoute(r));
  };
  installDefaultRoutes();

  const proxy = new ProxyServer({
    routes,
    faults,
    recorder,
    tls: { cert: readPem('leafCert'), key: readPem('leafKey'), ca: readPem('caCert') },
    proxyAuth: () => state.config.proxyAuth,
  });
  const proxyPort = await proxy.listen();

  const imdsServer = http.createServer((req, res) => proxy.handleDirect(req, res, IMDS_HOST, imdsRoute));
  const imdsPort = await listenOn(imdsServer);

  const control = http.createServer(
    controlApiHandler({
      state,
      faults,
      recorder,
      addRoute: (r) => routes.add(backendRoute(r)),
      resetRoutes: () => {
        routes.clear();
        installDefaultRoutes();
      },
    }),
  );
  const controlPort = await listenOn(control);

  return {
    proxyPort,
    controlPort,
    imdsPort,
    async close(): Promise<void> {
      imdsServer.closeAllConnections();
      control.closeAllConnections();
      await Promise.all([
        proxy.close(),
        new Promise<void>((r) => imdsServer.close(() => r())),
        new Promise<void>((r) => control.close(() => r())),
      ]);
    },
  };
}

/**
 * A backend route from its JSON form.
 *
 * @throws TypeError when `target` is not a URL.
 */
function backendRoute(r: RouteConfig): Route {
  const labels = r.onlyLabels?.map((l) => l.toLowerCase());
  return {
    host: r.host,
    target: { kind: 'backend', target: new URL(r.target) },
    exists: labels ? (host) => labels.includes(host.split('.')[0]!.toLowerCase()) : undefined,
  };
}
