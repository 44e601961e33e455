import { adaptiveSchedule, pollUntilDone, type PollOutcome, type Verdict } from '../../../common/poll/poller';
import { isRetryableHttpFailure } from '../../../common/http/retry';
import { formatDuration, oneLine, VvpApiError } from '../../../common/vvp/errors';
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
    onProgress: ({ verdict, elapsedInMs }) => context.logger.info(`  [${formatDuration(elapsedInMs)}] ${oneLine(verdict.state)}`),
  });
}

/**
 * Errors a wait tolerates as "still pending": VVP briefly unreachable or overloaded after the
 * client's retries, by the one retry rule of a GET (network resets and timeouts, 408, 429, 5xx).
 */
function isTransientVvpError(error: unknown): boolean {
  return error instanceof VvpApiError && isRetryableHttpFailure({ method: 'GET', status: error.status, networkCode: error.networkCode });
}
