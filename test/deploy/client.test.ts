import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { isAbortError } from '../../tasks/common/errors/errors';
import { MemoryLogger } from '../support/memory-logger';
import { VvpClient } from '../../tasks/common/vvp/client';
import { errorText } from '../../tasks/common/vvp/vvp-answers';
import { VvpApiError } from '../../tasks/common/vvp/errors';
import { sendOnce } from '../../tasks/common/vvp/send-once';
import { FakeClock } from './fake-clock';
import { closedPort, LocalHttpServer as Server, sendJson as json } from './local-http-server';

const TOKEN = 'tok-7f3a9c1e5b';

const DEPLOYMENT = { kind: 'Deployment', metadata: { id: 'd-1', name: 'app' }, spec: { template: {} }, status: { state: 'RUNNING' } };

describe('VvpClient against a local HTTP server', () => {
  const server = new Server();
  const other = new Server();
  let logger: MemoryLogger;
  let clock: FakeClock;
  const client = (options: { timeoutInMs?: number; base?: string; maxResponseBytes?: number } = {}): VvpClient =>
    new VvpClient(options.base ?? server.url, TOKEN, {
      logger,
      clock,
      random: () => 0,
      timeoutInMs: options.timeoutInMs,
      maxResponseBytes: options.maxResponseBytes,
      tokenSource: "Key Vault secret 'vvpAPIToken'",
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
    logger = new MemoryLogger();
    clock = new FakeClock();
  });

  it('reads a deployment with the Bearer token and logs method, path, status and time only', async () => {
    server.handler = (_req, res) => json(res, 200, DEPLOYMENT);
    const d = await client().getDeployment('default', 'app');
    assert.equal(d?.metadata.id, 'd-1');
    assert.equal(server.seen[0].url, '/api/v1/namespaces/default/deployments/app');
    assert.equal(server.seen[0].authorization, `Bearer ${TOKEN}`);
    assert.deepEqual(logger.lines, ['debug: VVP GET /api/v1/namespaces/default/deployments/app → 200 in 0 ms']);
  });

  it('keeps a path prefix of the VVP URL and encodes path segments', async () => {
    server.handler = (_req, res) => json(res, 200, DEPLOYMENT);
    await client({ base: `${server.url}/vvp/` }).getDeployment('default', 'a/b');
    assert.equal(server.seen[0].url, '/vvp/api/v1/namespaces/default/deployments/a%2Fb');
  });

  it('returns undefined for a deployment that does not exist', async () => {
    server.handler = (_req, res) => json(res, 404, { message: 'not found' });
    assert.equal(await client().getDeployment('default', 'nope'), undefined);
  });

  it('lists jobs and events of a deployment by id', async () => {
    server.handler = (req, res) => json(res, 200, { kind: 'ResourceList', items: [{ metadata: { id: req.url } }] });
    const jobs = await client().listJobs('ns', 'd-1');
    const events = await client().listEvents('ns', 'd-1');
    assert.equal(jobs[0].metadata.id, '/api/v1/namespaces/ns/jobs?deploymentId=d-1');
    assert.equal(events[0].metadata.id, '/api/v1/namespaces/ns/events?deploymentId=d-1');
  });

  it('sends a PATCH once with a JSON body', async () => {
    server.handler = (_req, res) => json(res, 200, DEPLOYMENT);
    await client().patchDeployment('default', 'app', { spec: { state: 'RUNNING' } });
    assert.equal(server.seen.length, 1);
    assert.equal(server.seen[0].method, 'PATCH');
    assert.deepEqual(JSON.parse(server.seen[0].body), { spec: { state: 'RUNNING' } });
  });

  it('resolves undefined when a PATCH answers 204 without a body, reading nothing back itself', async () => {
    server.handler = (req, res) => (req.method === 'PATCH' ? (res.writeHead(204), res.end()) : json(res, 200, DEPLOYMENT));
    assert.equal(await client().patchDeployment('default', 'app', { spec: {} }), undefined);
    assert.deepEqual(server.seen.map((s) => s.method), ['PATCH']);
  });

  it('a PATCH answered 204 through sendOnce ends with the deployment as VVP stores it, read back once', async () => {
    server.handler = (req, res) => (req.method === 'PATCH' ? (res.writeHead(204), res.end()) : json(res, 200, DEPLOYMENT));
    const c = client();
    const result = await sendOnce(
      {
        method: 'PATCH',
        operation: "updating deployment 'app' in namespace 'default'",
        send: () => c.patchDeployment('default', 'app', { spec: {} }),
        readBack: () => c.getDeployment('default', 'app'),
        applied: () => false,
        describe: () => 'unused: the answer was not lost',
      },
      { clock, logger },
    );
    assert.equal((result.value as { metadata: { id: string } }).metadata.id, 'd-1');
    assert.deepEqual(server.seen.map((s) => `${s.method} ${s.url}`), ['PATCH /api/v1/namespaces/default/deployments/app', 'GET /api/v1/namespaces/default/deployments/app']);
  });

  it('creates with POST and accepts 201', async () => {
    server.handler = (_req, res) => json(res, 201, DEPLOYMENT);
    const d = await client().createDeployment('default', { metadata: { name: 'app' }, spec: {} });
    assert.equal(d?.metadata.id, 'd-1');
  });

  describe('errors', () => {
    const bodies: [string, string, string][] = [
      ['a VVP JSON error', JSON.stringify({ kind: 'Error', statusCode: 400, message: 'jarUri is invalid', reason: 'BadRequest' }), 'jarUri is invalid'],
      ['a Spring error', JSON.stringify({ timestamp: 1, status: 403, error: 'Forbidden', path: '/x' }), 'Forbidden'],
      ['a Platform API error', JSON.stringify({ code: 'NOT_FOUND', description: 'Table x does not exist' }), 'Table x does not exist'],
      ['plain text', 'Bad things happened', 'Bad things happened'],
      ['an HTML page', '<html><body><h1>502 Bad Gateway</h1></body></html>', '502 Bad Gateway'],
      ['an empty body', '', 'no details in the answer'],
      ['JSON without a message', '{"x":1}', '{"x":1}'],
    ];
    for (const [name, body, expected] of bodies) {
      it(`takes the message from ${name}`, () => assert.equal(errorText(body), expected));
    }
    it('shortens huge bodies', () => assert.ok(errorText('x'.repeat(100_000)).length < 700));

    it('explains 401 with a hint to check the API token, never showing the token', async () => {
      server.handler = (_req, res) => json(res, 401, { timestamp: 1, status: 401, error: 'Unauthorized', path: '/api' });
      await assert.rejects(client().getDeployment('default', 'app'), (e: unknown) => {
        assert.ok(e instanceof VvpApiError);
        assert.equal(e.status, 401);
        assert.match(e.message, /HTTP 401: Unauthorized\. Check the API token \(Key Vault secret 'vvpAPIToken'\)/);
        assert.ok(!e.message.includes(TOKEN));
        return true;
      });
      assert.equal(server.seen.length, 1, '401 is not retried');
      assert.ok(logger.lines.every((l) => !l.includes(TOKEN)));
    });

    it('explains 403 on a write with the editor role in the namespace', async () => {
      server.handler = (_req, res) => json(res, 403, { error: 'Forbidden' });
      await assert.rejects(client().patchDeployment('team-a', 'app', { spec: {} }), /editor role in namespace 'team-a'/);
    });

    it('explains 403 on a read with the viewer role', async () => {
      server.handler = (_req, res) => json(res, 403, { error: 'Forbidden' });
      await assert.rejects(client().listJobs('team-a', 'd-1'), /at least the viewer role in namespace 'team-a'/);
      assert.equal(server.seen.length, 1, '403 is not retried');
    });

    it('names the namespace on a 404 of a write', async () => {
      server.handler = (_req, res) => json(res, 404, { message: 'Deployment app not found' });
      await assert.rejects(client().patchDeployment('team-a', 'app', { spec: {} }), /updating deployment 'app' in namespace 'team-a' failed with HTTP 404: Deployment app not found/);
    });

    it('says when VVP answers something that is not JSON', async () => {
      server.handler = (_req, res) => (res.writeHead(200, { 'Content-Type': 'text/html' }), res.end('<!DOCTYPE html><title>Login</title>'));
      await assert.rejects(client().getDeployment('default', 'app'), /not JSON.*vvpUrl/s);
    });

    it('masks the token in a non-JSON answer that echoes it base64-encoded, as in an error answer', async () => {
      const encoded = Buffer.from(TOKEN).toString('base64').replace(/=+$/, '');
      server.handler = (_req, res) => (res.writeHead(200, { 'Content-Type': 'text/html' }), res.end(`<p>Basic ${encoded}</p>`));
      await assert.rejects(client().getDeployment('default', 'app'), (e: unknown) => {
        assert.ok(e instanceof VvpApiError);
        assert.match(e.message, /not JSON \(it starts with '<p>Basic \*\*\*<\/p>'\)/);
        assert.ok(!e.message.includes(encoded), e.message);
        return true;
      });
    });
  });

  describe('redirects', () => {
    it('never follows a redirect, so the token never reaches another host', async () => {
      server.handler = (_req, res) => (res.writeHead(302, { Location: `${other.url}/login?token=leak` }), res.end());
      await assert.rejects(client().getDeployment('default', 'app'), (e: unknown) => {
        assert.ok(e instanceof VvpApiError);
        assert.equal(e.status, 302);
        assert.match(e.message, new RegExp(`redirect to ${other.url}/login`));
        assert.ok(!e.message.includes('token=leak'));
        assert.match(e.message, /never sent to a redirect target/);
        return true;
      });
      assert.equal(other.seen.length, 0);
      assert.equal(server.seen.length, 1);
    });
  });

  describe('retries', () => {
    it('retries a GET on 503 and succeeds', async () => {
      let n = 0;
      server.handler = (_req, res) => (++n < 3 ? json(res, 503, { message: 'busy' }) : json(res, 200, DEPLOYMENT));
      const d = await client().getDeployment('default', 'app');
      assert.equal(d?.metadata.id, 'd-1');
      assert.equal(server.seen.length, 3);
      assert.deepEqual(clock.sleeps, [250, 500]);
      assert.equal(logger.lines.filter((l) => /retry \d of 3/.test(l)).length, 2);
    });

    it('honours Retry-After on 429', async () => {
      let n = 0;
      server.handler = (_req, res) => (++n === 1 ? json(res, 429, { message: 'slow down' }, { 'Retry-After': '3' }) : json(res, 200, DEPLOYMENT));
      await client().getDeployment('default', 'app');
      assert.deepEqual(clock.sleeps, [3000]);
    });

    it('gives up after 4 attempts and says so', async () => {
      server.handler = (_req, res) => json(res, 502, { message: 'bad gateway' });
      await assert.rejects(client().getDeployment('default', 'app'), (e: unknown) => e instanceof VvpApiError && e.attempts === 4 && /after 4 attempts: bad gateway/.test(e.message));
      assert.equal(server.seen.length, 4);
    });

    it('never retries a PATCH on 503 and marks its outcome unknown', async () => {
      server.handler = (_req, res) => json(res, 503, { message: 'busy' });
      await assert.rejects(client().patchDeployment('default', 'app', { spec: {} }), (e: unknown) => e instanceof VvpApiError && e.outcomeUnknown && e.status === 503);
      assert.equal(server.seen.length, 1);
    });

    it('never retries a POST on 429', async () => {
      server.handler = (_req, res) => json(res, 429, { message: 'slow' }, { 'Retry-After': '1' });
      await assert.rejects(client().createDeployment('default', { metadata: { name: 'a' } }), VvpApiError);
      assert.equal(server.seen.length, 1);
    });

    it('marks a rejected PATCH (4xx) as a known outcome', async () => {
      server.handler = (_req, res) => json(res, 400, { message: 'bad' });
      await assert.rejects(client().patchDeployment('default', 'app', { spec: {} }), (e: unknown) => e instanceof VvpApiError && !e.outcomeUnknown);
    });

    it('marks a PATCH whose connection dies before the answer as unknown', async () => {
      server.handler = (req) => req.socket.destroy();
      await assert.rejects(client().patchDeployment('default', 'app', { spec: {} }), (e: unknown) => e instanceof VvpApiError && e.outcomeUnknown && e.status === undefined);
      assert.equal(server.seen.length, 1);
    });

    it('marks a PATCH to a port nobody listens on as not applied', async () => {
      const c = new VvpClient(await closedPort(), TOKEN, { clock, random: () => 0 });
      await assert.rejects(c.patchDeployment('default', 'app', { spec: {} }), (e: unknown) => e instanceof VvpApiError && !e.outcomeUnknown && e.networkCode === 'ECONNREFUSED' && /Nothing accepts connections/.test(e.message));
    });

    it('times out a hanging GET, retries it, and reports the timeout', async () => {
      server.handler = () => undefined; // never answers
      await assert.rejects(client({ timeoutInMs: 100 }).getDeployment('default', 'app'), (e: unknown) => e instanceof VvpApiError && /no answer from 127.0.0.1:\d+ within 0.1 s/.test(e.message) && e.attempts === 4);
    });
  });

  describe('a 2xx answer to a write counts as applied, and what it answered is returned', () => {
    const answers: [string, (res: import('node:http').ServerResponse) => void][] = [
      ['a JSON body that is not a Deployment', (res) => json(res, 200, { status: 'accepted' })],
      ['a body that is not JSON', (res) => (res.writeHead(201, { 'Content-Type': 'text/plain' }), res.end('Created'))],
      ['an empty body', (res) => (res.writeHead(200), res.end())],
    ];
    const writes: [string, (c: VvpClient) => Promise<unknown>][] = [
      ['POST', (c) => c.createDeployment('default', { metadata: { name: 'app' }, spec: {} })],
      ['PATCH', (c) => c.patchDeployment('default', 'app', { spec: {} })],
      ['PUT', (c) => c.replaceDeployment('default', 'app', { metadata: { name: 'app' }, spec: {} })],
    ];
    for (const [what, answer] of answers) {
      for (const [method, write] of writes) {
        it(`a ${method} answered with ${what} resolves undefined (for the caller to read back), not as failed`, async () => {
          server.handler = (req, res) => (req.method === method ? answer(res) : json(res, 200, DEPLOYMENT));
          assert.equal(await write(client()), undefined);
          assert.deepEqual(server.seen.map((s) => s.method), [method]);
          assert.ok(logger.lines.some((l) => l.startsWith(`debug: VVP ${method} `) && l.endsWith('without a Deployment')), logger.lines.join('\n'));
        });
      }
    }

    it('a write whose answer breaks off after a 2xx status line fails as outcome unknown, so the caller reads back and compares', async () => {
      server.handler = (_req, res) => (res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '500' }), res.write('{"metadata":'), setTimeout(() => res.socket?.destroy(), 10));
      await assert.rejects(client().patchDeployment('default', 'app', { spec: {} }), (e: unknown) => {
        assert.ok(e instanceof VvpApiError);
        assert.equal(e.outcomeUnknown, true);
        assert.equal(e.networkCode, 'ECONNRESET');
        assert.match(e.message, /the connection broke after the answer's headers \(HTTP 200\)/);
        return true;
      });
      assert.deepEqual(server.seen.map((s) => s.method), ['PATCH']);
    });

    it('a savepoint request answered 2xx without a Savepoint fails as outcome unknown', async () => {
      server.handler = (_req, res) => json(res, 201, {});
      await assert.rejects(client().createSavepoint('default', { metadata: { deploymentId: 'd-1' } }), (e: unknown) => e instanceof VvpApiError && e.outcomeUnknown && /List the savepoints of deployment d-1/.test(e.message));
      assert.equal(server.seen.length, 1);
    });
  });

  describe('PUT, DELETE and savepoints', () => {
    it('PUTs the whole deployment once', async () => {
      server.handler = (_req, res) => json(res, 200, DEPLOYMENT);
      await client().replaceDeployment('ns', 'app', { metadata: { name: 'app' }, spec: { state: 'RUNNING' } });
      assert.equal(server.seen.length, 1);
      assert.equal(server.seen[0].method, 'PUT');
      assert.equal(server.seen[0].url, '/api/v1/namespaces/ns/deployments/app');
      assert.deepEqual(JSON.parse(server.seen[0].body), { metadata: { name: 'app' }, spec: { state: 'RUNNING' } });
    });

    it('DELETE: true when deleted (200 or 204), false on 404, sent once', async () => {
      for (const [status, expected] of [[200, true], [204, true], [404, false]] as const) {
        server.seen.length = 0;
        server.handler = (_req, res) => (status === 204 ? (res.writeHead(204), res.end()) : json(res, status, status === 200 ? DEPLOYMENT : { message: 'not found' }));
        assert.equal(await client().deleteDeployment('ns', 'app'), expected, String(status));
        assert.deepEqual(server.seen.map((s) => `${s.method} ${s.url}`), ['DELETE /api/v1/namespaces/ns/deployments/app']);
      }
    });

    it('DELETE: a 409 says the deployment must be CANCELLED or SUSPENDED; a 503 is not retried and is outcome unknown', async () => {
      server.handler = (_req, res) => json(res, 409, { message: 'Deployment app has desired state RUNNING' });
      await assert.rejects(client().deleteDeployment('ns', 'app'), (e: unknown) => e instanceof VvpApiError && e.status === 409 && !e.outcomeUnknown && /CANCELLED or SUSPENDED/.test(e.message));
      server.seen.length = 0;
      server.handler = (_req, res) => json(res, 503, { message: 'busy' });
      await assert.rejects(client().deleteDeployment('ns', 'app'), (e: unknown) => e instanceof VvpApiError && e.outcomeUnknown);
      assert.equal(server.seen.length, 1);
    });

    it('lists savepoints by deployment and job, reads one, and answers undefined on 404', async () => {
      server.handler = (req, res) =>
        req.url?.startsWith('/api/v1/namespaces/ns/savepoints?')
          ? json(res, 200, { kind: 'ResourceList', items: [{ metadata: { id: 's-1' } }] })
          : req.url === '/api/v1/namespaces/ns/savepoints/s-1'
            ? json(res, 200, { metadata: { id: 's-1', origin: 'COPIED' } })
            : json(res, 404, { message: 'no such savepoint' });
      assert.equal((await client().listSavepoints('ns', { deploymentId: 'd-1' }))[0].metadata.id, 's-1');
      await client().listSavepoints('ns', { deploymentId: 'd-1', jobId: 'j-1' });
      assert.equal((await client().getSavepoint('ns', 's-1'))?.metadata.origin, 'COPIED');
      assert.equal(await client().getSavepoint('ns', 's-2'), undefined);
      assert.deepEqual(server.seen.map((s) => s.url), [
        '/api/v1/namespaces/ns/savepoints?deploymentId=d-1',
        '/api/v1/namespaces/ns/savepoints?deploymentId=d-1&jobId=j-1',
        '/api/v1/namespaces/ns/savepoints/s-1',
        '/api/v1/namespaces/ns/savepoints/s-2',
      ]);
    });

    it('POSTs a savepoint request once, passing a COPIED savepoint location through', async () => {
      server.handler = (_req, res) => json(res, 201, { metadata: { id: 's-9', origin: 'COPIED' }, spec: { savepointLocation: 'wasbs://sp@acct.blob.core.windows.net/sp-1' } });
      const body = { metadata: { deploymentId: 'd-1' }, spec: { savepointLocation: 'wasbs://sp@acct.blob.core.windows.net/sp-1' } };
      const s = await client().createSavepoint('ns', body);
      assert.equal(s.metadata.id, 's-9');
      assert.equal(server.seen.length, 1);
      assert.deepEqual(JSON.parse(server.seen[0].body), body);
    });
  });

  describe('bounded answers', () => {
    it('ends a GET whose answer trickles in, at the total timeout, and says so', { timeout: 20_000 }, async () => {
      server.handler = (_req, res) => server.trickle(res, 200, 20);
      await assert.rejects(client({ timeoutInMs: 200 }).getDeployment('default', 'app'), (e: unknown) => {
        assert.ok(e instanceof VvpApiError);
        assert.equal(e.networkCode, 'ETIMEDOUT');
        assert.equal(e.attempts, 4);
        assert.match(e.message, /no complete answer from 127\.0\.0\.1:\d+ within 0\.2 s \(HTTP 200/);
        return true;
      });
    });

    it('refuses an answer larger than maxResponseBytes', async () => {
      server.handler = (_req, res) => json(res, 200, { kind: 'ResourceList', items: Array.from({ length: 2000 }, (_, i) => ({ metadata: { id: `e-${i}` }, spec: { message: 'x'.repeat(100) } })) });
      await assert.rejects(client({ maxResponseBytes: 64 * 1024 }).listEvents('ns', 'd-1'), (e: unknown) => {
        assert.ok(e instanceof VvpApiError);
        assert.equal(e.networkCode, 'ERR_RESPONSE_TOO_LARGE');
        assert.match(e.message, /listing the events of deployment d-1 in namespace 'ns' failed: the answer from 127\.0\.0\.1:\d+ is larger than 64 KiB/);
        return true;
      });
      assert.equal(server.seen.length, 1, 'the same answer would come back: not retried');
    });
  });

  it('aborts a hanging request at once when the signal fires', async () => {
    server.handler = () => undefined;
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(client({ timeoutInMs: 10_000 }).getDeployment('default', 'app', { abortSignal: controller.signal }), (e: unknown) => isAbortError(e));
    assert.ok(Date.now() - started < 2000);
  });
});
