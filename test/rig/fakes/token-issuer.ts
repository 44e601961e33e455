import * as crypto from 'node:crypto';
import { decodeJwt, signJwt, verifyJwtSignature, type DecodedJwt } from '../jwt';

/** How a token came to be, for assertions such as "the task used workload identity". */
export type TokenGrant = 'client_secret' | 'client_certificate' | 'client_assertion' | 'managed_identity' | 'pipeline_oidc';

/** One token a fake handed out. Tests scan task logs for these values. */
export interface IssuedToken {
  kind: 'access' | 'oidc';
  grant: TokenGrant;
  token: string;
  /** `aud` claim. */
  audience: string;
  tenantId?: string;
  clientId?: string;
  subject: string;
  issuedAt: number;
  expiresAt: number;
}

/**
 * A signing key plus the list of what it signed. One issuer plays Entra ID (access tokens that
 * the Key Vault fake verifies), another the Azure DevOps OIDC issuer (assertions the Entra fake
 * verifies), so a token from the wrong one is rejected like in production.
 */
export class TokenIssuer {
  readonly keyId: string;
  private readonly privateKey: crypto.KeyObject;
  readonly publicKey: crypto.KeyObject;

  constructor(
    private readonly issued: IssuedToken[],
    keyPair: crypto.KeyPairKeyObjectResult = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ) {
    this.privateKey = keyPair.privateKey;
    this.publicKey = keyPair.publicKey;
    // Entra ID's kid/x5t is a base64url SHA-1 of the signing cert; a hash of the key serves here.
    this.keyId = crypto
      .createHash('sha1')
      .update(this.publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64url');
  }

  /** Signs `claims` (RS256, `kid`/`x5t` = {@link keyId}) and records the token. */
  issue(kind: IssuedToken['kind'], grant: TokenGrant, claims: Record<string, unknown>): string {
    const token = signJwt({ typ: 'JWT', kid: this.keyId, x5t: this.keyId }, claims, this.privateKey);
    this.issued.push({
      kind,
      grant,
      token,
      audience: String(claims['aud']),
      tenantId: typeof claims['tid'] === 'string' ? claims['tid'] : undefined,
      clientId: typeof claims['appid'] === 'string' ? claims['appid'] : undefined,
      subject: String(claims['sub']),
      issuedAt: Number(claims['iat']),
      expiresAt: Number(claims['exp']),
    });
    return token;
  }

  /** Decodes `token` if this issuer signed it; undefined for anything else (malformed, forged). */
  verify(token: string): DecodedJwt | undefined {
    try {
      const jwt = decodeJwt(token);
      return verifyJwtSignature(jwt, this.publicKey) ? jwt : undefined;
    } catch {
      return undefined;
    }
  }

  /** The public key as a JWKS entry, for `/discovery/v2.0/keys`. */
  jwk(): Record<string, unknown> {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return { kty: 'RSA', use: 'sig', kid: this.keyId, x5t: this.keyId, n: jwk.n, e: jwk.e };
  }
}

/** Seconds since the epoch. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
