import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { JAR_A, JAR_B, delay, jarPatch, startTestSimulator, type TestSimulator } from './sim-harness';

describe('auth', () => {
  let sim: TestSimulator;
  before(async () => {
    sim = await startTestSimulator({
      namespaces: ['default', 'other'],
      tokens: [
        { token: 'viewer-token', namespace: 'default', role: 'viewer' },
        { token: 'editor-token', namespace: 'default', role: 'editor' },
      ],
      deployments: [{ name: 'guarded', jarUri: JAR_A }],
    });
  });
  after(() => sim.stop());

  it('lets a viewer read but answers 403 with a Spring-style body when it PATCHes', async () => {
    assert.equal((await sim.api('GET', 'deployments/guarded', { token: 'viewer-token' })).status, 200);
    const answer = await sim.api('PATCH', 'deployments/guarded', { token: 'viewer-token', body: jarPatch(JAR_B) });
    assert.equal(answer.status, 403);
    assert.deepEqual(Object.keys(answer.json).sort(), ['error', 'path', 'status', 'timestamp']);
    assert.equal(answer.json.error, 'Forbidden');
    assert.equal(answer.json.path, '/api/v1/namespaces/default/deployments/guarded');
    assert.equal((await sim.control.truth('default', 'guarded')).specJarUri, JAR_A, 'nothing changed');
  });

  it('answers 401 for a missing or unknown token and 403 for another namespace', async () => {
    assert.equal((await sim.api('GET', 'deployments/guarded')).status, 401);
    assert.equal((await sim.api('GET', 'deployments/guarded', { token: 'who-knows' })).status, 401);
    assert.equal((await sim.api('GET', 'deployments/guarded', { headers: { Authorization: 'Basic abc' } })).status, 401);
    assert.equal((await sim.api('GET', '/api/v1/namespaces/other/deployments', { token: 'editor-token' })).status, 403);
  });

  it('lets an editor PATCH', async () => {
    const answer = await sim.api('PATCH', 'deployments/guarded', { token: 'editor-token', body: { metadata: { labels: { a: 'b' } } } });
    assert.equal(answer.status, 200);
  });

  it('can be switched off through the control API', async () => {
    await sim.control.setAuth({ enabled: false });
    assert.equal((await sim.api('GET', 'deployments/guarded')).status, 200);
    await sim.control.setAuth({ enabled: true });
    assert.equal((await sim.api('GET', 'deployments/guarded')).status, 401);
  });
});

describe('fault injection and request recording', () => {
  let sim: TestSimulator;
  before(async () => {
    sim = await startTestSimulator();
  });
  after(() => sim.stop());
  beforeEach(async () => {
    await sim.control.reset();
    await sim.control.seedDeployment({ name: 'target', jarUri: JAR_A });
  });

  it('answers 429 with Retry-After for the next N matching requests, then normally', async () => {
    const rule = await sim.control.addFault({ method: 'GET', path: '/deployments/target$', times: 2, status: 429, retryAfterSeconds: 3 });
    for (let i = 0; i < 2; i++) {
      const answer = await sim.api('GET', 'deployments/target');
      assert.equal(answer.status, 429);
      assert.equal(answer.headers.get('retry-after'), '3');
    }
    assert.equal((await sim.api('GET', 'deployments/target')).status, 200);
    assert.deepEqual(await sim.control.faults(), []);
    assert.ok(rule.id);
  });

  it('answers 503 for requests about one deployment, however it is addressed', async () => {
    const { deploymentId } = await sim.control.truth('default', 'target');
    await sim.control.addFault({ deployment: 'target', persistent: true, status: 503, body: 'upstream connect error' });
    const byId = await sim.api('GET', `deployments/${deploymentId}`);
    assert.equal(byId.status, 503);
    assert.equal(byId.text, 'upstream connect error');
    assert.equal((await sim.api('GET', `jobs?deploymentId=${deploymentId}`)).status, 503);
    assert.equal((await sim.api('GET', 'deployments')).status, 200);
  });

  it('applies a PATCH whose response is lost', async () => {
    await sim.control.addFault({ method: 'PATCH', action: 'lostResponse' });
    await assert.rejects(sim.api('PATCH', 'deployments/target', { body: jarPatch(JAR_B) }));
    const truth = await sim.control.truth('default', 'target');
    assert.equal(truth.specJarUri, JAR_B);
    const [entry] = await sim.control.requests({ method: 'PATCH' });
    assert.equal(entry.fault, 'lostResponse');
    assert.equal(entry.status, null);
  });

  it('drops a request without applying it', async () => {
    await sim.control.addFault({ method: 'PATCH', action: 'dropRequest' });
    await assert.rejects(sim.api('PATCH', 'deployments/target', { body: jarPatch(JAR_B) }));
    assert.equal((await sim.control.truth('default', 'target')).specJarUri, JAR_A);
  });

  it('delays and hangs matching requests', async () => {
    await sim.control.addFault({ method: 'GET', path: '/jobs$', action: 'delay', delayMs: 200 });
    const started = Date.now();
    assert.equal((await sim.api('GET', 'jobs')).status, 200);
    assert.ok(Date.now() - started >= 190);

    await sim.control.addFault({ method: 'GET', path: '/events$', action: 'hang' });
    const hung = fetch(`${sim.url}/api/v1/namespaces/default/events`, { signal: AbortSignal.timeout(300) });
    await assert.rejects(hung, /abort|timeout/i);
    assert.equal((await sim.api('GET', 'events')).status, 200, 'only the next matching request hangs');
  });

  it('records method, path, query, headers including Authorization, parsed body and status', async () => {
    await sim.control.clearRequests();
    await sim.api('PATCH', 'deployments/target', { body: jarPatch(JAR_B), headers: { Authorization: 'Bearer s3cr3t' } });
    await sim.api('GET', 'events?deploymentId=not-a-uuid');
    const [patch, get] = await sim.control.requests();
    assert.equal(patch.method, 'PATCH');
    assert.equal(patch.path, '/api/v1/namespaces/default/deployments/target');
    assert.equal(patch.headers.authorization, 'Bearer s3cr3t');
    assert.deepEqual(patch.body, jarPatch(JAR_B));
    assert.equal(patch.status, 200);
    assert.match(patch.at, /Z$/);
    assert.deepEqual(get.query, { deploymentId: 'not-a-uuid' });
    assert.equal(get.status, 400);
    assert.equal((await sim.control.requests({ method: 'GET' })).length, 1);
    assert.equal((await sim.control.requests({ since: patch.seq })).length, 1);
    assert.equal((await sim.control.requests({ path: '/events$' })).length, 1);
  });

  it('keeps control API calls out of the request log', async () => {
    await sim.control.clearRequests();
    await sim.control.truth('default', 'target');
    await delay(10);
    assert.deepEqual(await sim.control.requests(), []);
  });
});
