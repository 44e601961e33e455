import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Readable } from 'node:stream';
import type { FakeResponse } from '../fakes/fake-http';
import type { FaultAction, FaultBook } from './faults';
import { appendBody, isTextBody, type Recorder, type RequestRecord } from './recorder';
import { isLoopback, type Route, type RouteTable } from './routes';

export interface ProxyServerOptions {
  routes: RouteTable;
  faults: FaultBook;
  recorder: Recorder;
  /** Leaf certificate and key presented for every terminated host, and the CA that signed them. */
  tls: { cert: string; key: string; ca: string };
  /** Read on every request, so the control API can switch proxy auth on and off. */
  proxyAuth: () => { username: string; password: string } | undefined;
}

/** Where one request is going, after the proxy decided how to route it. */
interface Destination {
  scheme: 'https' | 'http';
  host: string;
  port: number;
  /** Path and query. */
  path: string;
  route: Route | { host: string; target: { kind: 'passthrough'; origin: URL } };
  tunnel?: number;
  /** The TCP socket under TLS, for faults that must reset the real connection. */
  rawSocket: net.Socket;
}

interface TunnelInfo {
  host: string;
  port: number;
  id: number;
  raw: net.Socket;
}

type Fault = FaultAction & { ruleId: string };

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/**
 * A forward proxy that answers CONNECT by terminating TLS itself (leaf certificate from the test
 * CA; a tunnel to port 80 is read as plain HTTP) and also proxies absolute-URI plain-HTTP requests. Every request inside is recorded, may
 * be damaged by a fault rule, and is answered by an in-process fake or forwarded to a backend.
 * Hosts without a route are refused with 502 at CONNECT time, as a proxy whose DNS lookup failed
 * would; loopback targets are tunnelled untouched (they cannot leak off the machine).
 */
export class ProxyServer {
  private readonly outer: http.Server;
  /** Never listens: tunnelled TLS sockets are handed to it so Node parses the HTTP inside. */
  private readonly inner: http.Server;
  private readonly secureContext: tls.SecureContext;
  private readonly tunnels = new WeakMap<net.Socket, TunnelInfo>();
  private readonly rawSockets = new Set<net.Socket>();
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent: https.Agent;
  private tunnelSeq = 0;

