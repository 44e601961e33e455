import { isLoopbackHost } from './url-policy';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import type * as https from 'node:https';
import * as net from 'node:net';
import type * as tls from 'node:tls';
import type * as AgentBase from 'agent-base';
import type * as ProxyAgent from 'https-proxy-agent';
import { InputError } from '../errors/errors';

/* eslint-disable @typescript-eslint/no-require-imports */
// Loaded when the first agent is built, not when this module is: the settings functions below
// run at start-up, and a step that fails on its inputs must not pay for loading TLS and HTTP.
const nodeHttp = (): typeof http => require('node:http') as typeof http;
const nodeHttps = (): typeof https => require('node:https') as typeof https;
const nodeTls = (): typeof tls => require('node:tls') as typeof tls;
const proxyAgent = (): typeof ProxyAgent => require('https-proxy-agent') as typeof ProxyAgent;
const agentBase = (): typeof AgentBase => require('agent-base') as typeof AgentBase;
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

type ProxyBypassRule = { kind: 'regex'; pattern: RegExp } | { kind: 'suffix'; host: string };

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
function parseNoProxy(list: string): ProxyBypassRule[] {
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

/** The Azure Instance Metadata Service: managed identity tokens on VMs, scale sets and (by default) AKS. */
const IMDS_HOST = '169.254.169.254';

/**
 * Environment variables that name the managed identity endpoint, as MSAL reads them: App Service
 * and Service Fabric (`IDENTITY_ENDPOINT`), Azure Arc (`IDENTITY_ENDPOINT`, `IMDS_ENDPOINT`),
 * Cloud Shell and Machine Learning (`MSI_ENDPOINT`), the IMDS override (`AZURE_POD_IDENTITY_AUTHORITY_HOST`).
 */
const MANAGED_IDENTITY_ENDPOINT_VARIABLES = ['IDENTITY_ENDPOINT', 'IMDS_ENDPOINT', 'MSI_ENDPOINT', 'AZURE_POD_IDENTITY_AUTHORITY_HOST'];

/**
 * Hosts a managed identity token comes from on this machine: IMDS and the hosts of the endpoint
 * variables in `env`. Lower case, IPv6 without brackets.
 */
function managedIdentityHosts(env: NodeJS.ProcessEnv): string[] {
  const hosts = new Set([IMDS_HOST]);
  for (const name of MANAGED_IDENTITY_ENDPOINT_VARIABLES) {
    const value = env[name]?.trim();
    if (!value) continue;
    try {
      hosts.add(bareHost(new URL(value)));
    } catch {
      // MSAL refuses a malformed endpoint itself; there is no host to exempt.
    }
  }
  return [...hosts];
}

/**
 * True when `url` must not go through the proxy. Loopback, link-local addresses (169.254.0.0/16,
 * fe80::/10) and the managed identity endpoints never do, whatever the bypass rules say: a
 * proxy cannot reach the metadata service of the machine the agent runs on, and a token from
 * it must not pass through a third party. `env` is where the managed identity endpoints are
 * read from (see `managedIdentityHosts`).
 */
function isProxyBypassed(url: URL, rules: readonly ProxyBypassRule[], env: NodeJS.ProcessEnv = process.env): boolean {
  const host = bareHost(url);
  if (isLoopbackHost(host) || isLinkLocal(host) || managedIdentityHosts(env).includes(host)) return true;
  return rules.some((r) =>
    r.kind === 'regex' ? r.pattern.test(url.href) || r.pattern.test(host) : host === r.host || host.endsWith(`.${r.host}`),
  );
}

function bareHost(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
}

function isLinkLocal(host: string): boolean {
  if (net.isIPv4(host)) return host.startsWith('169.254.');
  if (!net.isIPv6(host)) return false;
  // fe80::/10 is fe80: to febf:; ::ffff:a9fe:x is 169.254.x.x written as IPv4-mapped IPv6.
  return /^fe[89ab][0-9a-f]:/.test(host) || /^::ffff:a9fe:[0-9a-f]{1,4}$/.test(host);
}

/**
 * Builds the HTTP agents for one target URL: through the proxy unless bypassed, trusting the
 * agent's CA in addition to the system roots.
 *
 * Why not the SDKs' own `proxyOptions`/`tlsOptions`: behind a proxy the Azure SDK ignores
 * `tlsOptions`, and https-proxy-agent 7 drops a `ca` given to its constructor. So we build one
 * agent per origin, set the TLS options on `agent.options` after construction, and hand it to
 * the Azure SDK (`agent` client option) and to the JSON transport (node:https `agent`); a client
 * that reaches several hosts through one `agent` option gets `routingAgent()`.
 */
export class NetworkAgents {
  private readonly tlsOptions: tls.ConnectionOptions;
  private readonly cache = new Map<string, http.Agent>();
  private router: http.Agent | undefined;
  private readonly env: NodeJS.ProcessEnv;

  /**
   * @param agentOptions keep-alive (default true) and sockets per origin (default 16).
   * @param agentOptions.env where the managed identity endpoints are read from; default `process.env`.
   */
  constructor(
    readonly settings: NetworkSettings,
    private readonly agentOptions: { keepAlive?: boolean; maxSockets?: number; env?: NodeJS.ProcessEnv } = {},
  ) {
    this.tlsOptions = loadTlsOptions(settings);
    this.env = agentOptions.env ?? process.env;
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

  /**
   * One agent for a client that sends requests to several hosts through a single `agent`
   * option: each request goes through the agent `agentFor` picks for its own origin. The Azure
   * SDK credentials need it: a managed identity credential asks IMDS (plain http, never through
   * the proxy) and, for AKS workload identity, Entra ID (https, maybe through the proxy), but
   * takes one agent for both; an https agent cannot even send an http request.
   */
  routingAgent(): http.Agent {
    this.router ??= createRoutingAgent(this, this.agentOptions.keepAlive ?? true);
    return this.router;
  }

  /** Whether requests to `target` use the proxy; for log lines. */
  usesProxy(target: string | URL): boolean {
    const url = typeof target === 'string' ? new URL(target) : target;
    return !!this.settings.proxyUrl && !isProxyBypassed(url, this.settings.proxyBypass, this.env);
  }

  /** Closes idle sockets so the process can exit promptly. */
  destroy(): void {
    for (const agent of this.cache.values()) agent.destroy();
    this.cache.clear();
    this.router?.destroy();
    this.router = undefined;
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
      // Each agent serves one origin, so it knows whether the target is https. Left to itself,
      // agent-base guesses from a stack trace when a request gives no `protocol` (the Azure SDKs
      // do not) and guesses otherwise when the socket comes back, so no tunnel was ever reused:
      // a CONNECT and a TLS handshake per request.
      const secure = url.protocol === 'https:';
      (agent as unknown as { isSecureEndpoint: () => boolean }).isSecureEndpoint = () => secure;
      return agent;
    }
    if (url.protocol === 'http:') return new (nodeHttp().Agent)({ keepAlive, maxSockets });
    return new (nodeHttps().Agent)({ keepAlive, maxSockets, ...this.tlsOptions });
  }
}

/**
 * An agent that hands each request to the agent of its origin (agent-base delegates when
 * `connect` returns an agent); agent-base also reports the right `protocol` for http and https
 * requests, which a plain `http.Agent` cannot do for both. The class is made on first use:
 * agent-base loads HTTP and TLS.
 */
function createRoutingAgent(agents: NetworkAgents, keepAlive: boolean): http.Agent {
  class RoutingAgent extends agentBase().Agent {
    connect(_req: http.ClientRequest, options: AgentBase.AgentConnectOpts): http.Agent {
      const host = String(options.host ?? 'localhost').replace(/^\[|\]$/g, '');
      const origin = `${options.secureEndpoint ? 'https' : 'http'}://${net.isIPv6(host) ? `[${host}]` : host}:${options.port}`;
      return agents.agentFor(origin);
    }
  }
  return new RoutingAgent({ keepAlive });
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
    // An agent setting, not a task input: the message names the setting and the file to fix.
    throw new InputError(`The agent's ${setting} file ${file} cannot be read: ${(error as Error).message}. It must be a readable PEM file`, { cause: error });
  }
}
