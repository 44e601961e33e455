/**
 * The deploy flow with the real VvpClient against the VVP simulator (a child process on a
 * loopback port): real HTTP, real timers, the stale-RUNNING race, failures and faults.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CancelledError } from '../../tasks/common/errors/errors';
import { MemoryLogger } from '../../tasks/common/logging/logger';
import { systemClock } from '../../tasks/common/poll/clock';
import { VvpClient } from '../../tasks/common/vvp/client';
import { ChangeBlockedError, DeploymentFailedError, VvpApiError, WaitTimeoutError } from '../../tasks/common/vvp/errors';
import { parseSpecText } from '../../tasks/common/vvp/deployment-spec';
import { runDeploy, type DeployResult } from '../../tasks/VvpDeploy/VvpDeployV1/deploy';
import type { DeployConfig } from '../../tasks/VvpDeploy/VvpDeployV1/inputs';
import { deployOutputs, renderSummary } from '../../tasks/VvpDeploy/VvpDeployV1/summary';
import { startSimulator, type RunningSimulator } from '../vvp-simulator/client';
import { deployConfig } from './deploy-config';

const EDITOR = 'editor-tok-5c1f0e9a';
const VIEWER = 'viewer-tok-8b2d4e6f';
const OTHER_NS = 'other-tok-3a7c9e1b';
const WRONG = 'wrong-tok-0d9e8f7a';
const BASE_JAR = 'wasbs://vvp@vvpstorage.blob.core.windows.net/artifacts/namespaces/default/top-speed-windowing.jar';
const OLD_JAR = `${BASE_JAR}?commit=0000000`;
const COMMIT = 'abc1234';
const NEW_JAR = `${BASE_JAR}?commit=${COMMIT}`;

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
  return deployConfig({ deployment, jarUri: NEW_JAR, vvpUrl: new URL(sim.url), commitId: COMMIT, timeoutInMs: 20_000, pollIntervalInMs: 1000, ...overrides });
}

async function deploy(cfg: DeployConfig, options: { token?: string; abortSignal?: AbortSignal } = {}): Promise<Run> {
  const logger = new MemoryLogger();
  const vvp = new VvpClient(cfg.vvpUrl ?? sim.url, options.token ?? EDITOR, { logger, tokenSource: "Key Vault secret 'vvpAPIToken' in vault 'kv-test'" });
  const report = await runDeploy(cfg, { vvp, clock: systemClock, logger, registerSecret: () => undefined, abortSignal: options.abortSignal });
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
      planChanges: '',
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

  it('fails fast when the new job fails, with the job failure and the events since the change', async () => {
    const name = uniqueName('fails');
    await seed(name, { spec: { maxJobCreationAttempts: 2 }, behaviour: { ...QUICK, outcomeQueue: ['fails'] } });
    const run = await deploy(config(name));
    assert.ok(run.error instanceof DeploymentFailedError, String(run.error));
    const e = run.error;
    assert.equal(e.state, 'FAILED');
    assert.ok(e.failure, 'the failed job is found');
    assert.match(e.message, /ClassNotFoundException: com.ververica.example.TopSpeedWindowing/);
    assert.match(e.message, /TOO_MANY_FAILED_JOB_CREATION_ATTEMPTS/);
    assert.match(e.message, /FAILED_CREATING_A_NEW_JOB/);
    assert.ok(!/JOB_SUCCESSFULLY_STARTED/.test(e.message), 'events from before the change are left out');
    assert.equal(run.report.outcome, 'failed');
    assert.equal(run.report.rolledBack, false);
    assert.equal((await requests('PATCH')).length, 1);
  });

  it('times out naming the phase when the new job never starts', async () => {
    const name = uniqueName('stuck');
    await seed(name, { behaviour: { ...QUICK, outcomeQueue: ['stuck'] } });
    const run = await deploy(config(name, { timeoutInMs: 2500 }));
    assert.ok(run.error instanceof WaitTimeoutError, String(run.error));
    assert.match(run.error.message, /Timed out after 3 s waiting for VVP to finish the transition/);
    assert.match(run.error.message, /Last observed: TRANSITIONING; the newest job [0-9a-f-]+ is STARTING/);
    assert.match(run.error.message, /CREATING_A_NEW_JOB/);
    assert.equal(run.report.outcome, 'timedOut');
  });

  it('times out naming "start the upgrade" when VVP never acts on the change', async () => {
    const name = uniqueName('idle');
    await seed(name, { behaviour: { ...QUICK, staleRunningMs: 60_000 } });
    const run = await deploy(config(name, { timeoutInMs: 1500 }));
    assert.ok(run.error instanceof WaitTimeoutError, String(run.error));
    assert.equal(run.error.phase, 'waiting for VVP to start the upgrade');
    assert.match(run.error.message, /Last observed: RUNNING, still job \w+ from before the change; VVP has not created a new job/);
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

  it('does nothing when the deployment already runs exactly this jarUri', async () => {
    const name = uniqueName('current');
    await sim.control.seedDeployment({ name, jarUri: NEW_JAR, behaviour: QUICK } as never);
    const run = await deploy(config(name));
    assert.equal(run.error, undefined, String((run.error as Error)?.message));
    assert.match(run.result ?? '', /already up to date/);
    assert.equal((await requests('PATCH')).length, 0);
    assert.equal(run.report.outcome, 'upToDate');
    assert.equal(outputValues(run.report).jarUri, NEW_JAR);
    assert.equal(outputValues(run.report).previousJarUri, NEW_JAR);
  });

  it('creates a missing deployment from a spec file and waits for it to run', async () => {
    const name = uniqueName('created');
    await sim.control.setDeploymentBehaviour('default', name, QUICK);
    const document = parseSpecText(
      `kind: Deployment\napiVersion: v1\nmetadata:\n  name: ${name}\n  labels: {app: demo}\nspec:\n  state: RUNNING\n  upgradeStrategy: {kind: STATEFUL}\n  restoreStrategy: {kind: LATEST_STATE}\n  deploymentTargetName: vvp-default\n  template:\n    spec:\n      parallelism: 1\n      artifact:\n        kind: JAR\n        jarUri: ${NEW_JAR}\n        entryClass: com.ververica.example.TopSpeedWindowing\n`,
    );
    const run = await deploy(config(name, { specFile: { path: '/x/deployment.yaml', document } }));
    assert.equal(run.error, undefined, String((run.error as Error)?.message));
    const posts = await requests('POST');
    assert.equal(posts.length, 1);
    assert.equal((posts[0].body as any).metadata.namespace, 'default');
    const truth = await sim.control.truth('default', name);
    assert.equal(truth.runningJob?.jarUri, NEW_JAR);
    assert.equal(run.report.created, true);
    assert.equal(run.report.jobId, truth.runningJob?.id);
    assert.equal(outputValues(run.report).previousJarUri, '');
  });

  it('refuses to create a missing deployment without a spec file', async () => {
    const run = await deploy(config(uniqueName('nofile')));
    assert.match(String((run.error as Error)?.message), /deploymentSpecFile.*full Deployment/);
    assert.equal((await requests('POST')).length, 0);
  });

  it('reports a missing deployment when createIfMissing is false', async () => {
    const run = await deploy(config(uniqueName('missing'), { createIfMissing: false }));
    assert.ok(run.error instanceof VvpApiError);
    assert.match(run.error.message, /HTTP 404.*not found in namespace 'default'.*createIfMissing/);
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

  it('reads back and fails without resending when a dropped PATCH was not applied', async () => {
    const name = uniqueName('dropped');
    await seed(name);
    await sim.control.addFault({ method: 'PATCH', times: 1, action: 'dropRequest' });
    const run = await deploy(config(name));
    assert.match(String((run.error as Error)?.message), /reading back for 10 s shows the change was NOT applied.*re-run the step/s);
    assert.equal((await requests('PATCH')).length, 1);
    assert.equal((await sim.control.truth('default', name)).specJarUri, OLD_JAR);
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

  it('rolls back after a timeout too', async () => {
    const name = uniqueName('rb-timeout');
    await seed(name, { behaviour: { ...QUICK, outcomeRules: [{ jarUriContains: `commit=${COMMIT}`, outcome: 'stuck' }] } });
    const run = await deploy(config(name, { rollbackOnFailure: true, timeoutInMs: 2000 }));
    assert.ok(run.error instanceof WaitTimeoutError, String(run.error));
    assert.equal(run.error.rollback?.outcome, 'succeeded', run.error.message);
    assert.equal((await sim.control.truth('default', name)).runningJob?.jarUri, OLD_JAR);
  });

  it('does not mistake the FAILED status from before the change for a new failure', async () => {
    const name = uniqueName('was-failed');
    await seed(name, { state: 'FAILED', behaviour: { ...QUICK, staleRunningMs: 1200 } });
    const run = await deploy(config(name));
    assert.equal(run.error, undefined, String((run.error as Error)?.message));
    assert.equal((await sim.control.truth('default', name)).runningJob?.jarUri, NEW_JAR);
    assert.ok(run.logger.lines.some((l) => /FAILED \(as before the change\)/.test(l)));
  });

  it('refuses a change under upgradeStrategy NONE before sending anything', async () => {
    const name = uniqueName('none');
    await seed(name, { upgradeStrategy: 'NONE' });
    const run = await deploy(config(name));
    assert.ok(run.error instanceof ChangeBlockedError, String(run.error));
    assert.match(run.error.message, /upgradeStrategy is NONE/);
    assert.equal((await requests('PATCH')).length, 0);
  });

  it('stops the wait promptly on cancellation and says the change was applied and where VVP stood', async () => {
    const name = uniqueName('cancel');
    await seed(name, { behaviour: { ...QUICK, staleRunningMs: 30_000 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1500);
    const started = Date.now();
    const run = await deploy(config(name), { abortSignal: controller.signal });
    assert.ok(Date.now() - started < 3000, 'stopped promptly');
    assert.ok(run.error instanceof CancelledError, String(run.error));
    assert.match(run.error.message, /^Cancelled during wait for the new job: the change \(jarUri .*commit=abc1234\) was applied and VVP keeps working on it; last observed state: RUNNING; nothing was undone/);
    assert.equal(run.report.outcome, 'cancelled');
    assert.equal((await sim.control.truth('default', name)).specJarUri, NEW_JAR, 'abort does not undo the change');
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

  it('says nothing was changed when cancelled before the PATCH', async () => {
    const name = uniqueName('cancel-read');
    await seed(name);
    await sim.control.addFault({ method: 'GET', path: '/deployments/', times: 1, action: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const run = await deploy(config(name), { abortSignal: controller.signal });
    assert.ok(run.error instanceof CancelledError, String(run.error));
    assert.match(run.error.message, /^Cancelled during read deployment: nothing was changed in VVP/);
    assert.equal((await requests('PATCH')).length, 0);
  });

  it('succeeds after storing the change without waiting when waitForRunning is off', async () => {
    const name = uniqueName('nowait');
    await seed(name);
    const run = await deploy(config(name, { waitForRunning: false }));
    assert.match(run.result ?? '', /not waiting/);
    assert.equal(run.report.outcome, 'applied');
    assert.equal((await requests('GET')).filter((r) => r.path.includes('/jobs/')).length, 1, 'only the baseline job read');
  });
});
