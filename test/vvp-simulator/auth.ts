/**
 * API-token auth as VVP does it: `Authorization: Bearer <secret>`, each token scoped to
 * one namespace with one role. Off by default (Community edition / playground).
 */
import { badRequest } from './api-error';
import { isPlainObject } from './plain-object';

/** Token roles; a viewer may only read. */
export type Role = 'viewer' | 'editor' | 'owner';
export const ROLES: readonly Role[] = ['viewer', 'editor', 'owner'];

/** One API token. `namespace: "*"` grants every namespace (handy for admin tests). */
export interface ApiToken {
  token: string;
  namespace: string;
  role: Role;
}

/** Result of checking a request. */
export type AuthDecision =
  | { allowed: true }
  | { allowed: false; status: 401 | 403; message: string };

/**
 * Validates a token from JSON or from `TOKEN:namespace:role`.
 * @throws ApiError 400 naming the bad value and the accepted form.
 */
export function parseToken(input: unknown): ApiToken {
  if (typeof input === 'string') {
    const parts = input.split(':');
    if (parts.length !== 3) throw badRequest(`Invalid token '${input}': expected TOKEN:namespace:role`);
    return parseToken({ token: parts[0], namespace: parts[1], role: parts[2] });
  }
  if (!isPlainObject(input) || typeof input.token !== 'string' || input.token === '' || typeof input.namespace !== 'string' || input.namespace === '') {
    throw badRequest('token must be {token: string, namespace: string, role: viewer|editor|owner}');
  }
  if (typeof input.role !== 'string' || !(ROLES as readonly string[]).includes(input.role)) {
    throw badRequest(`Invalid role ${JSON.stringify(input.role)}; accepted: ${ROLES.join(', ')}`);
  }
  return { token: input.token, namespace: input.namespace, role: input.role as Role };
}

/** Token registry and the access decision. */
export class TokenAuth {
  enabled = false;
  private readonly tokens = new Map<string, ApiToken>();

  /** Replaces all tokens. */
  setTokens(tokens: ApiToken[]): void {
    this.tokens.clear();
    for (const t of tokens) this.tokens.set(t.token, t);
  }

  addToken(token: ApiToken): void {
    this.tokens.set(token.token, token);
  }

  list(): ApiToken[] {
    return [...this.tokens.values()];
  }

  /**
   * Decides a request: 401 when the header is missing, not Bearer or the token is
   * unknown; 403 for another namespace, or a viewer writing.
   * @param namespace The namespace in the path; undefined for namespace-less paths (status).
   */
  check(authorization: string | undefined, method: string, namespace: string | undefined): AuthDecision {
    if (!this.enabled) return { allowed: true };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return { allowed: false, status: 401, message: 'Full authentication is required to access this resource' };
    const token = this.tokens.get(match[1]);
    if (!token) return { allowed: false, status: 401, message: 'Invalid API token' };
    if (namespace !== undefined && token.namespace !== '*' && token.namespace !== namespace) {
      return { allowed: false, status: 403, message: `Token is not valid for namespace '${namespace}'` };
    }
    const write = !['GET', 'HEAD', 'OPTIONS'].includes(method);
    if (write && token.role === 'viewer') return { allowed: false, status: 403, message: 'Role viewer may not modify resources' };
    return { allowed: true };
  }
}
