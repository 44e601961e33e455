import type { Logger } from '../../../common/logging/logger';
import type { Clock } from '../../../common/poll/clock';
import type { VvpApi, VvpRequestOptions } from '../../../common/vvp/vvp-api';
import { maskJarUriQuery } from '../../../common/vvp/jar-uri-secrets';
import { oneLine } from '../../../common/vvp/errors';
import type { DeployConfig } from '../inputs';

/** What every phase gets: the parsed inputs and the outside world. Nothing in it changes during a run. */
export interface FlowContext {
  config: DeployConfig;
  vvp: VvpApi;
  clock: Clock;
  logger: Logger;
  /** Masks a secret in all output; phases call it for credentials in jarUris read from VVP. */
  registerSecret(value: string): void;
  /** Cancels the step; phases stop promptly and the orchestrator says what state VVP was left in. */
  abortSignal?: AbortSignal;
}

/** Where the step's write stands, for the cancellation message. The only state phases share. */
export class WriteStage {
  stage: 'notSent' | 'sending' | 'applied' | 'rollingBack' = 'notSent';
  method: 'PATCH' | 'POST' | 'PUT' | 'DELETE' = 'PATCH';
  /** The last `status.state` a poll saw. */
  lastState?: string;
  /** Set while a rollback's temporary strategies are on the deployment: what is left and how it gets finished. */
  unfinishedRollback?: string;

  sending(method: WriteStage['method']): void {
    if (this.stage !== 'rollingBack') this.stage = 'sending';
    this.method = method;
  }
}

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
