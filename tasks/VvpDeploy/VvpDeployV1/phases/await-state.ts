import type { PollOutcome } from '../../../common/poll/poller';
import { oneLine, VvpApiError } from '../../../common/vvp/errors';
import { classifyStateChange, type StateObservation } from '../../../common/vvp/lifecycle';
import { desiredStateOf } from '../../../common/vvp/resources';
import type { FlowContext } from './context';
import { DIAGNOSTICS_BOUND_MS } from './explain';
import { pollVvp } from './poll-vvp';

/**
 * Waits (within `timeoutMinutes`) until the deployment's status is `wanted`: SUSPENDED or
 * CANCELLED after a `spec.state` write. VVP keeps reporting the state from before the write for a
 * while, so FAILED counts only once VVP has shown a change or when it was not FAILED before.
 */
export function awaitState(context: FlowContext, deploymentId: string, wanted: 'SUSPENDED' | 'CANCELLED', baselineState: string | undefined): Promise<PollOutcome<StateObservation, { state: string }>> {
  const { config, vvp, clock } = context;
  const deadline = clock.now() + config.timeoutInMs + DIAGNOSTICS_BOUND_MS;
  let changeObserved = false;
  return pollVvp<StateObservation, { state: string }>(context, {
    probe: async (signal) => {
      const d = await vvp.getDeployment(config.namespace, deploymentId, { abortSignal: signal, deadline });
      if (!d) throw new VvpApiError({ method: 'GET', path: '', operation: `waiting for deployment ${oneLine(deploymentId)} to reach ${wanted}`, status: 404, serviceMessage: 'the deployment disappeared during the wait' });
      context.progress.observed(d.status?.state);
      if (d.status?.state !== baselineState) changeObserved = true;
      return { state: d.status?.state, desiredState: desiredStateOf(d.spec), changeObserved };
    },
    classify: (obs) => classifyStateChange(obs, { wanted, baselineState }),
    timeoutInMs: config.timeoutInMs,
  });
}
