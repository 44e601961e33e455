import type { TokenCredential, TokenCredentialOptions } from '@azure/identity';
import type * as https from 'node:https';
import type { AzureCloud } from './cloud';
import { tryTimeoutPolicy, type AbortSignalLike } from './request-timeout';
import { ServiceError, maskAndShorten } from '../errors/errors';
import { identity } from '../lazy/libraries';
import { formatDuration } from '../logging/duration';
import { maskValues } from '../logging/secret-mask';
import type { NetworkAgents } from '../http/network';

/**
 * The AzureRM service connection as plain data, as the pipeline adapter's connection reader
 * returns it: that reader is the connection's parser, so its cloud endpoints are usable
 * (`cloudProblems`) and no field its scheme needs is missing (`missingConnectionFields`).
 */
export type AzureRmConnection =
  | ServicePrincipalSecret
  | ServicePrincipalCertificate
  | WorkloadIdentityFederation
  | ManagedServiceIdentity;

interface ConnectionBase {
  /** Service connection id or name, for messages. */
  name: string;
  tenantId: string;
  subscriptionId?: string;
  cloud: AzureCloud;
}

interface ServicePrincipalSecret extends ConnectionBase {
  scheme: 'ServicePrincipal';
  authenticationType: 'spnKey';
  clientId: string;
  clientSecret: string;
}

interface ServicePrincipalCertificate extends ConnectionBase {
  scheme: 'ServicePrincipal';
  authenticationType: 'spnCertificate';
  clientId: string;
  /** PEM with the certificate and its private key, as the service connection stores it. */
  certificatePem: string;
}

interface WorkloadIdentityFederation extends ConnectionBase {
  scheme: 'WorkloadIdentityFederation';
  clientId: string;
  /** `System.OidcRequestUri` of the job. */
  oidcRequestUri: string;
  /** The job's access token (`System.AccessToken`), used only to ask for the OIDC token. */
  accessToken: string;
}

interface ManagedServiceIdentity extends ConnectionBase {
  scheme: 'ManagedServiceIdentity';
  /** User-assigned identity; absent for the system-assigned one. */
  clientId?: string;
}

interface CredentialOptions {
  agents: NetworkAgents;
  /**
   * Called with every secret the credential obtains (the OIDC token, and every access token
   * Entra ID or IMDS issues) before it is used, so the agent masks it if a server echoes it.
   */
  onSecret: (secret: string) => void;
  /**
   * Bound for each try of a token request (Entra ID, IMDS) and for the OIDC round trip; a try
   * that gets no answer in time fails as "no answer from <host>" and is retried (3 retries).
   * Default 30 000.
   */
  timeoutInMs?: number;
  /** Retries of a failed token request (network error, timeout, 5xx) and the first back-off. Default 3 and 1 000 ms. */
  retry?: { maxRetries?: number; retryDelayInMs?: number };
}

/**
 * Builds the `@azure/identity` credential for a service connection. Token traffic follows the
 * agent's proxy and CA rules per host (the `agent` option is a routing agent: Entra ID through
 * the proxy unless bypassed, IMDS and other managed identity endpoints never), and the
 * authority host comes from the connection's cloud, so sovereign clouds and Azure Stack work.
 *
 * @param connection - A checked connection (see AzureRmConnection): nothing here refuses one.
 */
export function createAzureCredential(connection: AzureRmConnection, options: CredentialOptions): TokenCredential {
  const timeouts: string[] = [];
  const inner = createSdkCredential(connection, options, (message) => timeouts.push(message));
  return observedCredential(inner, options.onSecret, timeouts);
}

function createSdkCredential(connection: AzureRmConnection, options: CredentialOptions, onTimeout: (message: string) => void): TokenCredential {
  const { ClientAssertionCredential, ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } = identity();
  const common: TokenCredentialOptions = {
    authorityHost: connection.cloud.authorityHost,
    // The SDK's `agent` option is how the proxy + CA reach MSAL's token requests. It is one
    // agent for every host the credential talks to, hence the routing agent.
    ...({ agent: options.agents.routingAgent() } as object),
    retryOptions: { maxRetries: options.retry?.maxRetries ?? 3, retryDelayInMs: options.retry?.retryDelayInMs ?? 1_000 },
    // Without it a token endpoint that never answers hangs the step.
    additionalPolicies: [{ policy: tryTimeoutPolicy(options.timeoutInMs ?? DEFAULT_TOKEN_TIMEOUT_IN_MS, onTimeout), position: 'perRetry' }],
  };
  switch (connection.scheme) {
    case 'ServicePrincipal':
      if (connection.authenticationType === 'spnCertificate') {
        return new ClientCertificateCredential(
          connection.tenantId,
          connection.clientId,
          { certificate: connection.certificatePem },
          common,
        );
      }
      return new ClientSecretCredential(connection.tenantId, connection.clientId, connection.clientSecret, common);
    case 'WorkloadIdentityFederation': {
      const getAssertion = (): Promise<string> => requestOidcToken(connection, options);
      return new ClientAssertionCredential(connection.tenantId, connection.clientId, getAssertion, common);
    }
    case 'ManagedServiceIdentity':
      return connection.clientId
        ? new ManagedIdentityCredential({ ...common, clientId: connection.clientId })
        : new ManagedIdentityCredential(common);
    default: {
      // The connection reader refuses every other scheme.
      const unknown: never = connection;
      throw new Error(`no credential for service connection scheme '${(unknown as { scheme?: string }).scheme}'`);
    }
  }
}

