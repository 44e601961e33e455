/**
 * A plan is the deploy stopped before its first write: for every case of the table, `action:
 * plan` and `action: deploy` run on identical in-memory VVPs, and the plan must say what the
 * deploy then does — refuse (and write nothing), find nothing to change, or change the same
 * number of fields with the same effect on the running job.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../tasks/common/vvp/resources';
import { runAction } from '../../tasks/VvpDeploy/VvpDeployV1/action';
import type { DeployResult } from '../../tasks/VvpDeploy/VvpDeployV1/deploy-result';
import type { DeployConfig } from '../../tasks/VvpDeploy/VvpDeployV1/inputs';
import { runPlan } from '../../tasks/VvpDeploy/VvpDeployV1/plan';
import { InMemoryVvp } from '../support/in-memory-vvp';
import { MemoryLogger } from '../support/memory-logger';
import { deployConfig } from './deploy-config';

const NAME = 'top-speed-windowing';
const blob = (build: string): string => `wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing-${build}.jar`;
const OLD_JAR = `${blob('0000000')}?commit=0000000`;
const NEW_JAR = `${blob('abc1234')}?commit=abc1234`;
const FULL_SPEC = { kind: 'Deployment', spec: { template: { spec: { artifact: { kind: 'JAR', jarUri: 'JARURI' } } } } } as JsonObject;

interface Case {
  name: string;
  /** The deployment before the step; null: it does not exist. */
  seed: Partial<Parameters<InMemoryVvp['seedDeployment']>[0]> | null;
  config?: Partial<DeployConfig>;
}

const CASES: Case[] = [
  { name: 'a RUNNING deployment onto a new jarUri', seed: {} },
  { name: 'a RUNNING deployment already on the jarUri', seed: { jarUri: NEW_JAR } },
  { name: 'upgradeStrategy NONE on a RUNNING deployment', seed: { upgradeStrategy: 'NONE' } },
  { name: 'upgradeStrategy NONE asked for with the change', seed: {}, config: { upgradeStrategy: undefined, specFile: { path: 'd.yaml', document: { spec: { upgradeStrategy: { kind: 'NONE' }, template: { spec: { artifact: { jarUri: 'JARURI' } } } } } } } },
  { name: 'a SUSPENDED deployment with a jar-only change', seed: { state: 'SUSPENDED' } },
  { name: 'a SUSPENDED deployment with spec.state RUNNING in the file', seed: { state: 'SUSPENDED' }, config: { specFile: { path: 'd.yaml', document: { spec: { state: 'RUNNING', template: { spec: { artifact: { jarUri: 'JARURI' } } } } } } } },
  { name: 'a CANCELLED deployment with a jar-only change', seed: { state: 'CANCELLED' } },
  { name: 'a FAILED deployment onto a new jarUri', seed: { state: 'FAILED' } },
  { name: 'a FAILED deployment already on the jarUri', seed: { state: 'FAILED', jarUri: NEW_JAR } },
  { name: 'a spec file that sets spec.state SUSPENDED', seed: {}, config: { specFile: { path: 'd.yaml', document: { spec: { state: 'SUSPENDED', template: { spec: { artifact: { jarUri: 'JARURI' } } } } } } } },
  { name: 'the same, with waitForRunning false', seed: {}, config: { waitForRunning: false, specFile: { path: 'd.yaml', document: { spec: { state: 'SUSPENDED', template: { spec: { artifact: { jarUri: 'JARURI' } } } } } } } },
  { name: 'a strategy change only', seed: { jarUri: NEW_JAR }, config: { upgradeStrategy: 'STATELESS' } },
  { name: 'a missing deployment with a full spec file', seed: null, config: { specFile: { path: 'd.yaml', document: FULL_SPEC } } },
  { name: 'a missing deployment without a spec file', seed: null },
  { name: 'a missing deployment with createIfMissing false', seed: null, config: { createIfMissing: false, specFile: { path: 'd.yaml', document: FULL_SPEC } } },
  { name: 'a missing deployment named by id', seed: null, config: { deployment: '0f0e0d0c-0b0a-4908-8706-050403020100', deploymentIsId: true, specFile: { path: 'd.yaml', document: FULL_SPEC } } },
  { name: 'a missing deployment whose spec file sets spec.state CANCELLED', seed: null, config: { specFile: { path: 'd.yaml', document: { ...FULL_SPEC, spec: { state: 'CANCELLED', template: { spec: { artifact: { jarUri: 'JARURI' } } } } } } } },
];

async function run(c: Case, action: 'plan' | 'deploy'): Promise<{ result: DeployResult; writes: number }> {
  const vvp = new InMemoryVvp();
  if (c.seed) vvp.seedDeployment({ name: NAME, jarUri: OLD_JAR, ...c.seed });
  const config = deployConfig({ deployment: NAME, jarUri: NEW_JAR, vvpUrl: new URL('https://vvp.example.com'), timeoutInMs: 120_000, ...c.config, action });
  const deps = { vvp, clock: vvp.clock, logger: new MemoryLogger(), registerSecret: () => undefined };
  const result = action === 'plan' ? await runPlan(config, deps) : await runAction(config, deps);
  const writes = vvp.requests().filter((r) => r.method !== 'GET').length;
  return { result, writes };
}

describe('plan and deploy make one decision', () => {
  for (const c of CASES) {
    it(`agree on ${c.name}`, async () => {
      const plan = await run(c, 'plan');
      const deploy = await run(c, 'deploy');
      assert.equal(plan.writes, 0, 'a plan never writes');
      const planRefuses = plan.result.outcome === 'blocked' || plan.result.outcome === 'error';
      const deployRefusedBeforeWriting = deploy.writes === 0 && (deploy.result.outcome === 'blocked' || deploy.result.outcome === 'error');
      assert.equal(planRefuses, deployRefusedBeforeWriting, `plan: ${plan.result.outcome} (${plan.result.message}); deploy: ${deploy.result.outcome} after ${deploy.writes} writes (${deploy.result.message})`);
      if (planRefuses) {
        assert.ok(plan.result.error, 'a refusing plan fails the step');
        return;
      }
      if (deploy.result.outcome === 'upToDate') assert.equal(plan.result.planChanges ?? 0, 0, plan.result.message);
      if (c.seed) {
        assert.equal(plan.result.planChanges, deploy.result.planChanges, 'the same fields change');
        assert.equal(plan.result.restartRequired, deploy.result.restartRequired, 'the same effect on the running job');
      }
    });
  }
});
