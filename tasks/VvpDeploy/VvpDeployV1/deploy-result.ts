import type { RollbackReport } from '../../common/vvp/errors';
import type { SqlProblems } from './phases/check-sql';
import type { DeployConfig } from './inputs';
import { jarUriOf, type Deployment } from '../../common/vvp/resources';

/** How the step ended. */
export type DeployOutcome = 'upToDate' | 'succeeded' | 'applied' | 'planned' | 'failed' | 'timedOut' | 'blocked' | 'cancelled' | 'error';

/**
 * What a run did, returned by `runAction` whatever happened: the outputs and the run summary are
 * derived from it. `error` is set when the step fails; the entry reports it after the outputs.
 */
export interface DeployResult {
  outcome: DeployOutcome;
  /** The `action` input; undefined reads as `deploy`. */
  action?: string;
  /** The pipeline annotations this step wrote on the deployment (its link back to the run). */
  annotations?: Readonly<Record<string, string>>;
  /** The one-line result (success) or the error's message. */
  message: string;
  error?: Error;
  /** Succeeded, but something deserves attention (SucceededWithIssues): a plan that could only run offline. */
  withIssues?: boolean;
  /** The plan as markdown for the run summary (`action: plan`). */
  planMarkdown?: string;
  namespace: string;
  /** The `deployment` input (a name or an id). */
  deployment: string;
  /** The deployment's name and id as VVP reports them, once read. */
  deploymentName?: string;
  deploymentId?: string;
  /** jarUri before this step; undefined when the step created the deployment or it was not read. */
  previousJarUri?: string;
  /** The jarUri this step deploys ('' for a SQL deployment and the lifecycle actions). */
  targetJarUri: string;
  /** SHA-256 of the SQL script this step deploys or plans (as sent); undefined for a JAR. */
  sqlScriptSha256?: string;
  /** Problems of the SQL script, at the file's lines: the entry annotates them (the step then wrote nothing). */
  sqlProblems?: SqlProblems;
  /** The jarUri VVP stores at the end, when known. */
  jarUri?: string;
  previousJobId?: string;
  /** The job running at the end, when known. */
  jobId?: string;
  /** The last observed `status.state`. */
  state?: string;
  created: boolean;
  /** The savepoint VVP took of the previous job for this change (or of suspend / savepoint). */
  savepoint?: { id: string; location?: string; state?: string };
  /** The `spec.savepointLocation` the new job started from; undefined: no state restored. */
  restoredFrom?: string;
  /** The change replaces the running job (a template or `spec.state` change). */
  restartRequired?: boolean;
  /** Spec and metadata fields the change sets to a new value, not counting the pipeline annotations. */
  planChanges?: number;
  /** Restarts the health check saw (when it ran and passed). */
  healthRestarts?: number;
  /** The health check of the new job failed; `restarts` as last read (undefined when VVP did not answer). */
  healthFailed?: { restarts?: number };
  /** The fields a spec-file deploy sets to a new value (diff paths, pipeline annotations not counted); undefined without a spec file. */
  changedFields?: string[];
  /** The pipeline run (`Build.BuildNumber`), when the agent gives it. */
  build?: string;
  /** True only when the previous template runs again (its job STARTED). */
  rolledBack: boolean;
  rollback?: RollbackReport;
  startedAtMs: number;
  finishedAtMs: number;
}

/** What every result starts with: what the step was asked to do, and when it started. */
export function startingResult(config: DeployConfig, startedAtMs: number): Pick<DeployResult, 'namespace' | 'deployment' | 'targetJarUri' | 'sqlScriptSha256' | 'created' | 'rolledBack' | 'build' | 'startedAtMs'> {
  return {
    namespace: config.namespace,
    deployment: config.deployment,
    targetJarUri: config.jarUri,
    sqlScriptSha256: config.artifact.kind === 'SQLSCRIPT' ? config.artifact.sha256 : undefined,
    created: false,
    rolledBack: false,
    build: config.runAnnotations['azure-pipelines/run'],
    startedAtMs,
  };
}

/** What a result says of the deployment as last read: its id, name, state and jarUri. */
export function identityOf(deployment: Deployment | undefined): Pick<DeployResult, 'deploymentId' | 'deploymentName' | 'state' | 'jarUri'> {
  if (!deployment) return {};
  return { deploymentId: deployment.metadata.id, deploymentName: deployment.metadata.name ?? undefined, state: deployment.status?.state, jarUri: jarUriOf(deployment) };
}
