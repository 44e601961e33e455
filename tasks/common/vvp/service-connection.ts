import { maskUrlSecrets } from '../inputs/parse';
import { acceptedUrlForm, checkServiceUrl } from '../http/url-policy';

/**
 * A Ververica Platform service connection (endpoint type `VervericaPlatform` in
 * vss-extension.json) as plain data. The pipeline adapter reads it, registers the token as a
 * secret before anything else sees it, and checks its URL.
 */
export interface VvpServiceConnection {
  /** The connection id (what a `connectedService:VervericaPlatform` input holds). */
  id: string;
  /**
   * The Server URL as a VVP base URL, checked by the reader ({@link ConnectionUrlRules});
   * undefined when the connection has none, or has an unusable one the step does not need.
   */
  url?: URL;
  /** The API token (authorization parameter `apitoken`), sent as `Authorization: Bearer`. */
  token: string;
}

/** How the reader treats the connection's Server URL: the rules of `vvpUrl`, and whether the step needs it. */
export interface ConnectionUrlRules {
  /** Plain http to a host that is not loopback is accepted (input `allowInsecureHttp`). */
  allowInsecureHttp: boolean;
  /**
   * Nothing else gives VVP's address (no `vvpUrl`, no tunnel): a missing or unusable URL is
   * refused. Otherwise it is ignored.
   */
  required: boolean;
}

/** A usable Server URL, or what is wrong with it (`value` undefined: there is none). */
type ConnectionUrlCheck = { url: URL; problem?: undefined } | { url?: undefined; problem: { value?: string; expected: string } };

/**
 * The connection's Server URL as a VVP base URL, with the same rules as `vvpUrl`: https, plain
 * http only for loopback or with `allowInsecureHttp`, no credentials, query or fragment; trailing
 * slashes of the path dropped. A problem quotes the URL as the agent normalises it (the form the
 * user sees in the connection), secrets masked, and states the accepted form. Pure: the
 * connection reader (readVvpServiceConnection) turns a problem into its refusal.
 */
export function checkConnectionUrl(raw: string | undefined, allowInsecureHttp: boolean): ConnectionUrlCheck {
  const text = raw?.trim();
  if (!text) return { problem: { expected: 'set' } };
  const checked = checkServiceUrl(text, { allowInsecureHttp, baseUrlOnly: true });
  if (checked.problem) {
    const value = checked.problem.kind === 'invalid' ? checked.problem.value : maskUrlSecrets(new URL(text).href);
    return { problem: { value, expected: acceptedUrlForm(checked.problem.kind, 'vvp') } };
  }
  const url = checked.url;
  url.pathname = url.pathname.replace(/\/+$/, '');
  return { url };
}
