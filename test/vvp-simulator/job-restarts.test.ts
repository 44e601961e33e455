import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../tasks/common/vvp/resources';
import { InMemoryVvp } from '../support/in-memory-vvp';
import type { DeploymentCondition } from './resources';
import { loadScenario } from './scenario';
import { JAR_A, JAR_B, deploymentBody, jarPatch, startTestSimulator } from './sim-harness';

const NS = 'default';

/** The harness bodies, typed for the VvpApi methods. */
const upgradeTo = (jarUri: string): JsonObject => jarPatch(jarUri) as JsonObject;

function conditionsOf(vvp: InMemoryVvp, name: string): Record<string, DeploymentCondition> {
  return Object.fromEntries((vvp.truth(NS, name).conditions ?? []).map((c) => [c.type, c]));
}

/** Upgrades `name` to JAR_B and lets virtual time run until the new job is STARTED; returns its id and start time. */
async function upgradeAndStart(vvp: InMemoryVvp, name: string): Promise<{ jobId: string; startedAt: number }> {
  const oldJobId = vvp.truth(NS, name).statusJobId;
  await vvp.patchDeployment(NS, name, upgradeTo(JAR_B));
  for (;;) {
    const truth = vvp.truth(NS, name);
    if (truth.statusState === 'RUNNING' && truth.statusJobId !== oldJobId && truth.runningJob) {
      const job = await vvp.getJob(NS, truth.runningJob.id);
      return { jobId: truth.runningJob.id, startedAt: Date.parse(job?.status?.started?.startedAt ?? '') };
    }
    await vvp.clock.sleep(100);
  }
}

