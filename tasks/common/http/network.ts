import * as fs from 'node:fs';
import type * as http from 'node:http';
import type * as https from 'node:https';
import type * as tls from 'node:tls';
import type * as ProxyAgent from 'https-proxy-agent';
import { InputError } from '../errors/errors';

/* eslint-disable @typescript-eslint/no-require-imports */
// Loaded when the first agent is built, not when this module is: the settings functions below
// run at start-up, and a step that fails on its inputs must not pay for loading TLS and HTTP.
const nodeHttp = (): typeof http => require('node:http') as typeof http;
const nodeHttps = (): typeof https => require('node:https') as typeof https;
const nodeTls = (): typeof tls => require('node:tls') as typeof tls;
const proxyAgent = (): typeof ProxyAgent => require('https-proxy-agent') as typeof ProxyAgent;
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * Where outbound HTTPS goes and which certificates it trusts, as plain data. Built by the
 * pipeline adapter from the agent's settings (Agent.ProxyUrl, Agent.ProxyBypassList,
 * Agent.CAInfo, Agent.ClientCert…) or, when the agent has none, from `HTTPS_PROXY`/`NO_PROXY`.
 */
export interface NetworkSettings {
  /** Proxy URL, e.g. `http://proxy:8888`; credentials may be set separately. */
  proxyUrl?: string;
  proxyUsername?: string;
  proxyPassword?: string;
  /** Hosts that bypass the proxy: regular expressions (agent style) or `NO_PROXY` entries. */
  proxyBypass: readonly ProxyBypassRule[];
  /** PEM file of extra CAs to trust on top of the system roots (Agent.CAInfo). */
  caFile?: string;
  /** Client certificate (PEM) and key for mutual TLS (Agent.ClientCert / Agent.ClientCertKey). */
  clientCertFile?: string;
  clientKeyFile?: string;
  clientKeyPassphrase?: string;
}

export type ProxyBypassRule = { kind: 'regex'; pattern: RegExp } | { kind: 'suffix'; host: string };

/** No proxy, system CAs only. */
export const DIRECT: NetworkSettings = { proxyBypass: [] };

/**
 * Reads the standard proxy environment (`HTTPS_PROXY`, `https_proxy`, `HTTP_PROXY`,
 * `NO_PROXY`) into settings. Used when the agent has no proxy configured.
 */
export function networkSettingsFromEnv(env: NodeJS.ProcessEnv): NetworkSettings {
  const proxyUrl = env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy || undefined;
  const noProxy = env.NO_PROXY || env.no_proxy || '';
  return { proxyUrl, proxyBypass: parseNoProxy(noProxy) };
}

/** `NO_PROXY` entries: `host`, `.suffix`, `*.suffix`, `*`. */
export function parseNoProxy(list: string): ProxyBypassRule[] {
  return list
    .split(/[,\s]+/)
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0)
    .map((s): ProxyBypassRule => {
      if (s === '*') return { kind: 'regex', pattern: /.*/ };
      const host = s.replace(/^\*?\./, '').replace(/:\d+$/, '');
      return { kind: 'suffix', host };
    });
}

/** True when `url` must not go through the proxy. Loopback never does. */
export function isProxyBypassed(url: URL, rules: readonly ProxyBypassRule[]): boolean {
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1' || /^127\./.test(host)) return true;
  return rules.some((r) =>
    r.kind === 'regex' ? r.pattern.test(url.href) || r.pattern.test(host) : host === r.host || host.endsWith(`.${r.host}`),
  );
}

/**
 * Builds the HTTP agents for one target URL: through the proxy unless bypassed, trusting the
 * agent's CA in addition to the system roots.
 *
 * Why not the SDKs' own `proxyOptions`/`tlsOptions`: behind a proxy the Azure SDK ignores
 * `tlsOptions`, and https-proxy-agent 7 drops a `ca` given to its constructor. So we build one
 * agent, set the TLS options on `agent.options` after construction, and hand that same agent
 * to the Azure SDK (`agent` client option) and to axios (`httpsAgent`, `proxy: false`).
 */
export class NetworkAgents {
  private readonly tlsOptions: tls.ConnectionOptions;
  private readonly cache = new Map<string, http.Agent>();

  constructor(
    readonly settings: NetworkSettings,
    private readonly agentOptions: { keepAlive?: boolean; maxSockets?: number } = {},
  ) {
    this.tlsOptions = loadTlsOptions(settings);
  }

