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

/**
 * Replaces every known secret in `text` with `***`, in the forms a server echoes one:
 * verbatim, URL-encoded (a form body), JSON-escaped and base64. Longest secrets first.
 */
export function maskSecrets(text: string): string {
  if (secrets.size === 0) return text;
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    const forms = new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1), Buffer.from(secret).toString('base64').replace(/=+$/, '')]);
    for (const form of forms) {
      if (form.length >= 4 && out.includes(form)) out = out.split(form).join('***');
    }
  }
  return out;
}
