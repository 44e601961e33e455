/**
 * Everything a simulator instance holds, independent of HTTP: configuration, resources,
 * controller, behaviours, tokens, faults and the request log.
 */
import { randomUUID } from 'node:crypto';
import { badRequest, conflict, notFound } from './api-error';
import { TokenAuth, type ApiToken } from './auth';
import { BehaviourBook, parseBehaviourPatch, type BehaviourPatch } from './behaviour';
import { DeploymentController, type StateChange } from './controller';
import { expandDefaults, jarUriOf, validateName, validateSpec } from './deployment-spec';
import { FaultBook, parseFault } from './faults';
import { deepClone, isPlainObject, mergePatch, type JsonObject } from './plain-object';
import { RequestLog } from './request-log';
import { SPEC_VERSION_ANNOTATION, TRANSITIONING_ANNOTATION, UPGRADE_STRATEGIES, type Deployment, type DeploymentCondition, type Failure } from './resources';
import { realSimClock, type SimClock } from './sim-clock';
import { DEFAULT_TARGET_NAME, SimStore, type Addressing } from './store';
import { DEFAULT_SQL_CATALOG, DEFAULT_SQL_DATABASE } from './sql-routes';
import { sqlJobFailure } from './sql-validation';

/** Simulator-wide settings; all can be changed at run time through `PUT /__sim/config`. */
export interface SimulatorConfig {
  /** Multiplies every controller duration. Default 1. */
  timeScale: number;
  /** `revisionInformation.buildVersion`; before 2.6 upgrade savepoints have origin SUSPEND_AND_UPGRADE. Default `2.7.1`. */
  buildVersion: string;
  /** `json`: `{kind: "Error", ...}` bodies; `text`: plain-text bodies. Default `json`. */
  errorFormat: 'json' | 'text';
  /** `nameOrId` (2.4+, default) or `idOnly` (2.0–2.3). */
  addressing: Addressing;
  /** Status for a duplicate deployment name. Default 409. */
  duplicateNameStatus: 400 | 409;
  /** Reject an unknown deployment target at write time (400) instead of failing later. Default false. */
  strictDeploymentTarget: boolean;
  /** Reject a write whose `metadata.resourceVersion` is stale (409). Default false (VVP ignores it). */
  strictResourceVersion: boolean;
  /** Where savepoints are written. Default `wasbs://vvp@vvpstorage.blob.core.windows.net`. */
  blobStorageBaseUri: string;
  /** Write unset optional fields as `null`, as VVP's Jackson serialisation does (see jackson-nulls.ts). Default false. */
  explicitNulls: boolean;
  /** Serve the SQL service (`/sql/v1beta1/`); false: every SQL path answers 404. Default true. */
  sqlService: boolean;
  /**
   * How `sqlscripts:validate` treats a text of several statements: `script` validates it as a
   * whole (default); `statement` answers VALIDATION_RESULT_UNSUPPORTED_QUERY (see README).
   */
  sqlValidation: 'script' | 'statement';
  /** Tables the SQL catalog already has (simple names), for validation and SQL job starts. Default none. */
  sqlCatalogTables: string[];
}

/** Defaults of {@link SimulatorConfig}. */
export function defaultConfig(): SimulatorConfig {
  return {
    timeScale: 1,
    buildVersion: '2.7.1',
    errorFormat: 'json',
    addressing: 'nameOrId',
    duplicateNameStatus: 409,
    strictDeploymentTarget: false,
    strictResourceVersion: false,
    blobStorageBaseUri: 'wasbs://vvp@vvpstorage.blob.core.windows.net',
    explicitNulls: false,
    sqlService: true,
    sqlValidation: 'script',
    sqlCatalogTables: [],
  };
}

/**
 * Validates a partial config from JSON.
 * @throws ApiError 400 naming the bad field.
 */
