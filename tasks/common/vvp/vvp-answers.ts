/**
 * Reading VVP's answers: which bodies are the resources they claim to be, and the human text of
 * an error body (VVP, Spring and the Platform API use different shapes) or of a network failure.
 */
import { maskAndShorten } from '../errors/errors';
import { VvpApiError } from './errors';
import { isJsonObject, type Deployment, type Savepoint } from './resources';

export function isDeployment(body: unknown): body is Deployment {
  return isJsonObject(body) && isJsonObject(body.metadata) && typeof body.metadata.id === 'string' && isJsonObject(body.spec);
}

export function isSavepoint(body: unknown): body is Savepoint {
  return isJsonObject(body) && isJsonObject(body.metadata) && typeof body.metadata.id === 'string';
}

export function asDeployment(body: unknown, operation: string): Deployment {
  if (!isDeployment(body)) {
    throw new VvpApiError({
      method: '',
      path: '',
      operation,
      serviceMessage: 'the answer is not a Deployment (metadata.id and spec missing)',
      hint: 'Check that vvpUrl points at Ververica Platform (AppManager API v1)',
    });
  }
  return body;
}

export function itemsOf<T>(body: unknown): T[] {
  if (isJsonObject(body) && Array.isArray(body.items)) return body.items.filter(isJsonObject) as unknown as T[];
  return [];
}

export function oneLineStart(text: string): string {
  return text.trim().slice(0, 80);
}

/**
 * The human text of a VVP error body: `message`, `error` or `description` of a JSON body (VVP,
 * Spring and the Platform API use different shapes), else the raw text, shortened.
 */
export function errorText(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return 'no details in the answer';
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (isJsonObject(parsed)) {
      for (const key of ['message', 'error', 'description']) {
        const value = parsed[key];
        if (typeof value === 'string' && value.trim() !== '') return maskAndShorten(value.trim(), 1000);
      }
    }
  } catch {
    // Not JSON: fall through to the text.
  }
  const withoutTags = /^\s*</.test(trimmed) ? trimmed.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim() : trimmed;
  return maskAndShorten(withoutTags || trimmed, 500);
}

export function networkHint(code: string | undefined, url: URL): string | undefined {
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `The host ${url.hostname} could not be resolved: check vvpUrl and the agent's DNS`;
    case 'ECONNREFUSED':
      return `Nothing accepts connections at ${url.host}: check vvpUrl, the port, and that VVP is reachable from the agent`;
    case 'CERT_HAS_EXPIRED':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS verification of ${url.host} failed: add the issuing CA to the agent (Agent.CAInfo or NODE_EXTRA_CA_CERTS); verification is never switched off`;
    default:
      return `Check that the agent can reach ${url.host} (proxy settings, firewall)`;
  }
}

