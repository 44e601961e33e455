import { maskUrlSecrets } from '../inputs/parse';

/**
 * The one rule for URLs of services the tasks send tokens or trust to (VVP, ARM, a blob
 * endpoint, a kubectl mirror): https always; plain http only where it never leaves the machine
 * (a port-forward, an emulator) or where the user said so; never credentials in the URL.
 */

/** How a message names the loopback hosts, so every rule reads the same. */
const LOOPBACK_HOSTS = '127.0.0.1, localhost or ::1';

const IPV4_LOOPBACK = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** IPv4-mapped IPv6 of 127.0.0.0/8 as `URL.hostname` writes it (hex): `::ffff:7f00:1`. */
const MAPPED_LOOPBACK = /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/;

/**
 * The one loopback rule (plain HTTP allowed, never proxied): `localhost`, `::1` (also written
 * `[::1]`, as `URL.hostname` has it), every address of 127.0.0.0/8, and those addresses as
 * IPv4-mapped IPv6 (`::ffff:127.0.0.1`, which `URL` writes `::ffff:7f00:1`). Nothing else: not
 * `localhost.example.com`, not `127.0.0.1.nip.io`.
 */
export function isLoopbackHost(hostname: string): boolean {
  let host = hostname.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost' || host === '::1' || MAPPED_LOOPBACK.test(host)) return true;
  if (host.startsWith('::ffff:')) host = host.slice('::ffff:'.length);
  const m = IPV4_LOOPBACK.exec(host);
  return m !== null && m.slice(1).every((octet) => Number(octet) <= 255);
}

/** Which rule a URL broke. */
export type UrlProblemKind =
  /** Not an absolute URL. */
  | 'invalid'
  /** Neither https nor an allowed http (see {@link ServiceUrlRules.allowInsecureHttp}). */
  | 'insecure'
  /** `user:password@` in the URL. */
  | 'credentials'
  /** A `?query` or `#fragment` where only a base URL is accepted. */
  | 'notBase';

/** A rejected URL: the rule it broke and the value as a message may quote it. */
interface UrlProblem {
  kind: UrlProblemKind;
  /** The raw value with user info and query masked ({@link maskUrlSecrets}): never a SAS or token. */
  value: string;
}

/** What a service URL may be beyond https. */
interface ServiceUrlRules {
  /**
   * Also accept `http://` to a host that is not loopback (the `allowInsecureHttp` input: a token
   * then crosses the network in clear text). Default false.
   */
  allowInsecureHttp?: boolean;
  /** Refuse a `?query` or `#fragment`: the URL is a base that request paths are appended to. Default false. */
  baseUrlOnly?: boolean;
}

/** A URL that passed the rules, or why not. */
type ServiceUrlCheck = { url: URL; problem?: undefined } | { url?: undefined; problem: UrlProblem };

/**
 * Checks a service URL: `https:`; `http:` only to a loopback host ({@link isLoopbackHost}) or
 * with `allowInsecureHttp`; no credentials; with `baseUrlOnly` no query or fragment. The first
 * broken rule is reported, in that order. The URL is returned as parsed (no normalisation).
 */
export function checkServiceUrl(raw: string | URL, rules: ServiceUrlRules = {}): ServiceUrlCheck {
  const text = typeof raw === 'string' ? raw.trim() : raw.href;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: { kind: 'invalid', value: maskUnparsed(text) } };
  }
  const fail = (kind: UrlProblemKind): ServiceUrlCheck => ({ problem: { kind, value: maskUrlSecrets(text) } });
  const httpAllowed = url.protocol === 'http:' && (isLoopbackHost(url.hostname) || rules.allowInsecureHttp === true);
  if (url.protocol !== 'https:' && !httpAllowed) return fail('insecure');
  if (url.username || url.password) return fail('credentials');
  if (rules.baseUrlOnly && (url.search || url.hash)) return fail('notBase');
  return { url };
}

/** The service URLs the tasks take, as the accepted forms describe them. */
const URL_USES = {
  vvp: { example: 'https://vvp.example.com', carries: 'the API token', optIn: 'allowInsecureHttp: true' },
  arm: { example: 'https://management.azure.com', carries: 'the Azure token' },
  kubectlMirror: { example: 'https://dl.k8s.io', carries: 'kubectl and its SHA-256' },
  blobEndpoint: { example: 'https://myaccount.blob.core.windows.net', carries: 'the storage token and the artifact' },
} as const satisfies Record<string, { example: string; carries: string; optIn?: string }>;

/** Which service URL a message is about. */
type UrlUse = keyof typeof URL_USES;

/**
 * The one table of accepted URL forms: what a URL for `use` must be, given the rule it broke
 * ({@link checkServiceUrl}). Every message that quotes accepted URL forms takes them from here.
 */
export function acceptedUrlForm(kind: UrlProblemKind, use: UrlUse): string {
  const u: { example: string; carries: string; optIn?: string } = URL_USES[use];
  switch (kind) {
    case 'invalid':
      return `an absolute URL such as ${u.example}`;
    case 'insecure':
      return `an https:// URL (http:// only for ${LOOPBACK_HOSTS}${u.optIn ? `, or with ${u.optIn}` : ''}): ${u.carries} must not travel in clear text`;
    case 'credentials':
      return 'a URL without credentials';
    case 'notBase':
      return 'the base URL only, without ?query or #fragment';
    default: {
      const unknown: never = kind;
      throw new Error(`unknown URL problem ${String(unknown)}`);
    }
  }
}

/** True for a plain-HTTP URL to a host that is not loopback: what `allowInsecureHttp` lets through, and what deserves a warning. */
export function isInsecureRemoteHttp(url: URL): boolean {
  return url.protocol === 'http:' && !isLoopbackHost(url.hostname);
}

/**
 * Text that `URL` cannot parse may still hold `user:password@` or a `?sig=`: mask what looks
 * like them, since maskUrlSecrets returns such text unchanged.
 */
function maskUnparsed(text: string): string {
  return text.replace(/^([^/?#]*\/\/)[^/?#@]*@/, '$1***@').replace(/\?.*$/s, '?***');
}
