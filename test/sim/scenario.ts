/**
 * One simulation scenario per seed: the deployment's history before the step, the step's
 * inputs, the controller's timing and the job's fate, the fault schedule of the VVP calls,
 * another party's edit and the agent's cancellation. Everything is drawn from the seed.
 */
import type { JsonObject } from '../../tasks/common/vvp/resources';
import type { DeployConfig } from '../../tasks/VvpDeploy/VvpDeployV1/inputs';
import { jarUriSecrets } from '../../tasks/common/vvp/jar-uri-secrets';
import type { BehaviourPatch, Outcome } from '../vvp-simulator/behaviour';
import { deployConfig } from '../deploy/deploy-config';
import { Rng } from './rng';
import { sqlArtifact, sqlDrawOf, verdictOf, type SqlPlan } from './sql-scenario';

export const NAMESPACE = 'default';
export const NAME = 'sim-job';

/** Secrets the step must never show (unless registered with the agent, which masks them). */
export const SECRETS = {
  /** The SAS signature of the new jarUri (the entry registers it). */
  newSig: 'SimNewSasSig0a1b2c3d4e5f6g7h8i9j',
  /** The SAS signature of the previous jarUri (only the flow can register it, once read). */
  previousSig: 'SimOldSasSigZ9Y8X7W6V5U4T3S2R1Q0',
  /** A storage account key in flinkConfiguration (never registered: masked by key name). */
  accountKey: 'SimAccountKeyQWERTYuiopASDFghjk+/==',
  /** A password in flinkConfiguration (never registered: masked by key name). */
  password: 'SimPassw0rd-do-not-show-7d1c',
  /** The VVP API token (never handed to the flow in memory; must appear nowhere). */
  token: 'SimVvpApiToken-eyJhbGciOi-secret',
} as const;

const ACCOUNT_KEY_NAME = 'fs.azure.account.key.simstore.blob.core.windows.net';
const PASSWORD_KEY_NAME = 'metrics.reporter.prom.password';

const BLOB_HOST = 'https://simstore.blob.core.windows.net/jars';

/** A jarUri for `blob`, with a SAS (`sig=`) when `sig` is given and `?commit=`. */
export function jarUri(blob: string, commit: string, sig?: string): string {
  const sas = sig ? `sv=2022-11-02&sr=b&sp=r&sig=${sig}&` : '';
  return `${BLOB_HOST}/${blob}.jar?${sas}commit=${commit}`;
}

export type FaultKind = 'hang' | 'status' | 'reset' | 'lost' | 'late' | 'ingress404';

/** How the VVP calls of one run misbehave. */
export interface FaultPlan {
  /** Probability that a call gets a fault. */
  rate: number;
  /** Relative weights of the fault kinds. */
  weights: Record<FaultKind, number>;
  /** The first read of the deployment gets a 404 from something that is not VVP (an ingress page, a wrong path). */
  firstRead404: boolean;
  /** Optional answer fields VVP sends as `null` when absent (as Jackson does); empty: none. */
  nullPaths: string[];
}

/** Another party's PATCH at a virtual time after the step began. */
export interface OtherEdit {
  afterMs: number;
  /** `artifact`: another jarUri on a JAR deployment, another script on a SQL one. */
  kind: 'label' | 'parallelism' | 'artifact' | 'flinkConfiguration' | 'maxJobCreationAttempts';
}

export interface History {
  state: 'RUNNING' | 'SUSPENDED' | 'FAILED' | 'CANCELLED';
  upgradeStrategy: 'STATEFUL' | 'STATELESS' | 'NONE';
  restoreStrategy: 'LATEST_STATE' | 'LATEST_SAVEPOINT' | 'NONE';
  jarUri: string;
  /** Set for a SQL deployment (artifact SQLSCRIPT, this script) instead of the JAR `jarUri`. */
  sqlScript?: string;
  /** The previous jarUri names the same blob as the new one (overwritten in place). */
  sameBlob: boolean;
  /** The deployment's flinkConfiguration holds credentials. */
  flinkSecrets: boolean;
}

export interface Scenario {
  seed: number;
  /** Undefined: the deployment does not exist before the step. */
  history?: History;
  config: DeployConfig;
  /** Set when the step deploys a SQL script (a deploy or a plan): the script and VVP's SQL service. */
  sql?: SqlPlan;
  /** Controller timings of the deployment. */
  timing: BehaviourPatch;
  /** Outcomes of the next transitions (the step's job, then the rollback's). */
  fates: Outcome[];
  faults: FaultPlan;
  otherEdit?: OtherEdit;
  /** Virtual ms after the start at which the agent cancels the step. */
  cancelAfterMs?: number;
}

const FATES: Record<Outcome, number> = { runs: 34, crashLoops: 16, restartsOnce: 14, fails: 12, savepointFails: 8, stuck: 8, finishes: 5 };

