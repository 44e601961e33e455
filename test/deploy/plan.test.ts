import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../tasks/common/errors/errors';
import { MemoryLogger } from '../support/memory-logger';
import type { JsonObject } from '../../tasks/common/vvp/resources';
import type { DeployConfig } from '../../tasks/VvpDeploy/VvpDeployV1/inputs';
import { runPlan } from '../../tasks/VvpDeploy/VvpDeployV1/plan';
import { deployOutputs } from '../../tasks/VvpDeploy/VvpDeployV1/summary';
import { InMemoryVvp } from '../support/in-memory-vvp';
import { deployConfig } from './deploy-config';

const BASE = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing.jar';
const NAME = 'top-speed-windowing';

function plan(overrides: Partial<DeployConfig>, vvp?: InMemoryVvp, offlineReason?: string) {
  const logger = new MemoryLogger();
  const clock = vvp?.clock ?? { now: () => 0, sleep: async () => undefined };
  const config = deployConfig({ action: 'plan', deployment: NAME, jarUri: `${BASE}?commit=new`, ...overrides });
  return runPlan(config, { vvp, offlineReason, clock, logger }).then((result) => ({ result, logger, outputs: Object.fromEntries(Object.entries(deployOutputs(result)).map(([k, v]) => [k, v.value])) }));
}

const spec = (document: JsonObject) => ({ specFile: { path: '/src/vvp/deployment.yaml', document } });

describe('action: plan', () => {
  it('offline: validates the spec file and shows the PATCH body, with no VVP at all', async () => {
    const { result, logger } = await plan({ online: false, ...spec({ spec: { template: { spec: { parallelism: 2 } } } }) });
    assert.equal(result.outcome, 'planned');
    assert.equal(result.error, undefined);
    assert.ok(logger.lines.some((l) => /is a valid VVP Deployment/.test(l)));
    assert.ok(logger.lines.some((l) => /"parallelism": 2/.test(l)));
    assert.match(result.message, /Plan \(offline\)/);
    assert.match(result.planMarkdown ?? '', /```json/);
  });

  it('offline: fails on an invalid spec, naming every problem with its path and the accepted form', async () => {
    const { result } = await plan({
      online: false,
      ...spec({ spec: { paralelism: 2, upgradeStrategy: { kind: 'STATEFULL' }, template: { spec: { parallelism: 'two' } } } }),
    });
    assert.ok(result.error instanceof InputError, result.message);
    assert.match(result.message, /spec\.paralelism/);
    assert.match(result.message, /spec\.upgradeStrategy\.kind.*STATEFUL, STATELESS, NONE/);
    assert.match(result.message, /spec\.template\.spec\.parallelism.*integer/);
  });

  it('online: shows the change as a diff, reads only, and counts the changed fields', async () => {
    const vvp = new InMemoryVvp();
    vvp.seedDeployment({ name: NAME, jarUri: `${BASE}?commit=old` });
    const { result, logger, outputs } = await plan({ runAnnotations: { 'azure-pipelines/run': '7' } }, vvp);
    assert.equal(result.outcome, 'planned', result.message);
    assert.ok(logger.lines.some((l) => l.includes(`~ spec.template.spec.artifact.jarUri: ${BASE}?commit=old → ${BASE}?commit=new`)), logger.lines.join('\n'));
    assert.deepEqual([outputs.planChanges, outputs.restartRequired], ['1', 'true']);
    assert.ok(vvp.requests({}).every((r) => r.method === 'GET'), 'never a write');
    assert.match(result.planMarkdown ?? '', /```diff\n~ spec\.template\.spec\.artifact\.jarUri/);
  });

  it('online: says the deployment is up to date (planChanges 0) when only the run annotations would differ', async () => {
    const vvp = new InMemoryVvp();
    vvp.seedDeployment({ name: NAME, jarUri: `${BASE}?commit=new` });
    const { outputs, result } = await plan({ runAnnotations: { 'azure-pipelines/run': '8' } }, vvp);
    assert.equal(outputs.planChanges, '0');
    assert.equal(outputs.restartRequired, 'false');
    assert.match(result.message, /up to date/);
  });

  it('online: says it would create a missing deployment from the spec file', async () => {
    const vvp = new InMemoryVvp();
    const { result } = await plan(spec({ spec: { template: { spec: { artifact: { kind: 'JAR', jarUri: 'JARURI' } } } } }), vvp);
    assert.match(result.message, /does not exist; creating it would set/);
    assert.equal(vvp.requests({ method: 'POST' }).length, 0);
  });

  it('a token source that failed is a warning, and the offline plan still runs (SucceededWithIssues)', async () => {
    const { result, logger } = await plan({}, undefined, 'the token source failed: Key Vault: 403');
    assert.equal(result.outcome, 'planned');
    assert.equal(result.withIssues, true);
    assert.ok(logger.lines.some((l) => /^warning: Offline plan only: the token source failed/.test(l)));
  });

  it('masks a SAS in the jarUri in the log and the summary', async () => {
    const sas = 'https://acct.blob.core.windows.net/vvp/app.jar?sv=2022-11-02&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D&commit=new';
    const { logger, result } = await plan({ online: false, jarUri: sas });
    const all = [...logger.lines, result.planMarkdown ?? ''].join('\n');
    assert.ok(!all.includes('c2VjcmV0LXNpZ25hdHVyZQ'), all);
    assert.ok(all.includes('sig=***'));
  });
});