  constructor(private readonly options: ProxyServerOptions) {
    this.secureContext = tls.createSecureContext({ cert: options.tls.cert, key: options.tls.key });
    this.httpsAgent = new https.Agent({ keepAlive: true, ca: options.tls.ca });
    this.outer = http.createServer((req, res) => void this.onPlainRequest(req, res));
    this.outer.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.onConnect(req, socket, head));
    this.outer.on('connection', (socket: net.Socket) => this.track(socket));
    this.inner = http.createServer((req, res) => void this.onTunnelledRequest(req, res));
    // Proxied requests may be held by `delay`/`hang` faults; Node's default timeouts must not interfere.
    for (const s of [this.outer, this.inner]) {
      s.requestTimeout = 0;
      s.headersTimeout = 60_000;
      s.keepAliveTimeout = 5_000;
    }
  }

  /** Starts listening on loopback; resolves with the port (0 picks a free one). */
  listen(port = 0): Promise<number> {
    return listenOn(this.outer, port);
  }

  /** Stops accepting and destroys every open connection, hung ones included. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.outer.close(() => resolve()));
    for (const s of this.rawSockets) s.destroy();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    await closed;
  }

  /**
   * Serves a request that arrived on a separate loopback listener (the IMDS port) through the
   * same recording and fault machinery, as if it had been proxied to `host`.
   */
  handleDirect(req: http.IncomingMessage, res: http.ServerResponse, host: string, route: Route): void {
    this.track(req.socket);
    void this.handle(req, res, {
      scheme: 'http',
      host,
      port: 80,
      path: req.url ?? '/',
      route,
      rawSocket: req.socket,
    });
  }

  private track(socket: net.Socket): void {
    if (this.rawSockets.has(socket)) return;
    this.rawSockets.add(socket);
    socket.on('close', () => this.rawSockets.delete(socket));
    // Clients reset connections on purpose in fault tests; an unhandled 'error' would crash the rig.
    socket.on('error', () => undefined);
  }

  private authorized(req: http.IncomingMessage): boolean {
    const expected = this.options.proxyAuth();
    if (!expected) return true;
    const m = /^Basic\s+(\S+)$/i.exec(String(req.headers['proxy-authorization'] ?? ''));
    return m !== null && Buffer.from(m[1]!, 'base64').toString('utf8') === `${expected.username}:${expected.password}`;
  }

  private onConnect(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    this.track(socket);
    const { host, port } = splitHostPort(req.url ?? '', 443);
    const id = ++this.tunnelSeq;
    const record = this.options.recorder.start({
      scheme: 'connect',
      host,
      port,
      method: 'CONNECT',
      path: req.url ?? '',
      route: '',
      requestHeaders: { ...req.headers } as Record<string, string | string[]>,
      requestBytes: 0,
      tunnel: id,
    });
    const reply = (status: number, reason: string, extra = '', body = ''): void => {
      record.status = status;
      this.options.recorder.finish(record);
      socket.end(`HTTP/1.1 ${status} ${reason}\r\n${extra}Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };

    if (!this.authorized(req)) {
      record.route = 'proxy-auth';
      reply(407, 'Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="vvp-test-rig"\r\n', 'rig proxy: proxy authentication required');
      return;
    }
    if (isLoopback(host)) {
      record.route = 'passthrough';
      const upstream = net.connect(port, host);
      this.track(upstream);
      upstream.once('connect', () => {
        record.status = 200;
        this.options.recorder.finish(record);
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) upstream.write(head);
        socket.pipe(upstream).pipe(socket);
      });
      upstream.once('error', (err) => {
        if (record.status === undefined) reply(502, 'Bad Gateway', '', `rig proxy: ${host}:${port} refused the connection (${err.message})`);
        socket.destroy();
      });
      socket.once('close', () => upstream.destroy());
      return;
    }

    const route = this.options.routes.resolve(host);
    if (!route || (port !== 443 && port !== 80)) {
      record.route = 'refused';
      reply(502, 'Bad Gateway', '', `rig proxy: cannot resolve ${host}:${port} (not routed by the offline test rig)`);
      return;
    }
    record.route = routeName(route);
    record.status = 200;
    this.options.recorder.finish(record);
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) socket.unshift(head);
    if (port === 80) {
      // A tunnel to port 80 carries plain HTTP (proxy agents tunnel http:// targets too).
      this.tunnels.set(socket, { host, port, id, raw: socket });
      this.inner.emit('connection', socket);
      return;
    }
    const tlsSocket = new tls.TLSSocket(socket, { isServer: true, secureContext: this.secureContext, ALPNProtocols: ['http/1.1'] });
    tlsSocket.on('error', () => socket.destroy());
    this.tunnels.set(tlsSocket, { host, port, id, raw: socket });
    this.inner.emit('connection', tlsSocket);
  }

  private async onTunnelledRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const tunnel = this.tunnels.get(req.socket);
    if (!tunnel) {
      res.writeHead(500).end('rig proxy: request on an unknown tunnel');
      return;
    }
    const route = this.options.routes.resolve(tunnel.host);
    if (!route) {
      // A reset removed the route after the tunnel opened.
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`rig proxy: ${tunnel.host} is no longer routed`);
      return;
    }
    await this.handle(req, res, {
      scheme: tunnel.port === 80 ? 'http' : 'https',
      host: tunnel.host,
      port: tunnel.port,
      path: req.url ?? '/',
      route,
      tunnel: tunnel.id,
      rawSocket: tunnel.raw,
    });
  }

  private async onPlainRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    if (!/^http:\/\//i.test(rawUrl)) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('rig proxy: send CONNECT or an absolute http:// URI');
      return;
    }
    const url = new URL(rawUrl);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || 80);
    const path = `${url.pathname}${url.search}`;
    if (!this.authorized(req)) {
      const record = this.options.recorder.start({
        scheme: 'http', host, port, method: req.method ?? 'GET', path, route: 'proxy-auth',
        requestHeaders: { ...req.headers } as Record<string, string | string[]>, requestBytes: 0,
      });
      record.status = 407;
      this.options.recorder.finish(record);
      req.resume();
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="vvp-test-rig"', 'content-type': 'text/plain' }).end('rig proxy: proxy authentication required');
      return;
    }
    const route: Destination['route'] | undefined = isLoopback(host)
      ? { host, target: { kind: 'passthrough', origin: new URL(`http://${url.host}`) } }
      : this.options.routes.resolve(host);
    if (!route) {
      const record = this.options.recorder.start({
        scheme: 'http', host, port, method: req.method ?? 'GET', path, route: 'refused',
        requestHeaders: { ...req.headers } as Record<string, string | string[]>, requestBytes: 0,
      });
      record.status = 502;
      this.options.recorder.finish(record);
      req.resume();
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`rig proxy: cannot resolve ${host} (not routed by the offline test rig)`);
      return;
    }
    await this.handle(req, res, { scheme: 'http', host, port, path, route, rawSocket: req.socket });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, dest: Destination): Promise<void> {
    const { recorder } = this.options;
    const record = recorder.start({
      scheme: dest.scheme,
      host: dest.host,
      port: dest.port,
      method: req.method ?? 'GET',
      path: dest.path,
      route: routeName(dest.route),
      requestHeaders: { ...req.headers } as Record<string, string | string[]>,
      requestBytes: 0,
      tunnel: dest.tunnel,
    });
    const keepText = isTextBody(req.headers['content-type']);
    req.on('data', (chunk: Buffer) => {
      record.requestBytes += chunk.length;
      if (keepText) appendBody(record, chunk);
    });
    // The counter above would start the flow and drop chunks while a fault delays us; whoever
    // consumes the body (pipe, readAll, a fault) resumes it.
    req.pause();
    res.on('close', () => recorder.finish(record, res.writableFinished ? undefined : 'connection closed before the response completed'));

    const fault = this.options.faults.take(dest.host, record.method, dest.path);
    if (fault) record.fault = `${fault.ruleId}:${fault.kind}`;
    if (fault?.kind === 'status') {
      const text = fault.echo ? echoRequest(fault.body ?? '', req.headers, (await readAll(req)).toString('utf8')) : fault.body ?? '';
      if (!fault.echo) req.resume();
      this.send(res, record, { status: fault.status, headers: fault.headers, body: Buffer.from(text) }, undefined, dest);
      return;
    }
    if (fault?.kind === 'reset' && fault.phase === 'request') {
      await bytesArrived(req, record, fault.afterBytes ?? 0);
      recorder.finish(record, 'reset by fault rule (request)');
      dest.rawSocket.resetAndDestroy();
      return;
    }
    if (fault?.kind === 'hang') {
      // Read and discard the body so the client finishes sending and waits for an answer that never comes.
      req.resume();
      return;
    }
    if (fault?.kind === 'delay') await sleep(fault.ms);
    if (res.destroyed) return;

    const target = dest.route.target;
    if (target.kind === 'fake') {
      let answer: FakeResponse;
      try {
        const body = await readAll(req);
        const url = new URL(`${dest.scheme}://${formatHost(dest.host)}${defaultPort(dest.scheme) === dest.port ? '' : `:${dest.port}`}${dest.path}`);
        answer = await target.handler({ method: record.method, url, headers: req.headers, body });
      } catch (err) {
        answer = { status: 500, headers: { 'content-type': 'text/plain' }, body: `rig fake ${target.name} failed: ${String(err)}` };
        record.error = String(err);
      }
      this.send(res, record, answer, fault, dest);
      return;
    }
    const origin = target.kind === 'backend' ? target.target : target.origin;
    this.forward(req, res, record, origin, fault, dest);
  }

  private forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    record: RequestRecord,
    origin: URL,
    fault: Fault | undefined,
    dest: Destination,
  ): void {
    const secure = origin.protocol === 'https:';
    const headers = stripHopByHop(req.headers);
    headers['host'] = req.headers.host ?? dest.host;
    const sniHost = dest.host;
    const upstream = (secure ? https : http).request({
      protocol: origin.protocol,
      hostname: origin.hostname,
      port: origin.port || (secure ? 443 : 80),
      method: req.method,
      path: dest.path,
      headers,
      agent: secure ? this.httpsAgent : this.httpAgent,
      // Present the production host name, so HTTPS backends (Azurite) are verified against it.
      ...(secure && !net.isIP(sniHost) ? { servername: sniHost } : {}),
    });
    upstream.on('response', (up) => {
      this.send(res, record, { status: up.statusCode ?? 502, headers: up.headers, body: up }, fault, dest);
    });
    upstream.on('error', (err) => {
      record.error = `backend ${origin.origin}: ${err.message}`;
      if (!res.headersSent) {
        this.send(res, record, {
          status: 502,
          headers: { 'content-type': 'text/plain' },
          body: Buffer.from(`rig proxy: backend ${origin.origin} for ${dest.host} failed: ${err.message}`),
        }, undefined, dest);
      } else {
        res.destroy();
      }
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  /** Writes a response, applying a response-phase fault (maskAndShorten, reset mid-body). */
  private send(
    res: http.ServerResponse,
    record: RequestRecord,
    answer: { status: number; headers?: http.IncomingHttpHeaders | Record<string, string>; body?: string | Buffer | Readable },
    fault: Fault | undefined,
    dest: Destination,
  ): void {
    if (res.destroyed) return;
    const headers = stripHopByHop(answer.headers ?? {});
    const body = answer.body instanceof Readable ? answer.body : Buffer.from(answer.body ?? '');
    if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length);
    record.status = answer.status;
    record.responseHeaders = headers as Record<string, string | string[]>;
    res.writeHead(answer.status, headers as http.OutgoingHttpHeaders);

    let limit = Infinity;
    let onLimit: () => void = () => undefined;
    if (fault?.kind === 'maskAndShorten') {
      limit = fault.afterBytes;
      onLimit = (): void => {
        record.error = 'truncated by fault rule';
        // end() flushes what was written, then FIN: the client sees fewer bytes than Content-Length.
        res.socket?.end();
      };
    } else if (fault?.kind === 'reset' && fault.phase === 'response') {
      limit = fault.afterBytes ?? 0;
      onLimit = (): void => {
        record.error = 'reset by fault rule (response)';
        // Give the bytes already written a moment to leave, then reset the TCP connection.
        setTimeout(() => dest.rawSocket.resetAndDestroy(), 20);
      };
    }

    const source = Buffer.isBuffer(body) ? Readable.from(body.length ? [body] : []) : body;
    let sent = 0;
    let stopped = false;
    const stop = (): void => {
      stopped = true;
      source.destroy();
      onLimit();
    };
    if (limit === 0) {
      res.flushHeaders();
      stop();
      return;
    }
    source.on('data', (chunk: Buffer) => {
      if (stopped) return;
      const room = limit - sent;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      sent += part.length;
      record.responseBytes += part.length;
      const ok = res.write(part);
      if (sent >= limit) return stop();
      if (!ok) {
        source.pause();
        res.once('drain', () => source.resume());
      }
    });
    source.on('end', () => {
      if (!stopped) res.end();
    });
    source.on('error', () => res.destroy());
  }
}

/** Fills `{{headers}}` and `{{body}}` of an echo fault's body template, JSON-string-escaped. */
function echoRequest(template: string, headers: http.IncomingHttpHeaders, body: string): string {
  const escape = (text: string): string => JSON.stringify(text).slice(1, -1);
  const headerText = Object.entries(headers)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`)
    .join('; ');
  return template.replace(/\{\{headers\}\}/g, () => escape(headerText)).replace(/\{\{body\}\}/g, () => escape(body));
}

function routeName(route: Destination['route']): string {
  const t = route.target;
  if (t.kind === 'fake') return t.name;
  if (t.kind === 'backend') return `backend:${t.target.origin}`;
  return 'passthrough';
}

function stripHopByHop(headers: http.IncomingHttpHeaders | Record<string, string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.includes(k.toLowerCase())) continue;
    out[k.toLowerCase()] = v;
  }
  return out;
}

/** `host:port` or `[v6]:port` → parts. */
function splitHostPort(value: string, defaultPortNumber: number): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(value) ?? /^([^:]+)(?::(\d+))?$/.exec(value);
  if (!m) return { host: value, port: defaultPortNumber };
  return { host: m[1]!.toLowerCase(), port: m[2] ? Number(m[2]) : defaultPortNumber };
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function defaultPort(scheme: 'http' | 'https'): number {
  return scheme === 'https' ? 443 : 80;
}

function readAll(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.resume();
  });
}

/** Resolves once `count` body bytes arrived (or the body ended, or the client went away). */
function bytesArrived(req: http.IncomingMessage, record: RequestRecord, count: number): Promise<void> {
  return new Promise((resolve) => {
    if (count === 0 || record.requestBytes >= count) return resolve();
    const check = (): void => {
      if (record.requestBytes >= count) resolve();
    };
    req.on('data', check);
    req.on('end', () => resolve());
    req.on('close', () => resolve());
    req.resume();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Listens on 127.0.0.1:`port` and resolves with the bound port. */
export function listenOn(server: net.Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}
