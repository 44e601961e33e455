import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import YAML from 'yaml';
import { JAR_A, JAR_B, deploymentBody, jarPatch, startTestSimulator, type TestSimulator } from './sim-harness';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

describe('AppManager deployment API', () => {
  let sim: TestSimulator;
  before(async () => {
    sim = await startTestSimulator();
  });
  after(() => sim.stop());
  beforeEach(() => sim.control.reset());

  it('creates a deployment with 201, server-filled metadata and expanded defaults, then runs it', async () => {
    const created = await sim.api('POST', 'deployments', { body: deploymentBody('top-speed-windowing', JAR_A) });
    assert.equal(created.status, 201);
    const d = created.json;
    assert.equal(d.kind, 'Deployment');
    assert.equal(d.apiVersion, 'v1');
    assert.match(d.metadata.id, UUID);
    assert.equal(d.metadata.namespace, 'default');
    assert.equal(d.metadata.resourceVersion, 1);
    assert.match(d.metadata.createdAt, MICROS);
    assert.equal(d.metadata.annotations['com.dataartisans.appmanager.controller.deployment.spec.version'], '1');
    assert.equal(d.status.state, 'TRANSITIONING');
    assert.equal(d.spec.maxJobCreationAttempts, 4);
    assert.equal(d.spec.template.spec.artifact.jarUri, JAR_A);
    assert.ok(d.spec.template.spec.resources.jobmanager, 'defaults are expanded');
    const targets = await sim.api('GET', 'deployment-targets');
    assert.equal(d.spec.deploymentTargetId, targets.json.items[0].metadata.id);

    const truth = await sim.control.waitFor('default', 'top-speed-windowing', (t) => t.statusState === 'RUNNING');
    const job = await sim.api('GET', `jobs/${truth.statusJobId}`);
    assert.equal(job.json.status.state, 'STARTED');
    assert.equal(job.json.spec.artifact.jarUri, JAR_A);
    assert.equal(job.json.status.started.flinkJobId, truth.statusJobId?.replace(/-/g, ''));
  });

  it('addresses a deployment by id and by name', async () => {
    const seeded = await sim.control.seedDeployment({ name: 'by-either', jarUri: JAR_A });
    const byName = await sim.api('GET', 'deployments/by-either');
    const byId = await sim.api('GET', `deployments/${seeded.metadata.id}`);
    assert.equal(byName.status, 200);
    assert.equal(byId.status, 200);
    assert.equal(byId.json.metadata.name, 'by-either');
    assert.equal(byName.json.metadata.id, seeded.metadata.id);
  });

  it('resolves only ids in idOnly (VVP 2.3) addressing mode', async () => {
    const seeded = await sim.control.seedDeployment({ name: 'legacy', jarUri: JAR_A });
    await sim.control.setConfig({ addressing: 'idOnly' });
    assert.equal((await sim.api('GET', 'deployments/legacy')).status, 404);
    assert.equal((await sim.api('GET', `deployments/${seeded.metadata.id}`)).status, 200);
  });

  it('rejects invalid names with 400 and a duplicate name with 409', async () => {
    for (const name of ['Upper', '-dash', 'dash-', 'a_b', 'x'.repeat(64), '']) {
      const answer = await sim.api('POST', 'deployments', { body: deploymentBody(name, JAR_A) });
      assert.equal(answer.status, 400, `name ${JSON.stringify(name)}`);
      assert.equal(answer.json.kind, 'Error');
      assert.equal(answer.json.statusCode, 400);
    }
    assert.equal((await sim.api('POST', 'deployments', { body: deploymentBody('x'.repeat(63), JAR_A) })).status, 201);
    await sim.control.seedDeployment({ name: 'taken', jarUri: JAR_A });
    const duplicate = await sim.api('POST', 'deployments', { body: deploymentBody('taken', JAR_B) });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.json.reason, 'Conflict');
    assert.match(duplicate.json.message, /taken/);
  });

  it('answers 400 for a name change, a malformed body or a bad enum, and 404 for unknown things', async () => {
    await sim.control.seedDeployment({ name: 'stable', jarUri: JAR_A });
    assert.equal((await sim.api('PATCH', 'deployments/stable', { body: { metadata: { name: 'renamed' } } })).status, 400);
    assert.equal((await sim.api('PATCH', 'deployments/stable', { rawBody: '{"spec": ', headers: { 'Content-Type': 'application/json' } })).status, 400);
    assert.equal((await sim.api('PATCH', 'deployments/stable', { body: { spec: { state: 'PAUSED' } } })).status, 400);
    assert.equal((await sim.api('PATCH', 'deployments/stable', { body: { spec: { upgradeStrategy: { kind: 'ROLLING' } } } })).status, 400);
    assert.equal((await sim.api('PATCH', 'deployments/stable', { body: jarPatch('not a uri') })).status, 400);
    assert.equal((await sim.api('PATCH', 'deployments/missing', { body: jarPatch(JAR_B) })).status, 404);
    assert.equal((await sim.api('GET', 'jobs/8c1f6a3e-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await sim.api('GET', '/api/v1/namespaces/nope/deployments')).status, 404);
    assert.equal((await sim.api('GET', 'jobs?deploymentId=not-a-uuid')).status, 400);
  });

  it('deep-merges a PATCH, ignores status in the body and keeps other fields', async () => {
    await sim.control.seedDeployment({ name: 'merge-me', jarUri: JAR_A, spec: { template: { spec: { flinkConfiguration: { 'a.b': '1' } } } } });
    const answer = await sim.api('PATCH', 'deployments/merge-me', {
      body: { status: { state: 'FAILED' }, metadata: { labels: { team: 'x' } }, spec: { template: { spec: { flinkConfiguration: { 'c.d': '2' } } } } },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.json.status.state, 'RUNNING');
    assert.deepEqual(answer.json.spec.template.spec.flinkConfiguration, { 'a.b': '1', 'c.d': '2' });
    assert.equal(answer.json.spec.template.spec.artifact.jarUri, JAR_A);
    assert.deepEqual(answer.json.metadata.labels, { team: 'x' });
  });

  it('bumps resourceVersion on an identical PATCH without starting a transition', async () => {
    const seeded = await sim.control.seedDeployment({ name: 'same', jarUri: JAR_A });
    const before = await sim.control.truth('default', 'same');
    const answer = await sim.api('PATCH', 'deployments/same', { body: jarPatch(JAR_A) });
    assert.equal(answer.status, 200);
    assert.equal(answer.json.metadata.resourceVersion, seeded.metadata.resourceVersion + 1);
    assert.equal(answer.json.metadata.annotations['com.dataartisans.appmanager.controller.deployment.spec.version'], '1');
    await new Promise((r) => setTimeout(r, 300));
    const after = await sim.control.truth('default', 'same');
    assert.equal(after.jobs.length, 1);
    assert.equal(after.statusJobId, before.statusJobId);
    assert.equal(after.transitionInProgress, false);
    assert.deepEqual(after.events, []);
  });

  it('refuses DELETE while RUNNING is desired and deletes a CANCELLED deployment', async () => {
    await sim.control.seedDeployment({ name: 'to-delete', jarUri: JAR_A });
    assert.equal((await sim.api('DELETE', 'deployments/to-delete')).status, 409);
    await sim.api('PATCH', 'deployments/to-delete', { body: { spec: { state: 'CANCELLED' } } });
    const deleted = await sim.api('DELETE', 'deployments/to-delete');
    assert.equal(deleted.status, 200);
    assert.equal(deleted.json.metadata.name, 'to-delete');
    assert.equal((await sim.api('GET', 'deployments/to-delete')).status, 404);
  });

  it('creates with PUT (201) and replaces with PUT (200)', async () => {
    const created = await sim.api('PUT', 'deployments/put-me', { body: deploymentBody('put-me', JAR_A) });
    assert.equal(created.status, 201);
    const replaced = await sim.api('PUT', 'deployments/put-me', { body: deploymentBody('put-me', JAR_B, { state: 'CANCELLED' }) });
    assert.equal(replaced.status, 200);
    assert.equal(replaced.json.metadata.id, created.json.metadata.id);
    assert.equal(replaced.json.spec.template.spec.artifact.jarUri, JAR_B);
    assert.equal((await sim.api('PUT', 'deployments/other-name', { body: deploymentBody('put-me', JAR_A) })).status, 400);
  });

  it('filters the deployment list by labelSelector equality', async () => {
    await sim.control.seedDeployment({ name: 'one', jarUri: JAR_A, labels: { team: 'a', tier: 'gold' } });
    await sim.control.seedDeployment({ name: 'two', jarUri: JAR_A, labels: { team: 'b' } });
    const list = await sim.api('GET', 'deployments?labelSelector=team%3Da,tier%3Dgold');
    assert.deepEqual(Object.keys(list.json).sort(), ['apiVersion', 'items', 'kind', 'metadata']);
    assert.deepEqual(list.json.items.map((d: { metadata: { name: string } }) => d.metadata.name), ['one']);
    assert.equal((await sim.api('GET', 'deployments')).json.items.length, 2);
  });

  it('accepts YAML bodies and answers YAML when Accept asks for it', async () => {
    const yamlBody = YAML.stringify(deploymentBody('yaml-in', JAR_A));
    const created = await sim.api('POST', 'deployments', {
      rawBody: yamlBody,
      headers: { 'Content-Type': 'application/yaml', Accept: 'application/yaml' },
    });
    assert.equal(created.status, 201);
    assert.match(created.headers.get('content-type') ?? '', /application\/yaml/);
    const doc = YAML.parse(created.text);
    assert.equal(doc.metadata.name, 'yaml-in');
    assert.equal(doc.spec.template.spec.artifact.jarUri, JAR_A);
    const patched = await sim.api('PATCH', 'deployments/yaml-in', {
      rawBody: `spec:\n  template:\n    spec:\n      artifact:\n        jarUri: "${JAR_B}"\n`,
      headers: { 'Content-Type': 'application/x-yaml' },
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.json.spec.template.spec.artifact.jarUri, JAR_B, 'JSON answer without a YAML Accept');
    assert.equal((await sim.api('PATCH', 'deployments/yaml-in', { rawBody: 'spec: [unclosed', headers: { 'Content-Type': 'application/yaml' } })).status, 400);
  });

  it('can answer errors as plain text', async () => {
    await sim.control.setConfig({ errorFormat: 'text' });
    const answer = await sim.api('GET', 'deployments/absent');
    assert.equal(answer.status, 404);
    assert.match(answer.headers.get('content-type') ?? '', /text\/plain/);
    assert.equal(answer.json, undefined);
    assert.match(answer.text, /absent/);
  });

  it('reports the build version and a stable default deployment target', async () => {
    const info = await sim.api('GET', '/api/v1/status/system-info');
    assert.equal(info.json.status.revisionInformation.buildVersion, '2.7.1');
    assert.equal((await sim.api('GET', '/api/v1/status')).status, 200);
    const first = (await sim.api('GET', 'deployment-targets/vvp-default')).json.metadata.id;
    await sim.control.reset();
    assert.equal((await sim.api('GET', 'deployment-targets/vvp-default')).json.metadata.id, first);
    assert.equal((await sim.api('GET', `deployment-targets/${first}`)).status, 200);
  });

  it('takes a user-requested savepoint of the running job', async () => {
    const seeded = await sim.control.seedDeployment({ name: 'snap', jarUri: JAR_A });
    const answer = await sim.api('POST', 'savepoints', { body: { metadata: { deploymentId: seeded.metadata.id } } });
    assert.equal(answer.status, 201);
    assert.equal(answer.json.metadata.origin, 'USER_REQUEST');
    assert.equal(answer.json.status.state, 'STARTED');
    const truth = await sim.control.waitFor('default', 'snap', (t) => t.savepoints[0]?.state === 'COMPLETED');
    assert.equal(truth.savepoints[0].id, answer.json.metadata.id);
  });

  it('reports a JobFailing condition set through the control API', async () => {
    await sim.control.seedDeployment({ name: 'flaky', jarUri: JAR_A });
    await sim.control.setCondition('default', 'flaky', { type: 'JobFailing', status: 'True', reason: 'Restarting', message: 'java.lang.RuntimeException: boom' });
    const d = (await sim.api('GET', 'deployments/flaky')).json;
    const condition = d.status.running.conditions.find((c: { type: string }) => c.type === 'JobFailing');
    assert.equal(condition.status, 'True');
    assert.equal(condition.message, 'java.lang.RuntimeException: boom');
    const job = (await sim.api('GET', `jobs/${d.status.running.jobId}`)).json;
    assert.equal(job.status.started.observedFlinkJobRestarts, 1);
  });

  it('lists jobs, events and savepoints filtered by deployment', async () => {
    const a = await sim.control.seedDeployment({ name: 'job-a', jarUri: JAR_A });
    await sim.control.seedDeployment({ name: 'job-b', jarUri: JAR_A });
    const jobs = await sim.api('GET', `jobs?deploymentId=${a.metadata.id}`);
    assert.equal(jobs.json.items.length, 1);
    assert.equal(jobs.json.items[0].metadata.deploymentName, 'job-a');
    assert.equal((await sim.api('GET', 'jobs')).json.items.length, 2);
    await sim.api('PATCH', 'deployments/job-a', { body: jarPatch(JAR_B) });
    await sim.control.waitFor('default', 'job-a', (t) => t.statusState === 'RUNNING' && !t.transitionInProgress);
    const events = await sim.api('GET', `events?deploymentId=${a.metadata.id}`);
    assert.ok(events.json.items.length > 5);
    for (const e of events.json.items) {
      assert.equal(e.kind, 'Event');
      assert.equal(e.metadata.deploymentId, a.metadata.id);
      assert.match(e.metadata.createdAt, MICROS);
      assert.equal(typeof e.spec.message, 'string');
    }
    const newJobId = (await sim.control.truth('default', 'job-a')).statusJobId as string;
    const byJob = await sim.api('GET', `events?deploymentId=${a.metadata.id}&jobId=${newJobId}`);
    assert.ok(byJob.json.items.every((e: { metadata: { jobId: string } }) => e.metadata.jobId === newJobId));
    const savepoints = await sim.api('GET', `savepoints?deploymentId=${a.metadata.id}`);
    assert.equal(savepoints.json.items.length, 1);
    const savepoint = await sim.api('GET', `savepoints/${savepoints.json.items[0].metadata.id}`);
    assert.equal(savepoint.json.status.state, 'COMPLETED');
  });
});