export function parseConfigPatch(input: unknown): Partial<SimulatorConfig> {
  if (!isPlainObject(input)) throw badRequest('config must be an object');
  const out: Partial<SimulatorConfig> = {};
  for (const [key, value] of Object.entries(input)) {
    const bad = (accepted: string): never => {
      throw badRequest(`config.${key}: expected ${accepted}, got ${JSON.stringify(value)}`);
    };
    switch (key) {
      case 'timeScale':
        if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) bad('a number >= 0');
        out.timeScale = value as number;
        break;
      case 'buildVersion':
      case 'blobStorageBaseUri':
        if (typeof value !== 'string' || value === '') bad('a non-empty string');
        out[key] = value as string;
        break;
      case 'errorFormat':
        if (value !== 'json' && value !== 'text') bad('json or text');
        out.errorFormat = value as 'json' | 'text';
        break;
      case 'addressing':
        if (value !== 'nameOrId' && value !== 'idOnly') bad('nameOrId or idOnly');
        out.addressing = value as Addressing;
        break;
      case 'duplicateNameStatus':
        if (value !== 400 && value !== 409) bad('400 or 409');
        out.duplicateNameStatus = value as 400 | 409;
        break;
      case 'strictDeploymentTarget':
      case 'strictResourceVersion':
      case 'explicitNulls':
      case 'sqlService':
        if (typeof value !== 'boolean') bad('true or false');
        out[key] = value as boolean;
        break;
      case 'sqlValidation':
        if (value !== 'script' && value !== 'statement') bad('script or statement');
        out.sqlValidation = value as 'script' | 'statement';
        break;
      case 'sqlCatalogTables':
        if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) bad('an array of table names');
        out.sqlCatalogTables = [...(value as string[])];
        break;
      default:
        throw badRequest(`unknown config field '${key}'; accepted: ${Object.keys(defaultConfig()).join(', ')}`);
    }
  }
  return out;
}

/** A deployment created directly in a given state (control API / scenario). */
export interface DeploymentSeed {
  /** Default `default` (created when missing). */
  namespace?: string;
  name: string;
  /** The JAR of a JAR deployment; give this or `sqlScript`. */
  jarUri?: string;
  /** The script of a SQLSCRIPT deployment (artifact `{kind: SQLSCRIPT, sqlScript}`); give this or `jarUri`. */
  sqlScript?: string;
  /** Observed state to start in. Default RUNNING (with a STARTED job). */
  state?: 'RUNNING' | 'CANCELLED' | 'SUSPENDED' | 'FAILED';
  /** Default STATEFUL. */
  upgradeStrategy?: string;
  /** Default LATEST_STATE. */
  restoreStrategy?: string;
  labels?: Record<string, string>;
  /** Merged (merge patch) into the generated spec. */
  spec?: JsonObject;
  behaviour?: BehaviourPatch;
}

/** What really runs, for tests that must not be fooled by a stale status. */
export interface DeploymentTruth {
  namespace: string;
  deploymentId: string;
  name: string;
  resourceVersion: number;
  specState: string;
  statusState: string;
  specJarUri: string | null;
  /** `spec.template.spec.artifact.sqlScript` (SQLSCRIPT deployments); optional so hand-built truths stay short. */
  specSqlScript?: string | null;
  /** `status.running.jobId` as the API shows it (may be stale). */
  statusJobId: string | null;
  /** The job actually in state STARTED, if any. */
  runningJob: { id: string; jarUri: string | null; sqlScript?: string | null; savepointLocation: string | null } | null;
  /**
   * `status.running.conditions` (`ClusterUnreachable`, `JobFailing`, ...); empty unless RUNNING.
   * Always filled by the simulator; optional only so hand-built truths in tests stay short.
   */
  conditions?: DeploymentCondition[];
  transitionInProgress: boolean;
  /**
   * Every job, oldest first. `restarts` is `status.started.observedFlinkJobRestarts` and
   * `flinkStatus` its `observedFlinkJobStatus` (null for a job that never started).
   */
  jobs: {
    id: string;
    state: string;
    jarUri: string | null;
    /** The job's `spec.artifact.sqlScript` (SQLSCRIPT jobs), else null. */
    sqlScript?: string | null;
    createdAt: string;
    savepointLocation: string | null;
    failure: unknown;
    restarts: number | null;
    flinkStatus: string | null;
  }[];
  /** Every Savepoint of the deployment, oldest first; `jobId` null for COPIED ones. */
  savepoints: {
    id: string;
    state: string;
    origin: string;
    savepointLocation: string;
    jobId: string | null;
    createdAt: string;
    failure: Failure | null;
  }[];
  events: string[];
  pendingOutcomes: string[];
}

