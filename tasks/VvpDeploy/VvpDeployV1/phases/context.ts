import type { Logger } from '../../../common/logging/logger';
import type { Clock } from '../../../common/poll/clock';
import type { VvpApi, VvpRequestOptions } from '../../../common/vvp/vvp-api';
import { maskJarUriQuery } from '../../../common/vvp/jar-uri-secrets';
import { oneLine } from '../../../common/vvp/errors';
import type { DeployConfig } from '../inputs';

/** Everything a flow touches outside itself. */
export interface FlowDeps {
  vvp: VvpApi;
  clock: Clock;
  logger: Logger;
  /** Masks a secret in all output. */
  registerSecret(value: string): void;
  /** Cancels the step; phases stop promptly and the flow says what state VVP was left in. */
  abortSignal?: AbortSignal;
}

/** What every phase gets: the parsed inputs, the outside world and the run's progress record. */
export interface FlowContext extends FlowDeps {
  config: DeployConfig;
  progress: Progress;
}

/** How far the step's own write got. */
type WriteProgress = 'notSent' | 'sending' | 'applied' | 'rollingBack';

/**
 * What a cancellation message must say and no return value can carry, because a cancelled phase
 * throws: how far the step's write got, the last state a poll saw and what a rollback leaves.
 * Phases report to it; only the flow reads it, and only to tell a cancellation.
 */
export class Progress {
  private writeProgress: WriteProgress = 'notSent';
  private writeMethod: 'PATCH' | 'POST' | 'PUT' | 'DELETE' = 'PATCH';
  private observedState?: string;
  private unfinished?: string;

  /** A write is on its way (its answer may be lost). During a rollback, the rollback stays the stage. */
  sending(method: 'PATCH' | 'POST' | 'PUT' | 'DELETE'): void {
    if (this.writeProgress !== 'rollingBack') this.writeProgress = 'sending';
    this.writeMethod = method;
  }

  /** VVP applied the step's write. */
  applied(): void {
    if (this.writeProgress !== 'rollingBack') this.writeProgress = 'applied';
  }

  rollingBack(): void {
    this.writeProgress = 'rollingBack';
  }

  /** A poll read the deployment's `status.state`. */
  observed(state: string | undefined): void {
    this.observedState = state;
  }

  /** What a rollback leaves on the deployment until it finishes (undefined: nothing). */
  leaves(text: string | undefined): void {
    this.unfinished = text;
  }

  get write(): WriteProgress {
    return this.writeProgress;
  }

  get method(): string {
    return this.writeMethod;
  }

  get lastState(): string | undefined {
    return this.observedState;
  }

  get unfinishedRollback(): string | undefined {
    return this.unfinished;
  }
}

/**
 * How long a phase's reads that hold nothing up may take together, retries included (one
 * request's default timeout): a plan's reads, a SQL script's validation. A silent VVP cannot
 * hold a pull request or a deploy up by more.
 */
export const READS_BOUND_MS = 30_000;

/** Request options carrying the step's abort signal (and a deadline, when one applies). */
export function requestOptions(context: FlowContext, deadline?: number): VvpRequestOptions {
  return { abortSignal: context.abortSignal, deadline };
}

/**
 * A jarUri read from VVP as log lines and messages show it: on one line, its query values other
 * than `commit` masked. Its values are not registered as agent secrets: whoever can edit the
 * deployment could otherwise make the agent mask any word of the log.
 */
export function shownJarUri(jarUri: string | undefined): string {
  return jarUri === undefined ? '(none)' : oneLine(maskJarUriQuery(jarUri));
}
