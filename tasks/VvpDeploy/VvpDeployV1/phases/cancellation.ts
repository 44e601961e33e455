import { CancelledError, isAbortError } from '../../../common/errors/errors';
import { PollAbortedError } from '../../../common/poll/poller';
import { oneLine } from '../../../common/vvp/errors';
import type { Progress } from './context';

/**
 * An abort, told as what state VVP was left in; undefined for other errors. Abort never undoes
 * VVP's work, and the message says so.
 *
 * @param change what the step's write was, e.g. "the change (jarUri …)", "spec.state SUSPENDED".
 */
export function explainCancellation(
  error: unknown,
  signal: AbortSignal | undefined,
  progress: Progress,
  phase: string,
  subject: { deployment: string; change: string; lastState?: string },
): CancelledError | undefined {
  if (signal?.aborted !== true || !(isAbortError(error) || error instanceof PollAbortedError)) return undefined;
  const state = progress.lastState ?? subject.lastState;
  const seen = state ? `; last observed state: ${oneLine(state)}` : '';
  let detail: string;
  switch (progress.write) {
    case 'notSent':
      detail = 'nothing was changed in VVP';
      break;
    case 'sending':
      detail = `the ${progress.method} was sent but its answer did not arrive, so VVP may or may not have applied it; check deployment '${subject.deployment}' in VVP`;
      break;
    case 'applied':
      detail = `${subject.change} was applied and VVP keeps working on it${seen}; nothing was undone`;
      break;
    case 'rollingBack':
      detail = `during the rollback to the previous deployment${seen}; VVP keeps working on it; nothing was undone${progress.unfinishedRollback ? `. ${progress.unfinishedRollback}` : ''}`;
      break;
    default: {
      const unknown: never = progress.write;
      detail = String(unknown);
    }
  }
  return new CancelledError(phase.toLowerCase(), detail);
}
