/**
 * An HTTPS server (rig leaf certificate) that answers every request with one canned Blob Storage
 * error, shaped like Azure's: `x-ms-error-code` header plus an XML body (none for HEAD). For
 * answers Azurite cannot give, e.g. 403 AuthorizationPermissionMismatch (it has no RBAC).
 */
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tlsFiles } from '../rig/tls-files';

export interface CannedStorage {
  /** `https://127.0.0.1:<port>/<account>` */
  accountUrl: string;
  /** Requests received (method and path). */
  requests: string[];
  close(): Promise<void>;
}

export async function startCannedStorage(answer: { status: number; code: string; message: string }, account = 'vvpstorage'): Promise<CannedStorage> {
  const requests: string[] = [];
  const server = https.createServer({ cert: fs.readFileSync(tlsFiles().leafCert), key: fs.readFileSync(tlsFiles().leafKey) }, (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      const body =
        req.method === 'HEAD'
          ? ''
          : `<?xml version="1.0" encoding="utf-8"?><Error><Code>${answer.code}</Code><Message>${answer.message}\nRequestId:00000000-0000-0000-0000-000000000000\nTime:2025-01-01T00:00:00.0000000Z</Message></Error>`;
      res.writeHead(answer.status, {
        'x-ms-error-code': answer.code,
        'x-ms-request-id': '00000000-0000-0000-0000-000000000000',
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    accountUrl: `https://127.0.0.1:${port}/${account}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
