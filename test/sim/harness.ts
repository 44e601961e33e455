/**
 * Runs one seed: builds the scenario's deployment in a fresh in-memory VVP on virtual time,
 * runs the step (deploy, plan or a lifecycle action) through the fault-injecting VVP while
 * another party may edit the deployment and the agent may cancel, records what really happened
 * (the simulator's ground truth, every request, the result, outputs, summary, log and the
 * registered secrets), then runs a plain, fault-free deploy after it (for invariant 4).
 */
import { MemoryLogger } from '../support/memory-logger';
import type { JsonObject } from '../../tasks/common/vvp/resources';
import { runAction } from '../../tasks/VvpDeploy/VvpDeployV1/action';
import type { DeployResult } from '../../tasks/VvpDeploy/VvpDeployV1/deploy-result';
import type { DeployConfig } from '../../tasks/VvpDeploy/VvpDeployV1/inputs';
import { runPlan } from '../../tasks/VvpDeploy/VvpDeployV1/plan';
import { deployOutputs, renderSummary, type OutputValue } from '../../tasks/VvpDeploy/VvpDeployV1/summary';
import { deployConfig } from '../deploy/deploy-config';
import { InMemoryVvp, type DeploymentTruth, type RecordedRequest } from '../support/in-memory-vvp';
import type { SimTimer } from '../vvp-simulator/sim-clock';
import { FaultyVvp, type InjectedFault } from './faulty-vvp';
import { Rng } from './rng';
import { jarUri, NAME, NAMESPACE, scenarioOf, secretFlinkConfiguration, type OtherEdit, type Scenario } from './scenario';
import { CATALOG_TABLES, sqlArtifact, validScript } from './sql-scenario';

export const VVP_URL = 'https://vvp.example.com';
/** Real time after which a run that neither ends nor waits on virtual time counts as hung. */
const HUNG_AFTER_REAL_MS = 20_000;
/** Virtual time VVP gets after the step before the next one. */
export const SETTLE_MS = 2 * 60_000;

/** The deployment as VVP stores it, and the truth about its jobs and savepoints, at one moment. */
export interface Snapshot {
  exists: boolean;
  atMs: number;
  spec?: JsonObject;
  metadata?: JsonObject;
  truth?: DeploymentTruth;
}

/** One step as the pipeline would see it. */
export interface StepRecord {
  config: DeployConfig;
  result?: DeployResult;
  /** What the flow threw (runAction must not throw for an expected failure). */
  thrown?: unknown;
  /** Neither ended nor waited on virtual time. */
  hung: boolean;
  startedAtMs: number;
  endedAtMs: number;
  logs: string[];
  /** Values the flow (or the entry, for the input jarUri) registered as secrets. */
  registered: string[];
  summary: string;
  outputs: Record<string, OutputValue>;
  /** Sequence numbers of this step's requests: (first, last]. */
  requestsFrom: number;
  requestsTo: number;
}

export interface OtherWrite {
  seq: number;
  atMs: number;
  kind: OtherEdit['kind'];
  status: number | null;
}

export interface RunRecord {
  scenario: Scenario;
  before: Snapshot;
  /** For a deploy onto an existing deployment: the plan of the same change, run first. */
  plan?: DeployResult;
  after: Snapshot;
  /** The deployment {@link SETTLE_MS} after the step: what VVP made of the step's last write. */
  settled: Snapshot;
  step: StepRecord;
  /** Every request of the run (both steps and the other party's), oldest first. */
  requests: RecordedRequest[];
  otherWrites: OtherWrite[];
  cancelledAtMs?: number;
  injected: InjectedFault[];
  /** The plain deploy after the step; undefined when there is nothing to deploy onto. */
  second?: { step: StepRecord; before: Snapshot; after: Snapshot };
}

/** Runs `seed` and records everything the invariants look at. */
export async function runSeed(seed: number): Promise<RunRecord> {
  const scenario = scenarioOf(seed);
  const vvp = new InMemoryVvp();
  try {
    return await runScenario(scenario, vvp);
  } finally {
    vvp.dispose();
  }
}

