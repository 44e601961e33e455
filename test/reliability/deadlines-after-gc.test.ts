/**
 * Deadlines and cancellation still fire after a garbage collection. On Node 20 the signals of
 * `AbortSignal.timeout()` and `AbortSignal.any()` are held only weakly: once a collection ran
 * while a request waited on a server that never answers, the timeout never fired and the step
 * hung. Each test forces collections while its request is pending (`forceGc`), against a local
 * server that accepts the request and never answers.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { JsonTransport, type JsonRequest } from '../../tasks/common/http/json-transport';
import { HttpRequestError } from '../../tasks/common/http/http-request-error';
import { linkSignals } from '../../tasks/common/poll/linked-signal';
import { withTimeout } from '../../tasks/common/poll/timeout';
import { VvpClient } from '../../tasks/common/vvp/client';
import { LocalHttpServer } from '../deploy/local-http-server';
import { collectEvery, forceGc } from '../rig/force-gc';

/** How long a test waits for a 300 ms deadline before it calls the request hung. */
const HUNG_AFTER_MS = 5_000;

class StepCancelled extends Error {}
class TunnelGone extends Error {}

/** How `promise` settled within `ms` while collections run every 50 ms; `pending` if it did not. */
async function settleUnderGc(promise: Promise<unknown>, ms = HUNG_AFTER_MS): Promise<{ state: 'resolved' | 'rejected' | 'pending'; error?: unknown; ms: number }> {
  const started = Date.now();
  forceGc();
  const stop = collectEvery(50);
  let guard: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then(
        () => ({ state: 'resolved' as const, ms: Date.now() - started }),
        (error: unknown) => ({ state: 'rejected' as const, error, ms: Date.now() - started }),
      ),
      new Promise<{ state: 'pending'; ms: number }>((resolve) => {
        guard = setTimeout(() => resolve({ state: 'pending', ms }), ms);
      }),
    ]);
  } finally {
    stop();
    clearTimeout(guard);
  }
}

describe('deadlines after a garbage collection, against a server that never answers', () => {
  const server = new LocalHttpServer();
  before(async () => {
    server.handler = () => undefined; // reads the request, never answers
    await server.start();
  });
  after(() => server.stop());

  const request = (over: Partial<JsonRequest> = {}): JsonRequest => ({ method: 'POST', url: new URL(`${server.url}/api/v1/x`), display: '/api/v1/x', body: {}, ...over });
  const transport = new JsonTransport({ label: 'TEST', timeoutInMs: 300 });

  it('the transport fails a request with its timeout although collections ran while it waited', async () => {
    const outcome = await settleUnderGc(transport.send(request()));
    assert.equal(outcome.state, 'rejected', `the request was still waiting after ${outcome.ms} ms (timeout 300 ms)`);
    assert.ok(outcome.error instanceof HttpRequestError, String(outcome.error));
    assert.equal(outcome.error.kind, 'timeout');
    assert.match(outcome.error.message, /^no answer from 127\.0\.0\.1:\d+ within 0\.3 s$/);
  });

  it('the transport fails with its timeout when the step signal is combined with it and never fires', async () => {
    const step = new AbortController();
    const outcome = await settleUnderGc(transport.send(request({ abortSignal: step.signal })));
    assert.equal(outcome.state, 'rejected', `the request was still waiting after ${outcome.ms} ms (timeout 300 ms)`);
    assert.ok(outcome.error instanceof HttpRequestError && outcome.error.kind === 'timeout', String(outcome.error));
    assert.equal(getEventListeners(step.signal, 'abort').length, 0, 'the request left a listener on the step signal');
  });

  it('the transport stops a waiting request with the reason of a step signal that fires after collections', async () => {
    const step = new AbortController();
    const slow = new JsonTransport({ label: 'TEST', timeoutInMs: 60_000 });
    const pending = slow.send(request({ abortSignal: step.signal }));
    setTimeout(() => step.abort(new StepCancelled('cancelled during Apply change')), 300);
    const outcome = await settleUnderGc(pending);
    assert.equal(outcome.state, 'rejected', `the request was still waiting ${outcome.ms} ms after the cancel at 300 ms`);
    assert.ok(outcome.error instanceof StepCancelled, String(outcome.error));
  });

  it('a VVP client request with the step signal and a tunnel signal ends at the transport timeout', async () => {
    const step = new AbortController();
    const tunnel = new AbortController();
    const vvp = new VvpClient(server.url, 'tok-6c0ffee1', { timeoutInMs: 300, connectionLost: tunnel.signal });
    const outcome = await settleUnderGc(vvp.patchDeployment('default', 'app', { spec: {} }, { abortSignal: step.signal }));
    assert.equal(outcome.state, 'rejected', `the PATCH was still waiting after ${outcome.ms} ms (timeout 300 ms)`);
    assert.match(String(outcome.error), /no answer from 127\.0\.0\.1:\d+ within 0\.3 s/);
    assert.equal(getEventListeners(step.signal, 'abort').length, 0, 'a listener was left on the step signal');
    assert.equal(getEventListeners(tunnel.signal, 'abort').length, 0, 'a listener was left on the tunnel signal');
  });

  it('a VVP client request fails with the tunnel reason when the tunnel dies after collections', async () => {
    const step = new AbortController();
    const tunnel = new AbortController();
    const vvp = new VvpClient(server.url, 'tok-6c0ffee1', { timeoutInMs: 60_000, connectionLost: tunnel.signal, retry: { maxAttempts: 1 } });
    const pending = vvp.getDeployment('default', 'app', { abortSignal: step.signal });
    setTimeout(() => tunnel.abort(new TunnelGone('Tunnel lost: kubectl exited')), 300);
    const outcome = await settleUnderGc(pending);
    assert.equal(outcome.state, 'rejected', `the read was still waiting ${outcome.ms} ms after the tunnel died at 300 ms`);
    assert.ok(outcome.error instanceof TunnelGone, String(outcome.error));
  });

  it('withTimeout rejects with the timeout error of an operation that ignores its signal, with a caller signal linked', async () => {
    const caller = new AbortController();
    class Late extends Error {}
    const never = new Promise<never>(() => undefined);
    const outcome = await settleUnderGc(withTimeout(() => never, { timeoutInMs: 300, abortSignal: caller.signal, timeoutError: () => new Late('no answer within 0.3 s') }));
    assert.equal(outcome.state, 'rejected', `withTimeout was still waiting after ${outcome.ms} ms (timeout 300 ms)`);
    assert.ok(outcome.error instanceof Late, String(outcome.error));
  });
});

