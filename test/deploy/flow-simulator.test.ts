/**
 * A few end-to-end runs of the deploy flow with the real VvpClient against the VVP simulator (a
 * child process on a loopback port): real HTTP, real timers and sockets, for what only they
 * show (the token on the wire, auth errors, retries of real 503/429 answers, a socket lost
 * after the PATCH was applied, a hanging PATCH). The flow's decisions are tested fast, on the
 * in-memory VVP, in flow.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CancelledError } from '../../tasks/common/errors/errors';
import { MemoryLogger } from '../support/memory-logger';
import { systemClock } from '../../tasks/common/poll/clock';
import { VvpClient } from '../../tasks/common/vvp/client';
import { DeploymentFailedError, VvpApiError } from '../../tasks/common/vvp/errors';
import { runAction } from '../../tasks/VvpDeploy/VvpDeployV1/action';
import type { DeployResult } from '../../tasks/VvpDeploy/VvpDeployV1/deploy-result';
import type { DeployConfig } from '../../tasks/VvpDeploy/VvpDeployV1/inputs';
import { deployOutputs, renderSummary } from '../../tasks/VvpDeploy/VvpDeployV1/summary';
import { startSimulator, type RunningSimulator } from '../vvp-simulator/client';
import { deployConfig } from './deploy-config';

const EDITOR = 'editor-tok-5c1f0e9a';
const VIEWER = 'viewer-tok-8b2d4e6f';
const OTHER_NS = 'other-tok-3a7c9e1b';
const WRONG = 'wrong-tok-0d9e8f7a';
const BASE_JAR = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing.jar';
// One blob per build (versioned names): a rollback can bring the previous JAR back.
const OLD_JAR = `${BASE_JAR.replace(/\.jar$/, '-0000000.jar')}?commit=0000000`;
const COMMIT = 'abc1234';
const NEW_JAR = `${BASE_JAR.replace(/\.jar$/, '-abc1234.jar')}?commit=${COMMIT}`;

/** Quick phases: an upgrade takes ~0.6 s, of which 0.2 s stale RUNNING. */
const QUICK = { staleRunningMs: 200, savepointMs: 100, terminateMs: 50, startMs: 200, finishMs: 100 };

let sim: RunningSimulator;
let counter = 0;

interface Run {
  report: DeployResult;
  logger: MemoryLogger;
  result?: string;
  error?: unknown;
  /** Everything the step would show: log lines, the message, the summary and the outputs. */
  allOutput(): string;
}

function config(deployment: string, overrides: Partial<DeployConfig> = {}): DeployConfig {
  return deployConfig({ deployment, jarUri: NEW_JAR, vvpUrl: new URL(sim.url), timeoutInMs: 20_000, pollIntervalInMs: 1000, ...overrides });
}

async function deploy(cfg: DeployConfig, options: { token?: string; abortSignal?: AbortSignal } = {}): Promise<Run> {
  const logger = new MemoryLogger();
  const vvp = new VvpClient(cfg.vvpUrl ?? sim.url, options.token ?? EDITOR, { logger, tokenSource: "Key Vault secret 'vvpAPIToken' in vault 'kv-test'" });
  const report = await runAction(cfg, { vvp, clock: systemClock, logger, registerSecret: () => undefined, abortSignal: options.abortSignal });
  return {
    report,
    logger,
    result: report.error ? undefined : report.message,
    error: report.error,
    allOutput: () =>
      [...logger.lines, report.message, renderSummary(report, sim.url), JSON.stringify(deployOutputs(report))].join('\n'),
  };
}

function outputValues(report: DeployResult): Record<string, string> {
  return Object.fromEntries(Object.entries(deployOutputs(report)).map(([name, output]) => [name, output.value]));
}

function uniqueName(stem: string): string {
  return `${stem}-${++counter}`;
}

async function seed(name: string, extra: Record<string, unknown> = {}): Promise<void> {
  await sim.control.seedDeployment({ name, jarUri: OLD_JAR, behaviour: QUICK, ...extra } as never);
}

async function requests(method: string, name?: string) {
  const all = await sim.control.requests({ method });
  return name ? all.filter((r) => r.path.includes(name) || Object.values(r.query).some((v) => v.includes(name))) : all;
}