async function runScenario(scenario: Scenario, vvp: InMemoryVvp): Promise<RunRecord> {
  const { history, config } = scenario;
  // VVP's SQL service: served (validating a multi-statement text as a whole or not) or absent.
  vvp.setConfig({ sqlService: scenario.sql?.service ?? true, sqlValidation: scenario.sql?.validation ?? 'script', sqlCatalogTables: CATALOG_TABLES });
  vvp.setDeploymentBehaviour(NAMESPACE, NAME, { ...scenario.timing, outcomeQueue: [] });
  if (history) {
    vvp.seedDeployment({
      namespace: NAMESPACE,
      name: NAME,
      ...(history.sqlScript !== undefined ? { sqlScript: history.sqlScript } : { jarUri: history.jarUri }),
      state: history.state,
      upgradeStrategy: history.upgradeStrategy,
      restoreStrategy: history.restoreStrategy,
      labels: { team: 'streaming' },
      spec: { maxJobCreationAttempts: 2, ...(history.flinkSecrets ? { template: { spec: { flinkConfiguration: secretFlinkConfiguration() } } } : {}) },
    });
  }
  // The fates apply from the step on (seeding a FAILED deployment would consume one).
  vvp.setDeploymentBehaviour(NAMESPACE, NAME, { outcomeQueue: [...scenario.fates] });
  const before = snapshot(vvp);
  // What a plan says about this very change (no faults, nothing written), to compare with the deploy.
  const plan = config.action === 'deploy' && before.exists ? await runPlan({ ...config, action: 'plan', online: true }, { vvp, clock: vvp.clock, logger: new MemoryLogger() }) : undefined;
  const faulty = new FaultyVvp(vvp, Rng.derive(scenario.seed, 'faults'), scenario.faults);
  const abort = new AbortController();
  const otherWrites: OtherWrite[] = [];
  let cancelledAtMs: number | undefined;
  const timers: SimTimer[] = [];
  if (scenario.otherEdit) {
    const edit = scenario.otherEdit;
    timers.push(vvp.clock.setTimer(() => editAsOtherParty(vvp, edit, otherWrites), edit.afterMs));
  }
  if (scenario.cancelAfterMs !== undefined) {
    timers.push(
      vvp.clock.setTimer(() => {
        cancelledAtMs = vvp.clock.now();
        abort.abort();
      }, scenario.cancelAfterMs),
    );
  }
  const step = await runStep(vvp, faulty, config, abort.signal);
  for (const timer of timers) timer.clear();
  const after = snapshot(vvp);
  // What VVP does with the step's last write once the step is gone (a suspension it asked for, say).
  await vvp.clock.advance(SETTLE_MS);
  const settled = snapshot(vvp);

  let second: RunRecord['second'];
  if (config.action !== 'plan' && after.exists) {
    vvp.clearFaults();
    vvp.setDeploymentBehaviour(NAMESPACE, NAME, { outcomeQueue: [], outcome: 'runs', outcomeRules: [] });
    vvp.setConfig({ sqlService: true, sqlValidation: 'script' });
    // The next deploy of the same kind as the deployment now holds (a switch would be refused).
    const sqlNow = (after.spec?.template as any)?.spec?.artifact?.kind === 'SQLSCRIPT';
    const plain = deployConfig({
      deployment: NAME,
      namespace: NAMESPACE,
      jarUri: sqlNow ? '' : jarUri('sim-job-next', 'd0d0d0d'),
      ...(sqlNow ? { artifact: sqlArtifact({ script: validScript('next-d0d0d0d'), additionalDependencies: [] }) } : {}),
      timeoutInMs: 5 * 60_000,
      vvpUrl: new URL(VVP_URL),
    });
    const secondBefore = snapshot(vvp);
    const secondStep = await runStep(vvp, vvp, plain, undefined);
    second = { step: secondStep, before: secondBefore, after: snapshot(vvp) };
  }
  return { scenario, before, plan, after, settled, step, requests: vvp.requests(), otherWrites, cancelledAtMs, injected: faulty.injected, second };
}

