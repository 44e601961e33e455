/**
 * The process-wide set of secret values to mask, and the masking itself. The pipeline adapter
 * adds every value it registers with the agent (`registerSecret`); message rendering masks
 * before it shortens server text, since a secret cut in half would no longer match.
 */
const secrets = new Set<string>();

/** Remembers a secret value to mask; values shorter than 4 characters are ignored. */
export function addMaskedSecret(value: string): void {
  if (value.length >= 4) secrets.add(value);
}

/** Replaces every known secret in `text` with `***` (see {@link maskValues}). */
export function maskSecrets(text: string): string {
  return secrets.size === 0 ? text : maskValues(text, secrets);
}

/**
 * Replaces each of `values` in `text` with `***`, in the forms a server echoes one: verbatim,
 * URL-encoded (a form body), JSON-escaped and base64. Longest first; values shorter than 4
 * characters are left alone (they would mask ordinary words).
 */
export function maskValues(text: string, values: Iterable<string | undefined>): string {
  let out = text;
  const sorted = [...values].filter((v): v is string => v !== undefined && v.length >= 4).sort((x, y) => y.length - x.length);
  for (const value of sorted) {
    const forms = new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), Buffer.from(value).toString('base64').replace(/=+$/, '')]);
    for (const form of forms) {
      if (form.length >= 4 && out.includes(form)) out = out.split(form).join('***');
    }
  }
  return out;
}
