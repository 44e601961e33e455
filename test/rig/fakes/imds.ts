import { header, jsonResponse, newGuid, type FakeHandler } from './fake-http';
import { objectIdFor, type RigState } from './rig-state';
import { nowSeconds } from './token-issuer';

/**
 * Azure Instance Metadata Service token endpoint (`GET /metadata/identity/oauth2/token`).
 * Reached either as `http://169.254.169.254` through the rig proxy (plain-HTTP proxying), or
 * directly on the loopback port the rig publishes for `AZURE_POD_IDENTITY_AUTHORITY_HOST`, which
 * `@azure/identity` (MSAL's IMDS source) documents as the IMDS host override.
 *
 * Like IMDS, a request without `Metadata: true` gets 400; `@azure/identity` relies on exactly
 * that to probe whether IMDS exists before asking for a token.
 */
export function imdsHandler(state: RigState): FakeHandler {
  return (req) => {
    // MSAL adds a trailing slash when the host comes from AZURE_POD_IDENTITY_AUTHORITY_HOST; AKS pod identity accepts both.
    if (req.url.pathname.replace(/\/$/, '') !== '/metadata/identity/oauth2/token') {
      return jsonResponse(404, { error: 'not_found', error_description: 'rig IMDS fake: only /metadata/identity/oauth2/token' });
    }
    if (header(req, 'metadata')?.toLowerCase() !== 'true') {
      return jsonResponse(400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
    }
    const q = req.url.searchParams;
    const resource = q.get('resource');
    if (!q.get('api-version') || !resource) {
      return jsonResponse(400, { error: 'invalid_request', error_description: 'Required query variable \'resource\' is missing' });
    }
    const identities = state.config.managedIdentities;
    const clientId = q.get('client_id');
    const objectId = q.get('object_id');
    const resourceId = q.get('msi_res_id') ?? q.get('mi_res_id');
    const identity = clientId
      ? identities.find((i) => i.clientId.toLowerCase() === clientId.toLowerCase())
      : objectId
        ? identities.find((i) => objectIdFor(i.clientId, i.objectId) === objectId)
        : resourceId
          ? identities.find((i) => i.resourceId?.toLowerCase() === resourceId.toLowerCase())
          : identities[0];
    if (!identity) {
      return jsonResponse(400, { error: 'invalid_request', error_description: 'Identity not found' });
    }
    const now = nowSeconds();
    const lifetime = state.config.tokenLifetimeSeconds ?? 86399;
    const oid = objectIdFor(identity.clientId, identity.objectId);
    const aud = resource.replace(/\/\.default$/, '');
    const accessToken = state.entra.issue('access', 'managed_identity', {
      aud,
      iss: `https://sts.windows.net/${identity.tenantId}/`,
      iat: now,
      nbf: now,
      exp: now + lifetime,
      aio: newGuid(),
      appid: identity.clientId,
      appidacr: '2',
      idp: `https://sts.windows.net/${identity.tenantId}/`,
      idtyp: 'app',
      oid,
      sub: oid,
      tid: identity.tenantId,
      uti: newGuid().replace(/-/g, ''),
      ver: '1.0',
      xms_mirid: identity.resourceId ?? `/subscriptions/rig/resourcegroups/rig/providers/Microsoft.Compute/virtualMachines/rig-agent`,
    });
    // IMDS sends every number as a string.
    return jsonResponse(200, {
      access_token: accessToken,
      client_id: identity.clientId,
      expires_in: String(lifetime),
      expires_on: String(now + lifetime),
      ext_expires_in: String(lifetime),
      not_before: String(now),
      resource: aud,
      token_type: 'Bearer',
    });
  };
}
