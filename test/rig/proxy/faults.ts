/**
 * Fault injection at the proxy: a rule matches requests by host, method and path (regular
 * expressions, so rules travel as JSON) and damages the next `count` of them.
 */
export interface FaultRule {
  /** Regex sources; absent parts match anything. Host is matched case-insensitively. */
  match: { host?: string; method?: string; path?: string };
  /** How many matching requests the rule damages. Default 1; 0 means every one, until removed. */
  count?: number;
  /** Let this many matching requests through untouched before the rule starts. Default 0. */
  skip?: number;
  action: FaultAction;
}

/**
 * What happens to a matched request.
 * - `status`: answer with this status (and body/headers, e.g. `Retry-After`) without reaching the service.
 *   With `echo: true` the request body is read first and `{{headers}}` / `{{body}}` in `body` are
 *   replaced by the request's headers (`name: value; …`, Authorization verbatim) and body text,
 *   JSON-string-escaped: a gateway or debug page that echoes what it got, secrets included.
 * - `reset`: destroy the client connection; `phase: 'request'` once `afterBytes` of the request
 *   body arrived (default 0: right after the headers), `phase: 'response'` after the real
 *   response's headers and `afterBytes` of its body were sent.
 * - `delay`: hold the request `ms` milliseconds, then handle it normally.
 * - `maskAndShorten`: send the real status and headers (Content-Length included) but only
 *   `afterBytes` of the body, then close the connection.
 * - `hang`: never answer; the request stays open until the client gives up or the rig stops.
 *
 * Rules apply to the requests inside a tunnel, never to the tunnel set-up (`CONNECT`).
 */
export type FaultAction =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string; echo?: boolean }
  | { kind: 'reset'; phase: 'request' | 'response'; afterBytes?: number }
  | { kind: 'delay'; ms: number }
  | { kind: 'maskAndShorten'; afterBytes: number }
  | { kind: 'hang' };

/** A rule as stored, with its id and how often it has matched and fired. */
export interface ActiveFaultRule extends FaultRule {
  id: string;
  matched: number;
  fired: number;
}

/** The rules in force, first match wins. */
export class FaultBook {
  private rules: ActiveFaultRule[] = [];
  private nextId = 1;

  /**
   * Adds a rule after the existing ones.
   *
   * @throws Error when a regex does not compile or the action is unknown (the control API answers 400).
   */
  add(rule: FaultRule): ActiveFaultRule {
    for (const source of Object.values(rule.match ?? {})) if (source !== undefined) new RegExp(source);
    if (!['status', 'reset', 'delay', 'maskAndShorten', 'hang'].includes(rule.action?.kind)) {
      throw new Error(`unknown fault action ${JSON.stringify(rule.action)}`);
    }
    const active: ActiveFaultRule = { ...rule, match: rule.match ?? {}, id: `fault-${this.nextId++}`, matched: 0, fired: 0 };
    this.rules.push(active);
    return active;
  }

  list(): ActiveFaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  clear(): void {
    this.rules = [];
  }

  /**
   * The action for this request, if a rule with budget left matches; consumes one use. Rules
   * whose budget is spent stay listed (with `fired`) so tests can check they were hit.
   */
  take(host: string, method: string, path: string): (FaultAction & { ruleId: string }) | undefined {
    for (const rule of this.rules) {
      const { match } = rule;
      if (match.host !== undefined && !new RegExp(match.host, 'i').test(host)) continue;
      if (match.method !== undefined && !new RegExp(match.method, 'i').test(method)) continue;
      if (match.path !== undefined && !new RegExp(match.path).test(path)) continue;
      const count = rule.count ?? 1;
      if (count !== 0 && rule.fired >= count) continue;
      rule.matched++;
      if (rule.matched <= (rule.skip ?? 0)) return undefined;
      rule.fired++;
      return { ...rule.action, ruleId: rule.id };
    }
    return undefined;
  }
}
