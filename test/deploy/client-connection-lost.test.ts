import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TaskError } from '../../tasks/common/errors/errors';
import { VvpClient } from '../../tasks/common/vvp/client';
import { LocalHttpServer } from './local-http-server';

class TunnelGone extends TaskError {}

describe('VvpClient with a lost connection (the AKS tunnel died)', () => {
  const server = new LocalHttpServer();
  before(() => server.start());
  after(() => server.stop());

  it('fails every call at once with the reason and sends nothing, so the token never reaches the freed port', async () => {
    const lost = new AbortController();
    const client = new VvpClient(server.url, 'tok-5f2a9c', { connectionLost: lost.signal });
    lost.abort(new TunnelGone('Tunnel to vvp/vvp-ververica-platform:80 lost: pod deleted'));
    const before = server.seen.length;
    await assert.rejects(client.getDeployment('default', 'app'), (e: Error) => e instanceof TunnelGone && /pod deleted/.test(e.message));
    await assert.rejects(client.patchDeployment('default', 'app', { spec: {} }), TunnelGone);
    assert.equal(server.seen.length, before);
  });

  it('stops a call in flight when the tunnel dies, failing it with the tunnel reason', async () => {
    const lost = new AbortController();
    server.handler = () => undefined; // never answers
    const client = new VvpClient(server.url, 'tok-5f2a9c', { connectionLost: lost.signal, retry: { maxAttempts: 1 } });
    const call = client.getDeployment('default', 'app');
    setTimeout(() => lost.abort(new TunnelGone('Tunnel lost: kubectl exited')), 50);
    await assert.rejects(call, (e: Error) => e instanceof TunnelGone);
  });
});
