import { X509Certificate, createHash } from 'node:crypto';
import type { ClientConfig } from '../config';
import { decodeJwt, verifyJwtSignature, type DecodedJwt } from '../jwt';
import { formBody, jsonResponse, newGuid, type FakeHandler, type FakeRequest, type FakeResponse } from './fake-http';
import { objectIdFor, type RigState } from './rig-state';
import { nowSeconds, type TokenGrant } from './token-issuer';

/** Entra ID hosts the fake answers for, with the `iss` host of the v1 tokens that cloud issues. */
export const ENTRA_HOSTS: Readonly<Record<string, string>> = {
  'login.microsoftonline.com': 'sts.windows.net',
  'login.windows.net': 'sts.windows.net',
  'login.microsoftonline.us': 'sts.windows.net',
  'login.chinacloudapi.cn': 'sts.chinacloudapi.cn',
  'login.partner.microsoftonline.cn': 'sts.chinacloudapi.cn',
};

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Audience Azure DevOps puts in OIDC tokens meant for a federated credential. */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

/**
 * Entra ID (v2.0 and v1 token endpoints, OpenID metadata, instance discovery, JWKS) for the
 * client-credentials grant with a secret, a certificate-signed assertion, or a federated
 * (pipeline OIDC) assertion. Errors carry real AADSTS codes and the real body shape.
 */
export function entraIdHandler(state: RigState): FakeHandler {
  return (req) => {
    const host = req.url.hostname.toLowerCase();
    const segments = req.url.pathname.split('/').filter(Boolean);
    const [tenant, ...rest] = segments;
    const route = rest.join('/');
    if (req.method === 'GET' && tenant === 'common' && route === 'discovery/instance') return instanceDiscovery(req);
    if (!tenant) return notFound();
    if (req.method === 'GET' && (route === 'v2.0/.well-known/openid-configuration' || route === '.well-known/openid-configuration')) {
      if (!isWellKnownTenant(tenant) && !state.hasTenant(tenant)) return tenantNotFound(tenant);
      return jsonResponse(200, openIdConfiguration(host, tenant, route.startsWith('v2.0')));
    }
    if (req.method === 'GET' && (route === 'discovery/v2.0/keys' || route === 'discovery/keys')) {
      return jsonResponse(200, { keys: [state.entra.jwk()] });
    }
    if (req.method === 'POST' && (route === 'oauth2/v2.0/token' || route === 'oauth2/token')) {
      return tokenEndpoint(state, req, tenant, route === 'oauth2/token');
    }
    return notFound();
  };
}

