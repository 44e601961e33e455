/**
 * The "no false success" check: a deploy run may report Succeeded only when VVP really runs a
 * job with exactly the requested jarUri, and that job is the one the run reports. Use it after
 * every deploy run against the VVP simulator:
 *
 * ```ts
 * const run = await runTask({ ... });
 * await assertNoFalseSuccess(run, { sim: sim.control, deployment: 'app', jarUri: `${JAR}?commit=${COMMIT}` });
 * ```
 */
import assert from 'node:assert/strict';
import type { TaskRunResult } from '../rig/run-task';
import type { DeploymentTruth, SimulatorControl } from '../vvp-simulator/client';
import { ledger } from './ledger';

export interface DeployTarget {
  sim: SimulatorControl;
  /** Default `default`. */
  namespace?: string;
  deployment: string;
  /** The jarUri the run deploys, `?commit=` included. */
  jarUri: string;
}

/** Why a Succeeded verdict is false, or undefined when the truth backs it. Pure. */
export function falseSuccessReason(run: Pick<TaskRunResult, 'result' | 'outputs'>, truth: DeploymentTruth, jarUri: string): string | undefined {
  if (run.result !== 'Succeeded' && run.result !== 'SucceededWithIssues') return undefined;
  const job = truth.runningJob;
  if (!job) return `no job is running (status ${truth.statusState})`;
  if (job.jarUri !== jarUri) return `the running job ${job.id} runs ${job.jarUri ?? '(no jarUri)'}, not ${jarUri}`;
  if (truth.specJarUri !== jarUri) return `the deployment's template holds ${truth.specJarUri ?? '(none)'}, so VVP is moving away from ${jarUri}`;
  if (run.outputs['jobId'] && run.outputs['jobId'] !== job.id) return `the run reports job ${run.outputs['jobId']}, but job ${job.id} runs`;
  if (run.outputs['jarUri'] !== undefined && run.outputs['jarUri'] !== jarUri) return `the run reports jarUri ${run.outputs['jarUri']}`;
  return undefined;
}

/**
 * Compares the run's verdict with the simulator's truth, counts it in the ledger and fails the
 * test on a false success. Returns whether the run reported success.
 */
export async function assertNoFalseSuccess(run: Pick<TaskRunResult, 'result' | 'outputs' | 'message'>, target: DeployTarget): Promise<boolean> {
  const truth = await target.sim.truth(target.namespace ?? 'default', target.deployment);
  ledger.deployVerdictsChecked++;
  const reason = falseSuccessReason(run, truth, target.jarUri);
  const succeeded = run.result === 'Succeeded' || run.result === 'SucceededWithIssues';
  if (reason) {
    ledger.falseSuccesses++;
    assert.fail(`FALSE SUCCESS for deployment '${target.deployment}': the task said "${run.message}" but ${reason}`);
  }
  if (succeeded) ledger.successesConfirmed++;
  return succeeded;
}
