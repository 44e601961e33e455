import type { FakeHandler } from '../fakes/fake-http';

/** Where the proxy sends a host's requests. */
export type RouteTarget =
  | { kind: 'fake'; name: string; handler: FakeHandler }
  | { kind: 'backend'; target: URL };

export interface Route {
  /** Exact host, or `*.suffix` matching exactly one label in front of `suffix`. */
  host: string;
  target: RouteTarget;
  /**
   * Extra check, for hosts that exist only when configured (vaults): returning false makes the
   * proxy treat the host as unresolvable.
   */
  exists?: (host: string) => boolean;
}

/** `*.vault.azure.net` matches `x.vault.azure.net` but neither `vault.azure.net` nor `a.b.vault.azure.net`. */
function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (!p.startsWith('*.')) return p === h;
  const suffix = p.slice(1);
  return h.endsWith(suffix) && h.length > suffix.length && !h.slice(0, -suffix.length).includes('.');
}

/**
 * Host → target, most recently added first, so a test can shadow a default route (for example
 * send `vvp.example.com` to its own simulator).
 */
export class RouteTable {
  private routes: Route[] = [];

  add(route: Route): void {
    this.routes.unshift(route);
  }

  clear(): void {
    this.routes = [];
  }

  resolve(host: string): Route | undefined {
    return this.routes.find((r) => hostMatches(r.host, host) && (r.exists?.(host) ?? true));
  }
}

/** True for 127.0.0.0/8, ::1 and localhost: loopback targets are passed through, never refused. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
