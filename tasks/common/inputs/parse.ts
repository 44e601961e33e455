import type { InputProblem } from '../errors/errors';

/** Reads one raw input as the agent passes it; undefined when not set. */
export type InputSource = (name: string) => string | undefined;

/**
 * Collects problems while parsing so one InputError can list every bad field at once.
 * Each reader returns a typed value, or a placeholder after recording a problem.
 */
export class InputReader {
  readonly problems: InputProblem[] = [];
  constructor(private readonly source: InputSource) {}

  /** Raw value, trimmed; undefined when unset or blank. */
  optional(name: string): string | undefined {
    const value = this.source(name);
    if (value === undefined) return undefined;
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }

  /** A required value; records "is required" when missing or blank. */
  required(name: string, expected: string): string {
    const value = this.optional(name);
    if (value === undefined) {
      this.problems.push({ input: name, value: this.source(name), expected: `is required: ${expected}` });
      return '';
    }
    return value;
  }

  /** Strictly `true` or `false` (case-insensitive); anything else is an error, not false. */
  boolean(name: string, fallback: boolean): boolean {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    this.problems.push({ input: name, value, expected: 'true or false' });
    return fallback;
  }

  /** An integer in [min, max]. */
  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    const n = /^[+-]?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push({ input: name, value, expected: `a whole number from ${min} to ${max}` });
      return fallback;
    }
    return n;
  }

  /** A decimal number in [min, max] (`0.5`, `15`); no exponents, hex or thousands separators. */
  number(name: string, fallback: number, min: number, max: number): number {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    const n = /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isFinite(n) || n < min || n > max) {
      this.problems.push({ input: name, value, expected: `a number from ${min} to ${max} (decimals allowed, e.g. 0.5)` });
      return fallback;
    }
    return n;
  }

  /** One of `choices` (case-insensitive), returned in its canonical spelling. */
  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    const match = choices.find((c) => c.toLowerCase() === value.toLowerCase());
    if (!match) {
      this.problems.push({ input: name, value, expected: `one of ${choices.join(', ')}` });
      return fallback;
    }
    return match;
  }

  /** Multi-line value split into non-empty trimmed lines. */
  lines(name: string): string[] {
    return (this.source(name) ?? '')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
  }

  /** Records a problem found by the caller's own check. */
  reject(name: string, value: string | undefined, expected: string): void {
    this.problems.push({ input: name, value, expected });
  }
}

/**
 * A URL-valued input as a message may quote it: user info and the query string (a SAS, a
 * token) are masked, the rest is kept so the user recognises the value. Text that is no URL is
 * returned unchanged.
 */
export function maskUrlSecrets(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return raw;
  }
  if (!url.username && !url.password && !url.search) return raw;
  return `${url.protocol}//${url.username || url.password ? '***@' : ''}${url.host}${url.pathname}${url.search ? '?***' : ''}${url.hash}`;
}
