/** One request the proxy saw (or one tunnel it refused or passed through unopened). */
export interface RequestRecord {
  /** Increasing from 1 in the order requests arrived. */
  seq: number;
  /** `https` for requests inside a CONNECT tunnel, `http` for absolute-URI proxying, `connect` for tunnel events. */
  scheme: 'https' | 'http' | 'connect';
  host: string;
  port: number;
  method: string;
  /** Path and query, e.g. `/secrets/vvpAPIToken/?api-version=7.5`. */
  path: string;
  /** Which route answered: `entra-id`, `key-vault`, `pipeline-oidc`, `imds`, `backend:<target>`, `passthrough`, or `refused`. */
  route: string;
  /** Request headers as received (lower-case names), Authorization and Proxy-Authorization included. */
  requestHeaders: Record<string, string | string[]>;
  hasAuthorization: boolean;
  /** Text bodies (JSON, form, XML, text) up to 64 KiB; other bodies are only counted. */
  requestBody?: string;
  requestBytes: number;
  /** Undefined while in flight or when the connection died before a status was sent. */
  status?: number;
  responseHeaders?: Record<string, string | string[]>;
  responseBytes: number;
  /** Fault rule that fired on this request, e.g. `fault-1:reset`. */
  fault?: string;
  /** Why it did not complete normally (backend unreachable, client aborted, ...). */
  error?: string;
  startedAt: number;
  durationMs?: number;
  /** Id of the CONNECT tunnel carrying the request, if any (several requests may share one). */
  tunnel?: number;
}

/** Keeps the last {@link limit} records; tests read them through the control API. */
export class Recorder {
  private records: RequestRecord[] = [];
  private seq = 0;

  constructor(private readonly limit = 10_000) {}

  start(partial: Omit<RequestRecord, 'seq' | 'startedAt' | 'responseBytes' | 'hasAuthorization'>): RequestRecord {
    const record: RequestRecord = {
      ...partial,
      seq: ++this.seq,
      startedAt: Date.now(),
      responseBytes: 0,
      hasAuthorization: partial.requestHeaders['authorization'] !== undefined,
    };
    this.records.push(record);
    if (this.records.length > this.limit) this.records.splice(0, this.records.length - this.limit);
    return record;
  }

  /** Marks a record done (idempotent: the first call fixes the duration). */
  finish(record: RequestRecord, error?: string): void {
    if (record.durationMs === undefined) record.durationMs = Date.now() - record.startedAt;
    if (error && !record.error) record.error = error;
  }

  list(sinceSeq = 0): RequestRecord[] {
    return this.records.filter((r) => r.seq > sinceSeq);
  }

  clear(): void {
    this.records = [];
  }
}

const TEXT_TYPES = /json|xml|text|x-www-form-urlencoded/i;
const MAX_TEXT_BODY = 64 * 1024;

/** Whether a body of this content type is worth keeping as text in the log. */
export function isTextBody(contentType: string | undefined): boolean {
  return contentType !== undefined && TEXT_TYPES.test(contentType);
}

/** Appends a chunk to a record's text body, up to the size cap. */
export function appendBody(record: RequestRecord, chunk: Buffer): void {
  const current = record.requestBody ?? '';
  if (current.length >= MAX_TEXT_BODY) return;
  record.requestBody = current + chunk.toString('utf8').slice(0, MAX_TEXT_BODY - current.length);
}