/**
 * The fields `connection`'s scheme needs that are empty (e.g. `clientSecret` of a service
 * principal whose key was never saved), in the connection's terms; empty when complete. Pure:
 * the connection reader turns them into its refusal.
 */
export function missingConnectionFields(connection: AzureRmConnection): string[] {
  const required: string[] = (() => {
    switch (connection.scheme) {
      case 'ServicePrincipal':
        return ['tenantId', 'clientId', connection.authenticationType === 'spnCertificate' ? 'certificatePem' : 'clientSecret'];
      case 'WorkloadIdentityFederation':
        return ['tenantId', 'clientId', 'oidcRequestUri', 'accessToken'];
      case 'ManagedServiceIdentity':
        return [];
    }
  })();
  const fields = connection as unknown as Record<string, unknown>;
  return required.filter((f) => typeof fields[f] !== 'string' || (fields[f] as string).trim() === '');
}

const DEFAULT_TOKEN_TIMEOUT_IN_MS = 30_000;

/**
 * The SDK credential, plus what it lacks: every access token is handed to `onSecret` (masked by
 * the agent should a server ever echo it); `abortSignal` ends the wait at once (MSAL's
 * client-credential requests do not observe it; the abandoned request ends when the task's
 * agents are destroyed); and a token request that timed out says which host did not answer
 * (MSAL turns it into a bare `network_error`).
 */
function observedCredential(inner: TokenCredential, onSecret: (secret: string) => void, timeouts: string[]): TokenCredential {
  const reported = new Set<string>();
  return {
    async getToken(scopes, getTokenOptions) {
      const signal = getTokenOptions?.abortSignal;
      const seen = timeouts.length;
      let token: Awaited<ReturnType<TokenCredential['getToken']>>;
      try {
        token = await untilAborted(inner.getToken(scopes, getTokenOptions), signal);
      } catch (error) {
        const timedOut = timeouts.slice(seen);
        if (timedOut.length === 0 || signal?.aborted) throw error;
        // Shaped like @azure/identity's AuthenticationError, which describeAzureError reads.
        const named = new Error(`${timedOut[timedOut.length - 1]} (${timedOut.length} tries)`, { cause: error }) as Error & {
          errorResponse: { error: string; errorDescription: string };
        };
        named.name = 'AuthenticationError';
        named.errorResponse = { error: 'no_answer', errorDescription: named.message };
        throw named;
      }
      if (token?.token && !reported.has(token.token)) {
        reported.add(token.token);
        onSecret(token.token);
      }
      return token;
    },
  };
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignalLike | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      const error = new Error('The token request was aborted');
      error.name = 'AbortError';
      reject(error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // Settles (and so never leaves an unhandled rejection) even when abandoned.
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    if (signal.aborted) onAbort();
  });
}

/**
 * Asks Azure DevOps for the job's OIDC token for this service connection
 * (`POST {System.OidcRequestUri}?api-version=7.1&serviceConnectionId={id}`), the token a
 * federated credential exchanges at Entra ID.
 */
async function requestOidcToken(connection: WorkloadIdentityFederation, options: CredentialOptions): Promise<string> {
  const url = new URL(connection.oidcRequestUri);
  url.searchParams.set('api-version', '7.1');
  url.searchParams.set('serviceConnectionId', connection.name);
  const timeoutInMs = options.timeoutInMs ?? DEFAULT_TOKEN_TIMEOUT_IN_MS;
  const operation = 'requesting the pipeline OIDC token for workload identity federation';
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const req = (require('node:https') as typeof https).request(
      url,
      {
        method: 'POST',
        agent: options.agents.agentFor(url),
        headers: {
          Authorization: `Bearer ${connection.accessToken}`,
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'Content-Length': 0,
        },
        timeout: timeoutInMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} within ${formatDuration(timeoutInMs)}`)));
    req.on('error', reject);
    req.end();
  }).catch((cause: Error) => {
    throw new ServiceError({ service: 'Azure DevOps', operation, serviceMessage: cause.message, cause });
  });
  if (status !== 200) {
    // Masked before it is shortened: a body that echoes the job token, cut through the token,
    // would keep a piece no mask matches any more.
    const shown = maskAndShorten(maskValues(body, [connection.accessToken]), 300);
    throw new ServiceError({
      service: 'Azure DevOps',
      operation,
      status,
      serviceMessage: shown,
      hint: 'Check that the pipeline may use the service connection and that the job has an OAuth token (System.AccessToken)',
    });
  }
  let token: unknown;
  try {
    token = (JSON.parse(body) as { oidcToken?: unknown }).oidcToken;
  } catch {
    token = undefined;
  }
  if (typeof token !== 'string' || token === '') {
    throw new ServiceError({ service: 'Azure DevOps', operation, status, serviceMessage: 'the response has no oidcToken' });
  }
  options.onSecret(token);
  return token;
}
