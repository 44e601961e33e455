import { ServiceError } from '../errors/errors';

/** What an Azure SDK error says, reduced to what a user message needs. */
export interface AzureErrorDetail {
  /** HTTP status, when the service answered. */
  status?: number;
  /** Service error code (`SecretNotFound`, `AuthorizationPermissionMismatch`, `invalid_client`…). */
  code?: string;
  /** The service's own words, first line only (Entra descriptions carry the AADSTS code there). */
  message: string;
  /** True when Entra ID refused to issue a token (wrong secret, unknown client, bad assertion…). */
  authentication: boolean;
}

/**
 * Reads `RestError` (status, code), `AuthenticationError` (Entra's `error`/`error_description`
 * with the AADSTS code) and `CredentialUnavailableError` without depending on their classes,
 * which differ between bundled copies.
 */
export function describeAzureError(error: unknown): AzureErrorDetail {
  const e = (error ?? {}) as {
    name?: string;
    message?: string;
    statusCode?: number;
    code?: string;
    errorResponse?: { error?: string; errorDescription?: string };
  };
  if (e.name === 'AuthenticationRequiredError' || (e.name !== 'AuthenticationError' && /\bAADSTS\d+/.test(e.message ?? ''))) {
    // Clients with challenge-based auth (Key Vault) wrap Entra's refusal in this error; its
    // message holds Entra's answer: "invalid_client: … AADSTS7000215: Invalid client secret
    // provided. … Trace ID: …". Keep the code and the AADSTS text, drop the trace noise.
    const message = e.message ?? '';
    const aadsts = /AADSTS\d+:.*?(?=\s+Trace ID:|$)/s.exec(message)?.[0];
    return {
      status: e.statusCode,
      code: /^([a-z_]+):/.exec(message)?.[1],
      message: firstLine((aadsts ?? message).replace(/\.$/, '')),
      authentication: true,
    };
  }
  if (e.name === 'AuthenticationError' || e.name === 'CredentialUnavailableError' || e.name === 'AggregateAuthenticationError') {
    const description = e.errorResponse?.errorDescription ?? e.message ?? String(error);
    return {
      status: e.statusCode,
      code: e.errorResponse?.error,
      message: firstLine(description),
      authentication: true,
    };
  }
  return {
    status: e.statusCode,
    code: e.code,
    message: firstLine(e.message ?? String(error)),
    authentication: false,
  };
}

/**
 * Wraps an Azure SDK failure into a ServiceError, naming the Entra error for token failures so
 * the user sees e.g. `AADSTS7000215: Invalid client secret provided`.
 */
export function azureServiceError(
  service: string,
  operation: string,
  error: unknown,
  hintFor: (detail: AzureErrorDetail) => string | undefined,
): ServiceError {
  const detail = describeAzureError(error);
  if (detail.authentication) {
    return new ServiceError({
      service: 'Microsoft Entra ID',
      operation: `getting a token for ${service} (${operation})`,
      status: detail.status,
      serviceMessage: detail.code ? `${detail.code}: ${detail.message}` : detail.message,
      hint:
        hintFor(detail) ??
        (/no answer from|network_error|ECONNRESET|ECONNREFUSED|ETIMEDOUT|ENOTFOUND/i.test(`${detail.code ?? ''} ${detail.message}`)
          ? "Check that the agent can reach the service connection's Entra ID authority host (proxy settings, firewall)"
          : 'Check the service connection: client id, tenant, secret or certificate expiry, or the federated credential subject'),
      cause: error,
    });
  }
  return new ServiceError({
    service,
    operation,
    status: detail.status,
    serviceMessage: detail.code && !detail.message.includes(detail.code) ? `${detail.code}: ${detail.message}` : detail.message,
    hint: hintFor(detail),
    cause: error,
  });
}

function firstLine(text: string): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? text;
  return line.trim();
}
