import type { RigConfig, RouteConfig, SecretConfig } from './config';
import type { IssuedToken } from './fakes/token-issuer';
import type { ActiveFaultRule, FaultAction } from './proxy/faults';
import type { RequestRecord } from './proxy/recorder';

/** A fault rule as tests write it: RegExp or regex source for each part. */
export interface FaultRuleInput {
  host?: RegExp | string;
  method?: RegExp | string;
  path?: RegExp | string;
  /** Default 1; 0 = every matching request until cleared. */
  count?: number;
  skip?: number;
  action: FaultAction;
}

/** Filters for {@link RigControl.requests}; all given parts must match. */
export interface RequestFilter {
  host?: RegExp | string;
  method?: string;
  path?: RegExp | string;
  scheme?: RequestRecord['scheme'];
  /** Only records after this sequence number (see {@link RigControl.mark}). */
  since?: number;
}

/**
 * Typed client of the services process's control API (loopback HTTP). Every method talks to
 * the child, so state changes apply to tasks already running.
 */
export class RigControl {
  constructor(readonly baseUrl: string) {}

  /** Replaces top-level keys of the config (arrays are replaced, not merged); a key given as `undefined` is removed. */
  async patchConfig(patch: Partial<RigConfig>): Promise<RigConfig> {
    const body = Object.fromEntries(Object.entries(patch).map(([k, v]) => [k, v === undefined ? null : v]));
    return this.call<RigConfig>('PATCH', '/config', body);
  }

  async setSecret(vault: string, name: string, secret: string | SecretConfig): Promise<void> {
    await this.call('PUT', `/vaults/${encodeURIComponent(vault)}/secrets/${encodeURIComponent(name)}`, typeof secret === 'string' ? { value: secret } : secret);
  }

  async addFault(rule: FaultRuleInput): Promise<ActiveFaultRule> {
    const source = (v: RegExp | string | undefined): string | undefined => (v instanceof RegExp ? v.source : v);
    return this.call<ActiveFaultRule>('POST', '/faults', {
      match: { host: source(rule.host), method: source(rule.method), path: source(rule.path) },
      count: rule.count,
      skip: rule.skip,
      action: rule.action,
    });
  }

  async faults(): Promise<ActiveFaultRule[]> {
    return this.call<ActiveFaultRule[]>('GET', '/faults');
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/faults');
  }

  /** The proxy's request log, optionally filtered. */
  async requests(filter: RequestFilter = {}): Promise<RequestRecord[]> {
    const all = await this.call<RequestRecord[]>('GET', `/requests?since=${filter.since ?? 0}`);
    const test = (re: RegExp | string | undefined, value: string, flags = ''): boolean =>
      re === undefined || (re instanceof RegExp ? re : new RegExp(re, flags)).test(value);
    return all.filter(
      (r) =>
        test(filter.host, r.host, 'i') &&
        test(filter.path, r.path) &&
        (filter.method === undefined || r.method.toUpperCase() === filter.method.toUpperCase()) &&
        (filter.scheme === undefined || r.scheme === filter.scheme),
    );
  }

  /** Sequence number of the latest record: pass it as `since` to see only what follows. */
  async mark(): Promise<number> {
    const all = await this.call<RequestRecord[]>('GET', '/requests');
    return all.length ? all[all.length - 1]!.seq : 0;
  }

  async clearRequests(): Promise<void> {
    await this.call('DELETE', '/requests');
  }

  /** Every token the fakes issued (access and OIDC), for secret-leak scans. */
  async tokens(): Promise<IssuedToken[]> {
    return this.call<IssuedToken[]>('GET', '/tokens');
  }

  /** Forwards `route.host` (exact or `*.suffix`) to `route.target`; newest route wins. */
  async addRoute(route: RouteConfig): Promise<void> {
    await this.call('POST', '/routes', route);
  }

  /** Initial config and routes, no faults, empty request log and token list. */
  async reset(): Promise<void> {
    await this.call('POST', '/reset');
  }

  private async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`rig control ${method} ${path} failed: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
