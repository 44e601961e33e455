import { isAbortError, ServiceError } from '../errors/errors';
import type { Logger } from '../logging/logger';
import { formatDuration } from '../logging/duration';
import type { Clock } from '../poll/clock';
import { pollUntilDone } from '../poll/poller';
import { VvpApiError } from './errors';

/** How long a lost write answer is settled by reading back before the outcome is called. */
const READ_BACK_GRACE_MS = 10_000;
/** Pause between the read-backs of a lost answer. */
const READ_BACK_INTERVAL_MS = 1_000;

/** A write (PATCH, POST, PUT, DELETE) to send exactly once. */
export interface WriteOnce<T, R> {
  method: 'PATCH' | 'POST' | 'PUT' | 'DELETE';
  /** For messages: "updating deployment 'x' in namespace 'y'". */
  operation: string;
  /**
   * Sends the write. Resolves undefined when VVP accepted it (2xx) but its answer does not hold
   * the resource (a 204, an empty or foreign body): it is then read back like a lost answer.
   */
  send: () => Promise<T | undefined>;
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
 * Sends a write exactly once, and reads the resource back (never sending the write again) when
 * the answer does not say what VVP stores: the one read-back loop of every write.
 *
 * - Answer lost (`VvpApiError.outcomeUnknown`: it may have been applied): the resource is read
 *   back with the one poller (every `READ_BACK_INTERVAL_MS`, read errors tolerated) until it
 *   shows the write or the grace period ends, since VVP may still be applying it.
 * - Answer 2xx without the resource (`send` resolved undefined): the write was applied; the
 *   resource is read back the same way until a read returns it, and that is the value.
 *
 * @throws the write's own error when it certainly was not applied (a 4xx, a refused connection).
 * @throws ServiceError when the answer was lost and the read-backs did not show the write: VVP
 * was read and did not show it for the whole grace period (it may still apply it), or VVP could
 * not even be read (the outcome is unknown); likewise when an accepted write's resource could
 * not be read back.
 * @throws PollAbortedError when `abortSignal` fires during the read-backs.
 */
export async function sendOnce<T, R>(write: WriteOnce<T, R>, deps: WriteOnceDeps): Promise<WriteResult<T, R>> {
  deps.onSending?.();
  let answered: T | undefined;
  let lost: VvpApiError | undefined;
  try {
    answered = await write.send();
  } catch (error) {
    if (isAbortError(error) || !(error instanceof VvpApiError) || !error.outcomeUnknown) throw error;
    lost = error;
  }
  if (answered !== undefined) return { value: answered };
  const graceInMs = deps.graceInMs ?? READ_BACK_GRACE_MS;
  if (!lost) {
    deps.logger.debug(`VVP accepted the ${write.method} without returning the resource: reading it back.`);
    const read = await readBack(write, deps, graceInMs, (value) => value !== undefined);
    if (read.applied) return { value: read.value };
    throw new ServiceError({
      service: 'Ververica Platform',
      operation: write.operation,
      serviceMessage: `VVP accepted the ${write.method}, but its answer does not hold the resource and ${
        read.lastRead ? `reading it back for ${formatDuration(graceInMs)} found none` : `reading it back failed (${errorMessage(read.readError)})`
      }`,
      hint: 'Check the deployment in VVP before re-running the step',
    });
  }
  const why = lost.status !== undefined ? `HTTP ${lost.status}` : (lost.networkCode ?? 'network error');
  deps.logger.warn(
    `The answer to the ${write.method} was lost (${why}); reading back to see whether VVP applied it. The ${write.method} is not sent again.`,
  );
  const read = await readBack(write, deps, graceInMs, write.applied);
  if (read.applied) {
    deps.logger.info(`Read back: the ${write.method} was applied.`);
    return { value: read.value };
  }
  const seen = read.lastRead
    ? `reading back for ${formatDuration(graceInMs)} shows ${write.describe(read.lastRead.value)}: VVP has not applied the ${write.method} so far, but it may still`
    : `reading it back failed too (${errorMessage(read.readError)}), so whether VVP applied the ${write.method} is unknown`;
  throw new ServiceError({
    service: 'Ververica Platform',
    operation: write.operation,
    status: lost.status,
    serviceMessage: `${lost.serviceMessage ?? lost.message}; ${seen}`,
    hint: 'Check the deployment in VVP before re-running the step',
    cause: lost,
  });
}

/** What the read-backs ended with: the read that satisfied `done`, or the last read and read error. */
type ReadBackOutcome<R> = { applied: true; value: R | undefined } | { applied: false; lastRead?: { value: R | undefined }; readError?: unknown };

/** Reads back every READ_BACK_INTERVAL_MS (read errors tolerated) until `done` holds or `graceInMs` ends. */
async function readBack<T, R>(write: WriteOnce<T, R>, deps: WriteOnceDeps, graceInMs: number, done: (value: R | undefined) => boolean): Promise<ReadBackOutcome<R>> {
  let lastRead: { value: R | undefined } | undefined;
  let readError: unknown;
  const outcome = await pollUntilDone<R | undefined, R | undefined>({
    probe: async () => {
      const value = await write.readBack();
      lastRead = { value };
      return value;
    },
    classify: (value) => (done(value) ? { status: 'succeeded', state: 'applied', result: value } : { status: 'pending', state: 'not applied', phase: 'reading back' }),
    schedule: { initialIntervalInMs: READ_BACK_INTERVAL_MS, growthFactor: 1, maxIntervalInMs: READ_BACK_INTERVAL_MS },
    timeoutInMs: graceInMs,
    clock: deps.clock,
    abortSignal: deps.abortSignal,
    isTransientProbeError: (error) => {
      readError = error;
      return true;
    },
  });
  return outcome.kind === 'succeeded' ? { applied: true, value: outcome.result } : { applied: false, lastRead, readError };
}

function errorMessage(error: unknown): string {
  return (error as Error)?.message ?? String(error);
}
