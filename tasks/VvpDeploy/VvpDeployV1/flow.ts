/**
 * The one flow of VvpDeploy@1's writing actions. `runAction` (action.ts) picks the action's steps
 * (deploy, or a lifecycle action) and `runSteps` runs them with what they all share: log groups, the progress record
 * a cancellation is told from, the outcome of an error, and the one result type the outputs and
 * the run summary are derived from. Plain TypeScript: no task-lib.
 */
import { CancelledError } from '../../common/errors/errors';
import { inGroup } from '../../common/logging/logger';
import { DeploymentFailedError, oneLine, WaitTimeoutError } from '../../common/vvp/errors';
import type { Deployment } from '../../common/vvp/resources';
import { identityOf, startingResult, type DeployOutcome, type DeployResult } from './deploy-result';
import type { DeployConfig } from './inputs';
import { explainCancellation } from './phases/cancellation';
import { Progress, type FlowContext, type FlowDeps } from './phases/context';

/** How the steps of an action ended; the fields they report beyond the deployment's identity. */
export type Ending = Partial<Omit<DeployResult, 'namespace' | 'deployment' | 'startedAtMs' | 'finishedAtMs' | 'action'>> & Pick<DeployResult, 'outcome' | 'message'>;

/** What an action's steps run with. */
export interface Run {
  context: FlowContext;
  /** Runs `work` in a log group; a cancellation names the group it happened in. */
  group<T>(name: string, work: () => Promise<T>): Promise<T>;
  /** The deployment as last read: the result's identity fields (id, name, state, jarUri) come from it. */
  seen(deployment: Deployment): void;
  /** What the run has established so far (the previous jarUri, the plan's counts…): kept in the result also when a later step throws. */
  record(fields: Partial<Ending>): void;
  /** The deployment's name for messages: as VVP reports it once read, else the input. */
  name(): string;
}

/** The steps of one action; `change` names its write for a cancellation message. */
export interface Steps {
  /** The first log group (until the steps open their own). */
  firstGroup: string;
  /** What the step's write is, for "… was applied and VVP keeps working on it". */
  change: string;
  run(run: Run): Promise<Ending>;
}

/**
 * Runs one action. Never throws for an expected failure: the result carries it (`error`), so the
 * entry can write the outputs and the summary first. A cancellation becomes a CancelledError that
 * says what state VVP was left in.
 */
export async function runSteps(config: DeployConfig, deps: FlowDeps, steps: Steps): Promise<DeployResult> {
  const progress = new Progress();
  const context: FlowContext = { ...deps, config, progress };
  const startedAtMs = deps.clock.now();
  let phase = steps.firstGroup;
  let last: Deployment | undefined;
  let established: Partial<Ending> = {};
  const run: Run = {
    context,
    group: (name, work) => {
      phase = name;
      return inGroup(deps.logger, name, work);
    },
    seen: (deployment) => {
      last = deployment;
    },
    record: (fields) => {
      established = { ...established, ...fields };
    },
    name: () => oneLine(last?.metadata.name ?? config.deployment),
  };
  let ending: Ending;
  try {
    ending = await steps.run(run);
  } catch (error) {
    const told = explainCancellation(error, deps.abortSignal, progress, phase, { deployment: run.name(), change: steps.change, lastState: last?.status?.state }) ?? (error as Error);
    ending = endedBy(told);
  }
  const result: DeployResult = {
    ...startingResult(config, startedAtMs),
    ...identityOf(last),
    ...established,
    ...ending,
    action: config.action,
    finishedAtMs: deps.clock.now(),
  };
  result.state ??= progress.lastState;
  return result;
}

/** An ending for an error the steps return rather than throw (the fields they established stay). */
export function endedBy(error: Error): Pick<Ending, 'outcome' | 'message' | 'error'> {
  return { outcome: outcomeOf(error), message: error.message, error };
}

/** The outcome an error ends the step with. */
function outcomeOf(error: Error): DeployOutcome {
  if (error instanceof CancelledError) return 'cancelled';
  if (error instanceof DeploymentFailedError) return error.kind === 'blocked' ? 'blocked' : 'failed';
  if (error instanceof WaitTimeoutError) return 'timedOut';
  return 'error';
}
