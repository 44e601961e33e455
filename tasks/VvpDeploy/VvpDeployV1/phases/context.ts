import type { Logger } from '../../../common/logging/logger';
import type { Clock } from '../../../common/poll/clock';
import type { VvpApi, VvpRequestOptions } from '../../../common/vvp/client';
import { jarUriSecrets } from '../../../common/vvp/jar-uri-secrets';
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

  sending(method: WriteStage['method']): void {
    if (this.stage !== 'rollingBack') this.stage = 'sending';
    this.method = method;
  }
}

/** Request options carrying the step's abort signal (and a deadline, when one applies). */
export function requestOptions(context: FlowContext, deadline?: number): VvpRequestOptions {
  return { abortSignal: context.abortSignal, deadline };
}

/** Registers the credentials a jarUri read from VVP carries (a SAS) before it reaches any output. */
export function guardJarUri(context: FlowContext, jarUri: string | undefined): string | undefined {
  if (jarUri) for (const secret of jarUriSecrets(jarUri)) context.registerSecret(secret);
  return jarUri;
}
