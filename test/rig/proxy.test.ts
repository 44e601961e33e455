import { after, before, beforeEach, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RIG_DEFAULTS as D } from './config';
import { rigProxyAgent } from './proxy-agent';
import { startRig, type Rig } from './rig';
import { sendRequest } from './http-request';

const SECRET_URL = `https://${D.vaultName}.vault.azure.net/secrets/${D.tokenSecretName}?api-version=7.5`;

describe('the rig proxy', () => {
  let rig: Rig;
  let backend: http.Server;
  let backendHits = 0;

  before(async () => {
    // A tiny plain-HTTP backend standing in for the VVP simulator.
    backend = http.createServer((req, res) => {
      backendHits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url, host: req.headers.host, auth: req.headers.authorization ?? null }));
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
    rig = await startRig({ vvpUrl: `http://127.0.0.1:${(backend.address() as AddressInfo).port}` });
  });
  beforeEach(async () => {
    await rig.control.reset();
    backendHits = 0;
  });
  after(async () => {
    await rig?.stop();
    await new Promise<void>((r) => backend.close(() => r()));
  });

  it('refuses hosts it does not route with 502 and records them', async () => {
    // https-proxy-agent replays the refused CONNECT's answer as the response.
    const res = await sendRequest('https://www.example.org/', { agent: rigProxyAgent(rig) });
    assert.equal(res.status, 502);
    assert.match(res.body, /cannot resolve www\.example\.org:443/);
    const refused = await rig.control.requests({ host: 'www.example.org' });
    assert.deepEqual(refused.map((r) => [r.scheme, r.route, r.status]), [['connect', 'refused', 502]]);
  });

  it('records method, path, status, timing and the Authorization header it forwarded', async () => {
    const res = await sendRequest('https://vvp.example.com/api/v1/namespaces/default/deployments/x', {
      agent: rigProxyAgent(rig),
      headers: { authorization: 'Bearer vvp-token-for-recording' },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { path: '/api/v1/namespaces/default/deployments/x', host: 'vvp.example.com', auth: 'Bearer vvp-token-for-recording' });
    const [record] = await rig.control.requests({ host: 'vvp.example.com', scheme: 'https' });
    assert.ok(record);
    assert.equal(record.method, 'GET');
    assert.equal(record.status, 200);
    assert.equal(record.hasAuthorization, true);
    assert.equal(record.requestHeaders['authorization'], 'Bearer vvp-token-for-recording');
    assert.equal(typeof record.durationMs, 'number');
  });

  it('proxies absolute-URI plain HTTP requests to the routed backend', async () => {
    const proxy = new URL(rig.proxyUrl);
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: proxy.hostname, port: proxy.port, path: 'http://vvp.example.com/api/v1/health', headers: { host: 'vvp.example.com' } }, (r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += c.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as { path: string }).path, '/api/v1/health');
    assert.equal((await rig.control.requests({ scheme: 'http', host: 'vvp.example.com' })).length, 1);
  });

  it('reads a CONNECT tunnel to port 80 as plain HTTP, as proxy agents send http:// targets', async () => {
    const res = await sendRequest('http://vvp.example.com/api/v1/plain', { agent: rigProxyAgent(rig) });
    assert.equal(res.status, 200);
    const [record] = await rig.control.requests({ host: 'vvp.example.com', scheme: 'http' });
    assert.equal(record?.path, '/api/v1/plain');
    assert.equal(typeof record?.tunnel, 'number');
  });

  it('refuses absolute-URI requests for hosts it does not route', async () => {
    const proxy = new URL(rig.proxyUrl);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: proxy.hostname, port: proxy.port, path: 'http://unrouted.example.net/' }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 502);
    assert.deepEqual((await rig.control.requests({ host: 'unrouted.example.net' })).map((r) => r.route), ['refused']);
  });

  it('resets the next two requests to a path, then lets the third through', async () => {
    const rule = await rig.control.addFault({ host: /vault\.azure\.net$/, path: /^\/secrets\//, count: 2, action: { kind: 'reset', phase: 'request' } });
    const attempt = (): Promise<number | string> =>
      sendRequest(SECRET_URL, { agent: rigProxyAgent(rig) }).then(
        (r) => r.status,
        (e: NodeJS.ErrnoException) => e.code ?? e.message,
      );
    assert.equal(await attempt(), 'ECONNRESET');
    assert.equal(await attempt(), 'ECONNRESET');
    assert.equal(await attempt(), 401, 'third request reaches Key Vault (401: no token sent)');
    const [state] = (await rig.control.faults()).filter((f) => f.id === rule.id);
    assert.equal(state?.fired, 2);
  });

  it('answers a 503 burst with Retry-After without reaching the service', async () => {
    await rig.control.addFault({ host: 'vvp.example.com', method: 'GET', count: 2, action: { kind: 'status', status: 503, headers: { 'retry-after': '1' }, body: 'busy' } });
    const first = await sendRequest('https://vvp.example.com/api/v1/x', { agent: rigProxyAgent(rig) });
    const second = await sendRequest('https://vvp.example.com/api/v1/x', { agent: rigProxyAgent(rig) });
    const third = await sendRequest('https://vvp.example.com/api/v1/x', { agent: rigProxyAgent(rig) });
    assert.deepEqual([first.status, second.status, third.status], [503, 503, 200]);
    assert.equal(first.headers['retry-after'], '1');
    assert.equal(backendHits, 1);
  });

  it('truncates a response body and can delay or hang a request', async () => {
    await rig.control.addFault({ host: 'vvp.example.com', path: '^/truncated', action: { kind: 'maskAndShorten', afterBytes: 5 } });
    await assert.rejects(sendRequest('https://vvp.example.com/truncated', { agent: rigProxyAgent(rig) }), /aborted|ECONNRESET|socket hang up|terminated/i);

    await rig.control.addFault({ host: 'vvp.example.com', path: '^/slow', action: { kind: 'delay', ms: 300 } });
    const started = Date.now();
    assert.equal((await sendRequest('https://vvp.example.com/slow', { agent: rigProxyAgent(rig) })).status, 200);
    assert.ok(Date.now() - started >= 290);

    await rig.control.addFault({ host: 'vvp.example.com', path: '^/hang', action: { kind: 'hang' } });
    await assert.rejects(sendRequest('https://vvp.example.com/hang', { agent: rigProxyAgent(rig), timeoutMs: 300 }), /timed out/);
  });

  it('resets a response mid-body after the headers were sent', async () => {
    await rig.control.addFault({ host: 'vvp.example.com', action: { kind: 'reset', phase: 'response', afterBytes: 3 } });
    await assert.rejects(sendRequest('https://vvp.example.com/api', { agent: rigProxyAgent(rig) }), /aborted|ECONNRESET|socket hang up/i);
    const [record] = await rig.control.requests({ host: 'vvp.example.com', scheme: 'https' });
    assert.equal(record?.status, 200);
    assert.match(record?.fault ?? '', /reset/);
  });

  it('demands proxy Basic auth when configured, and accepts the right credentials', async () => {
    const auth = { username: 'rig-user', password: 'rig-proxy-password-42' };
    await rig.control.patchConfig({ proxyAuth: auth });
    const without = await sendRequest('https://vvp.example.com/a', { agent: rigProxyAgent(rig) }).catch((e: Error) => e);
    assert.ok(without instanceof Error || without.status === 407, 'request without proxy credentials must fail');
    const withAuth = await sendRequest('https://vvp.example.com/a', { agent: rigProxyAgent(rig, auth) });
    assert.equal(withAuth.status, 200);
    const connects = await rig.control.requests({ scheme: 'connect', host: 'vvp.example.com' });
    assert.deepEqual(connects.map((c) => c.status), [407, 200]);
    assert.match(String(connects[1]!.requestHeaders['proxy-authorization']), /^Basic /);
  });
});
