import type { TaskRunResult } from './run-task';

/** The parts of a task run the scanner reads. */
export type ScannedRun = Pick<TaskRunResult, 'stdout' | 'stderr' | 'summaries' | 'outputs'>;

export interface SecretScanOptions {
  /**
   * stdout lines to skip besides the secret-carrying logging commands. Use sparingly and say
   * why: e.g. task-lib's own `##vso[task.debug]Agent.ProxyPassword=...` line, which the agent
   * masks because that variable is secret.
   */
  skipLines?: RegExp;
}

/** Where a secret showed up: the place, the form it took, and the text around it (secret masked). */
export interface SecretLeak {
  where: string;
  form: string;
  context: string;
}

/**
 * The forms a secret takes when code leaks it by accident: verbatim, base64 (standard and
 * url-safe, also of `:<secret>` as in Basic auth), URL-encoded, JSON-escaped, and with the
 * logging-command escaping applied.
 */
function secretForms(secret: string): { form: string; value: string }[] {
  const forms = [
    { form: 'verbatim', value: secret },
    { form: 'base64', value: Buffer.from(secret).toString('base64').replace(/=+$/, '') },
    { form: 'base64url', value: Buffer.from(secret).toString('base64url') },
    { form: 'basic-auth base64', value: Buffer.from(`:${secret}`).toString('base64').replace(/=+$/, '') },
    { form: 'url-encoded', value: encodeURIComponent(secret) },
    { form: 'json-escaped', value: JSON.stringify(secret).slice(1, -1) },
    { form: 'vso-escaped', value: secret.replace(/%/g, '%AZP25').replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/]/g, '%5D').replace(/;/g, '%3B') },
  ];
  const seen = new Set<string>();
  return forms.filter((f) => f.value.length > 0 && !seen.has(f.value) && seen.add(f.value));
}

/**
 * Finds every known secret (in any of {@link secretForms}) in a task run's stdout, stderr,
 * summaries and output variables. Skips the logging commands that legitimately carry a secret
 * for the agent to mask: `task.setsecret` and `task.setvariable` with `issecret=true`.
 *
 * @throws Error for a secret shorter than 6 characters (it would match by accident).
 */
export function findSecretLeaks(run: ScannedRun, secrets: string[], options: SecretScanOptions = {}): SecretLeak[] {
  const places: { where: string; text: string }[] = [];
  run.stdout.split(/\r?\n/).forEach((line, i) => {
    if (/##vso\[task\.setsecret[\s\]]/i.test(line)) return;
    if (/##vso\[task\.setvariable [^\]]*issecret=true/i.test(line)) return;
    if (options.skipLines?.test(line)) return;
    places.push({ where: `stdout line ${i + 1}`, text: line });
  });
  places.push({ where: 'stderr', text: run.stderr });
  run.summaries.forEach((s, i) => places.push({ where: `summary ${i + 1}`, text: s }));
  for (const [name, value] of Object.entries(run.outputs)) places.push({ where: `output variable ${name}`, text: value });

  const leaks: SecretLeak[] = [];
  for (const secret of new Set(secrets)) {
    if (secret.length < 6) throw new Error(`secret scan: a ${secret.length}-character secret would match by accident; use longer test secrets`);
    for (const { form, value } of secretForms(secret)) {
      for (const { where, text } of places) {
        const at = text.indexOf(value);
        if (at < 0) continue;
        const context = `${text.slice(Math.max(0, at - 40), at)}<SECRET:${form}>${text.slice(at + value.length, at + value.length + 40)}`;
        leaks.push({ where, form, context });
      }
    }
  }
  return leaks;
}

/**
 * Fails when any known secret leaked (see {@link findSecretLeaks}). The message names where and
 * in which form, with the secret itself masked so the test output does not leak it either.
 *
 * @throws AssertionError-like Error listing every leak.
 */
export function assertNoSecretLeak(run: ScannedRun, secrets: string[], options: SecretScanOptions = {}): void {
  const leaks = findSecretLeaks(run, secrets, options);
  if (leaks.length === 0) return;
  const lines = leaks.map((l) => `- ${l.where} (${l.form}): …${l.context}…`);
  const err = new Error(`${leaks.length} secret leak(s) found:\n${lines.join('\n')}`);
  err.name = 'SecretLeakError';
  throw err;
}
