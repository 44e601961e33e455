import { maskSecrets } from '../logging/secret-mask';

/**
 * The few error classes the tasks raise on purpose. Each carries the data a user needs and
 * renders one readable message: what failed, why (status and the service's own words), and
 * what to check. The task entry prints `message` (no stack) for these, and a stack only for
 * anything else, which is a bug.
 */
export abstract class TaskError extends Error {
  /** Set on every expected failure so the entry knows not to print a stack trace. */
  readonly expected = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One rejected input: its name, the value given (undefined for secrets) and the accepted form. */
export interface InputProblem {
  input: string;
  value?: string;
  expected: string;
}

/**
 * Something the user must fix in what the step was given: bad inputs, all of them at once,
 * found before any network call (`problems`, from the input parsers); or a file or agent the
 * step cannot work with, described in one message (the artifact cannot be read, a blob name
 * already taken with `overwrite: never`, an agent platform without kubectl). `problems` is then
 * empty.
 */
export class InputError extends TaskError {
  readonly problems: readonly InputProblem[];
  constructor(problems: InputProblem[] | string, options?: { cause?: unknown }) {
    super(typeof problems === 'string' ? problems : InputError.render(problems), options);
    this.problems = typeof problems === 'string' ? [] : problems;
  }

  private static render(problems: InputProblem[]): string {
    const lines = problems.map((p) => {
      const given = p.value === undefined ? '' : p.value.trim() === '' ? ' (empty)' : ` '${maskAndShorten(p.value, 200)}'`;
      return `input '${p.input}'${given}: ${p.expected}`;
    });
    return lines.length === 1 ? `Invalid ${lines[0]}` : `Invalid inputs:\n  - ${lines.join('\n  - ')}`;
  }
}

/** What a ServiceError says: the service, the operation, and why it failed. */
interface ServiceErrorDetails {
  service: string;
  operation: string;
  status?: number;
  serviceMessage?: string;
  hint?: string;
  attempts?: number;
}

/** A call to an external service failed (after any retries). */
export class ServiceError extends TaskError {
  readonly service: string;
  readonly operation: string;
  readonly status?: number;
  readonly serviceMessage?: string;
  readonly hint?: string;
  readonly attempts?: number;

  constructor(details: ServiceErrorDetails & { cause?: unknown }) {
    super(ServiceError.render(details), { cause: details.cause });
    this.service = details.service;
    this.operation = details.operation;
    this.status = details.status;
    this.serviceMessage = details.serviceMessage;
    this.hint = details.hint;
    this.attempts = details.attempts;
  }

  private static render(d: ServiceErrorDetails): string {
    let text = `${d.service}: ${d.operation} failed`;
    if (d.status !== undefined) text += ` with HTTP ${d.status}`;
    if (d.attempts !== undefined && d.attempts > 1) text += ` after ${d.attempts} attempts`;
    if (d.serviceMessage) text += `: ${maskAndShorten(d.serviceMessage, 1000)}`;
    if (d.hint) text += `. ${d.hint}`;
    return text;
  }
}

/** The step was cancelled (SIGINT/SIGTERM from the agent) while in `phase`. */
export class CancelledError extends TaskError {
  readonly phase: string;
  constructor(phase: string, detail?: string) {
    super(`Cancelled during ${phase}${detail ? `: ${detail}` : ''}`);
    this.phase = phase;
  }
}

/**
 * Shortens text for messages; service bodies can be huge. Known secrets are masked first: a
 * server that echoes a token must not get half of it into the log, where masking cannot match it.
 */
export function maskAndShorten(text: string, max: number): string {
  const masked = maskSecrets(text);
  return masked.length <= max ? masked : `${masked.slice(0, max)}… (${masked.length - max} more characters)`;
}

/** True for an AbortSignal-triggered rejection from fetch, node:http, the Azure SDK or our own waits. */
export function isAbortError(error: unknown): boolean {
  if (error instanceof CancelledError) return true;
  const e = error as { name?: string; code?: string } | undefined;
  return e?.name === 'AbortError' || e?.code === 'ERR_CANCELED' || e?.code === 'ABORT_ERR';
}
