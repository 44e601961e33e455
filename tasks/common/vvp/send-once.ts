import { isAbortError, ServiceError } from '../errors/errors';
import type { Logger } from '../logging/logger';
import type { Clock } from '../poll/clock';
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
type WriteResult<T, R> = { kind: 'answered'; value: T } | { kind: 'readBack'; value: R | undefined };

/**
 * A write whose answer was lost and whose read-backs settled nothing for sure: `notApplied` when
 * VVP was read and did not show the change for the whole grace period, `unknown` when VVP could
 * not even be read.
 */
export class WriteOutcomeError extends ServiceError {
  constructor(
    readonly outcome: 'notApplied' | 'unknown',
    details: { operation: string; status?: number; serviceMessage: string; hint: string; cause?: unknown },
  ) {
    super({ service: 'Ververica Platform', ...details });
  }
}

/**
 * Sends a write exactly once. When its answer is lost (`VvpApiError.outcomeUnknown`: it may have
 * been applied), it is never sent again: the resource is read back until it shows the write or
 * the grace period ends, since VVP may still be applying it when the first read comes.
 *
 * @throws the write's own error when it certainly was not applied (a 4xx, a refused connection).
 * @throws WriteOutcomeError when the answer was lost and the read-backs did not show the write.
 */
export async function sendOnce<T, R>(write: WriteOnce<T, R>, deps: WriteOnceDeps): Promise<WriteResult<T, R>> {
  deps.onSending?.();
  let lost: VvpApiError;
  try {
    return { kind: 'answered', value: await write.send() };
  } catch (error) {
    if (isAbortError(error) || !(error instanceof VvpApiError) || !error.outcomeUnknown) throw error;
    lost = error;
  }
  const why = lost.status !== undefined ? `HTTP ${lost.status}` : (lost.networkCode ?? 'network error');
  deps.logger.warn(
    `The answer to the ${write.method} was lost (${why}); reading back to see whether VVP applied it. The ${write.method} is not sent again.`,
  );
  const graceInMs = deps.graceInMs ?? READ_BACK_GRACE_MS;
  const deadline = deps.clock.now() + graceInMs;
  let lastRead: { value: R | undefined } | undefined;
  let readError: unknown;
  for (;;) {
    try {
      const value = await write.readBack();
      lastRead = { value };
      if (write.applied(value)) {
        deps.logger.info(`Read back: the ${write.method} was applied.`);
        return { kind: 'readBack', value };
      }
    } catch (error) {
      if (isAbortError(error)) throw error;
      readError = error;
    }
    const left = deadline - deps.clock.now();
    if (left <= 0) break;
    await deps.clock.sleep(Math.min(READ_BACK_INTERVAL_MS, left), deps.abortSignal);
  }
  const seconds = Math.round(graceInMs / 1000);
  if (!lastRead) {
    throw new WriteOutcomeError('unknown', {
      operation: write.operation,
      status: lost.status,
      serviceMessage: `${lost.serviceMessage ?? lost.message}; reading it back failed too (${(readError as Error)?.message ?? String(readError)}), so whether VVP applied the ${write.method} is unknown`,
      hint: 'Check the deployment in VVP before re-running the step',
      cause: lost,
    });
  }
  throw new WriteOutcomeError('notApplied', {
    operation: write.operation,
    status: lost.status,
    serviceMessage: `${lost.serviceMessage ?? lost.message}; reading back for ${seconds} s shows ${write.describe(lastRead.value)}: VVP has not applied the ${write.method} so far, but it may still`,
    hint: 'Check the deployment in VVP before re-running the step',
    cause: lost,
  });
}
