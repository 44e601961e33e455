/**
 * The `?commit=<commitId>` marker on a jarUri. VVP compares templates as opaque strings, so a new
 * commit in the query makes a template change (and thus a new job) even when the blob name stays
 * the same; storage schemes like wasbs ignore the query when fetching.
 */

/**
 * Returns `jarUri` with its `commit` query parameter set to `commitId`: an existing `commit`
 * parameter is replaced (all occurrences), other parameters and the fragment are kept verbatim.
 * An empty or blank `commitId` returns `jarUri` unchanged.
 */
export function withCommit(jarUri: string, commitId: string | undefined): string {
  const commit = commitId?.trim();
  if (!commit) return jarUri;
  const hashAt = jarUri.indexOf('#');
  const fragment = hashAt >= 0 ? jarUri.slice(hashAt) : '';
  const beforeFragment = hashAt >= 0 ? jarUri.slice(0, hashAt) : jarUri;
  const queryAt = beforeFragment.indexOf('?');
  const base = queryAt >= 0 ? beforeFragment.slice(0, queryAt) : beforeFragment;
  const query = queryAt >= 0 ? beforeFragment.slice(queryAt + 1) : '';
  const kept = query
    .split('&')
    .filter((part) => part !== '' && decodeKey(part.split('=')[0]) !== 'commit');
  kept.push(`commit=${encodeURIComponent(commit)}`);
  return `${base}?${kept.join('&')}${fragment}`;
}

function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

/**
 * True for an absolute URI VVP can fetch: a scheme (`wasbs:`, `s3:`, `https:`, `file:`…), no
 * whitespace, and parseable by WHATWG URL.
 */
export function isAbsoluteUri(value: string): boolean {
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * The query values of a jarUri other than `commit`: a SAS (`sig=`, `se=`…) or another credential
 * an `https://` artifact URL may carry. They are registered as secrets the moment the jarUri is
 * read, so no log line, message, summary or output shows them. The query without `commit` is
 * one secret; each value of at least 8 characters is another (a signature is ~44). Shorter
 * values (`sp=r`, `spr=https`) are not credentials, and masking them would mangle every line
 * containing `https`.
 */
export function jarUriSecrets(jarUri: string | undefined): string[] {
  if (!jarUri) return [];
  const hashAt = jarUri.indexOf('#');
  const beforeFragment = hashAt >= 0 ? jarUri.slice(0, hashAt) : jarUri;
  const queryAt = beforeFragment.indexOf('?');
  if (queryAt < 0) return [];
  const values = new Set<string>();
  const kept: string[] = [];
  for (const part of beforeFragment.slice(queryAt + 1).split('&')) {
    const eq = part.indexOf('=');
    if (part === '' || decodeKey(eq < 0 ? part : part.slice(0, eq)) === 'commit') continue;
    kept.push(part);
    const raw = eq < 0 ? '' : part.slice(eq + 1);
    for (const value of [raw, decodeValue(raw)]) if (value.length >= MIN_SECRET_LENGTH) values.add(value);
  }
  const query = kept.join('&');
  if (query.length >= MIN_SECRET_LENGTH && kept.some((part) => part.includes('='))) values.add(query);
  return [...values];
}

const MIN_SECRET_LENGTH = 8;

function decodeValue(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

/**
 * The jarUri as a message may quote it: every query value except `commit` shown as `***`. The
 * `container@account` part of a wasbs URI is no credential and stays.
 */
export function maskJarUri(jarUri: string): string {
  const hashAt = jarUri.indexOf('#');
  const fragment = hashAt >= 0 ? jarUri.slice(hashAt) : '';
  const beforeFragment = hashAt >= 0 ? jarUri.slice(0, hashAt) : jarUri;
  const queryAt = beforeFragment.indexOf('?');
  if (queryAt < 0) return jarUri;
  const parts = beforeFragment
    .slice(queryAt + 1)
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq < 0 || decodeKey(part.slice(0, eq)) === 'commit') return part;
      return `${part.slice(0, eq)}=***`;
    });
  return `${beforeFragment.slice(0, queryAt)}?${parts.join('&')}${fragment}`;
}
