import { isAbortError, ServiceError } from '../errors/errors';
import type { Logger } from '../logging/logger';
import { formatDuration } from '../logging/duration';
import type { Clock } from '../poll/clock';
import { pollUntilDone } from '../poll/poller';
import { VvpApiError } from './errors';

/** How long a lost write answer is settled by reading back before the outcome is called. */
export const READ_BACK_GRACE_MS = 10_000;
/** Pause between the read-backs of a lost answer. */
export const READ_BACK_INTERVAL_MS = 1_000;

/** A write (PATCH, POST, PUT, DELETE) to send exactly once. */
export interface WriteOnce<T, R> {
  method: 'PATCH' | 'POST' | 'PUT' | 'DELETE';
  /** For messages: "updating deployment 'x' in namespace 'y'". */
  operation: string;
  send: () => Promise<T>;
  /** Reads the resource back (a GET, safe to retry); undefined when it does not exist. */
  readBack: () => Promise<R | undefined>;
  /** Whether a read-back shows the write applied. */
  applied: (readBack: R | undefined) => boolean;
  /** What a read-back that does not show the write holds, for the message ("jarUri is still …"). */
  describe: (readBack: R | undefined) => string;
}

interface WriteOnceDeps {
  clock: Clock;
  logger: Logger;
  abortSignal?: AbortSignal;
  /** Called when the request leaves (the outcome is unknown until it answers or is read back). */
  onSending?: () => void;
  /** Default READ_BACK_GRACE_MS. */
  graceInMs?: number;
}

/** What a write ended with: its answer, or the read-back that showed it applied. */
interface WriteResult<T, R> {
  value: T | R | undefined;
}

/**
 * Sends a write exactly once. When its answer is lost (`VvpApiError.outcomeUnknown`: it may have
 * been applied), it is never sent again: the resource is read back with the one poller (every
 * `READ_BACK_INTERVAL_MS`, read errors tolerated) until it shows the write or the grace period
 * ends, since VVP may still be applying it when the first read comes.
 *
 * @throws the write's own error when it certainly was not applied (a 4xx, a refused connection).
 * @throws ServiceError when the answer was lost and the read-backs did not show the write: VVP
 * was read and did not show it for the whole grace period (it may still apply it), or VVP could
 * not even be read (the outcome is unknown).
 * @throws PollAbortedError when `abortSignal` fires during the read-backs.
 */
export async function sendOnce<T, R>(write: WriteOnce<T, R>, deps: WriteOnceDeps): Promise<WriteResult<T, R>> {
  deps.onSending?.();
  let lost: VvpApiError;
  try {
    return { value: await write.send() };
  } catch (error) {
    if (isAbortError(error) || !(error instanceof VvpApiError) || !error.outcomeUnknown) throw error;
    lost = error;
  }
  const why = lost.status !== undefined ? `HTTP ${lost.status}` : (lost.networkCode ?? 'network error');
  deps.logger.warn(
    `The answer to the ${write.method} was lost (${why}); reading back to see whether VVP applied it. The ${write.method} is not sent again.`,
  );
  const graceInMs = deps.graceInMs ?? READ_BACK_GRACE_MS;
  let lastRead: { value: R | undefined } | undefined;
  let readError: unknown;
  const outcome = await pollUntilDone<R | undefined, R | undefined>({
    probe: async () => {
      const value = await write.readBack();
      lastRead = { value };
      return value;
    },
    classify: (value) =>
      write.applied(value) ? { status: 'succeeded', state: 'applied', result: value } : { status: 'pending', state: 'not applied', phase: 'reading back' },
    schedule: { initialIntervalInMs: READ_BACK_INTERVAL_MS, growthFactor: 1, maxIntervalInMs: READ_BACK_INTERVAL_MS },
    timeoutInMs: graceInMs,
    clock: deps.clock,
    abortSignal: deps.abortSignal,
    isTransientProbeError: (error) => {
      readError = error;
      return true;
    },
  });
  if (outcome.kind === 'succeeded') {
    deps.logger.info(`Read back: the ${write.method} was applied.`);
    return { value: outcome.result };
  }
  const seen = lastRead
    ? `reading back for ${formatDuration(graceInMs)} shows ${write.describe(lastRead.value)}: VVP has not applied the ${write.method} so far, but it may still`
    : `reading it back failed too (${(readError as Error)?.message ?? String(readError)}), so whether VVP applied the ${write.method} is unknown`;
  throw new ServiceError({
    service: 'Ververica Platform',
    operation: write.operation,
    status: lost.status,
    serviceMessage: `${lost.serviceMessage ?? lost.message}; ${seen}`,
    hint: 'Check the deployment in VVP before re-running the step',
    cause: lost,
  });
}
