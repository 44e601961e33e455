/**
 * Runs the step's `action`: a plan, a deploy or a lifecycle action, each over the shared phases
 * and ending with the one result type the outputs and the run summary are derived from.
 */
import type { DeployResult } from './deploy-result';
import { deploySteps } from './deploy';
import { runSteps } from './flow';
import type { DeployConfig } from './inputs';
import { lifecycleSteps } from './lifecycle';
import type { FlowDeps } from './phases/context';
import { runPlan } from './plan';

/** Never throws for an expected failure: the result carries it (`error`). */
export function runAction(config: DeployConfig, deps: FlowDeps): Promise<DeployResult> {
  switch (config.action) {
    case 'plan':
      return runPlan(config, deps);
    case 'deploy':
      return runSteps(config, deps, deploySteps(config));
    default:
      return runSteps(config, deps, lifecycleSteps(config, config.action));
  }
}
