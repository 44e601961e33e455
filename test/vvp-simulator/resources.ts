/**
 * Resource shapes of the VVP AppManager API (swagger 2.4.3 / 2.7.1), limited to the
 * fields the simulator fills. Every resource is `{kind, apiVersion, metadata, spec, status}`.
 */
import type { JsonObject } from './plain-object';

/** Desired deployment state (`spec.state`). */
export type DesiredState = 'RUNNING' | 'SUSPENDED' | 'CANCELLED';
/** Observed deployment state (`status.state`). */
export type DeploymentState = DesiredState | 'TRANSITIONING' | 'FAILED' | 'FINISHED';
/** Job state (`status.state` of a Job). */
export type JobState = 'STARTING' | 'STANDBY' | 'STARTED' | 'TERMINATING' | 'FAILED' | 'TERMINATED' | 'FINISHED';
/** Savepoint state (2.7.1 adds the deletion states, which the simulator never reaches). */
export type SavepointState = 'STARTED' | 'COMPLETED' | 'FAILED';
/**
 * `metadata.origin` of a Savepoint: `SUSPEND` (suspension, and upgrades from 2.6 on),
 * `SUSPEND_AND_UPGRADE` (upgrades before 2.6), `USER_REQUEST`, `COPIED` (created from an existing
 * location), `RETAINED_CHECKPOINT` (a torn-down job's last checkpoint).
 */
export type SavepointOrigin = 'USER_REQUEST' | 'SUSPEND' | 'SUSPEND_AND_UPGRADE' | 'COPIED' | 'RETAINED_CHECKPOINT';
/** `spec.upgradeStrategy.kind`. */
export type UpgradeStrategy = 'STATEFUL' | 'STATELESS' | 'NONE';

export const DESIRED_STATES: readonly DesiredState[] = ['RUNNING', 'SUSPENDED', 'CANCELLED'];
export const UPGRADE_STRATEGIES: readonly UpgradeStrategy[] = ['STATEFUL', 'STATELESS', 'NONE'];
export const RESTORE_STRATEGIES: readonly string[] = ['LATEST_STATE', 'LATEST_SAVEPOINT', 'NONE'];
export const ARTIFACT_KINDS: readonly string[] = ['JAR', 'SQLSCRIPT', 'PYTHON'];

/** System annotations VVP's controller keeps on deployments (clients exclude them from diffs). */
export const SPEC_VERSION_ANNOTATION = 'com.dataartisans.appmanager.controller.deployment.spec.version';
export const TRANSITIONING_ANNOTATION = 'com.dataartisans.appmanager.controller.deployment.transitioning';
export const TRANSITIONING_SINCE_ANNOTATION = 'com.dataartisans.appmanager.controller.deployment.transitioning.since';

/** `{reason, message, failedAt}` on failed jobs and savepoints. */
export interface Failure {
  reason: string;
  message: string;
  failedAt: string;
}

/** One entry of `status.running.conditions`. */
export interface DeploymentCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  lastUpdateTime: string;
}

export interface DeploymentMetadata {
  id: string;
  name: string;
  displayName?: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  createdAt: string;
  modifiedAt: string;
  resourceVersion: number;
}

export interface DeploymentStatus {
  state: DeploymentState;
  running?: { jobId: string; transitionTime: string; conditions: DeploymentCondition[] };
}

/** A Deployment; `spec` is kept as free JSON because clients may send any field. */
export interface Deployment {
  kind: 'Deployment';
  apiVersion: 'v1';
  metadata: DeploymentMetadata;
  spec: JsonObject;
  status: DeploymentStatus;
}

export interface Job {
  kind: 'Job';
  apiVersion: 'v1';
  metadata: {
    id: string;
    namespace: string;
    deploymentId: string;
    deploymentName: string;
    createdAt: string;
    modifiedAt: string;
    terminatedAt?: string;
    annotations: Record<string, string>;
    resourceVersion: number;
  };
  spec: JsonObject;
  status: {
    state: JobState;
    started?: {
      flinkJobId: string;
      startedAt: string;
      lastUpdateTime: string;
      observedFlinkJobRestarts: number;
      observedFlinkJobStatus: string;
    };
    failure?: Failure;
  };
}

export interface VvpEvent {
  kind: 'Event';
  apiVersion: 'v1';
  metadata: {
    id: string;
    name: string;
    namespace: string;
    deploymentId: string;
    jobId?: string;
    createdAt: string;
    resourceVersion: number;
  };
  spec: { message: string };
}

export interface Savepoint {
  kind: 'Savepoint';
  apiVersion: 'v1';
  metadata: {
    id: string;
    namespace: string;
    deploymentId: string;
    jobId?: string;
    origin: SavepointOrigin;
    type?: string;
    createdAt: string;
    modifiedAt: string;
    annotations: Record<string, string>;
    resourceVersion: number;
  };
  /** `flinkSavepointId` only for savepoints VVP triggered itself (not copies or retained checkpoints). */
  spec: { savepointLocation: string; flinkSavepointId?: string };
  status: { state: SavepointState; failure?: Failure };
}

export interface DeploymentTarget {
  kind: 'DeploymentTarget';
  apiVersion: 'v1';
  metadata: {
    id: string;
    name: string;
    namespace: string;
    createdAt: string;
    modifiedAt: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    resourceVersion: number;
  };
  spec: { kubernetes: { namespace: string } };
}

/** `ResourceListOf*`: `{kind, apiVersion, metadata: {}, items}`. */
export interface ResourceList<T> {
  kind: 'ResourceList';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  items: T[];
}

/**
 * Wraps items in a list resource. The list `kind` string is not documented anywhere;
 * clients read only `items`.
 */
export function resourceList<T>(items: T[]): ResourceList<T> {
  return { kind: 'ResourceList', apiVersion: 'v1', metadata: {}, items };
}
