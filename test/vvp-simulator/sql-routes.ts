/**
 * The simulated SQL service of VVP's platform API (`/sql/v1beta1/…`): only
 * `POST namespaces/{ns}/sqlscripts:validate`. With config `sqlService: false` every path answers
 * 404, as a VVP without the SQL service would.
 */
import { ApiError, badRequest, notFound } from './api-error';
import type { ApiRequest, ApiResponse } from './api-routes';
import { isPlainObject } from './plain-object';
import type { SimulatorState } from './simulator-state';
import { validateSqlText } from './sql-validation';

/** VVP's defaults for unqualified names. */
export const DEFAULT_SQL_CATALOG = 'vvp';
export const DEFAULT_SQL_DATABASE = 'default';

/**
 * Routes one request; `segments` are the decoded path segments after `/sql/v1beta1/`.
 * @throws ApiError 404 (no SQL service, unknown path or namespace), 405, 400 (no `statement`).
 */
export function handleSql(sim: SimulatorState, req: ApiRequest): ApiResponse {
  const path = `/sql/v1beta1/${req.segments.join('/')}`;
  if (!sim.config.sqlService) throw notFound(`No handler for ${path}`);
  const [first, ns, action, ...rest] = req.segments;
  if (first !== 'namespaces' || ns === undefined || action !== 'sqlscripts:validate' || rest.length > 0) throw notFound(`No handler for ${path}`);
  if (req.method !== 'POST') throw new ApiError(405, 'Method Not Allowed', `Request method '${req.method}' not supported`);
  sim.store.requireNamespace(ns);
  if (!isPlainObject(req.body) || typeof req.body.statement !== 'string') throw badRequest('Request body must be {"statement": "<SQL>"}.');
  return {
    status: 200,
    body: validateSqlText(req.body.statement, {
      mode: sim.config.sqlValidation,
      catalogTables: sim.config.sqlCatalogTables,
      catalog: req.query.get('catalog') || DEFAULT_SQL_CATALOG,
      database: req.query.get('database') || DEFAULT_SQL_DATABASE,
    }),
  };
}
