import * as crypto from 'node:crypto';

/** A JWT split into its parts; nothing here says the signature is valid. */
export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `base64url(header) + "." + base64url(payload)`: the bytes the signature covers. */
  signingInput: string;
  signature: Buffer;
}

/** Algorithms the fakes sign and verify: MSAL uses RS256 (x5t) or PS256 (x5t#S256). */
export type JwtAlgorithm = 'RS256' | 'PS256';

/** Encodes bytes or UTF-8 text as unpadded base64url. */
function base64UrlEncode(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * Splits a compact JWS into header, payload and signature.
 *
 * @throws Error when the token is not three base64url parts with JSON header and payload.
 */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) {
    throw new Error('not a compact JWT (expected three base64url parts)');
  }
  const [h, p, s] = parts as [string, string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as unknown;
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as unknown;
  if (!isObject(header) || !isObject(payload)) throw new Error('JWT header or payload is not a JSON object');
  return { header, payload, signingInput: `${h}.${p}`, signature: Buffer.from(s, 'base64url') };
}

/** Signs a JWT; `header.alg` is set from `algorithm` (default RS256). */
export function signJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  privateKey: crypto.KeyObject,
  algorithm: JwtAlgorithm = 'RS256',
): string {
  const signingInput = `${base64UrlEncode(JSON.stringify({ ...header, alg: algorithm }))}.${base64UrlEncode(JSON.stringify(payload))}`;
  const signature = crypto.sign('sha256', Buffer.from(signingInput), keyOptions(privateKey, algorithm));
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Checks the signature of a decoded JWT with the algorithm its header names (RS256 or PS256 only). */
export function verifyJwtSignature(jwt: DecodedJwt, publicKey: crypto.KeyObject): boolean {
  const alg = jwt.header['alg'];
  if (alg !== 'RS256' && alg !== 'PS256') return false;
  return crypto.verify('sha256', Buffer.from(jwt.signingInput), keyOptions(publicKey, alg), jwt.signature);
}

function keyOptions(key: crypto.KeyObject, algorithm: JwtAlgorithm): crypto.KeyObject | crypto.SignKeyObjectInput {
  // PS256 is RSASSA-PSS with SHA-256 and a salt as long as the hash (RFC 7518 §3.5).
  return algorithm === 'PS256'
    ? { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST }
    : key;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
