import { adaptiveSchedule, pollUntilDone, type PollOutcome, type Verdict } from '../../../common/poll/poller';
import { oneLine, VvpApiError } from '../../../common/vvp/errors';
import type { FlowContext } from './context';

/**
 * Every wait of the flows, with the one poller as they all use it: the adaptive schedule up to
 * `pollIntervalSeconds`, VVP briefly unreachable tolerated as "pending", the step's abort
 * signal, and one log line per change of state (never per probe).
 */
export function pollVvp<T, R>(
  context: FlowContext,
  wait: { probe: (abortSignal: AbortSignal | undefined) => Promise<T>; classify: (observation: T) => Verdict<R>; timeoutInMs: number },
): Promise<PollOutcome<T, R>> {
  return pollUntilDone<T, R>({
    ...wait,
    schedule: adaptiveSchedule(context.config.pollIntervalInMs),
    clock: context.clock,
    abortSignal: context.abortSignal,
    isTransientProbeError: isTransientVvpError,
    describeProbeError: (e) => `status unreadable (${e instanceof VvpApiError && e.status !== undefined ? `HTTP ${e.status}` : ((e as VvpApiError).networkCode ?? 'network error')})`,
    onProgress: ({ verdict, elapsedInMs }) => context.logger.info(`  [${(elapsedInMs / 1000).toFixed(1)} s] ${oneLine(verdict.state)}`),
  });
}

/** Errors a wait tolerates as "still pending": VVP briefly unreachable or overloaded (after the client's retries). */
function isTransientVvpError(error: unknown): boolean {
  if (!(error instanceof VvpApiError)) return false;
  if (error.status === undefined) return error.networkCode !== 'ENOTFOUND';
  return error.status === 408 || error.status === 429 || error.status >= 500;
}
