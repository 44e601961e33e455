/**
 * The VvpClient's replace, delete and savepoint methods against the VVP simulator (a child
 * process on a loopback port): real HTTP, the simulator's own validation and state machine.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { VvpClient } from '../../tasks/common/vvp/client';
import { VvpApiError } from '../../tasks/common/vvp/errors';
import { jarUriOf, type JsonObject } from '../../tasks/common/vvp/resources';
import { startSimulator, type RunningSimulator } from '../vvp-simulator/client';

const EDITOR = 'editor-tok-2f6b8d0e';
const JAR = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/app.jar';
const QUICK = { staleRunningMs: 50, savepointMs: 50, terminateMs: 50, startMs: 50, finishMs: 50 };

describe('VvpClient against the VVP simulator: PUT, DELETE and savepoints', () => {
  let sim: RunningSimulator;
  let vvp: VvpClient;
  let counter = 0;
  const unique = (prefix: string): string => `${prefix}-${++counter}`;

  before(async () => {
    sim = await startSimulator({ tokens: [{ token: EDITOR, namespace: 'default', role: 'editor' }] });
    vvp = new VvpClient(sim.url, EDITOR);
  });
  after(async () => {
    await sim?.stop();
  });

  it('replaces a whole deployment with PUT and returns what VVP stored', async () => {
    const name = unique('put');
    const seeded = await sim.control.seedDeployment({ name, jarUri: `${JAR}?commit=0`, labels: { team: 'a' }, behaviour: QUICK });
    const current = await vvp.getDeployment('default', name);
    assert.ok(current);
    const next = structuredClone(current) as unknown as JsonObject;
    ((((next.spec as JsonObject).template as JsonObject).spec as JsonObject).artifact as JsonObject).jarUri = `${JAR}?commit=1`;
    (next.metadata as JsonObject).labels = { team: 'b' };
    const replaced = await vvp.replaceDeployment('default', name, next);
    assert.ok(replaced, 'the simulator answers the PUT with the deployment');
    assert.equal(replaced.metadata.id, seeded.metadata.id);
    assert.equal(jarUriOf(replaced), `${JAR}?commit=1`);
    assert.deepEqual(replaced.metadata.labels, { team: 'b' });
    const puts = await sim.control.requests({ method: 'PUT' });
    assert.equal(puts.filter((r) => r.path.endsWith(`/deployments/${name}`)).length, 1, 'sent once');
  });

  it('creates a deployment with PUT when none has the name', async () => {
    const name = unique('put-new');
    const created = await vvp.replaceDeployment('default', name, {
      metadata: { name },
      spec: { state: 'CANCELLED', template: { spec: { artifact: { kind: 'JAR', jarUri: JAR } } } },
    });
    assert.ok(created, 'the simulator answers the PUT with the deployment');
    assert.equal(created.metadata.name, name);
    assert.equal((await vvp.getDeployment('default', name))?.metadata.id, created.metadata.id);
  });

  it('reports a PUT VVP rejects (a name change) as a VvpApiError with a known outcome', async () => {
    const name = unique('put-bad');
    await sim.control.seedDeployment({ name, jarUri: JAR });
    const current = await vvp.getDeployment('default', name);
    const body = { ...(current as unknown as JsonObject), metadata: { name: 'renamed' } };
    await assert.rejects(vvp.replaceDeployment('default', name, body), (e: unknown) => e instanceof VvpApiError && e.status === 400 && !e.outcomeUnknown && /metadata\.name cannot be changed/.test(e.message));
  });

  it('refuses to delete a deployment meant to run (409), deletes it once CANCELLED, and then finds nothing to delete', async () => {
    const name = unique('delete');
    await sim.control.seedDeployment({ name, jarUri: JAR, behaviour: QUICK });
    await assert.rejects(vvp.deleteDeployment('default', name), (e: unknown) => {
      assert.ok(e instanceof VvpApiError);
      assert.equal(e.status, 409);
      assert.equal(e.outcomeUnknown, false);
      assert.match(e.message, /desired state RUNNING/);
      assert.match(e.message, /only when its desired state \(spec\.state\) is CANCELLED or SUSPENDED/);
      return true;
    });
    await vvp.patchDeployment('default', name, { spec: { state: 'CANCELLED' } });
    assert.equal(await vvp.deleteDeployment('default', name), true);
    assert.equal(await vvp.getDeployment('default', name), undefined);
    assert.equal(await vvp.deleteDeployment('default', name), false);
  });

  it('takes a savepoint of the running job, reads it by id and lists it by deployment and job', async () => {
    const name = unique('savepoint');
    const seeded = await sim.control.seedDeployment({ name, jarUri: JAR, behaviour: QUICK });
    const deploymentId = seeded.metadata.id;
    const jobId = (await vvp.getDeployment('default', name))?.status?.running?.jobId;
    assert.ok(jobId);

    const savepoint = await vvp.createSavepoint('default', { metadata: { deploymentId } });
    assert.equal(savepoint.metadata.deploymentId, deploymentId);
    assert.equal(savepoint.metadata.origin, 'USER_REQUEST');

    const read = await vvp.getSavepoint('default', savepoint.metadata.id);
    assert.equal(read?.metadata.id, savepoint.metadata.id);
    const listed = await vvp.listSavepoints('default', { deploymentId });
    assert.ok(listed.some((s) => s.metadata.id === savepoint.metadata.id));
    const ofJob = await vvp.listSavepoints('default', { deploymentId, jobId });
    assert.ok(ofJob.every((s) => s.metadata.jobId === jobId) && ofJob.some((s) => s.metadata.id === savepoint.metadata.id));
    assert.deepEqual(await vvp.listSavepoints('default', { deploymentId, jobId: randomUUID() }), []);

    const gets = await sim.control.requests({ method: 'GET', path: '/savepoints' });
    assert.ok(gets.some((r) => r.query.deploymentId === deploymentId && r.query.jobId === jobId), 'filters travel as query parameters');
  });

  it('answers undefined for a savepoint that does not exist', async () => {
    assert.equal(await vvp.getSavepoint('default', randomUUID()), undefined);
  });

  it('reports a savepoint request for a deployment without a running job as a 409, sent once', async () => {
    const name = unique('no-job');
    const seeded = await sim.control.seedDeployment({ name, jarUri: JAR, state: 'CANCELLED' });
    const before = (await sim.control.requests({ method: 'POST', path: '/savepoints' })).length;
    await assert.rejects(vvp.createSavepoint('default', { metadata: { deploymentId: seeded.metadata.id } }), (e: unknown) => e instanceof VvpApiError && e.status === 409 && !e.outcomeUnknown);
    assert.equal((await sim.control.requests({ method: 'POST', path: '/savepoints' })).length, before + 1);
  });
});
