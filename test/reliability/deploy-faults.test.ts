/**
 * VvpDeploy@1, bundled, under network faults: Entra ID and Key Vault answering 5xx or
 * resetting, VVP resetting or failing GETs during the wait. Each test checks what the task
 * reported AND what it sent (proxy and simulator logs), and the reported success against the
 * simulator's truth. Lost and contested writes: deploy-writes.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RequestRecord } from '../rig/proxy/recorder';
import { assertNoFalseSuccess } from './false-success';
import { deployInputs, explain, jarFor, requireSim, runBundled, scanBench, seed, startBench, type Bench } from './bench';

const TOKEN_PATH = /\/oauth2\/v2\.0\/token/;
const VAULT_HOST = /^my-keyvault\.vault\.azure\.net$/;

const summarise = (records: RequestRecord[]): string[] => records.map((r) => `${r.method} ${r.status ?? 'no answer'}${r.fault ? ` (${r.fault.split(':')[1]})` : ''}`);

describe('VvpDeploy@1 under network faults', () => {
  let bench: Bench;
  before(async () => {
    bench = await startBench();
  });
  after(async () => {
    await bench?.stop();
  });

  const clearFaults = async (): Promise<void> => {
    await bench.rig.control.clearFaults();
    await requireSim(bench).control.clearFaults();
  };

  it('rides out Entra ID and Key Vault answering 5xx and resetting connections, then deploys', async () => {
    const name = 'token-faults';
    await seed(bench, name);
    const since = await bench.rig.control.mark();
    const { control } = bench.rig;
    await control.addFault({ host: /^login\.microsoftonline\.com$/, method: 'POST', path: TOKEN_PATH, count: 1, action: { kind: 'status', status: 503, headers: { 'content-type': 'application/json' }, body: '{"error":"temporarily_unavailable","error_description":"AADSTS50196: busy"}' } });
    await control.addFault({ host: /^login\.microsoftonline\.com$/, method: 'POST', path: TOKEN_PATH, count: 1, action: { kind: 'reset', phase: 'request' } });
    await control.addFault({ host: VAULT_HOST, method: 'GET', count: 1, action: { kind: 'status', status: 500, headers: { 'content-type': 'application/json' }, body: '{"error":{"code":"InternalServerError","message":"try again"}}' } });
    await control.addFault({ host: VAULT_HOST, method: 'GET', count: 1, action: { kind: 'reset', phase: 'request' } });
    try {
      const run = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, 'c0ffee1') });
      assert.equal(run.result, 'Succeeded', explain(run));
      await assertNoFalseSuccess(run, { sim: requireSim(bench).control, deployment: name, jarUri: jarFor('c0ffee1') });
      const tokens = (await control.requests({ since, method: 'POST', path: TOKEN_PATH })).filter((r) => r.scheme === 'https');
      assert.deepEqual(summarise(tokens), ['POST 503 (status)', 'POST no answer (reset)', 'POST 200'], 'the token request was retried after a 503 and a reset');
      const vault = (await control.requests({ since, host: VAULT_HOST })).filter((r) => r.scheme === 'https');
      assert.deepEqual(summarise(vault), ['GET 500 (status)', 'GET no answer (reset)', 'GET 401', 'GET 200'], 'the secret read was retried, then authenticated');
      assert.equal((await requireSim(bench).control.requests({ method: 'PATCH' })).length, 1, 'one PATCH');
    } finally {
      await clearFaults();
      await requireSim(bench).control.clearRequests();
    }
  });

  it('keeps waiting through VVP resetting and failing GETs during the wait, with one PATCH', async () => {
    const name = 'flaky-wait';
    const id = await seed(bench, name, { behaviour: { staleRunningMs: 600, savepointMs: 100, terminateMs: 50, startMs: 300 } });
    const sim = requireSim(bench).control;
    const since = await bench.rig.control.mark();
    // The baseline read addresses the deployment by name, the wait by id: fault the wait only.
    await bench.rig.control.addFault({ host: /^vvp\.example\.com$/, method: 'GET', path: new RegExp(`/deployments/${id}$`), skip: 1, count: 2, action: { kind: 'reset', phase: 'request' } });
    await bench.rig.control.addFault({ host: /^vvp\.example\.com$/, method: 'GET', path: new RegExp(`/deployments/${id}$`), count: 1, action: { kind: 'reset', phase: 'response', afterBytes: 10 } });
    await sim.addFault({ method: 'GET', path: '/jobs/[0-9a-f-]+$', times: 2, status: 503 });
    await sim.addFault({ method: 'GET', path: `/deployments/${id}$`, times: 1, status: 429, retryAfterSeconds: 1 });
    try {
      const run = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, 'c0ffee2') });
      assert.equal(run.result, 'Succeeded', explain(run));
      await assertNoFalseSuccess(run, { sim, deployment: name, jarUri: jarFor('c0ffee2') });
      const reset = (await bench.rig.control.requests({ since, host: /^vvp\.example\.com$/ })).filter((r) => r.fault);
      assert.equal(reset.length, 3, `three connections reset by the proxy: ${JSON.stringify(summarise(reset))}`);
      const answered = (await sim.requests()).filter((r) => r.fault === 'status');
      assert.deepEqual(answered.map((r) => r.status).sort(), [429, 503, 503]);
      assert.equal((await sim.requests({ method: 'PATCH' })).length, 1, 'the PATCH was sent once');
      assert.match(run.stdout, /VVP GET \/api\/v1\/namespaces\/default\/deployments\/[0-9a-f-]+: (ECONNRESET|HTTP 429|network error)[^;]*; retry 1 of 3/);
    } finally {
      await clearFaults();
      await sim.clearRequests();
    }
  });

  it('printed no secret in any run (SPN key, VVP token, job token, every issued token)', async () => {
    await scanBench(bench);
  });
});
