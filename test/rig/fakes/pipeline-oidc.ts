import { TOKEN_EXCHANGE_AUDIENCE } from './entra-id';
import { header, jsonResponse, newGuid, type FakeHandler, type FakeRequest, type FakeResponse } from './fake-http';
import type { RigState } from './rig-state';
import { nowSeconds } from './token-issuer';

const OIDC_PATH = /^\/([^/]+)\/([^/]+)\/_apis\/distributedtask\/hubs\/([^/]+)\/plans\/([^/]+)\/jobs\/([^/]+)\/oidctoken\/?$/i;

/**
 * Azure DevOps' job OIDC endpoint (`System.OidcRequestUri`):
 * `POST https://dev.azure.com/<org>/<project>/_apis/distributedtask/hubs/<hub>/plans/<plan>/jobs/<job>/oidctoken?api-version=...&serviceConnectionId=<id>`
 * authorized by the job's access token. `@azure/identity`'s AzurePipelinesCredential sends
 * `Bearer` with api-version 7.1; the official tasks (azure-devops-node-api `createOidcToken`)
 * send 7.1-preview.1 and a `{}` body, with a Bearer or Basic (PAT-style) header. Both are accepted.
 */
export function pipelineOidcHandler(state: RigState): FakeHandler {
  return (req) => {
    const m = OIDC_PATH.exec(req.url.pathname);
    const cfg = state.config.pipeline;
    if (!m || m[1]!.toLowerCase() !== cfg.organization.toLowerCase()) {
      return vssError(404, 'The resource cannot be found.', 'NotFoundException');
    }
    if (req.method !== 'POST') return vssError(405, `The requested resource does not support http method '${req.method}'.`, 'MethodNotAllowed');
    if (presentedAccessToken(req) !== cfg.accessToken) {
      return vssError(
        401,
        'TF400813: Resource not available for anonymous access. Client authentication required.',
        'UnauthorizedRequestException',
        { 'www-authenticate': 'Bearer authorization_uri=https://login.microsoftonline.com/common', 'x-tfs-fedauthredirect': 'Suppress' },
      );
    }
    const apiVersion = req.url.searchParams.get('api-version');
    if (!apiVersion || !/^7\.1(-preview(\.\d+)?)?$/.test(apiVersion)) {
      return vssError(400, `The requested REST API version of ${apiVersion ?? '(none)'} is out of range for this server.`, 'VssVersionOutOfRangeException');
    }
    const connectionId = req.url.searchParams.get('serviceConnectionId') ?? '';
    const connectionName = Object.entries(cfg.serviceConnections).find(([id]) => id.toLowerCase() === connectionId.toLowerCase())?.[1];
    if (!connectionName) {
      return vssError(
        400,
        `Service connection with id '${connectionId}' could not be found or the pipeline is not authorized to use it.`,
        'InvalidServiceEndpointException',
      );
    }
    const now = nowSeconds();
    const oidcToken = state.oidc.issue('oidc', 'pipeline_oidc', {
      jti: newGuid(),
      sub: `sc://${cfg.organization}/${cfg.project}/${connectionName}`,
      aud: TOKEN_EXCHANGE_AUDIENCE,
      iss: `https://vstoken.dev.azure.com/${cfg.organizationId}`,
      nbf: now,
      iat: now,
      exp: now + (cfg.oidcTokenLifetimeSeconds ?? 600),
    });
    return jsonResponse(200, { oidcToken }, { 'x-vss-e2eid': newGuid(), 'x-msedge-ref': `Ref A: ${newGuid()}` });
  };
}

/** The job token from `Authorization: Bearer <t>` or `Basic base64(<any>:<t>)`. */
function presentedAccessToken(req: FakeRequest): string | undefined {
  const auth = header(req, 'authorization') ?? '';
  const bearer = /^Bearer\s+(.+)$/i.exec(auth);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+(.+)$/i.exec(auth);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    return decoded.slice(decoded.indexOf(':') + 1);
  }
  return undefined;
}

function vssError(status: number, message: string, typeKey: string, headers: Record<string, string> = {}): FakeResponse {
  return jsonResponse(
    status,
    {
      $id: '1',
      innerException: null,
      message,
      typeName: `Microsoft.TeamFoundation.Framework.Server.${typeKey}, Microsoft.TeamFoundation.Framework.Server`,
      typeKey,
      errorCode: 0,
      eventId: 3000,
    },
    headers,
  );
}
