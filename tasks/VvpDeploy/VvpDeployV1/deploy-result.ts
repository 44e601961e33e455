import type { RollbackReport } from '../../common/vvp/errors';

/** How the step ended. */
export type DeployOutcome = 'upToDate' | 'succeeded' | 'applied' | 'failed' | 'timedOut' | 'blocked' | 'cancelled' | 'error';

/**
 * What a run did, returned by `runDeploy` whatever happened: the outputs and the run summary are
 * derived from it. `error` is set when the step fails; the entry reports it after the outputs.
 */
export interface DeployResult {
  outcome: DeployOutcome;
  /** The one-line result (success) or the error's message. */
  message: string;
  error?: Error;
  namespace: string;
  /** The `deployment` input (a name or an id). */
  deployment: string;
  /** The deployment's name and id as VVP reports them, once read. */
  deploymentName?: string;
  deploymentId?: string;
  /** jarUri before this step; undefined when the step created the deployment or it was not read. */
  previousJarUri?: string;
  /** The jarUri this step deploys. */
  targetJarUri: string;
  /** The jarUri VVP stores at the end, when known. */
  jarUri?: string;
  previousJobId?: string;
  /** The job running at the end, when known. */
  jobId?: string;
  /** The last observed `status.state`. */
  state?: string;
  created: boolean;
  /** True only when the previous template runs again (its job STARTED). */
  rolledBack: boolean;
  rollback?: RollbackReport;
  startedAtMs: number;
  finishedAtMs: number;
}
