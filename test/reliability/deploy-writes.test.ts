/**
 * VvpDeploy@1, bundled, when its write is lost or contested: the PATCH answer lost after VVP
 * applied it, two runs racing on one deployment, and plain HTTP by explicit opt-in. Each test
 * checks what the task reported AND what it sent (proxy and simulator logs), and every reported
 * success against the simulator's truth.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertNoFalseSuccess } from './false-success';
import { deployInputs, explain, jarFor, requireSim, runBundled, scanBench, seed, startBench, type Bench } from './bench';

describe('VvpDeploy@1 when a write is lost or contested', () => {
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

  for (const [how, inject] of [
    ['the proxy resets the connection after VVP answered', async (b: Bench) => b.rig.control.addFault({ host: /^vvp\.example\.com$/, method: 'PATCH', count: 1, action: { kind: 'reset', phase: 'response' } })],
    ['VVP drops the connection after applying it', async (b: Bench) => requireSim(b).control.addFault({ method: 'PATCH', times: 1, action: 'lostResponse' })],
  ] as const) {
    it(`when the PATCH answer is lost (${how}) it reads back, sends no second PATCH and goes on waiting`, async () => {
      const name = how.startsWith('the proxy') ? 'lost-at-proxy' : 'lost-at-vvp';
      await seed(bench, name);
      const sim = requireSim(bench).control;
      const since = await bench.rig.control.mark();
      await inject(bench);
      try {
        const run = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, 'c0ffee3') });
        assert.equal(run.result, 'Succeeded', explain(run));
        await assertNoFalseSuccess(run, { sim, deployment: name, jarUri: jarFor('c0ffee3') });
        assert.match(run.stdout, /The answer to the PATCH was lost .*reading back to see whether VVP applied it\. The PATCH is not sent again\./);
        assert.match(run.stdout, /Read back: the PATCH was applied\./);
        const simPatches = await sim.requests({ method: 'PATCH' });
        const proxyPatches = (await bench.rig.control.requests({ since, method: 'PATCH' })).filter((r) => r.scheme === 'https');
        assert.equal(simPatches.length, 1, 'VVP received one PATCH');
        assert.equal(proxyPatches.length, 1, 'the task sent one PATCH');
        const after = (await sim.requests({ method: 'GET' })).filter((r) => r.seq > simPatches[0]!.seq);
        assert.ok(after.length >= 2, 'it read back and then polled');
      } finally {
        await clearFaults();
        await sim.clearRequests();
      }
    });
  }

  it('of two runs racing on one deployment at most one succeeds, and only for the jarUri that runs', async (t) => {
    const name = 'contested';
    await seed(bench, name, { behaviour: { staleRunningMs: 800, savepointMs: 150, terminateMs: 100, startMs: 500 } });
    const sim = requireSim(bench).control;
    const [a, b] = await Promise.all([
      runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, 'aaaa111') }),
      runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, 'bbbb222') }),
    ]);
    const succeededA = await assertNoFalseSuccess(a, { sim, deployment: name, jarUri: jarFor('aaaa111') });
    const succeededB = await assertNoFalseSuccess(b, { sim, deployment: name, jarUri: jarFor('bbbb222') });
    assert.ok(!(succeededA && succeededB), `both runs reported success:\n${a.message}\n${b.message}`);
    const truth = await sim.truth('default', name);
    for (const run of [a, b]) {
      if (run.result === 'Succeeded') continue;
      assert.equal(run.result, 'Failed', explain(run));
      assert.match(run.message ?? '', /jarUri was changed to .* during the wait.*another run or user replaced this change/s, explain(run));
    }
    assert.equal((await sim.requests({ method: 'PATCH' })).length, 2, 'each run sent its PATCH once');
    assert.ok(truth.runningJob?.jarUri === jarFor('aaaa111') || truth.runningJob?.jarUri === jarFor('bbbb222'));
    t.diagnostic(`race: A ${a.result}, B ${b.result}; VVP runs ${truth.runningJob?.jarUri?.split('=')[1] ?? 'nothing'}`);
    await sim.clearRequests();
  });

  it('talks plain HTTP to a non-loopback VVP only with allowInsecureHttp, and warns', async () => {
    const name = 'plain-http';
    await seed(bench, name);
    const since = await bench.rig.control.mark();
    const run = await runBundled(bench, 'VvpDeploy', { inputs: deployInputs(name, 'c0ffee4', { vvpUrl: 'http://vvp.example.com', allowInsecureHttp: true }) });
    assert.equal(run.result, 'Succeeded', explain(run));
    await assertNoFalseSuccess(run, { sim: requireSim(bench).control, deployment: name, jarUri: jarFor('c0ffee4') });
    assert.ok(run.warnings.some((w) => /http:\/\/vvp\.example\.com uses plain HTTP: the VVP API token crosses the network unencrypted/.test(w)), run.warnings.join('\n'));
    const vvp = await bench.rig.control.requests({ since, host: /^vvp\.example\.com$/ });
    assert.ok(vvp.some((r) => r.scheme === 'http' && r.method === 'PATCH'), 'the PATCH went over plain HTTP, as asked');
    await requireSim(bench).control.clearRequests();
  });

  it('printed no secret in any run (SPN key, VVP token, job token, every issued token)', async () => {
    await scanBench(bench);
  });
});
