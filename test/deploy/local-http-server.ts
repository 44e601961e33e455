import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as a {@link LocalHttpServer} saw it. */
export interface SeenRequest {
  method: string;
  url: string;
  authorization?: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

/**
 * A loopback HTTP server whose answers each test scripts (`handler`), recording every request.
 * `stop()` also ends connections a handler left open (trickling or hanging answers).
 */
export class LocalHttpServer {
  readonly seen: SeenRequest[] = [];
  handler: Handler = (_req, res) => sendJson(res, 200, {});
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      this.seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, headers: req.headers, body });
      this.handler(req, res, body);
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /**
   * Answers `status` with headers at once, then one byte every `everyMs` until the client goes
   * away: a server that keeps an idle-socket timer alive forever.
   */
  trickle(res: http.ServerResponse, status = 200, everyMs = 20): void {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.write('{"items":[');
    const timer = setInterval(() => {
      if (res.destroyed || res.writableEnded) {
        clearInterval(timer);
        this.timers.delete(timer);
        return;
      }
      res.write(' ');
    }, everyMs);
    this.timers.add(timer);
    res.on('close', () => {
      clearInterval(timer);
      this.timers.delete(timer);
    });
  }
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<string> {
  const s = new LocalHttpServer();
  await s.start();
  const url = s.url;
  await s.stop();
  return url;
}
