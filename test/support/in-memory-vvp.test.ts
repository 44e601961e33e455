import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VvpApiError } from '../../tasks/common/vvp/errors';
import type { Deployment } from '../../tasks/common/vvp/resources';
import { InMemoryVvp } from './in-memory-vvp';

const JAR_A = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing.jar?commit=aaaaaaa';
const JAR_B = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing.jar?commit=bbbbbbb';
const NS = 'default';
const NAME = 'top-speed-windowing';

function jarPatch(jarUri: string): { spec: { template: { spec: { artifact: { jarUri: string } } } } } {
  return { spec: { template: { spec: { artifact: { jarUri } } } } };
}

/** "RUNNING old job", "TRANSITIONING", "RUNNING new job", ... as a poller would tell them apart. */
function describeState(deployment: Deployment | undefined, oldJobId: string | undefined): string {
  const state = deployment?.status?.state ?? 'absent';
  if (state !== 'RUNNING') return state;
  return deployment?.status?.running?.jobId === oldJobId ? 'RUNNING old job' : 'RUNNING new job';
}

async function rejection(promise: Promise<unknown>): Promise<VvpApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof VvpApiError, `expected a VvpApiError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('InMemoryVvp on virtual time', () => {
  it('runs a full STATEFUL upgrade with VVP timings (stale RUNNING window, TRANSITIONING, new job STARTED) in well under a second', async () => {
    const realStart = performance.now();
    const vvp = new InMemoryVvp();
    const seeded = vvp.seedDeployment({ name: NAME, jarUri: JAR_A });
    const oldJobId = seeded.status?.running?.jobId;
    const start = vvp.clock.now();

    const answer = await vvp.patchDeployment(NS, NAME, jarPatch(JAR_B));
    assert.equal(describeState(answer, oldJobId), 'RUNNING old job', 'the PATCH answer still shows the old job');
    assert.equal(answer.spec.template && (answer.spec as any).template.spec.artifact.jarUri, JAR_B);

    const seen: string[] = [];
    let current: Deployment | undefined;
    for (;;) {
      current = await vvp.getDeployment(NS, NAME);
      const label = `${describeState(current, oldJobId)} at ${vvp.clock.now() - start} ms`;
      if (seen.at(-1)?.split(' at ')[0] !== label.split(' at ')[0]) seen.push(label);
      if (label.startsWith('RUNNING new job')) break;
      await vvp.clock.sleep(250);
    }
    // Defaults: 2 s stale window, 1 s savepoint, 0.5 s terminate, 1.5 s start.
    assert.deepEqual(seen, ['RUNNING old job at 0 ms', 'TRANSITIONING at 2000 ms', 'RUNNING new job at 5000 ms']);

    const newJob = await vvp.getJob(NS, current?.status?.running?.jobId as string);
    assert.equal(newJob?.status?.state, 'STARTED');
    assert.equal((newJob?.spec as any).artifact.jarUri, JAR_B);
    const upgradeSavepoints = await vvp.listSavepoints(NS, { deploymentId: seeded.metadata.id, jobId: oldJobId });
    assert.equal(upgradeSavepoints.length, 1);
    assert.equal(upgradeSavepoints[0].status?.state, 'COMPLETED');
    assert.equal(newJob?.spec?.savepointLocation, upgradeSavepoints[0].spec?.savepointLocation, 'the new job restored the upgrade savepoint');
    assert.equal((await vvp.getJob(NS, oldJobId as string))?.status?.state, 'TERMINATED');
    assert.ok(performance.now() - realStart < 1000, `took ${Math.round(performance.now() - realStart)} ms of real time`);
  });

  it('runs 15 minutes of a crash-looping job in well under a second: RUNNING throughout, restarts growing, JobFailing True', async () => {
    const realStart = performance.now();
    const vvp = new InMemoryVvp();
    const seeded = vvp.seedDeployment({ name: NAME, jarUri: JAR_A, behaviour: { outcomeQueue: ['crashLoops'], restartIntervalMs: 10_000 } });
    await vvp.patchDeployment(NS, NAME, jarPatch(JAR_B));
    let deployment = await vvp.getDeployment(NS, NAME);
    while (describeState(deployment, seeded.status?.running?.jobId) !== 'RUNNING new job') {
      await vvp.clock.sleep(5000);
      deployment = await vvp.getDeployment(NS, NAME);
    }
    const jobId = deployment?.status?.running?.jobId as string;
    // When the job really started (the poll that saw it may come later).
    const startedAt = Date.parse((await vvp.getJob(NS, jobId))?.status?.started?.startedAt ?? '');
    const restarts: number[] = [];
    while (vvp.clock.now() - startedAt < 15 * 60_000) {
      await vvp.clock.sleep(5000);
      deployment = await vvp.getDeployment(NS, NAME);
      assert.equal(deployment?.status?.state, 'RUNNING', 'VVP keeps a restarting job RUNNING');
      assert.equal(deployment?.status?.running?.jobId, jobId);
      restarts.push((await vvp.getJob(NS, jobId))?.status?.started?.observedFlinkJobRestarts ?? -1);
    }
    assert.equal(restarts.at(-1), 90, 'one restart every 10 s for 15 minutes');
    assert.ok(restarts.every((n, i) => i === 0 || n >= restarts[i - 1]));
    const jobFailing = deployment?.status?.running?.conditions?.find((c) => c.type === 'JobFailing');
    assert.equal(jobFailing?.status, 'True');
    assert.equal(jobFailing?.reason, 'FlinkJobRestarting');
    assert.equal(Math.floor(Date.parse(jobFailing?.lastTransitionTime ?? '')), startedAt + 10_000, 'it turned True at the first restart');
    assert.equal(Math.floor(Date.parse(jobFailing?.lastUpdateTime ?? '')), startedAt + 15 * 60_000, 'and was updated at the last one');
    assert.ok(performance.now() - realStart < 1000, `took ${Math.round(performance.now() - realStart)} ms of real time`);
  });

  it('produces the same events at the same virtual times on every run', async () => {
    const run = async (): Promise<string[]> => {
      const vvp = new InMemoryVvp();
      const seeded = vvp.seedDeployment({ name: NAME, jarUri: JAR_A, behaviour: { outcomeQueue: ['restartsOnce'] } });
      await vvp.patchDeployment(NS, NAME, jarPatch(JAR_B));
      await vvp.clock.sleep(20_000);
      await vvp.patchDeployment(NS, NAME, { spec: { state: 'SUSPENDED' } });
      await vvp.clock.sleep(20_000);
      const events = await vvp.listEvents(NS, seeded.metadata.id);
      return events.map((e) => `${e.metadata.createdAt} ${e.metadata.name}`);
    };
    const first = await run();
    assert.ok(first.length > 15);
    assert.deepEqual(await run(), first);
  });

  it('answers undefined or false for what does not exist and throws VvpApiError with VVP status and message for refused writes', async () => {
    const vvp = new InMemoryVvp();
    assert.equal(await vvp.getDeployment(NS, 'nope'), undefined);
    assert.equal(await vvp.getDeployment('no-such-namespace', NAME), undefined);
    assert.equal(await vvp.getJob(NS, '00000000-0000-4000-8000-000000000000'), undefined);
    assert.equal(await vvp.getSavepoint(NS, '00000000-0000-4000-8000-000000000000'), undefined);
    assert.equal(await vvp.deleteDeployment(NS, 'nope'), false);

    const seeded = vvp.seedDeployment({ name: NAME, jarUri: JAR_A });
    const running = await rejection(vvp.deleteDeployment(NS, NAME));
    assert.equal(running.status, 409);
    assert.match(running.serviceMessage ?? '', /CANCELLED or SUSPENDED/);
    assert.equal(running.outcomeUnknown, false);
    const duplicate = await rejection(vvp.createDeployment(NS, { metadata: { name: NAME }, spec: { template: { spec: { artifact: { kind: 'JAR', jarUri: JAR_A } } } } }));
    assert.equal(duplicate.status, 409);
    const badJob = await rejection(vvp.getJob(NS, 'not-a-uuid'));
    assert.equal(badJob.status, 400);
    const noJob = await rejection(vvp.createSavepoint(NS, { metadata: { deploymentId: '00000000-0000-4000-8000-000000000000' } }));
    assert.equal(noJob.status, 404);

    await vvp.patchDeployment(NS, NAME, { spec: { state: 'CANCELLED' } });
    await vvp.clock.sleep(10_000);
    assert.equal(await vvp.deleteDeployment(NS, seeded.metadata.id), true);
    assert.equal(await vvp.getDeployment(NS, NAME), undefined);
  });

  it('merges a PATCH but replaces with a PUT, and hands out copies the caller cannot use to change its state', async () => {
    const vvp = new InMemoryVvp();
    vvp.seedDeployment({ name: NAME, jarUri: JAR_A, labels: { app: 'tsw', team: 'flink' }, spec: { template: { spec: { flinkConfiguration: { 'taskmanager.numberOfTaskSlots': '2' } } } } });
    const patched = await vvp.patchDeployment(NS, NAME, { metadata: { labels: { stage: 'prod' } } });
    assert.deepEqual(patched.metadata.labels, { app: 'tsw', team: 'flink', stage: 'prod' }, 'a merge PATCH keeps keys it does not name');

    const before = (await vvp.getDeployment(NS, NAME)) as Deployment;
    (before.spec as any).template.spec.artifact.jarUri = 'file:///tampered.jar';
    (before.metadata.labels as Record<string, string>).tampered = 'yes';
    const reread = (await vvp.getDeployment(NS, NAME)) as Deployment;
    assert.equal((reread.spec as any).template.spec.artifact.jarUri, JAR_A);
    assert.equal(reread.metadata.labels?.tampered, undefined);

    const body = { metadata: { name: NAME, labels: { app: 'tsw' } }, spec: { template: { spec: { artifact: { kind: 'JAR', jarUri: JAR_A } } } } };
    const replaced = await vvp.replaceDeployment(NS, NAME, body);
    assert.deepEqual(replaced.metadata.labels, { app: 'tsw' }, 'PUT replaces labels');
    assert.deepEqual((replaced.spec as any).template.spec.flinkConfiguration, {}, 'and the template');
    body.metadata.labels.app = 'changed-after-the-call';
    assert.equal((await vvp.getDeployment(NS, NAME))?.metadata.labels?.app, 'tsw');
  });

  it('takes user savepoints and registers copied ones through the API', async () => {
    const vvp = new InMemoryVvp();
    const seeded = vvp.seedDeployment({ name: NAME, jarUri: JAR_A });
    const requested = await vvp.createSavepoint(NS, { metadata: { deploymentId: seeded.metadata.id } });
    assert.equal(requested.metadata.origin, 'USER_REQUEST');
    assert.equal(requested.status?.state, 'STARTED');
    assert.equal(requested.metadata.jobId, seeded.status?.running?.jobId);
    await vvp.clock.sleep(1000);
    assert.equal((await vvp.getSavepoint(NS, requested.metadata.id))?.status?.state, 'COMPLETED');

    const copied = await vvp.createSavepoint(NS, { metadata: { deploymentId: seeded.metadata.id }, spec: { savepointLocation: requested.spec?.savepointLocation as string } });
    assert.equal(copied.metadata.origin, 'COPIED');
    assert.equal(copied.status?.state, 'COMPLETED');
    assert.equal(copied.metadata.jobId, undefined);
    const all = await vvp.listSavepoints(NS, { deploymentId: seeded.metadata.id });
    assert.deepEqual(all.map((s) => s.metadata.origin), ['USER_REQUEST', 'COPIED']);
  });
});

describe('InMemoryVvp faults', () => {
  it('applies a PATCH whose answer is lost and throws a VvpApiError whose outcome is unknown', async () => {
    const vvp = new InMemoryVvp();
    vvp.seedDeployment({ name: NAME, jarUri: JAR_A });
    vvp.loseNextAnswer({ method: 'PATCH' });
    const lost = await rejection(vvp.patchDeployment(NS, NAME, jarPatch(JAR_B)));
    assert.equal(lost.outcomeUnknown, true);
    assert.equal(lost.networkCode, 'ECONNRESET');
    assert.equal(lost.status, undefined);
    const after = await vvp.getDeployment(NS, NAME);
    assert.equal((after?.spec as any).template.spec.artifact.jarUri, JAR_B, 'the write was applied');
    const [patch] = vvp.requests({ method: 'PATCH' });
    assert.equal(patch.status, null);
    assert.equal(patch.fault, 'lostResponse');
    assert.deepEqual(patch.body, jarPatch(JAR_B));
  });

  it('drops a write without applying it, which the caller cannot tell from a lost answer', async () => {
    const vvp = new InMemoryVvp();
    vvp.seedDeployment({ name: NAME, jarUri: JAR_A });
    vvp.addFault({ method: 'PATCH', action: 'dropRequest' });
    const dropped = await rejection(vvp.patchDeployment(NS, NAME, jarPatch(JAR_B)));
    assert.equal(dropped.outcomeUnknown, true);
    assert.equal((vvp.truth(NS, NAME)).specJarUri, JAR_A);
  });

  it('fails the next matching reads with a transient status, then answers again', async () => {
    const vvp = new InMemoryVvp();
    const seeded = vvp.seedDeployment({ name: NAME, jarUri: JAR_A });
    vvp.failReads({ deployment: NAME, times: 2, status: 503 });
    for (let i = 0; i < 2; i++) {
      const failed = await rejection(vvp.getDeployment(NS, NAME));
      assert.equal(failed.status, 503);
      assert.equal(failed.outcomeUnknown, false);
    }
    assert.equal((await vvp.listJobs(NS, seeded.metadata.id)).length, 1);
    assert.equal((await vvp.getDeployment(NS, NAME))?.metadata.id, seeded.metadata.id);
    assert.deepEqual(vvp.requests({ method: 'GET' }).map((r) => r.status), [503, 503, 200, 200]);
  });

  it('lets a hanging call fail at its deadline in virtual time', async () => {
    const vvp = new InMemoryVvp();
    vvp.seedDeployment({ name: NAME, jarUri: JAR_A });
    vvp.addFault({ method: 'GET', action: 'hang' });
    const deadline = vvp.clock.now() + 7000;
    const hung = await rejection(vvp.getDeployment(NS, NAME, { deadline }));
    assert.equal(hung.networkCode, 'ECONNABORTED');
    assert.equal(vvp.clock.now(), deadline);
    vvp.addFault({ method: 'GET', action: 'delay', delayMs: 1500 });
    const before = vvp.clock.now();
    assert.ok(await vvp.getDeployment(NS, NAME));
    assert.equal(vvp.clock.now() - before, 1500);
  });

  it('stops a call at once when its abort signal has fired', async () => {
    const vvp = new InMemoryVvp();
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await assert.rejects(vvp.getDeployment(NS, NAME, { abortSignal: controller.signal }), /cancelled/);
    assert.equal(vvp.requests().length, 0);
  });
});
