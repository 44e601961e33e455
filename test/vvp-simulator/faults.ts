/**
 * Scripted HTTP faults for AppManager requests: error statuses with Retry-After, slow
 * answers, answers lost after the change was applied, dropped requests and hangs.
 */
import { randomUUID } from 'node:crypto';
import { badRequest } from './api-error';
import { isPlainObject } from './plain-object';
import type { SimStore } from './store';

/**
 * What a matching request gets:
 * - `status`: answer `status` (e.g. 503, 429) without processing; `Retry-After` when given.
 * - `delay`: wait `delayMs` (not scaled by timeScale), then process normally.
 * - `lostResponse`: process the request (a PATCH is applied), then destroy the socket unanswered.
 * - `dropRequest`: destroy the socket without processing.
 * - `hang`: never answer (the socket stays open until the client gives up or the simulator stops).
 */
export type FaultAction =
  | { type: 'status'; status: number; retryAfterSeconds?: number; body?: string }
  | { type: 'delay'; delayMs: number }
  | { type: 'lostResponse' }
  | { type: 'dropRequest' }
  | { type: 'hang' };

/** A stored fault rule. */
export interface FaultRule {
  id: string;
  /** HTTP method, case-insensitive; any when absent. */
  method?: string;
  /** Regex tested against the path (without query); any when absent. */
  path?: string;
  /** Only requests in this namespace. */
  namespace?: string;
  /** Only requests about this deployment (by name; the path may use its id or name, or `?deploymentId=`). */
  deployment?: string;
  /** Matches left; `null` = unlimited. */
  remaining: number | null;
  /** Requests this rule has answered so far. */
  hits: number;
  action: FaultAction;
}

/** What the server knows about a request when checking faults. */
export interface FaultTarget {
  method: string;
  path: string;
  namespace?: string;
  deploymentName?: string;
}

const ACTIONS = ['status', 'delay', 'lostResponse', 'dropRequest', 'hang'];

/**
 * What a fault rule can match on for an AppManager request: the deployment is found from the
 * path (by id or name) or from `?deploymentId=`, so a rule naming a deployment matches however
 * the client addresses it.
 */
export function faultTargetOf(store: SimStore, method: string, pathname: string, query: URLSearchParams): FaultTarget {
  const match = /^\/api\/v1\/namespaces\/([^/]+)(?:\/deployments\/([^/]+))?/.exec(pathname);
  const namespace = match ? decodeURIComponent(match[1]) : undefined;
  let deploymentName: string | undefined;
  if (namespace && store.namespaceNames().includes(namespace)) {
    const ref = match?.[2] ? decodeURIComponent(match[2]) : query.get('deploymentId');
    if (ref) deploymentName = store.findDeployment(namespace, ref)?.metadata.name ?? (match?.[2] ? ref : undefined);
  }
  return { method, path: pathname, namespace, deploymentName };
}

/**
 * Parses a fault from the control API: flat JSON
 * `{method?, path?, namespace?, deployment?, times? (default 1), persistent?, action, status?, retryAfterSeconds?, body?, delayMs?}`.
 * `action` defaults to `status` when `status` is given.
 * @throws ApiError 400 naming the bad field.
 */
export function parseFault(input: unknown): FaultRule {
  if (!isPlainObject(input)) throw badRequest('fault must be an object');
  const action = input.action ?? (input.status !== undefined ? 'status' : undefined);
  if (typeof action !== 'string' || !ACTIONS.includes(action)) {
    throw badRequest(`fault.action must be one of ${ACTIONS.join(', ')}, got ${JSON.stringify(input.action)}`);
  }
  const optionalString = (key: string): string | undefined => {
    const value = input[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw badRequest(`fault.${key} must be a string`);
    return value;
  };
  const path = optionalString('path');
  if (path !== undefined) {
    try {
      new RegExp(path);
    } catch {
      throw badRequest(`fault.path is not a valid regular expression: ${path}`);
    }
  }
  const times = input.times ?? 1;
  if (typeof times !== 'number' || !Number.isInteger(times) || times < 1) throw badRequest('fault.times must be an integer >= 1');
  let parsed: FaultAction;
  if (action === 'status') {
    const status = input.status;
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599) {
      throw badRequest('fault.status must be an HTTP error status (400-599)');
    }
    const retry = input.retryAfterSeconds;
    if (retry !== undefined && (typeof retry !== 'number' || retry < 0)) throw badRequest('fault.retryAfterSeconds must be a number >= 0');
    parsed = { type: 'status', status, ...(retry !== undefined ? { retryAfterSeconds: retry } : {}), ...(typeof input.body === 'string' ? { body: input.body } : {}) };
  } else if (action === 'delay') {
    if (typeof input.delayMs !== 'number' || input.delayMs < 0) throw badRequest('fault.delayMs must be a number >= 0');
    parsed = { type: 'delay', delayMs: input.delayMs };
  } else {
    parsed = { type: action as 'lostResponse' | 'dropRequest' | 'hang' };
  }
  return {
    id: randomUUID(),
    method: optionalString('method')?.toUpperCase(),
    path,
    namespace: optionalString('namespace'),
    deployment: optionalString('deployment'),
    remaining: input.persistent === true ? null : times,
    hits: 0,
    action: parsed,
  };
}

/** The active fault rules, checked in insertion order. */
export class FaultBook {
  private rules: FaultRule[] = [];

  add(rule: FaultRule): void {
    this.rules.push(rule);
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length !== before;
  }

  clear(): void {
    this.rules = [];
  }

  /** Finds the first rule matching the request and consumes one of its matches. */
  take(target: FaultTarget): FaultAction | undefined {
    const rule = this.rules.find(
      (r) =>
        (!r.method || r.method === target.method.toUpperCase()) &&
        (!r.path || new RegExp(r.path).test(target.path)) &&
        (!r.namespace || r.namespace === target.namespace) &&
        (!r.deployment || r.deployment === target.deploymentName),
    );
    if (!rule) return undefined;
    rule.hits += 1;
    if (rule.remaining !== null) {
      rule.remaining -= 1;
      if (rule.remaining <= 0) this.rules = this.rules.filter((r) => r !== rule);
    }
    return rule.action;
  }
}
