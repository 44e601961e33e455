/**
 * The "no false success" check: a deploy run may report Succeeded only when VVP really runs a
 * job with exactly the requested jarUri, and that job is the one the run reports. Use it after
 * every deploy run against the VVP simulator:
 *
 * ```ts
 * const run = await runBundled(bench, 'VvpDeploy', { ... });
 * await assertNoFalseSuccess(run, { sim: sim.control, deployment: 'app', jarUri: jarFor(COMMIT) });
 * ```
 */
import assert from 'node:assert/strict';
import type { TaskRunResult } from '../rig/run-task';
import type { DeploymentTruth, SimulatorControl } from '../vvp-simulator/client';

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
 * Compares the run's verdict with the simulator's truth (deployment `deployment` in namespace
 * `default`) and fails the test on a false success. Returns whether the run reported success.
 */
export async function assertNoFalseSuccess(
  run: Pick<TaskRunResult, 'result' | 'outputs' | 'message'>,
  target: { sim: SimulatorControl; deployment: string; jarUri: string },
): Promise<boolean> {
  const truth = await target.sim.truth('default', target.deployment);
  const reason = falseSuccessReason(run, truth, target.jarUri);
  if (reason) assert.fail(`FALSE SUCCESS for deployment '${target.deployment}': the task said "${run.message}" but ${reason}`);
  return run.result === 'Succeeded' || run.result === 'SucceededWithIssues';
}
