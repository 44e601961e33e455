/**
 * Secrets a jarUri can carry. A jarUri is usually `wasbs://…?commit=<sha>`, but an https
 * artifact URL may hold a SAS (`?sv=…&sig=…`) or a presigned S3 query (`X-Amz-Signature=…`), and
 * rarely a password in its user info. The `commit` parameter is ours and public; every other
 * query value is treated as possibly secret.
 */

import { decodeQueryPart } from './jar-uri';

/** The placeholder shown for a hidden value. */
export const MASK = '***';

/**
 * SAS parameters that are public by design (version, permissions, times, resource types). They
 * are masked in what we show, but not registered as agent secrets: the agent masks a secret
 * everywhere in the log, so registering `sp=r` or `spr=https` would garble unrelated lines.
 */
const PUBLIC_SAS_PARAMETERS = new Set([
  'sv', 'ss', 'srt', 'sp', 'se', 'st', 'spr', 'sr', 'sip', 'si', 'sdd', 'ses',
  'skoid', 'sktid', 'skt', 'ske', 'sks', 'skv', 'saoid', 'suoid', 'scid',
  'rscc', 'rscd', 'rsce', 'rscl', 'rsct',
]);

/** Values shorter than this are never registered as secrets (no credential is that short). */
const MIN_SECRET_LENGTH = 6;

interface UriParts {
  /** Everything before the user info, e.g. `https://`. */
  schemeAndSlashes: string;
  /** `user:password` (without `@`); undefined when the URI has none. */
  userInfo?: string;
  /** From the host to just before `?` (or `#`). */
  rest: string;
  /** Query parameters as written (`k=v`, `k`, or empty). */
  query?: string[];
  /** `#…`, or '' */
  fragment: string;
}

/**
 * Returns `uri` with every query value except `commit` replaced by `***`, and a password in
 * the user info too (`https://user:***@host/…`). Keys, order, the path and the fragment are
 * kept verbatim, so the result still shows which artifact and which commit. A parameter
 * without a value (`?flag`) is kept.
 */
export function maskJarUriQuery(uri: string): string {
  const parts = splitUri(uri);
  const userInfo = parts.userInfo === undefined ? '' : `${maskPassword(parts.userInfo)}@`;
  const query =
    parts.query === undefined
      ? ''
      : `?${parts.query
          .map((param) => {
            const eq = param.indexOf('=');
            if (eq < 0) return param;
            const key = param.slice(0, eq);
            const value = param.slice(eq + 1);
            return decodeQueryPart(key) === 'commit' || value === '' ? param : `${key}=${MASK}`;
          })
          .join('&')}`;
  return `${parts.schemeAndSlashes}${userInfo}${parts.rest}${query}${parts.fragment}`;
}

/**
 * The secret values in `uri`, to register with the agent (`setSecret`) before the uri is
 * logged anywhere: each query value other than `commit` and the public SAS parameters, and the
 * user-info password; each as written and, when different, URL-decoded. Values shorter than
 * 6 characters are left out.
 */
export function jarUriSecrets(uri: string): string[] {
  const parts = splitUri(uri);
  const found = new Set<string>();
  const add = (raw: string): void => {
    for (const form of [raw, decodeQueryPart(raw)]) if (form.length >= MIN_SECRET_LENGTH) found.add(form);
  };
  for (const param of parts.query ?? []) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    const key = decodeQueryPart(param.slice(0, eq));
    if (key === 'commit' || PUBLIC_SAS_PARAMETERS.has(key.toLowerCase())) continue;
    add(param.slice(eq + 1));
  }
  if (parts.userInfo !== undefined) {
    const colon = parts.userInfo.indexOf(':');
    if (colon >= 0) add(parts.userInfo.slice(colon + 1));
  }
  return [...found];
}

function splitUri(uri: string): UriParts {
  const hashAt = uri.indexOf('#');
  const fragment = hashAt >= 0 ? uri.slice(hashAt) : '';
  const beforeFragment = hashAt >= 0 ? uri.slice(0, hashAt) : uri;
  const queryAt = beforeFragment.indexOf('?');
  const withoutQuery = queryAt >= 0 ? beforeFragment.slice(0, queryAt) : beforeFragment;
  const query = queryAt >= 0 ? beforeFragment.slice(queryAt + 1).split('&') : undefined;
  // User info sits between `scheme://` and the first `@` before any `/`. wasbs uses it for the
  // container name (`wasbs://container@account…`): only a `:password` part is a secret.
  const authority = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/@]*)@/.exec(withoutQuery);
  if (authority) {
    return { schemeAndSlashes: authority[1], userInfo: authority[2], rest: withoutQuery.slice(authority[0].length), query, fragment };
  }
  return { schemeAndSlashes: '', rest: withoutQuery, query, fragment };
}

function maskPassword(userInfo: string): string {
  const colon = userInfo.indexOf(':');
  return colon >= 0 && colon < userInfo.length - 1 ? `${userInfo.slice(0, colon)}:${MASK}` : userInfo;
}
