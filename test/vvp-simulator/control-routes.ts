/**
 * The control API under `/__sim/` (JSON only, no auth, not recorded, no faults): lets
 * tests reset, seed, script behaviour and faults, and read the request log and the truth.
 * Documented in README.md.
 */
import { ApiError, badRequest, notFound } from './api-error';
import { parseToken } from './auth';
import { parseBehaviourPatch } from './behaviour';
import { parseFault } from './faults';
import { deepClone, isPlainObject } from './plain-object';
import type { RequestFilter } from './request-log';
import { parseConfigPatch, type SimulatorState } from './simulator-state';

/** A control request; `segments` are the decoded path parts after `/__sim/`. */
export interface ControlRequest {
  method: string;
  segments: string[];
  query: URLSearchParams;
  body: unknown;
}

export interface ControlResponse {
  status: number;
  body: unknown;
}

const ok = (body: unknown, status = 200): ControlResponse => ({ status, body: deepClone(body) });

function unsupported(req: ControlRequest): ApiError {
  return new ApiError(404, 'Not Found', `No control endpoint ${req.method} /__sim/${req.segments.join('/')}`);
}

function numberParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw badRequest(`query parameter ${name} must be an integer >= 0, got '${raw}'`);
  return value;
}

/**
 * Routes one control request.
 * @throws ApiError for bad input (400) and unknown endpoints or deployments (404).
 */
export function handleControl(sim: SimulatorState, req: ControlRequest): ControlResponse {
  const [area, ...rest] = req.segments;
  const route = `${req.method} ${area ?? ''}${rest.length > 0 ? '/*' : ''}`;
  switch (route) {
    case 'GET health':
      return ok({ ok: true });
    case 'POST reset': {
      const withDeployments = !(isPlainObject(req.body) && req.body.deployments === false);
      sim.reset(withDeployments);
      return ok({ ok: true });
    }
    case 'GET config':
      return ok(sim.config);
    case 'PUT config':
      sim.config = { ...sim.config, ...parseConfigPatch(req.body) };
      return ok(sim.config);
    case 'GET namespaces':
      return ok({ namespaces: sim.store.namespaceNames() });
    case 'POST namespaces': {
      const name = isPlainObject(req.body) ? req.body.name : undefined;
      if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw badRequest('body must be {name: "<namespace>"}');
      sim.store.addNamespace(name);
      return ok({ namespaces: sim.store.namespaceNames() });
    }
    case 'GET auth':
      return ok({ enabled: sim.auth.enabled, tokens: sim.auth.list() });
    case 'PUT auth': {
      if (!isPlainObject(req.body)) throw badRequest('body must be {enabled?: boolean, tokens?: [...]}');
      if (req.body.tokens !== undefined) {
        if (!Array.isArray(req.body.tokens)) throw badRequest('tokens must be an array');
        sim.auth.setTokens(req.body.tokens.map(parseToken));
        sim.auth.enabled = true;
      }
      if (req.body.enabled !== undefined) {
        if (typeof req.body.enabled !== 'boolean') throw badRequest('enabled must be true or false');
        sim.auth.enabled = req.body.enabled;
      }
      return ok({ enabled: sim.auth.enabled, tokens: sim.auth.list() });
    }
    case 'POST tokens':
      sim.auth.addToken(parseToken(req.body));
      sim.auth.enabled = true;
      return ok({ enabled: sim.auth.enabled, tokens: sim.auth.list() }, 201);
    case 'GET behaviour':
      return ok(sim.behaviours.getGlobal());
    case 'PUT behaviour':
      sim.behaviours.setGlobal(parseBehaviourPatch(req.body));
      return ok(sim.behaviours.getGlobal());
    case 'POST deployments':
      return ok(sim.seedDeployment(req.body), 201);
    case 'GET deployments/*':
    case 'PUT deployments/*':
    case 'POST deployments/*':
      return deploymentControl(sim, req, rest);
    case 'GET faults':
      return ok({ items: sim.faults.list() });
    case 'POST faults': {
      const rule = parseFault(req.body);
      sim.faults.add(rule);
      return ok(rule, 201);
    }
    case 'DELETE faults':
      sim.faults.clear();
      return ok({ ok: true });
    case 'DELETE faults/*':
      if (!sim.faults.remove(rest[0])) throw notFound(`No fault with id '${rest[0]}'`);
      return ok({ ok: true });
    case 'GET requests': {
      const filter: RequestFilter = {
        method: req.query.get('method') ?? undefined,
        path: req.query.get('path') ?? undefined,
        since: numberParam(req.query, 'since'),
        limit: numberParam(req.query, 'limit'),
      };
      if (filter.path !== undefined) {
        try {
          new RegExp(filter.path);
        } catch {
          throw badRequest(`path is not a valid regular expression: ${filter.path}`);
        }
      }
      return ok({ items: sim.requests.query(filter) });
    }
    case 'DELETE requests':
      sim.requests.clear();
      return ok({ ok: true });
    default:
      throw unsupported(req);
  }
}

/** `/__sim/deployments/{ns}/{nameOrId}/{truth|behaviour|conditions}`. */
function deploymentControl(sim: SimulatorState, req: ControlRequest, rest: string[]): ControlResponse {
  const [ns, nameOrId, what, ...extra] = rest;
  if (ns === undefined || nameOrId === undefined || what === undefined || extra.length > 0) throw unsupported(req);
  switch (`${req.method} ${what}`) {
    case 'GET truth':
      sim.store.requireNamespace(ns);
      return ok(sim.truth(ns, nameOrId));
    case 'GET behaviour':
      // Keyed by name: may be read and set before the deployment exists.
      return ok(sim.behaviours.get(ns, nameOrId));
    case 'PUT behaviour':
      sim.behaviours.setFor(ns, nameOrId, parseBehaviourPatch(req.body));
      return ok(sim.behaviours.get(ns, nameOrId));
    case 'POST conditions': {
      sim.store.requireNamespace(ns);
      const deployment = sim.store.findDeployment(ns, nameOrId);
      if (!deployment) throw notFound(`Deployment '${nameOrId}' does not exist in namespace '${ns}'.`);
      const body = req.body;
      if (!isPlainObject(body) || typeof body.type !== 'string' || !['True', 'False', 'Unknown'].includes(body.status as string)) {
        throw badRequest('body must be {type: string, status: "True"|"False"|"Unknown", reason?: string, message?: string}');
      }
      const changed = sim.controller.setCondition(deployment, {
        type: body.type,
        status: body.status as 'True' | 'False' | 'Unknown',
        reason: typeof body.reason === 'string' ? body.reason : undefined,
        message: typeof body.message === 'string' ? body.message : undefined,
      });
      if (!changed) throw new ApiError(409, 'Conflict', `Deployment '${nameOrId}' is not RUNNING; conditions exist only while running.`);
      return ok(deployment);
    }
    default:
      throw unsupported(req);
  }
}