/** Optional fields a VVP answer may carry as `null` (resource kind + dotted path). */
export const NULLABLE_PATHS = [
  'event:metadata.jobId',
  'event:spec.message',
  'job:status.failure',
  'job:status.started',
  'job:spec.savepointLocation',
  'job:metadata.terminatedAt',
  'deployment:status.running',
  'deployment:spec.deploymentTargetName',
  'deployment:spec.template.spec.additionalDependencies',
  'deployment:spec.template.metadata',
  'deployment:metadata.labels',
  'savepoint:metadata.jobId',
  'savepoint:status.failure',
  'savepoint:spec.flinkSavepointId',
] as const;

/** Draws the scenario of `seed`. */
export function scenarioOf(seed: number): Scenario {
  const rng = Rng.derive(seed, 'scenario');
  const commit = `c${seed.toString(16).padStart(6, '0')}`;
  const newSig = rng.chance(0.6) ? SECRETS.newSig : undefined;
  const newJar = jarUri('sim-job', commit, newSig);
  const draw = sqlDrawOf(seed, commit, jarUri('sim-udfs', commit, newSig));

  const exists = rng.chance(0.88);
  let history: History | undefined;
  if (exists) {
    const sameBlob = rng.chance(0.4);
    history = {
      state: rng.weighted({ RUNNING: 60, SUSPENDED: 14, FAILED: 13, CANCELLED: 13 }),
      upgradeStrategy: rng.weighted({ STATEFUL: 60, STATELESS: 30, NONE: 10 }),
      restoreStrategy: rng.weighted({ LATEST_STATE: 60, LATEST_SAVEPOINT: 25, NONE: 15 }),
      // Now and then the deployment already holds exactly the new jarUri.
      jarUri: rng.chance(0.06) ? newJar : jarUri(sameBlob ? 'sim-job' : `sim-job-v${rng.int(1, 9)}`, 'b0b0b0b', rng.chance(0.5) ? SECRETS.previousSig : undefined),
      sameBlob,
      flinkSecrets: rng.chance(0.5),
      ...(draw.previousScript !== undefined ? { sqlScript: draw.previousScript } : {}),
    };
  }

  const action = rng.weighted({ deploy: 58, plan: 12, suspend: 6, resume: 6, cancel: 6, savepoint: 6, delete: 6 });
  const withSpecFile = rng.chance(0.6) || (!exists && rng.chance(0.7));
  const specFile = withSpecFile ? { path: 'deployment.yaml', document: specDocument(rng, newJar) } : undefined;
  const config = deployConfig({
    action,
    deployment: NAME,
    namespace: NAMESPACE,
    jarUri: newJar,
    jarUriSecrets: jarUriSecrets(newJar),
    online: action !== 'plan' || rng.chance(0.85),
    vvpUrl: new URL('https://vvp.example.com'),
    specFile,
    createIfMissing: rng.chance(0.9),
    waitForRunning: rng.chance(0.85),
    timeoutInMs: rng.pick([0.5, 1, 2, 3, 5]) * 60_000,
    pollIntervalInMs: rng.pick([1000, 2000, 5000, 10_000]),
    rollbackOnFailure: rng.chance(0.55),
    healthCheckInMs: rng.chance(0.5) ? 0 : rng.pick([10, 30, 60, 120]) * 1000,
    maxJobRestarts: rng.pick([0, 0, 1, 3]),
    rollbackStateFrom: rng.chance(0.8) ? 'upgradeSavepoint' : 'restoreStrategy',
    upgradeStrategy: rng.weighted({ keep: 60, STATEFUL: 20, STATELESS: 20 }) as DeployConfig['upgradeStrategy'] | 'keep',
    restoreStrategy: rng.weighted({ keep: 60, LATEST_STATE: 14, LATEST_SAVEPOINT: 13, NONE: 13 }) as DeployConfig['restoreStrategy'] | 'keep',
    annotateDeployment: rng.chance(0.8),
    runAnnotations: { 'azure-pipelines/run': `2026.${seed}`, 'azure-pipelines/runuri': `https://dev.azure.com/org/proj/_build/results?buildId=${seed}` },
  } as Parameters<typeof deployConfig>[0]);
  // A SQL seed deploys (or plans) its script; the lifecycle actions write no artifact.
  const sql = draw.sql && (action === 'deploy' || action === 'plan') ? draw.sql : undefined;
  if (sql) {
    config.artifact = sqlArtifact(sql);
    config.jarUri = '';
    config.jarUriSecrets = [...new Set(sql.additionalDependencies.flatMap(jarUriSecrets))];
    config.sqlCatalog = sql.sqlCatalog;
    config.sqlDatabase = sql.sqlDatabase;
    if (config.specFile) delete (config.specFile.document as any).spec.template.spec.artifact;
  }
  if ((config.upgradeStrategy as string) === 'keep') delete config.upgradeStrategy;
  if ((config.restoreStrategy as string) === 'keep') delete config.restoreStrategy;

  const timing: BehaviourPatch = {
    staleRunningMs: rng.pick([0, 500, 2000, 5000, 20_000]),
    savepointMs: rng.pick([0, 1000, 3000]),
    terminateMs: rng.pick([0, 500, 2000]),
    startMs: rng.pick([500, 1500, 5000, 15_000]),
    restartIntervalMs: rng.pick([1000, 5000, 20_000, 60_000]),
    finishMs: rng.pick([1000, 30_000]),
    retainedCheckpoints: rng.chance(0.8),
  };
  const fates: Outcome[] = [];
  for (let i = Number(rng.weighted({ n0: 25, n1: 45, n2: 30 }).slice(1)); i > 0; i--) fates.push(rng.weighted(FATES));

  const rate = rng.pick([0, 0, 0.02, 0.05, 0.12, 0.25]);
  const faults: FaultPlan = {
    rate,
    weights: { hang: 12, status: 30, reset: 14, lost: 16, late: 22, ingress404: rng.chance(0.15) ? 6 : 0 },
    firstRead404: rng.chance(0.08),
    nullPaths: rng.chance(0.4) ? NULLABLE_PATHS.filter(() => rng.chance(0.6)) : [],
  };
  const otherEdit: OtherEdit | undefined = rng.chance(0.2)
    ? { afterMs: rng.int(0, 180_000), kind: rng.pick(['label', 'parallelism', 'artifact', 'flinkConfiguration', 'maxJobCreationAttempts'] as const) }
    : undefined;
  const cancelAfterMs = rng.chance(0.12) ? rng.int(0, 240_000) : undefined;
  return { seed, history, config, ...(sql ? { sql } : {}), timing, fates, faults, otherEdit, cancelAfterMs };
}

