/**
 * HTTP front of the simulator (plain `node:http`): AppManager API under `/api/v1/`, the SQL
 * service's validation under `/sql/v1beta1/`, control API under `/__sim/`. For AppManager requests, in this order: record, apply a
 * scripted fault, check auth, parse the body, route, encode per `Accept`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleApi } from './api-routes';
import { ApiError } from './api-error';
import { parseBody, responseType, serialise } from './body-codec';
import { handleControl } from './control-routes';
import { handleSql } from './sql-routes';
import { faultTargetOf, type FaultAction } from './faults';
import type { RecordedRequest } from './request-log';
import { SimulatorState, type SimulatorInit } from './simulator-state';

/** Options of {@link SimulatorServer.listen}. */
export interface ListenOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
}

/** Where a started simulator listens. */
export interface ListeningAddress {
  port: number;
  url: string;
}

const API_PREFIX = '/api/v1/';
const SQL_PREFIX = '/sql/v1beta1/';
const CONTROL_PREFIX = '/__sim/';
const MAX_BODY_BYTES = 10 * 1024 * 1024;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function decodeSegments(path: string): string[] {
  return path
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

function headerRecord(req: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The simulator as an HTTP server. */
export class SimulatorServer {
  readonly state: SimulatorState;
  private readonly server: http.Server;

  constructor(init: SimulatorInit = {}) {
    this.state = new SimulatorState(init);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.send(res, 500, 'text/plain; charset=utf-8', `vvp-simulator internal error: ${String(error)}`);
        process.stderr.write(`vvp-simulator: internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
      });
    });
  }

  /** Starts listening; resolves with the actual port and base URL. */
  listen(options: ListenOptions = {}): Promise<ListeningAddress> {
    const host = options.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(options.port ?? 0, host, () => {
        const { port } = this.server.address() as AddressInfo;
        const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
        resolve({ port, url: `http://${urlHost}:${port}` });
      });
    });
  }

  /** Stops timers, drops every connection (hung ones included) and closes the port. */
  close(): Promise<void> {
    this.state.stop();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = await readBody(req);
    if (url.pathname.startsWith(CONTROL_PREFIX) || url.pathname === '/__sim') {
      return this.handleControlRequest(req, res, url, method, raw);
    }

    const started = Date.now();
    let loggedBody: unknown;
    try {
      loggedBody = parseBody(raw, req.headers['content-type']);
    } catch {
      loggedBody = raw;
    }
    const entry = this.state.requests.begin({
      at: this.state.clock.isoNow(),
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: headerRecord(req),
      body: loggedBody,
    });
    const finish = (status: number | null): void => {
      entry.status = status;
      entry.durationMs = Date.now() - started;
    };

    const fault = this.state.faults.take(faultTargetOf(this.state.store, method, url.pathname, url.searchParams));
    if (fault) entry.fault = fault.type;
    if (fault && (await this.applyFault(fault, req, res, entry))) {
      if (entry.status !== null) entry.durationMs = Date.now() - started;
      return;
    }

    const namespace = /^\/(?:api\/v1|sql\/v1beta1)\/namespaces\/([^/]+)/.exec(url.pathname)?.[1];
    const sql = url.pathname.startsWith(SQL_PREFIX);
    // Validating SQL changes nothing: a viewer token may do it (a pull-request plan has no more).
    const authMethod = sql && url.pathname.endsWith(':validate') ? 'GET' : method;
    const decision = this.state.auth.check(req.headers.authorization, authMethod, namespace !== undefined ? decodeURIComponent(namespace) : undefined);
    if (!decision.allowed) {
      this.sendGatewayError(res, decision.status, url.pathname);
      return finish(decision.status);
    }

    let status: number;
    let body: unknown;
    try {
      if (!url.pathname.startsWith(API_PREFIX) && !sql) throw new ApiError(404, 'Not Found', `No handler for ${url.pathname}`);
      const parsed = ['POST', 'PUT', 'PATCH'].includes(method) ? parseBody(raw, req.headers['content-type']) : undefined;
      const route = sql ? handleSql : handleApi;
      const result = route(this.state, { method, segments: decodeSegments(url.pathname.slice(sql ? SQL_PREFIX.length : API_PREFIX.length)), query: url.searchParams, body: parsed });
      status = result.status;
      body = result.body;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (fault?.type === 'lostResponse') return this.loseResponse(req, finish);
      this.sendApiError(req, res, error);
      return finish(error.statusCode);
    }
    // The change is applied; only the answer goes missing (the client cannot tell).
    if (fault?.type === 'lostResponse') return this.loseResponse(req, finish);
    const type = responseType(req.headers.accept);
    this.send(res, status, `${type}; charset=utf-8`, serialise(body, type));
    finish(status);
  }

  /** Returns true when the fault fully handled (or swallowed) the request. */
  private async applyFault(fault: FaultAction, req: http.IncomingMessage, res: http.ServerResponse, entry: RecordedRequest): Promise<boolean> {
    switch (fault.type) {
      case 'status': {
        const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'Retry-After': String(fault.retryAfterSeconds) } : {};
        if (fault.body !== undefined) this.send(res, fault.status, 'text/plain; charset=utf-8', fault.body, headers);
        else this.sendApiError(req, res, new ApiError(fault.status, http.STATUS_CODES[fault.status] ?? 'Error', `Injected fault: ${http.STATUS_CODES[fault.status] ?? fault.status}`), headers);
        entry.status = fault.status;
        return true;
      }
      case 'delay':
        await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
        return false;
      case 'dropRequest':
        req.socket.destroy();
        return true;
      case 'hang':
        // Never answer; close() drops the connection.
        return true;
      case 'lostResponse':
        return false;
    }
  }

  private loseResponse(req: http.IncomingMessage, finish: (status: number | null) => void): void {
    req.socket.destroy();
    finish(null);
  }

  private handleControlRequest(req: http.IncomingMessage, res: http.ServerResponse, url: URL, method: string, raw: string): void {
    try {
      const body = parseBody(raw, req.headers['content-type'] ?? 'application/json');
      const result = handleControl(this.state, { method, segments: decodeSegments(url.pathname.slice('/__sim'.length)), query: url.searchParams, body });
      this.send(res, result.status, 'application/json; charset=utf-8', JSON.stringify(result.body));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      this.send(res, error.statusCode, 'application/json; charset=utf-8', JSON.stringify({ kind: 'Error', apiVersion: 'v1', statusCode: error.statusCode, message: error.message, reason: error.reason }));
    }
  }

  /** AppManager error: `{kind: "Error", ...}` in the Accept format, or plain text when configured. */
  private sendApiError(req: http.IncomingMessage, res: http.ServerResponse, error: ApiError, headers: Record<string, string> = {}): void {
    if (this.state.config.errorFormat === 'text') {
      this.send(res, error.statusCode, 'text/plain; charset=utf-8', error.message, headers);
      return;
    }
    const type = responseType(req.headers.accept);
    const body = { kind: 'Error', apiVersion: 'v1', statusCode: error.statusCode, message: error.message, reason: error.reason };
    this.send(res, error.statusCode, `${type}; charset=utf-8`, serialise(body, type), headers);
  }

  /** Gateway (Spring Security) 401/403: `{timestamp, status, error, path}`, always JSON. */
  private sendGatewayError(res: http.ServerResponse, status: 401 | 403, path: string): void {
    const error = status === 401 ? 'Unauthorized' : 'Forbidden';
    const headers: Record<string, string> = status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {};
    if (this.state.config.errorFormat === 'text') {
      this.send(res, status, 'text/plain; charset=utf-8', error, headers);
      return;
    }
    this.send(res, status, 'application/json; charset=utf-8', JSON.stringify({ timestamp: Date.now(), status, error, path }), headers);
  }

  private send(res: http.ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(body);
  }
}
