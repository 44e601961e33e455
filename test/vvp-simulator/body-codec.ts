/**
 * JSON and YAML bodies both ways, as the AppManager (`consumes`/`produces`
 * `application/json`, `application/yaml`): the request's Content-Type picks the parser,
 * the Accept header picks the response format.
 */
import YAML from 'yaml';
import { ApiError, badRequest } from './api-error';

/** Response media types the simulator produces. */
export type MediaType = 'application/json' | 'application/yaml';

/** True for `application/yaml`, `application/x-yaml`, `text/yaml` (any parameters). */
export function isYamlType(contentType: string | undefined): boolean {
  return contentType !== undefined && /(^|[/+\s,])(x-)?yaml\b/i.test(contentType);
}

/** YAML when the Accept header asks for YAML, JSON otherwise. */
export function responseType(accept: string | undefined): MediaType {
  return isYamlType(accept) ? 'application/yaml' : 'application/json';
}

/**
 * Parses a request body. An empty body parses to `undefined`.
 * @throws ApiError 400 for malformed JSON/YAML, 415 for other media types.
 */
export function parseBody(raw: string, contentType: string | undefined): unknown {
  if (raw.trim().length === 0) return undefined;
  if (isYamlType(contentType)) {
    const doc = YAML.parseDocument(raw);
    if (doc.errors.length > 0) throw badRequest(`Malformed YAML body: ${doc.errors[0].message}`);
    return doc.toJS();
  }
  if (contentType !== undefined && !/json/i.test(contentType) && !/^\s*$/.test(contentType)) {
    throw new ApiError(415, 'Unsupported Media Type', `Content type '${contentType}' not supported; use application/json or application/yaml.`);
  }
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw badRequest(`Malformed JSON body: ${(error as Error).message}`);
  }
}

/** Serialises a response body in the given media type. */
export function serialise(body: unknown, type: MediaType): string {
  return type === 'application/yaml' ? YAML.stringify(body) : JSON.stringify(body);
}