describe('linkSignals', () => {
  it('aborts at the deadline, with a TimeoutError, although nothing but the link holds it and collections ran', async () => {
    const seen: unknown[] = [];
    linkSignals({ timeoutInMs: 200 }).signal.addEventListener('abort', (event) => seen.push((event.target as AbortSignal).reason));
    const stop = collectEvery(20);
    await new Promise((resolve) => setTimeout(resolve, 600));
    stop();
    assert.equal(seen.length, 1, 'the deadline did not fire');
    assert.ok(seen[0] instanceof DOMException && seen[0].name === 'TimeoutError', String(seen[0]));
  });

  it("aborts with the first source's reason, not the deadline's, and says it did not time out", () => {
    const a = new AbortController();
    const b = new AbortController();
    const link = linkSignals({ signals: [a.signal, undefined, b.signal], timeoutInMs: 60_000 });
    forceGc();
    b.abort(new StepCancelled('b'));
    a.abort(new StepCancelled('a'));
    assert.equal(link.signal.aborted, true);
    assert.equal((link.signal.reason as Error).message, 'b');
    assert.equal(link.timedOut, false);
    assert.equal(getEventListeners(a.signal, 'abort').length, 0, 'the other source kept its listener');
  });

  it('is aborted at once by a source that has already fired', () => {
    const link = linkSignals({ signals: [AbortSignal.abort(new TunnelGone('gone'))], timeoutInMs: 10 });
    assert.equal(link.signal.aborted, true);
    assert.ok(link.signal.reason instanceof TunnelGone);
  });

  it('gives the timeout reason the caller built, and reports timedOut', async () => {
    const link = linkSignals({ signals: [new AbortController().signal], timeoutInMs: 10, timeoutReason: () => new StepCancelled('time is up') });
    await new Promise((resolve) => link.signal.addEventListener('abort', resolve));
    assert.equal(link.timedOut, true);
    assert.equal((link.signal.reason as Error).message, 'time is up');
  });

  it('once disposed, leaves no listener on its sources and aborts neither at the deadline nor with a source', async () => {
    const source = new AbortController();
    const link = linkSignals({ signals: [source.signal], timeoutInMs: 20 });
    link.dispose();
    link.dispose();
    assert.equal(getEventListeners(source.signal, 'abort').length, 0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    source.abort();
    assert.equal(link.signal.aborted, false);
  });
});
