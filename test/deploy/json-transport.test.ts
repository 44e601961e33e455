import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { isAbortError } from '../../tasks/common/errors/errors';
import { JsonTransport, type JsonRequest } from '../../tasks/common/http/json-transport';
import { HttpRequestError } from '../../tasks/common/http/http-request-error';
import { maskValues } from '../../tasks/common/logging/secret-mask';
import { NetworkAgents } from '../../tasks/common/http/network';
import { DIRECT } from '../support/direct-network';
import { MemoryLogger } from '../support/memory-logger';
import { FakeClock } from './fake-clock';
import { closedPort, LocalHttpServer, sendJson } from './local-http-server';

const TOKEN = 'tok-51c0ffee9e';
const MiB = 1024 * 1024;

/** The rejection of `promise`, which must be an HttpRequestError. */
async function failureOf(promise: Promise<unknown>): Promise<HttpRequestError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof HttpRequestError, String(error));
    return error;
  }
  return assert.fail('the request succeeded');
}

describe('JsonTransport against a local HTTP server', () => {
  const server = new LocalHttpServer();
  const other = new LocalHttpServer();
  let clock: FakeClock;
  let logger: MemoryLogger;
  const transport = (options: { timeoutInMs?: number; maxResponseBytes?: number; maxAttempts?: number } = {}): JsonTransport =>
    new JsonTransport({
      label: 'TEST',
      logger,
      clock,
      random: () => 0,
      timeoutInMs: options.timeoutInMs,
      maxResponseBytes: options.maxResponseBytes,
      retry: options.maxAttempts ? { maxAttempts: options.maxAttempts } : undefined,
    });
  const request = (over: Partial<JsonRequest> = {}): JsonRequest => ({
    method: 'GET',
    url: new URL(`${server.url}/things/1`),
    display: '/things/1',
    bearerToken: TOKEN,
    ...over,
  });

  before(async () => {
    await server.start();
    await other.start();
  });
  after(async () => {
    await server.stop();
    await other.stop();
  });
  beforeEach(() => {
    server.seen.length = 0;
    other.seen.length = 0;
    clock = new FakeClock();
    logger = new MemoryLogger();
  });

  it('sends the Bearer token and a JSON body, and parses the JSON answer', async () => {
    server.handler = (_req, res, body) => sendJson(res, 201, { echoed: JSON.parse(body) as unknown });
    const answer = await transport().send(request({ method: 'POST', body: { a: 1 } }));
    assert.equal(answer.status, 201);
    assert.deepEqual(answer.body, { echoed: { a: 1 } });
    assert.equal(server.seen[0].authorization, `Bearer ${TOKEN}`);
    assert.equal(server.seen[0].headers['content-type'], 'application/json');
    assert.equal(server.seen[0].headers['content-length'], '7');
    assert.deepEqual(logger.lines, ['debug: TEST POST /things/1 → 201 in 0 ms']);
  });

  describe('the total deadline', () => {
    it('ends an answer that trickles in, although bytes keep arriving', { timeout: 20_000 }, async () => {
      server.handler = (_req, res) => server.trickle(res, 200, 20);
      const error = await failureOf(transport({ timeoutInMs: 300, maxAttempts: 1 }).send(request()));
      assert.equal(error.kind, 'timeout');
      assert.equal(error.networkCode, 'ETIMEDOUT');
      assert.equal(error.status, 200, 'the headers came, the body did not complete');
      assert.match(error.message, /^no complete answer from 127\.0\.0\.1:\d+ within 0\.3 s \(HTTP 200, \d+ bytes of the body received\)$/);
    });

    it('ends a request that gets no answer at all, and retries a GET', { timeout: 20_000 }, async () => {
      server.handler = () => undefined;
      const error = await failureOf(transport({ timeoutInMs: 100, maxAttempts: 2 }).send(request()));
      assert.equal(error.kind, 'timeout');
      assert.equal(error.status, undefined);
      assert.match(error.message, /^no answer from 127\.0\.0\.1:\d+ within 0\.1 s$/);
      assert.equal(error.attempts, 2);
      assert.equal(server.seen.length, 2);
    });

    it('cuts the attempt to the time left before the deadline and starts no retry after it', { timeout: 20_000 }, async () => {
      server.handler = () => undefined;
      const error = await failureOf(transport({ timeoutInMs: 30_000 }).send(request({ deadline: clock.now() + 150 })));
      assert.equal(error.timeoutInMs, 150);
      assert.equal(error.attempts, 1);
    });

    it('stops at once when the caller aborts, with the abort, not a timeout', { timeout: 20_000 }, async () => {
      const controller = new AbortController();
      // Aborted once the request is at the server, however busy the machine is.
      server.handler = (_req, res) => {
        server.trickle(res, 200, 20);
        setTimeout(() => controller.abort(), 20);
      };
      await assert.rejects(transport({ timeoutInMs: 60_000 }).send(request({ abortSignal: controller.signal })), (e: unknown) => isAbortError(e));
      assert.equal(server.seen.length, 1);
    });
  });

  describe('the size limit', () => {
    it('refuses an answer whose Content-Length is over the limit, without retrying', async () => {
      server.handler = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(2 * MiB) });
        res.end(`"${'x'.repeat(2 * MiB - 2)}"`);
      };
      const error = await failureOf(transport({ maxResponseBytes: MiB }).send(request()));
      assert.equal(error.kind, 'tooLarge');
      assert.equal(error.networkCode, 'ERR_RESPONSE_TOO_LARGE');
      assert.match(error.message, /^the answer from 127\.0\.0\.1:\d+ is larger than 1 MiB \(2 MiB announced\), the limit for one answer$/);
      assert.equal(server.seen.length, 1);
    });

    it('refuses a chunked answer once it grows past the limit', async () => {
      server.handler = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        for (let i = 0; i < 40; i++) res.write('x'.repeat(64 * 1024));
        res.end();
      };
      const error = await failureOf(transport({ maxResponseBytes: MiB }).send(request()));
      assert.equal(error.kind, 'tooLarge');
      assert.match(error.message, /is larger than 1 MiB, the limit/);
    });

    it('accepts an answer of exactly the limit', async () => {
      const body = `"${'x'.repeat(1000 - 2)}"`;
      server.handler = (_req, res) => (res.writeHead(200, { 'Content-Type': 'application/json' }), res.end(body));
      const answer = await transport({ maxResponseBytes: 1000 }).send(request());
      assert.equal(answer.text.length, 1000);
    });

    it('keeps only the start of a huge error page', async () => {
      server.handler = (_req, res) => (res.writeHead(400, { 'Content-Type': 'text/html' }), res.end(`<h1>Bad request</h1>${'x'.repeat(4 * MiB)}`));
      const error = await failureOf(transport({ maxResponseBytes: MiB }).send(request()));
      assert.equal(error.kind, 'status');
      assert.equal(error.status, 400);
      assert.ok(error.text.startsWith('<h1>Bad request</h1>'));
      assert.ok(error.text.length <= 64 * 1024);
    });
  });

  describe('redirects', () => {
    it('never follows one: the token stays with the first host and the target is named without its query', async () => {
      server.handler = (_req, res) => (res.writeHead(307, { Location: `${other.url}/login?code=abc&token=${TOKEN}` }), res.end());
      const error = await failureOf(transport().send(request({ method: 'POST', body: { a: 1 } })));
      assert.equal(error.kind, 'redirect');
      assert.equal(error.status, 307);
      assert.equal(error.location, `${other.url}/login`);
      assert.equal(other.seen.length, 0);
      assert.equal(server.seen.length, 1);
      assert.ok(!error.message.includes(TOKEN));
    });

    it('is reported from its headers, without waiting for a body that trickles in', { timeout: 20_000 }, async () => {
      server.handler = (_req, res) => {
        res.setHeader('Location', `${other.url}/login`);
        server.trickle(res, 302, 20);
      };
      const error = await failureOf(transport({ timeoutInMs: 60_000 }).send(request()));
      assert.equal(error.kind, 'redirect');
      assert.equal(error.location, `${other.url}/login`);
    });

    it('is not retried, for a GET either', async () => {
      server.handler = (_req, res) => (res.writeHead(302, { Location: '/elsewhere' }), res.end());
      const error = await failureOf(transport().send(request()));
      assert.equal(error.location, `${server.url}/elsewhere`);
      assert.equal(server.seen.length, 1);
    });
  });

  describe('retries and writes', () => {
    it('retries a GET on 503 with backoff, and honours Retry-After', async () => {
      let n = 0;
      server.handler = (_req, res) => (++n === 1 ? sendJson(res, 503, {}, { 'Retry-After': '2' }) : n === 2 ? sendJson(res, 503, {}) : sendJson(res, 200, { ok: true }));
      const answer = await transport().send(request());
      assert.deepEqual(answer.body, { ok: true });
      assert.deepEqual(clock.sleeps, [2000, 500]);
      assert.match(logger.lines.join('\n'), /TEST GET \/things\/1: HTTP 503; retry 1 of 3 in 2 s/);
    });

    it('sends a write once, whatever the failure', async () => {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
        server.seen.length = 0;
        server.handler = (_req, res) => sendJson(res, 503, { message: 'busy' });
        const error = await failureOf(transport().send(request({ method, body: method === 'DELETE' ? undefined : {} })));
        assert.equal(error.status, 503);
        assert.equal(server.seen.length, 1, method);
      }
    });

    it('retries a POST the caller marked repeatable (a read such as listClusterUserCredential)', async () => {
      let n = 0;
      server.handler = (_req, res) => (++n < 3 ? sendJson(res, 502, {}) : sendJson(res, 200, { kubeconfigs: [] }));
      await transport().send(request({ method: 'POST', body: '', repeatable: true }));
      assert.equal(server.seen.length, 3);
      assert.equal(server.seen[0].headers['content-length'], '0');
    });

    it('retries a GET whose answer broke off mid-body', async () => {
      let n = 0;
      server.handler = (req, res) => {
        if (++n === 1) {
          res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
          res.write('{"partial":');
          setTimeout(() => req.socket.destroy(), 10);
          return;
        }
        sendJson(res, 200, { whole: true });
      };
      const answer = await transport().send(request());
      assert.deepEqual(answer.body, { whole: true });
      assert.equal(server.seen.length, 2);
    });

    it('tells that a write whose answer broke off after a 2xx status line reached the server', async () => {
      server.handler = (req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
        res.write('{"partial":');
        setTimeout(() => req.socket.destroy(), 10);
      };
      const error = await failureOf(transport().send(request({ method: 'PATCH', body: {} })));
      assert.equal(error.kind, 'network');
      assert.equal(error.status, 200);
      assert.equal(error.mayHaveArrived, true);
      assert.match(error.message, /^the connection broke after the answer's headers \(HTTP 200\): /);
    });

    it('knows that a refused connection never carried the request', async () => {
      const url = await closedPort();
      const error = await failureOf(transport({ maxAttempts: 1 }).send(request({ method: 'POST', url: new URL(`${url}/x`), body: {} })));
      assert.equal(error.networkCode, 'ECONNREFUSED');
      assert.equal(error.mayHaveArrived, false);
    });
  });

  describe('secrets in what the server says', () => {
    it('masks the token in an error body that echoes the request headers, in every form it may take', async () => {
      server.handler = (req, res) =>
        sendJson(res, 500, {
          message: `got ${req.headers.authorization}`,
          base64: Buffer.from(TOKEN).toString('base64'),
          encoded: encodeURIComponent(`Bearer ${TOKEN}`),
        });
      const error = await failureOf(transport({ maxAttempts: 1 }).send(request()));
      assert.ok(!error.text.includes(TOKEN));
      assert.ok(!error.text.includes(Buffer.from(TOKEN).toString('base64').replace(/=+$/, '')));
      assert.match(error.text, /got Bearer \*\*\*/);
    });

    it('scrubSecrets ignores values too short to be a secret', () => {
      assert.equal(maskValues('a b abc', ['abc', undefined, '']), 'a b abc');
    });
  });

  it('goes through the agent the provider gives for the URL', async () => {
    const agents = new NetworkAgents(DIRECT);
    const asked: string[] = [];
    const provider = { agentFor: (url: string | URL) => (asked.push(String(url)), agents.agentFor(url)) };
    try {
      server.handler = (_req, res) => sendJson(res, 200, {});
      await new JsonTransport({ label: 'TEST', agents: provider }).send(request());
      assert.deepEqual(asked, [`${server.url}/things/1`]);
    } finally {
      agents.destroy();
    }
  });
});
