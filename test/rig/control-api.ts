import type * as http from 'node:http';
import type { RigConfig, RouteConfig, SecretConfig } from './config';
import type { RigState } from './fakes/rig-state';
import type { FaultBook, FaultRule } from './proxy/faults';
import type { Recorder } from './proxy/recorder';

export interface ControlApiDeps {
  state: RigState;
  faults: FaultBook;
  recorder: Recorder;
  addRoute: (route: RouteConfig) => void;
  /** Puts the route table back as it was at start. */
  resetRoutes: () => void;
}

/**
 * The services process's loopback control API (JSON in and out):
 *
 * | method + path | effect |
 * |---|---|
 * | `PATCH /config` | shallow-merge the {@link RigConfig} (top-level keys replaced, `null` removes) |
 * | `PUT /vaults/{vault}/secrets/{name}` | set a secret (`SecretConfig` or `{ value }`) |
 * | `GET/POST/DELETE /faults` | list / add (`FaultRule`) / clear fault rules |
 * | `GET /requests?since=N`, `DELETE /requests` | the request log (see `RequestRecord`) |
 * | `GET /tokens` | tokens the fakes issued |
 * | `POST /routes` | add a backend route (`RouteConfig`) |
 * | `POST /reset` | initial config and routes, no faults, empty logs and token list |
 */
export function controlApiHandler(deps: ControlApiDeps): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://control');
        const body = await readJson(req);
        const result = route(deps, req.method ?? 'GET', url, body);
        if (result === undefined) return send(res, 404, { error: `no control endpoint ${req.method} ${url.pathname}` });
        send(res, 200, result);
      } catch (err) {
        send(res, 400, { error: err instanceof Error ? err.message : String(err) });
      }
    })();
  };
}

function route(deps: ControlApiDeps, method: string, url: URL, body: unknown): unknown {
  const { state, faults, recorder } = deps;
  const [a, b, c, d, ...more] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (method === 'PUT' && a === 'vaults' && b && c === 'secrets' && d && more.length === 0) {
    requireVault(state, b).secrets[d] = body as SecretConfig;
    return { ok: true };
  }

  switch (`${method} /${[a, b].filter(Boolean).join('/')}`) {
    case 'PATCH /config': {
      const next: Record<string, unknown> = { ...state.config, ...(body as Partial<RigConfig>) };
      // JSON has no undefined: null removes a key (e.g. switches proxy auth off).
      for (const [k, v] of Object.entries(next)) if (v === null) delete next[k];
      state.config = next as unknown as RigConfig;
      return state.config;
    }
    case 'GET /faults':
      return faults.list();
    case 'POST /faults':
      return faults.add(body as FaultRule);
    case 'DELETE /faults':
      faults.clear();
      return { ok: true };
    case 'GET /requests':
      return recorder.list(Number(url.searchParams.get('since') ?? 0));
    case 'DELETE /requests':
      recorder.clear();
      return { ok: true };
    case 'GET /tokens':
      return state.issuedTokens;
    case 'POST /routes':
      deps.addRoute(body as RouteConfig);
      return { ok: true };
    case 'POST /reset':
      state.reset();
      faults.clear();
      recorder.clear();
      deps.resetRoutes();
      return { ok: true };
    default:
      return undefined;
  }
}

function requireVault(state: RigState, name: string): RigConfig['vaults'][number] {
  const vault = state.findVault(name);
  if (!vault) throw new Error(`no vault named ${name} in the rig config`);
  return vault;
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text ? JSON.parse(text) : undefined);
      } catch (err) {
        reject(new Error(`control API: body is not JSON (${String(err)})`));
      }
    });
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
