import type { IncomingHttpHeaders } from 'node:http';
import { randomUUID } from 'node:crypto';

/** One buffered request as an in-process fake sees it (the proxy has already read the body). */
export interface FakeRequest {
  method: string;
  /** Full URL as the client meant it, e.g. `https://my-keyvault.vault.azure.net/secrets/x?api-version=7.5`. */
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What a fake answers; the proxy writes it (and may damage it when a fault rule says so). */
export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** A fake service: a plain function, so it can be unit-tested without sockets. */
export type FakeHandler = (req: FakeRequest) => FakeResponse | Promise<FakeResponse>;

/** A JSON response with `Content-Type: application/json; charset=utf-8`. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): FakeResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

/** Parses an `application/x-www-form-urlencoded` body. */
export function formBody(req: FakeRequest): URLSearchParams {
  return new URLSearchParams(req.body.toString('utf8'));
}

/** First value of a request header (Node joins most duplicates; this only unwraps arrays). */
export function header(req: FakeRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** A fresh GUID, as services put in trace ids and request ids. */
export function newGuid(): string {
  return randomUUID();
}
