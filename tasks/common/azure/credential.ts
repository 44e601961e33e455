import {
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  type TokenCredential,
  type TokenCredentialOptions,
} from '@azure/identity';
import * as https from 'node:https';
import type { AzureCloud } from './cloud';
import { InputError, ServiceError } from '../errors/errors';
import type { NetworkAgents } from '../http/network';

/** The AzureRM service connection as plain data (read by the pipeline adapter). */
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

export interface ServicePrincipalSecret extends ConnectionBase {
  scheme: 'ServicePrincipal';
  authenticationType: 'spnKey';
  clientId: string;
  clientSecret: string;
}

export interface ServicePrincipalCertificate extends ConnectionBase {
  scheme: 'ServicePrincipal';
  authenticationType: 'spnCertificate';
  clientId: string;
  /** PEM with the certificate and its private key, as the service connection stores it. */
  certificatePem: string;
}

export interface WorkloadIdentityFederation extends ConnectionBase {
  scheme: 'WorkloadIdentityFederation';
  clientId: string;
  /** `System.OidcRequestUri` of the job. */
  oidcRequestUri: string;
  /** The job's access token (`System.AccessToken`), used only to ask for the OIDC token. */
  accessToken: string;
}

export interface ManagedServiceIdentity extends ConnectionBase {
  scheme: 'ManagedServiceIdentity';
  /** User-assigned identity; absent for the system-assigned one. */
  clientId?: string;
}

export interface CredentialOptions {
  agents: NetworkAgents;
  /** Called with every secret the factory obtains (the OIDC token), before it is used. */
  onSecret: (secret: string) => void;
  /** Bound for each token request, including the OIDC round trip. Default 60 000. */
  timeoutInMs?: number;
}

/**
 * Builds the `@azure/identity` credential for a service connection. All token traffic goes
 * through the agent's proxy and CA (the `agent` option), and the authority host comes from the
 * connection's cloud, so sovereign clouds and Azure Stack work.
 *
 * @throws InputError when the connection lacks a field its scheme needs.
 */
export function createAzureCredential(connection: AzureRmConnection, options: CredentialOptions): TokenCredential {
  const common: TokenCredentialOptions = {
    authorityHost: connection.cloud.authorityHost,
    // The SDK's `agent` option is how the proxy + CA reach MSAL's token requests.
    ...({ agent: options.agents.agentFor(connection.cloud.authorityHost) } as object),
    retryOptions: { maxRetries: 3 },
  };
  switch (connection.scheme) {
    case 'ServicePrincipal':
      requireFields(connection, ['tenantId', 'clientId']);
      if (connection.authenticationType === 'spnCertificate') {
        requireFields(connection, ['certificatePem']);
        return new ClientCertificateCredential(
          connection.tenantId,
          connection.clientId,
          { certificate: connection.certificatePem },
          common,
        );
      }
      requireFields(connection, ['clientSecret']);
      return new ClientSecretCredential(connection.tenantId, connection.clientId, connection.clientSecret, common);
    case 'WorkloadIdentityFederation': {
      requireFields(connection, ['tenantId', 'clientId', 'oidcRequestUri', 'accessToken']);
      const getAssertion = (): Promise<string> => requestOidcToken(connection, options);
      return new ClientAssertionCredential(connection.tenantId, connection.clientId, getAssertion, common);
    }
    case 'ManagedServiceIdentity':
      return connection.clientId
        ? new ManagedIdentityCredential({ ...common, clientId: connection.clientId })
        : new ManagedIdentityCredential(common);
    default: {
      const unknown: never = connection;
      throw new InputError([
        {
          input: 'azureSubscription',
          value: (unknown as { scheme?: string }).scheme,
          expected: 'a service connection with scheme ServicePrincipal, WorkloadIdentityFederation or ManagedServiceIdentity',
        },
      ]);
    }
  }
}

function requireFields<T extends object>(connection: T & { name: string }, fields: (keyof T & string)[]): void {
  const missing = fields.filter((f) => {
    const v = connection[f];
    return typeof v !== 'string' || v.trim() === '';
  });
  if (missing.length > 0) {
    throw new InputError([
      {
        input: 'azureSubscription',
        value: connection.name,
        expected: `a service connection that has ${missing.join(', ')} (the connection is incomplete: edit it in Project settings > Service connections)`,
      },
    ]);
  }
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
  const timeoutInMs = options.timeoutInMs ?? 60_000;
  const operation = 'requesting the pipeline OIDC token for workload identity federation';
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = https.request(
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
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} within ${timeoutInMs} ms`)));
    req.on('error', reject);
    req.end();
  }).catch((cause: Error) => {
    throw new ServiceError({ service: 'Azure DevOps', operation, serviceMessage: cause.message, cause });
  });
  if (status !== 200) {
    throw new ServiceError({
      service: 'Azure DevOps',
      operation,
      status,
      serviceMessage: body.slice(0, 300),
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