async function runStep(vvp: InMemoryVvp, api: InMemoryVvp | FaultyVvp, config: DeployConfig, abortSignal: AbortSignal | undefined): Promise<StepRecord> {
  const logger = new MemoryLogger();
  // As the entry does: the input jarUri's credentials are registered before anything runs.
  const registered: string[] = [...config.jarUriSecrets];
  const registerSecret = (value: string): void => void registered.push(value);
  const requestsFrom = lastSeq(vvp);
  const startedAtMs = vvp.clock.now();
  const deps = { vvp: api, clock: vvp.clock, logger, registerSecret, abortSignal };
  const flow = config.action === 'plan' ? runPlan(config, config.online ? deps : { ...deps, vvp: undefined }) : runAction(config, deps);
  let result: DeployResult | undefined;
  let thrown: unknown;
  let hung = false;
  let watchdog: NodeJS.Timeout | undefined;
  try {
    const ended = await Promise.race([
      flow.then((r) => ({ r })),
      new Promise<'hung'>((resolve) => {
        watchdog = setTimeout(() => resolve('hung'), HUNG_AFTER_REAL_MS);
        watchdog.unref();
      }),
    ]);
    if (ended === 'hung') hung = true;
    else result = ended.r;
  } catch (error) {
    thrown = error;
  } finally {
    clearTimeout(watchdog);
  }
  const outputs = result ? deployOutputs(result) : {};
  return {
    config,
    result,
    thrown,
    hung,
    startedAtMs,
    endedAtMs: vvp.clock.now(),
    logs: logger.lines,
    registered,
    summary: result ? renderSummary(result, VVP_URL) : '',
    outputs,
    requestsFrom,
    requestsTo: lastSeq(vvp),
  };
}

function lastSeq(vvp: InMemoryVvp): number {
  return vvp.requests({ limit: 1 })[0]?.seq ?? 0;
}

function snapshot(vvp: InMemoryVvp): Snapshot {
  const stored = vvp.state.store.findDeployment(NAMESPACE, NAME);
  if (!stored) return { exists: false, atMs: vvp.clock.now() };
  const copy = JSON.parse(JSON.stringify(stored)) as { spec: JsonObject; metadata: JsonObject };
  return { exists: true, atMs: vvp.clock.now(), spec: copy.spec, metadata: copy.metadata, truth: vvp.truth(NAMESPACE, NAME) };
}

const OTHER_JAR = jarUri('sim-job-other-team', 'e0e0e0e');
const OTHER_SCRIPT = validScript('other-team');

/** Another party's PATCH, straight to the in-memory VVP (no faults), recorded with its request number. */
function editAsOtherParty(vvp: InMemoryVvp, edit: OtherEdit, writes: OtherWrite[]): void {
  const stored = vvp.state.store.findDeployment(NAMESPACE, NAME);
  if (!stored) return;
  const sql = (stored.spec.template as any)?.spec?.artifact?.kind === 'SQLSCRIPT';
  const bodies: Record<OtherEdit['kind'], JsonObject> = {
    label: { metadata: { labels: { owner: 'someone-else' } } },
    parallelism: { spec: { template: { spec: { parallelism: 3 } } } },
    artifact: { spec: { template: { spec: { artifact: sql ? { kind: 'SQLSCRIPT', sqlScript: OTHER_SCRIPT } : { kind: 'JAR', jarUri: OTHER_JAR } } } } },
    flinkConfiguration: { spec: { template: { spec: { flinkConfiguration: { 'state.backend': 'rocksdb' } } } } },
    maxJobCreationAttempts: { spec: { maxJobCreationAttempts: 7 } },
  };
  const write: OtherWrite = { seq: 0, atMs: vvp.clock.now(), kind: edit.kind, status: null };
  const sent = vvp.patchDeployment(NAMESPACE, NAME, bodies[edit.kind]);
  write.seq = lastSeq(vvp);
  writes.push(write);
  sent.then(
    () => (write.status = 200),
    (error: unknown) => (write.status = (error as { status?: number }).status ?? null),
  );
}