function tokenEndpoint(state: RigState, req: FakeRequest, tenant: string, v1: boolean): FakeResponse {
  const form = formBody(req);
  const grantType = form.get('grant_type');
  const clientId = form.get('client_id') ?? '';
  if (!grantType) return aadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
  if (grantType !== 'client_credentials') {
    return aadError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
  }
  if (!state.hasTenant(tenant)) return tenantNotFound(tenant);
  if (!clientId) return aadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
  const client = state.findClient(tenant, clientId);
  if (!client) {
    return aadError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }

  const resource = v1 ? form.get('resource') : resourceFromScope(form.get('scope'));
  if (!resource) {
    return aadError(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${form.get('scope') ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  }

  const auth = authenticateClient(state, req, client, form);
  if ('error' in auth) return auth.error;

  const lifetime = state.config.tokenLifetimeSeconds ?? 3599;
  const now = nowSeconds();
  const oid = objectIdFor(client.clientId, client.objectId);
  const issuerHost = ENTRA_HOSTS[req.url.hostname.toLowerCase()] ?? 'sts.windows.net';
  const accessToken = state.entra.issue('access', auth.grant, {
    aud: resource,
    iss: `https://${issuerHost}/${client.tenantId}/`,
    iat: now,
    nbf: now,
    exp: now + lifetime,
    aio: newGuid(),
    appid: client.clientId,
    appidacr: auth.grant === 'client_secret' ? '1' : '2',
    idp: `https://${issuerHost}/${client.tenantId}/`,
    idtyp: 'app',
    oid,
    rh: '0.rig.',
    sub: oid,
    tid: client.tenantId,
    uti: newGuid().replace(/-/g, ''),
    ver: '1.0',
  });
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    expires_in: lifetime,
    ext_expires_in: lifetime,
    access_token: accessToken,
  };
  if (v1) Object.assign(body, { expires_on: String(now + lifetime), not_before: String(now), resource });
  return jsonResponse(200, body, { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' });
}

type AuthResult = { grant: TokenGrant } | { error: FakeResponse };

function authenticateClient(state: RigState, req: FakeRequest, client: ClientConfig, form: URLSearchParams): AuthResult {
  const secret = form.get('client_secret');
  const assertion = form.get('client_assertion');
  if (secret !== null) {
    if (client.secret !== undefined && secret === client.secret) return { grant: 'client_secret' };
    return {
      error: aadError(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${client.clientId}'.`,
      ),
    };
  }
  if (assertion === null) {
    return {
      error: aadError(401, 'invalid_client', 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type."),
    };
  }
  if (form.get('client_assertion_type') !== JWT_BEARER) {
    return { error: aadError(400, 'invalid_request', 50027, `Invalid client_assertion_type; expected '${JWT_BEARER}'.`) };
  }
  let jwt: DecodedJwt;
  try {
    jwt = decodeJwt(assertion);
  } catch {
    return { error: aadError(400, 'invalid_request', 50027, 'JWT token is invalid or malformed.') };
  }
  // A self-issued assertion (iss = the app) is a certificate credential; any other issuer is a
  // federated one. The header cannot tell: OIDC tokens carry x5t/kid too.
  const selfIssued = String(jwt.payload['iss']).toLowerCase() === client.clientId.toLowerCase();
  return selfIssued ? certificateAssertion(req, client, jwt) : federatedAssertion(state, client, jwt);
}

function certificateAssertion(req: FakeRequest, client: ClientConfig, jwt: DecodedJwt): AuthResult {
  const notRegistered = aadError(
    401,
    'invalid_client',
    700027,
    `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${String(jwt.header['x5t'] ?? jwt.header['x5t#S256'])}'. Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${client.clientId}'.]`,
  );
  if (!client.certificatePem) return { error: notRegistered };
  const cert = new X509Certificate(client.certificatePem);
  const sha1 = createHash('sha1').update(cert.raw).digest('base64url');
  const sha256 = createHash('sha256').update(cert.raw).digest('base64url');
  if (jwt.header['x5t'] !== sha1 && jwt.header['x5t#S256'] !== sha256) return { error: notRegistered };
  if (!verifyJwtSignature(jwt, cert.publicKey)) {
    return { error: aadError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.') };
  }
  const p = jwt.payload;
  const tokenUrl = `${req.url.origin}${req.url.pathname}`;
  if (p['aud'] !== tokenUrl) {
    return {
      error: aadError(401, 'invalid_client', 700212, `No matching federated identity record found for presented assertion audience '${String(p['aud'])}'.`),
    };
  }
  if (String(p['sub']).toLowerCase() !== client.clientId.toLowerCase()) {
    return { error: aadError(401, 'invalid_client', 700021, "Client assertion application identifier doesn't match 'client_id' parameter.") };
  }
  const timeError = assertionTimeError(p);
  return timeError ? { error: timeError } : { grant: 'client_certificate' };
}

function federatedAssertion(state: RigState, client: ClientConfig, jwt: DecodedJwt): AuthResult {
  const p = jwt.payload;
  const issuer = String(p['iss']);
  if (!verifyJwtSignature(jwt, state.oidc.publicKey)) {
    return {
      error: aadError(
        401,
        'invalid_client',
        700211,
        `No matching federated identity record found for presented assertion issuer '${issuer}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
      ),
    };
  }
  if (p['aud'] !== TOKEN_EXCHANGE_AUDIENCE) {
    return {
      error: aadError(401, 'invalid_client', 700212, `No matching federated identity record found for presented assertion audience '${String(p['aud'])}'.`),
    };
  }
  const subjects = client.federatedSubjects ?? [];
  if (subjects.length > 0 && !subjects.includes(String(p['sub']))) {
    return {
      error: aadError(
        401,
        'invalid_client',
        700213,
        `No matching federated identity record found for presented assertion subject '${String(p['sub'])}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
      ),
    };
  }
  const timeError = assertionTimeError(p);
  return timeError ? { error: timeError } : { grant: 'client_assertion' };
}

function assertionTimeError(p: Record<string, unknown>): FakeResponse | undefined {
  const now = nowSeconds();
  const skew = 300;
  const exp = Number(p['exp']);
  const nbf = Number(p['nbf'] ?? p['iat'] ?? 0);
  if (!Number.isFinite(exp) || exp + skew < now || nbf - skew > now) {
    return aadError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
  }
  return undefined;
}

/** `https://vault.azure.net/.default` → `https://vault.azure.net`; OIDC scopes are ignored. */
export function resourceFromScope(scope: string | null): string | undefined {
  const scopes = (scope ?? '').split(' ').filter((s) => s && !['openid', 'profile', 'offline_access'].includes(s));
  if (scopes.length !== 1 || !scopes[0]!.endsWith('/.default')) return undefined;
  return scopes[0]!.slice(0, -'/.default'.length);
}

function openIdConfiguration(host: string, tenant: string, v2: boolean): Record<string, unknown> {
  const base = `https://${host}/${tenant}`;
  return v2
    ? {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: `${base}/v2.0`,
        request_uri_parameter_supported: false,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        tenant_region_scope: 'EU',
        cloud_instance_name: host.endsWith('.cn') ? 'chinacloudapi.cn' : 'microsoftonline.com',
      }
    : {
        token_endpoint: `${base}/oauth2/token`,
        jwks_uri: `${base}/discovery/keys`,
        issuer: `https://${ENTRA_HOSTS[host] ?? 'sts.windows.net'}/${tenant}/`,
        authorization_endpoint: `${base}/oauth2/authorize`,
      };
}

/** `GET /common/discovery/instance`: MSAL asks this for authority hosts it has no built-in metadata for. */
function instanceDiscovery(req: FakeRequest): FakeResponse {
  const host = req.url.hostname.toLowerCase();
  return jsonResponse(200, {
    tenant_discovery_endpoint: `https://${host}/{tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  });
}

function isWellKnownTenant(tenant: string): boolean {
  return ['common', 'organizations', 'consumers'].includes(tenant.toLowerCase());
}

function tenantNotFound(tenant: string): FakeResponse {
  return aadError(
    400,
    'invalid_tenant',
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  );
}

function notFound(): FakeResponse {
  return jsonResponse(404, { error: 'not_found', error_description: 'rig Entra ID fake: no such endpoint' });
}

/** The error body Entra ID returns, including trace and correlation ids in the description. */
export function aadError(status: number, error: string, code: number, description: string): FakeResponse {
  const traceId = newGuid();
  const correlationId = newGuid();
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return jsonResponse(status, {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  });
}
