import type { VaultConfig } from '../config';
import { header, jsonResponse, newGuid, type FakeHandler, type FakeRequest, type FakeResponse } from './fake-http';
import { normalizeSecret, objectIdFor, type RigState } from './rig-state';
import { nowSeconds } from './token-issuer';

/** Key Vault DNS suffix → the Entra ID host its 401 challenge points at. */
const AUTHORITY_BY_SUFFIX: Readonly<Record<string, string>> = {
  'vault.azure.net': 'login.microsoftonline.com',
  'vault.azure.cn': 'login.chinacloudapi.cn',
  'vault.usgovcloudapi.net': 'login.microsoftonline.us',
};

const SECRET_PATH = /^\/secrets\/([0-9a-zA-Z-]+)(?:\/([0-9a-fA-F]*))?\/?$/;

/**
 * Key Vault's secrets data plane (`GET /secrets/{name}[/{version}]`) with the real
 * authentication dance: a request without a valid token gets 401 and the `WWW-Authenticate`
 * challenge naming tenant and resource; tokens must be signed by the Entra ID fake, carry the
 * vault audience and the vault's tenant, and come from a principal that is not denied.
 *
 * Hosts of vaults that are not configured never reach this handler: the proxy refuses them as
 * DNS would (see `services.ts`).
 */
export function keyVaultHandler(state: RigState): FakeHandler {
  return (req) => {
    const vault = state.findVaultByHost(req.url.hostname);
    if (!vault) return kvError(404, 'VaultNotFound', `The vault ${req.url.hostname} does not exist.`);
    const suffix = vault.dnsSuffix ?? 'vault.azure.net';
    if (!req.url.searchParams.get('api-version')) {
      return kvError(400, 'BadParameter', 'The request URI contains an invalid or missing api-version');
    }
    const auth = authenticate(state, req, vault, suffix);
    if ('error' in auth) return auth.error;

    const m = SECRET_PATH.exec(req.url.pathname);
    if (!m) return kvError(404, 'NotFound', `The requested path ${req.url.pathname} was not found on this vault.`);
    if (req.method !== 'GET') return kvError(405, 'MethodNotAllowed', `The method ${req.method} is not supported by the rig Key Vault fake.`);
    const name = m[1]!;
    const version = m[2] ?? '';

    if (vault.deniedClientIds?.some((c) => c.toLowerCase() === auth.appId.toLowerCase())) {
      return forbidden(vault, name, auth);
    }
    const entry = Object.entries(vault.secrets).find(([n]) => n.toLowerCase() === name.toLowerCase());
    const secret = entry ? normalizeSecret(entry[0], entry[1]) : undefined;
    if (!entry || !secret || (version && version.toLowerCase() !== secret.version.toLowerCase())) {
      return kvError(
        404,
        'SecretNotFound',
        `A secret with (name/id) ${version ? `${name}/${version}` : name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
      );
    }
    if (!secret.enabled) {
      return kvError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', { code: 'SecretDisabled' });
    }
    const created = nowSeconds() - 86400;
    const body: Record<string, unknown> = {
      value: secret.value,
      id: `https://${vault.name}.${suffix}/secrets/${entry[0]}/${secret.version}`,
      attributes: { enabled: true, created, updated: created, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 },
      tags: secret.tags,
    };
    if (secret.contentType) body['contentType'] = secret.contentType;
    return jsonResponse(200, body, kvHeaders());
  };
}

type AuthResult = { appId: string; objectId: string; issuer: string } | { error: FakeResponse };

function authenticate(state: RigState, req: FakeRequest, vault: VaultConfig, suffix: string): AuthResult {
  const authority = AUTHORITY_BY_SUFFIX[suffix] ?? 'login.microsoftonline.com';
  const challenge = { 'www-authenticate': `Bearer authorization="https://${authority}/${vault.tenantId}", resource="https://${suffix}"` };
  const unauthorized = (message: string): AuthResult => ({ error: kvError(401, 'Unauthorized', message, undefined, challenge) });

  const m = /^Bearer\s+(\S+)$/i.exec(header(req, 'authorization') ?? '');
  if (!m) return unauthorized('AKV10000: Request is missing a Bearer or PoP token.');
  const jwt = state.entra.verify(m[1]!);
  if (!jwt) return unauthorized('AKV10031: Token signature validation failed.');
  const p = jwt.payload;
  const aud = String(p['aud']);
  if (aud !== `https://${suffix}` && aud !== `https://${suffix}/`) {
    return unauthorized(`AKV10022: Invalid audience. Expected https://${suffix}, found: ${aud}.`);
  }
  if (String(p['tid']).toLowerCase() !== vault.tenantId.toLowerCase()) {
    return unauthorized(`AKV10032: Invalid issuer. Expected one of https://sts.windows.net/${vault.tenantId}/, found ${String(p['iss'])}.`);
  }
  if (Number(p['exp']) < nowSeconds()) return unauthorized('AKV10021: Token has expired.');
  const appId = String(p['appid']);
  return { appId, objectId: String(p['oid'] ?? objectIdFor(appId)), issuer: String(p['iss']) };
}

function forbidden(vault: VaultConfig, secretName: string, caller: { appId: string; objectId: string; issuer: string }): FakeResponse {
  const message = [
    'Caller is not authorized to perform action on resource.',
    'If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.',
    `Caller: appid=${caller.appId};oid=${caller.objectId};iss=${caller.issuer}`,
    "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'",
    `Resource: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rig/providers/microsoft.keyvault/vaults/${vault.name.toLowerCase()}/secrets/${secretName.toLowerCase()}'`,
    'Assignment: (not found)',
    'DenyAssignmentId: null',
    'DecisionReason: null ',
    `Vault: ${vault.name};location=westeurope`,
    '',
  ].join('\r\n');
  return kvError(403, 'Forbidden', message, { code: 'ForbiddenByRbac' });
}

function kvError(
  status: number,
  code: string,
  message: string,
  innererror?: { code: string },
  headers: Record<string, string> = {},
): FakeResponse {
  return jsonResponse(status, { error: innererror ? { code, message, innererror } : { code, message } }, { ...kvHeaders(), ...headers });
}

function kvHeaders(): Record<string, string> {
  return {
    'x-ms-keyvault-service-version': '1.9.2000.1',
    'x-ms-keyvault-network-info': 'conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;',
    'x-ms-keyvault-region': 'westeurope',
    'x-ms-request-id': newGuid(),
  };
}
