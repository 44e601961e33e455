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
    .filter((part) => part !== '' && decodeQueryPart(part.split('=')[0]) !== 'commit');
  kept.push(`commit=${encodeURIComponent(commit)}`);
  return `${base}?${kept.join('&')}${fragment}`;
}

/** A query key or value decoded (`+` as a space); as written when it is not valid percent-encoding. */
export function decodeQueryPart(key: string): string {
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