describe('Flink job restarts while a deployment runs', () => {
  it('shows ClusterUnreachable and JobFailing False on every RUNNING deployment: seeded, created and upgraded', async () => {
    const vvp = new InMemoryVvp();
    vvp.seedDeployment({ name: 'seeded', jarUri: JAR_A });
    await vvp.createDeployment(NS, deploymentBody('created', JAR_A) as JsonObject);
    vvp.seedDeployment({ name: 'upgraded', jarUri: JAR_A });
    await vvp.patchDeployment(NS, 'upgraded', upgradeTo(JAR_B));
    await vvp.clock.sleep(10_000);
    for (const name of ['seeded', 'created', 'upgraded']) {
      const deployment = await vvp.getDeployment(NS, name);
      assert.equal(deployment?.status?.state, 'RUNNING', name);
      const conditions = deployment?.status?.running?.conditions ?? [];
      assert.deepEqual(conditions.map((c) => [c.type, c.status]), [['ClusterUnreachable', 'False'], ['JobFailing', 'False']], name);
      for (const c of conditions) assert.ok(c.lastTransitionTime && c.lastUpdateTime, `${name}: ${c.type} has its times`);
    }
  });

  it('keeps a crash-looping deployment RUNNING while observedFlinkJobRestarts grows and JobFailing is True with reason, message and times', async () => {
    const vvp = new InMemoryVvp();
    vvp.seedDeployment({ name: 'crash', jarUri: JAR_A, behaviour: { outcomeQueue: ['crashLoops'], restartIntervalMs: 3000, restartFailure: { reason: 'FlinkJobRestarting', message: 'java.lang.IllegalStateException: bad record' } } });
    const { jobId, startedAt } = await upgradeAndStart(vvp, 'crash');
    assert.equal(conditionsOf(vvp, 'crash').JobFailing.status, 'False', 'the job starts healthy');

    const seen: string[] = [];
    while (vvp.clock.now() < startedAt + 10_000) {
      await vvp.clock.sleep(500);
      const job = await vvp.getJob(NS, jobId);
      const deployment = await vvp.getDeployment(NS, 'crash');
      const failing = deployment?.status?.running?.conditions?.find((c) => c.type === 'JobFailing');
      const line = `${deployment?.status?.state} ${job?.status?.state} restarts=${job?.status?.started?.observedFlinkJobRestarts} ${job?.status?.started?.observedFlinkJobStatus} JobFailing=${failing?.status}`;
      if (seen.at(-1)?.endsWith(line) !== true) seen.push(`${Math.round((vvp.clock.now() - startedAt) / 100) * 100} ${line}`);
    }
    assert.deepEqual(seen, [
      '500 RUNNING STARTED restarts=0 RUNNING JobFailing=False',
      '3000 RUNNING STARTED restarts=1 RESTARTING JobFailing=True',
      '6000 RUNNING STARTED restarts=2 RESTARTING JobFailing=True',
      '9000 RUNNING STARTED restarts=3 RESTARTING JobFailing=True',
    ]);
    const jobFailing = conditionsOf(vvp, 'crash').JobFailing;
    assert.equal(jobFailing.reason, 'FlinkJobRestarting');
    assert.equal(jobFailing.message, 'java.lang.IllegalStateException: bad record');
    assert.equal(Math.floor(Date.parse(jobFailing.lastTransitionTime)), startedAt + 3000, 'lastTransitionTime: when it turned True');
    assert.equal(Math.floor(Date.parse(jobFailing.lastUpdateTime)), startedAt + 9000, 'lastUpdateTime: the latest restart');
    assert.equal(vvp.truth(NS, 'crash').jobs.at(-1)?.restarts, 3);
    assert.equal(vvp.truth(NS, 'crash').jobs.at(-1)?.flinkStatus, 'RESTARTING');
  });

  it('restarts a restartsOnce job once and lets it recover: JobFailing True for one interval, then False, one restart', async () => {
    const vvp = new InMemoryVvp();
    vvp.seedDeployment({ name: 'blip', jarUri: JAR_A, behaviour: { outcomeQueue: ['restartsOnce'], restartIntervalMs: 4000 } });
    const { jobId, startedAt } = await upgradeAndStart(vvp, 'blip');
    const observe = async (atInMs: number): Promise<string> => {
      await vvp.clock.sleep(startedAt + atInMs - vvp.clock.now());
      const job = await vvp.getJob(NS, jobId);
      return `restarts=${job?.status?.started?.observedFlinkJobRestarts} ${job?.status?.started?.observedFlinkJobStatus} JobFailing=${conditionsOf(vvp, 'blip').JobFailing.status}`;
    };
    assert.equal(await observe(3999), 'restarts=0 RUNNING JobFailing=False');
    assert.equal(await observe(4001), 'restarts=1 RESTARTING JobFailing=True');
    assert.equal(await observe(8001), 'restarts=1 RUNNING JobFailing=False');
    assert.equal(await observe(60_000), 'restarts=1 RUNNING JobFailing=False');
    const jobFailing = conditionsOf(vvp, 'blip').JobFailing;
    assert.equal(Math.floor(Date.parse(jobFailing.lastTransitionTime)), startedAt + 8000, 'back to False at the recovery');
    assert.equal(jobFailing.reason, '');
    assert.equal((await vvp.getDeployment(NS, 'blip'))?.status?.state, 'RUNNING');
  });

  it('ends the crash loop when the job is replaced, and the next job starts with no restarts', async () => {
    const vvp = new InMemoryVvp();
    vvp.seedDeployment({ name: 'replaced', jarUri: JAR_A, behaviour: { outcomeQueue: ['crashLoops'], restartIntervalMs: 1000 } });
    const { jobId: broken } = await upgradeAndStart(vvp, 'replaced');
    await vvp.clock.sleep(3500);
    await vvp.patchDeployment(NS, 'replaced', upgradeTo(JAR_A));
    // During the stale window the status still shows the failing job, which keeps restarting.
    await vvp.clock.sleep(1000);
    const stale = await vvp.getDeployment(NS, 'replaced');
    assert.equal(stale?.status?.running?.jobId, broken);
    assert.equal(stale?.status?.running?.conditions?.find((c) => c.type === 'JobFailing')?.status, 'True');
    await vvp.clock.sleep(10_000);
    const truth = vvp.truth(NS, 'replaced');
    assert.equal(truth.runningJob?.jarUri, JAR_A);
    const brokenRestarts = truth.jobs.find((j) => j.id === broken)?.restarts;
    await vvp.clock.sleep(10_000);
    const later = vvp.truth(NS, 'replaced');
    assert.equal(later.jobs.find((j) => j.id === broken)?.state, 'TERMINATED');
    assert.equal(later.jobs.find((j) => j.id === broken)?.restarts, brokenRestarts, 'a terminated job restarts no more');
    assert.equal(later.jobs.at(-1)?.restarts, 0);
    assert.equal(conditionsOf(vvp, 'replaced').JobFailing.status, 'False');
  });

  it('reports Flink restarts over HTTP and in the truth', async () => {
    const sim = await startTestSimulator();
    try {
      await sim.control.seedDeployment({ name: 'looping', jarUri: JAR_A, behaviour: { outcomeQueue: ['crashLoops'], restartIntervalMs: 20 } });
      await sim.api('PATCH', 'deployments/looping', { body: jarPatch(JAR_B) });
      const truth = await sim.control.waitFor('default', 'looping', (t) => t.runningJob?.jarUri === JAR_B && (t.jobs.at(-1)?.restarts ?? 0) >= 3);
      assert.equal(truth.statusState, 'RUNNING');
      assert.equal(truth.conditions?.find((c) => c.type === 'JobFailing')?.status, 'True');
      const job = (await sim.api('GET', `jobs/${truth.runningJob?.id}`)).json;
      assert.ok(job.status.started.observedFlinkJobRestarts >= 3);
      const deployment = (await sim.api('GET', 'deployments/looping')).json;
      assert.equal(deployment.status.state, 'RUNNING');
      assert.equal(deployment.status.running.conditions.find((c: DeploymentCondition) => c.type === 'JobFailing').status, 'True');
    } finally {
      await sim.stop();
    }
  });

  it('accepts the restart and checkpoint behaviour fields and rejects bad values', async () => {
    const sim = await startTestSimulator();
    try {
      const behaviour = await sim.control.setBehaviour({ restartIntervalMs: 500, retainedCheckpoints: false, restartFailure: { message: 'boom' } as never, outcome: 'restartsOnce' });
      assert.equal(behaviour.restartIntervalMs, 500);
      assert.equal(behaviour.retainedCheckpoints, false);
      assert.deepEqual(behaviour.restartFailure, { reason: 'FlinkJobRestarting', message: 'boom' });
      assert.equal(behaviour.outcome, 'restartsOnce');
      await assert.rejects(sim.control.setBehaviour({ retainedCheckpoints: 'yes' as never }), /retainedCheckpoints must be true or false/);
      await assert.rejects(sim.control.setBehaviour({ outcome: 'explodes' as never }), /crashLoops, restartsOnce/);
    } finally {
      await sim.stop();
    }
  });

  it('crash-loops every upgrade of the crash-loop scenario and runs the rollback to commit 0000000 healthy', async () => {
    const vvp = new InMemoryVvp(loadScenario(join(__dirname, '..', '..', '..', 'test', 'vvp-simulator', 'scenarios', 'crash-loop.yaml')));
    const name = 'top-speed-windowing';
    const good = vvp.truth(NS, name).specJarUri as string;
    const { jobId } = await upgradeAndStart(vvp, name);
    await vvp.clock.sleep(10_000);
    const broken = vvp.truth(NS, name);
    assert.equal(broken.statusState, 'RUNNING');
    assert.equal(broken.jobs.find((j) => j.id === jobId)?.restarts, 6, 'one restart every 1.5 s');
    assert.match(broken.conditions?.find((c) => c.type === 'JobFailing')?.message ?? '', /NullPointerException/);
    await vvp.patchDeployment(NS, name, upgradeTo(good));
    await vvp.clock.sleep(20_000);
    const back = vvp.truth(NS, name);
    assert.equal(back.runningJob?.jarUri, good);
    assert.equal(back.jobs.at(-1)?.restarts, 0);
    assert.equal(back.conditions?.find((c) => c.type === 'JobFailing')?.status, 'False');
  });
});