/** How the simulator starts; `reset` returns here. */
export interface SimulatorInit {
  config?: Partial<SimulatorConfig>;
  /** Default `["default"]`. */
  namespaces?: string[];
  /** When given (even empty), auth is enabled. */
  tokens?: ApiToken[];
  /** Auth on/off explicitly (default: on when tokens are given). */
  authEnabled?: boolean;
  behaviour?: BehaviourPatch;
  deployments?: DeploymentSeed[];
  /** Fault rules (control API format) installed at startup and on every reset. */
  faults?: unknown[];
}

/** The simulator's state and the operations on it that both APIs use. */
export class SimulatorState {
  config: SimulatorConfig = defaultConfig();
  /** Time and timers of the controller and every timestamp written. */
  readonly clock: SimClock;
  readonly store: SimStore;
  readonly behaviours = new BehaviourBook();
  readonly auth = new TokenAuth();
  readonly faults = new FaultBook();
  readonly requests = new RequestLog();
  readonly controller: DeploymentController;
  private readonly listeners: ((change: StateChange) => void)[] = [];

  /**
   * @param init The startup state (also what `reset` returns to).
   * @param options `clock`: where time comes from; default the real clock (the HTTP simulator).
   *   The in-memory VVP passes a virtual clock.
   */
  constructor(
    private readonly init: SimulatorInit = {},
    options: { clock?: SimClock } = {},
  ) {
    this.clock = options.clock ?? realSimClock();
    this.store = new SimStore(this.clock);
    this.controller = new DeploymentController({
      store: this.store,
      clock: this.clock,
      behaviours: this.behaviours,
      timeScale: () => this.config.timeScale,
      buildVersion: () => this.config.buildVersion,
      blobStorageBaseUri: () => this.config.blobStorageBaseUri,
      sqlJobFailure: (script) => sqlJobFailure(script, { catalogTables: this.config.sqlCatalogTables, catalog: DEFAULT_SQL_CATALOG, database: DEFAULT_SQL_DATABASE }),
      onStateChange: (change) => this.listeners.forEach((l) => l(change)),
    });
    this.reset(true);
  }