/** A spec file: the jarUri token replaced, sometimes a parallelism and strategies, always credentials in flinkConfiguration. */
function specDocument(rng: Rng, newJar: string): JsonObject {
  const templateSpec: JsonObject = {
    artifact: { kind: 'JAR', jarUri: newJar },
    flinkConfiguration: { [ACCOUNT_KEY_NAME]: SECRETS.accountKey, [PASSWORD_KEY_NAME]: SECRETS.password, 'taskmanager.numberOfTaskSlots': '1' },
  };
  if (rng.chance(0.3)) templateSpec.parallelism = rng.pick([1, 2]);
  return { kind: 'Deployment', spec: { state: rng.chance(0.95) ? 'RUNNING' : 'SUSPENDED', template: { spec: templateSpec } } };
}

/** The flinkConfiguration with credentials a seeded deployment may hold. */
export function secretFlinkConfiguration(): JsonObject {
  return { [ACCOUNT_KEY_NAME]: SECRETS.accountKey, [PASSWORD_KEY_NAME]: SECRETS.password };
}

/** A one-line description of the scenario for a failure report. */
export function describeScenario(s: Scenario): string {
  const c = s.config;
  const h = s.history
    ? `${s.history.state} ${s.history.upgradeStrategy}/${s.history.restoreStrategy}${s.history.sqlScript !== undefined ? ' sql' : ''}${s.history.sameBlob ? ' same-blob' : ''}${s.history.flinkSecrets ? ' flink-secrets' : ''}`
    : 'missing';
  const inputs = [
    `action=${c.action}`,
    c.action === 'plan' ? `online=${c.online}` : '',
    `wait=${c.waitForRunning}`,
    `timeout=${c.timeoutInMs / 1000}s`,
    `poll=${c.pollIntervalInMs / 1000}s`,
    c.healthCheckInMs ? `health=${c.healthCheckInMs / 1000}s/max${c.maxJobRestarts}` : '',
    c.rollbackOnFailure ? `rollback(${c.rollbackStateFrom})` : '',
    c.upgradeStrategy ? `upgrade=${c.upgradeStrategy}` : '',
    c.restoreStrategy ? `restore=${c.restoreStrategy}` : '',
    c.specFile ? 'specFile' : '',
    s.sql ? `sql=${s.sql.case}(${verdictOf(s.sql)}) service=${s.sql.service ? s.sql.validation : 'absent'}${s.sql.additionalDependencies.length ? ' udf' : ''}` : '',
  ].filter(Boolean);
  const extras = [
    `fates=[${s.fates.join(',')}]`,
    `faults=${s.faults.rate}${s.faults.firstRead404 ? ' first-read-404' : ''}${s.faults.nullPaths.length ? ` nulls=${s.faults.nullPaths.length}` : ''}`,
    s.otherEdit ? `otherEdit=${s.otherEdit.kind}@${s.otherEdit.afterMs / 1000}s` : '',
    s.cancelAfterMs !== undefined ? `cancel@${s.cancelAfterMs / 1000}s` : '',
  ].filter(Boolean);
  return `history: ${h}; ${inputs.join(' ')}; ${extras.join(' ')}`;
}