describe('deploy flow against the VVP simulator', () => {
  before(async () => {
    sim = await startSimulator({
      tokens: [
        { token: EDITOR, namespace: 'default', role: 'editor' },
        { token: VIEWER, namespace: 'default', role: 'viewer' },
        { token: OTHER_NS, namespace: 'team-b', role: 'editor' },
      ],
    });
  });
  after(async () => {
    await sim?.stop();
  });
  beforeEach(async () => {
    await sim.control.reset();
    await sim.control.setBehaviour(QUICK);
  });

  it('rolls a RUNNING deployment onto the new jarUri with exactly one PATCH, succeeding only once the new job runs', async () => {
    const name = uniqueName('happy');
    await seed(name);
    const before = await sim.control.truth('default', name);
    const run = await deploy(config(name));
    assert.equal(run.error, undefined, String((run.error as Error)?.message));
    const truth = await sim.control.truth('default', name);

    const patches = await requests('PATCH');
    assert.equal(patches.length, 1);
    assert.equal((patches[0].body as any).spec.template.spec.artifact.jarUri, NEW_JAR);
    assert.equal(patches[0].headers.authorization, `Bearer ${EDITOR}`);

    assert.ok(truth.runningJob, 'a job runs');
    assert.notEqual(truth.runningJob.id, before.runningJob?.id);
    assert.equal(truth.runningJob.jarUri, NEW_JAR);
    assert.equal(run.report.jobId, truth.runningJob.id);
    assert.equal(run.report.outcome, 'succeeded');
    assert.match(run.result ?? '', new RegExp(`runs job ${truth.runningJob.id} with jarUri ${NEW_JAR.replace(/[?.]/g, '\\$&')}`));
    assert.deepEqual(outputValues(run.report), {
      deploymentId: truth.deploymentId,
      jobId: truth.runningJob.id,
      state: 'RUNNING',
      jarUri: NEW_JAR,
      previousJarUri: OLD_JAR,
      rolledBack: 'false',
      savepointId: truth.savepoints[truth.savepoints.length - 1]?.id ?? '',
      savepointLocation: truth.savepoints[truth.savepoints.length - 1]?.savepointLocation ?? '',
      restoredFrom: truth.runningJob.savepointLocation ?? '',
      restartRequired: 'true',
      planChanges: '1',
      sqlScriptSha256: '',
    });
    // The job was checked by id before declaring success.
    const jobReads = await requests('GET');
    assert.ok(jobReads.some((r) => r.path.endsWith(`/jobs/${truth.runningJob?.id}`)));
    // One group per phase, and state changes logged once each.
    assert.deepEqual(run.logger.lines.filter((l) => l.startsWith('group:')), ['group: Read deployment', 'group: Apply change', 'group: Wait for the new job']);
    const progress = run.logger.lines.filter((l) => /^ {2}\[\d+\.\d s\]/.test(l));
    assert.equal(new Set(progress.map((l) => l.replace(/^ {2}\[[^\]]+\] /, ''))).size, progress.length, progress.join('\n'));
  });

  it('is not fooled by a stale RUNNING status that lasts seconds after the PATCH', async () => {
    const name = uniqueName('stale');
    await seed(name, { behaviour: { ...QUICK, staleRunningMs: 2500 } });
    const before = await sim.control.truth('default', name);
    const started = Date.now();
    const run = await deploy(config(name));
    assert.equal(run.error, undefined, String((run.error as Error)?.message));
    assert.ok(Date.now() - started >= 2500, 'did not succeed during the stale window');
    const truth = await sim.control.truth('default', name);
    assert.notEqual(run.report.jobId, before.runningJob?.id);
    assert.equal(run.report.jobId, truth.runningJob?.id);
    assert.ok(run.logger.lines.some((l) => /still job \w+ from before the change/.test(l)));
    // Adaptive polling: a short burst of quick reads (2 baseline reads + ~4 probes in the first
    // 2 s), then at most one per second; a fixed 250 ms tick would have made ~15. The savepoint
    // list read after the verdict is not a poll.
    const gets = (await requests('GET')).filter((r) => !r.path.endsWith('/savepoints')).length;
    const seconds = (Date.now() - started) / 1000;
    assert.ok(gets <= 6 + seconds, `${gets} GETs in ${seconds.toFixed(1)} s`);
  });

  it('rides out flaky 503 and 429 answers on GETs and still sends one PATCH', async () => {
    const name = uniqueName('flaky');
    await seed(name);
    await sim.control.addFault({ method: 'GET', path: '/deployments/', times: 2, status: 503 });
    await sim.control.addFault({ method: 'GET', path: '/jobs/', times: 1, status: 429, retryAfterSeconds: 1 });
    const run = await deploy(config(name));
    assert.equal(run.error, undefined, String((run.error as Error)?.message));
    assert.equal((await requests('PATCH')).length, 1);
    const faulted = (await requests('GET')).filter((r) => r.fault);
    assert.equal(faulted.length, 3);
    assert.ok(run.logger.lines.some((l) => /HTTP 503; retry 1 of 3/.test(l)));
  });

  for (const [label, token, pattern] of [
    ['401 for an unknown token', WRONG, /HTTP 401.*Check the API token \(Key Vault secret 'vvpAPIToken' in vault 'kv-test'\)/],
    ['403 for a token of another namespace', OTHER_NS, /HTTP 403.*at least the viewer role in namespace 'default'/],
    ['403 for a viewer token on the PATCH', VIEWER, /HTTP 403.*editor role in namespace 'default'/],
  ] as const) {
    it(`explains ${label} and never shows the token`, async () => {
      const name = uniqueName('auth');
      await seed(name);
      const run = await deploy(config(name), { token });
      assert.ok(run.error instanceof VvpApiError, String(run.error));
      assert.match(run.error.message, pattern);
      const output = run.allOutput();
      for (const secret of [WRONG, OTHER_NS, VIEWER, EDITOR]) assert.ok(!output.includes(secret), `token ${secret} leaked:\n${output}`);
    });
  }

  it('reads back instead of resending when the PATCH answer is lost (the PATCH was applied)', async () => {
    const name = uniqueName('lost');
    await seed(name);
    await sim.control.addFault({ method: 'PATCH', times: 1, action: 'lostResponse' });
    const run = await deploy(config(name));
    assert.equal(run.error, undefined, String((run.error as Error)?.message));
    assert.equal((await requests('PATCH')).length, 1);
    assert.ok(run.logger.lines.some((l) => /answer to the PATCH was lost/.test(l)));
    assert.ok(run.logger.lines.includes('Read back: the PATCH was applied.'));
    assert.equal((await sim.control.truth('default', name)).runningJob?.jarUri, NEW_JAR);
  });

  it('rolls back to the previous template when the new job fails, and still fails saying so', async () => {
    const name = uniqueName('rollback');
    await seed(name, {
      spec: { maxJobCreationAttempts: 1 },
      behaviour: { ...QUICK, outcomeRules: [{ jarUriContains: `commit=${COMMIT}`, outcome: 'fails' }] },
    });
    const run = await deploy(config(name, { rollbackOnFailure: true }));
    assert.ok(run.error instanceof DeploymentFailedError, String(run.error));
    assert.equal(run.error.rollback?.outcome, 'succeeded');
    assert.match(run.error.message, /Rolled back: the deployment from before this step is restored exactly and job [0-9a-f-]+ runs .*commit=0000000 again/);
    const truth = await sim.control.truth('default', name);
    assert.equal(truth.runningJob?.jarUri, OLD_JAR);
    assert.equal(run.report.rolledBack, true);
    assert.equal(outputValues(run.report).rolledBack, 'true');
    assert.equal(outputValues(run.report).jarUri, OLD_JAR);
    assert.equal(outputValues(run.report).jobId, truth.runningJob?.id);
    assert.equal((await requests('PATCH')).length, 1);
    assert.equal((await requests('PUT')).length, 2, 'once with the state-safe strategies, once to put them back');
    assert.ok(run.logger.lines.includes('group: Roll back'));
  });

  it('says the outcome is unknown when cancelled while the PATCH is unanswered', async () => {
    const name = uniqueName('cancel-patch');
    await seed(name);
    await sim.control.addFault({ method: 'PATCH', times: 1, action: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 800);
    const run = await deploy(config(name), { abortSignal: controller.signal });
    assert.ok(run.error instanceof CancelledError, String(run.error));
    assert.match(run.error.message, /^Cancelled during apply change: the PATCH was sent but its answer did not arrive, so VVP may or may not have applied it/);
    assert.equal((await requests('PATCH')).length, 1);
  });

});