  /** Subscribes to state changes (the CLI logs them on stderr). */
  onStateChange(listener: (change: StateChange) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Back to the startup state: config, namespaces, tokens, behaviours; seeds the startup
   * deployments unless `withDeployments` is false. Clears faults and the request log.
   */
  reset(withDeployments: boolean): void {
    this.controller.stopAll();
    this.store.clear();
    this.behaviours.clear();
    this.faults.clear();
    this.requests.clear();
    this.config = { ...defaultConfig(), ...this.init.config };
    for (const ns of this.init.namespaces ?? ['default']) this.store.addNamespace(ns);
    this.auth.setTokens(this.init.tokens ?? []);
    this.auth.enabled = this.init.authEnabled ?? this.init.tokens !== undefined;
    if (this.init.behaviour) this.behaviours.setGlobal(this.init.behaviour);
    for (const fault of this.init.faults ?? []) this.faults.add(parseFault(fault));
    if (withDeployments) for (const seed of this.init.deployments ?? []) this.seedDeployment(seed);
  }

  /** Stops timers (shutdown). */
  stop(): void {
    this.controller.stopAll();
  }

  /** The id of the namespace's `vvp-default` target. */
  defaultTargetId(namespace: string): string {
    const target = this.store.findTarget(namespace, DEFAULT_TARGET_NAME);
    return target ? target.metadata.id : '';
  }

  /**
   * Creates a deployment directly in the seed's state (RUNNING with a STARTED job by default).
   * @throws ApiError 400 for an invalid seed, 409 for a duplicate name.
   */
  seedDeployment(input: unknown): Deployment {
    const seed = parseSeed(input);
    const namespace = seed.namespace ?? 'default';
    this.store.addNamespace(namespace);
    if (this.store.findDeployment(namespace, seed.name)) throw conflict(`Deployment '${seed.name}' already exists in namespace '${namespace}'.`);
    if (seed.behaviour) this.behaviours.setFor(namespace, seed.name, parseBehaviourPatch(seed.behaviour));
    const baseSpec: JsonObject = {
      state: seed.state === 'FAILED' || !seed.state ? 'RUNNING' : seed.state,
      upgradeStrategy: { kind: seed.upgradeStrategy ?? 'STATEFUL' },
      restoreStrategy: { kind: seed.restoreStrategy ?? 'LATEST_STATE', allowNonRestoredState: false },
      template: {
        spec: {
          artifact: seed.sqlScript !== undefined ? { kind: 'SQLSCRIPT', sqlScript: seed.sqlScript } : { kind: 'JAR', jarUri: seed.jarUri ?? '' },
          parallelism: 1,
        },
      },
    };
    const spec = expandDefaults(mergePatch(baseSpec, seed.spec ?? {}) as JsonObject, namespace, this.store, this.defaultTargetId(namespace));
    validateSpec(spec);
    const now = this.clock.isoNow();
    const deployment: Deployment = {
      kind: 'Deployment',
      apiVersion: 'v1',
      metadata: {
        id: randomUUID(),
        name: seed.name,
        displayName: seed.name,
        namespace,
        labels: { ...seed.labels },
        annotations: { [SPEC_VERSION_ANNOTATION]: '1', [TRANSITIONING_ANNOTATION]: 'false' },
        createdAt: now,
        modifiedAt: now,
        resourceVersion: 1,
      },
      spec,
      status: { state: 'CANCELLED' },
    };
    this.store.putDeployment(deployment);
    switch (seed.state ?? 'RUNNING') {
      case 'RUNNING':
        this.controller.seedRunningJob(deployment);
        break;
      case 'SUSPENDED':
        this.controller.seedSuspended(deployment);
        break;
      case 'FAILED':
        this.controller.seedFailedJob(deployment);
        break;
      case 'CANCELLED':
        break;
    }
    return deployment;
  }

  /**
   * The truth about a deployment.
   * @throws ApiError 404 when unknown.
   */
  truth(namespace: string, nameOrId: string): DeploymentTruth {
    const deployment = this.store.findDeployment(namespace, nameOrId);
    if (!deployment) throw notFound(`Deployment '${nameOrId}' does not exist in namespace '${namespace}'.`);
    const jobs = this.store.listJobs(namespace, deployment.metadata.id);
    const jarOf = (spec: JsonObject): string | null => {
      const artifact = isPlainObject(spec.artifact) ? spec.artifact : {};
      return typeof artifact.jarUri === 'string' ? artifact.jarUri : null;
    };
    const sqlOf = (spec: JsonObject): string | null => {
      const artifact = isPlainObject(spec.artifact) ? spec.artifact : {};
      return typeof artifact.sqlScript === 'string' ? artifact.sqlScript : null;
    };
    const running = jobs.find((j) => j.status.state === 'STARTED');
    return {
      namespace,
      deploymentId: deployment.metadata.id,
      name: deployment.metadata.name,
      resourceVersion: deployment.metadata.resourceVersion,
      specState: String(deployment.spec.state),
      statusState: deployment.status.state,
      specJarUri: jarUriOf(deployment.spec) ?? null,
      specSqlScript: isPlainObject(deployment.spec.template) && isPlainObject(deployment.spec.template.spec) ? sqlOf(deployment.spec.template.spec) : null,
      statusJobId: deployment.status.running?.jobId ?? null,
      runningJob: running
        ? { id: running.metadata.id, jarUri: jarOf(running.spec), sqlScript: sqlOf(running.spec), savepointLocation: typeof running.spec.savepointLocation === 'string' ? running.spec.savepointLocation : null }
        : null,
      conditions: deepClone(deployment.status.running?.conditions ?? []),
      transitionInProgress: this.controller.isBusy(deployment.metadata.id),
      jobs: jobs.map((j) => ({
        id: j.metadata.id,
        state: j.status.state,
        jarUri: jarOf(j.spec),
        sqlScript: sqlOf(j.spec),
        createdAt: j.metadata.createdAt,
        savepointLocation: typeof j.spec.savepointLocation === 'string' ? j.spec.savepointLocation : null,
        failure: j.status.failure ? deepClone(j.status.failure) : null,
        restarts: j.status.started?.observedFlinkJobRestarts ?? null,
        flinkStatus: j.status.started?.observedFlinkJobStatus ?? null,
      })),
      savepoints: this.store.listSavepoints(namespace, { deploymentId: deployment.metadata.id }).map((s) => ({
        id: s.metadata.id,
        state: s.status.state,
        origin: s.metadata.origin,
        savepointLocation: s.spec.savepointLocation,
        jobId: s.metadata.jobId ?? null,
        createdAt: s.metadata.createdAt,
        failure: s.status.failure ? deepClone(s.status.failure) : null,
      })),
      events: this.store.listEvents(namespace, { deploymentId: deployment.metadata.id }).map((e) => e.metadata.name),
      pendingOutcomes: [...this.behaviours.get(namespace, deployment.metadata.name).outcomeQueue],
    };
  }
}

/**
 * Validates a deployment seed from JSON/YAML.
 * @throws ApiError 400 naming the bad field.
 */
export function parseSeed(input: unknown): DeploymentSeed {
  if (!isPlainObject(input)) throw badRequest('deployment seed must be an object');
  const name = validateName(input.name);
  const sql = input.sqlScript !== undefined;
  if (sql && (typeof input.sqlScript !== 'string' || input.sqlScript === '')) throw badRequest('seed.sqlScript must be a non-empty string');
  if (sql && input.jarUri !== undefined) throw badRequest('seed: give jarUri or sqlScript, not both');
  if (!sql && (typeof input.jarUri !== 'string' || input.jarUri === '')) throw badRequest('seed.jarUri (or seed.sqlScript) is required');
  const state = input.state ?? 'RUNNING';
  if (!['RUNNING', 'CANCELLED', 'SUSPENDED', 'FAILED'].includes(state as string)) {
    throw badRequest(`seed.state must be RUNNING, CANCELLED, SUSPENDED or FAILED, got ${JSON.stringify(state)}`);
  }
  if (input.upgradeStrategy !== undefined && !(UPGRADE_STRATEGIES as readonly unknown[]).includes(input.upgradeStrategy)) {
    throw badRequest(`seed.upgradeStrategy must be one of ${UPGRADE_STRATEGIES.join(', ')}`);
  }
  if (input.namespace !== undefined && typeof input.namespace !== 'string') throw badRequest('seed.namespace must be a string');
  if (input.labels !== undefined && !isPlainObject(input.labels)) throw badRequest('seed.labels must be an object');
  if (input.spec !== undefined && !isPlainObject(input.spec)) throw badRequest('seed.spec must be an object');
  return {
    namespace: input.namespace as string | undefined,
    name,
    ...(sql ? { sqlScript: input.sqlScript as string } : { jarUri: input.jarUri as string }),
    state: state as DeploymentSeed['state'],
    upgradeStrategy: input.upgradeStrategy as string | undefined,
    restoreStrategy: typeof input.restoreStrategy === 'string' ? input.restoreStrategy : undefined,
    labels: input.labels as Record<string, string> | undefined,
    spec: input.spec as JsonObject | undefined,
    behaviour: input.behaviour !== undefined ? parseBehaviourPatch(input.behaviour) : undefined,
  };
}