  /** The agent for requests to `target` (cached per origin). */
  agentFor(target: string | URL): http.Agent {
    const url = typeof target === 'string' ? new URL(target) : target;
    const key = `${url.protocol}//${url.host}`;
    let agent = this.cache.get(key);
    if (!agent) {
      agent = this.create(url);
      this.cache.set(key, agent);
    }
    return agent;
  }

  /** Whether requests to `target` use the proxy; for log lines. */
  usesProxy(target: string | URL): boolean {
    const url = typeof target === 'string' ? new URL(target) : target;
    return !!this.settings.proxyUrl && !isProxyBypassed(url, this.settings.proxyBypass);
  }

  /** Closes idle sockets so the process can exit promptly. */
  destroy(): void {
    for (const agent of this.cache.values()) agent.destroy();
    this.cache.clear();
  }

  private create(url: URL): http.Agent {
    const keepAlive = this.agentOptions.keepAlive ?? true;
    const maxSockets = this.agentOptions.maxSockets ?? 16;
    if (this.usesProxy(url)) {
      const proxy = new URL(this.settings.proxyUrl as string);
      if (this.settings.proxyUsername) {
        proxy.username = encodeURIComponent(this.settings.proxyUsername);
        proxy.password = encodeURIComponent(this.settings.proxyPassword ?? '');
      }
      const agent = new (proxyAgent().HttpsProxyAgent)(proxy, { keepAlive, maxSockets });
      // https-proxy-agent passes `this.options` to tls.connect for the tunnelled socket, but
      // its constructor does not copy TLS fields: set them afterwards.
      Object.assign((agent as unknown as { options: tls.ConnectionOptions }).options, this.tlsOptions);
      // When a request gives no `protocol` (the Azure SDKs give none), agent-base tells https
      // from http by a stack trace, and guesses otherwise when the socket comes back, so no
      // tunnel was ever reused: a CONNECT and a TLS handshake per request. `https.request` marks
      // its options with its default agent, in both calls, and `http.request` with none (IMDS
      // goes over plain http through the credential's agent); without options (agent-base asks
      // so for `agent.protocol`) its own guess stands, made inside the request's call.
      const guessing = agent as unknown as { isSecureEndpoint: (o?: EndpointOptions) => boolean };
      const guess = guessing.isSecureEndpoint.bind(agent);
      guessing.isSecureEndpoint = (options) => secureEndpoint(options) ?? guess(options);
      return agent;
    }
    if (url.protocol === 'http:') return new (nodeHttp().Agent)({ keepAlive, maxSockets });
    return new (nodeHttps().Agent)({ keepAlive, maxSockets, ...this.tlsOptions });
  }
}

/** What agent-base asks `isSecureEndpoint` about. */
interface EndpointOptions {
  secureEndpoint?: boolean;
  protocol?: string;
  /** Set by `https.request` (Node's own marker), absent for `http.request`. */
  _defaultAgent?: { protocol?: string };
}

/** Whether the request is https, when its options say so; undefined leaves it to agent-base. */
function secureEndpoint(options?: EndpointOptions): boolean | undefined {
  if (typeof options?.secureEndpoint === 'boolean') return options.secureEndpoint;
  if (typeof options?.protocol === 'string') return options.protocol === 'https:';
  if (options?._defaultAgent) return options._defaultAgent.protocol === 'https:';
  return undefined;
}

function loadTlsOptions(settings: NetworkSettings): tls.ConnectionOptions {
  const options: tls.ConnectionOptions = {};
  if (settings.caFile) {
    // `ca` replaces the default trust store, so keep the system roots and NODE_EXTRA_CA_CERTS.
    const extra: string[] = [];
    const nodeExtra = process.env.NODE_EXTRA_CA_CERTS;
    if (nodeExtra && fs.existsSync(nodeExtra)) extra.push(fs.readFileSync(nodeExtra, 'utf8'));
    options.ca = [...nodeTls().rootCertificates, ...extra, readFileOrThrow(settings.caFile, 'Agent.CAInfo')];
  }
  if (settings.clientCertFile) {
    options.cert = readFileOrThrow(settings.clientCertFile, 'Agent.ClientCert');
    if (settings.clientKeyFile) options.key = readFileOrThrow(settings.clientKeyFile, 'Agent.ClientCertKey');
    if (settings.clientKeyPassphrase) options.passphrase = settings.clientKeyPassphrase;
  }
  return options;
}

function readFileOrThrow(file: string, setting: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError([{ input: setting, value: file, expected: `a readable PEM file (${(error as Error).message})` }]);
  }
}
