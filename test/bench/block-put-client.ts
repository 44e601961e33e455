/**
 * The practical limit for the upload benchmark: a minimal block blob upload on Node's plain
 * `https` module, no SDK and no hashing. It reads the file block by block into reused buffers,
 * keeps `concurrency` Put Block requests in flight on keep-alive sockets, then commits them with
 * one Put Block List and reads the blob's properties once (HEAD), like the task's verify step.
 * (`blockMd5` adds a per-block Content-MD5, for an informative variant only.)
 * Bearer token (Entra ID) or nothing else: the same auth the task uses.
 *
 * Also runnable as a script (so its peak RSS can be measured apart from the benchmark):
 * `BENCH_BLOCK_PUT='<json BlockPutOptions>' node block-put-client.js` prints one JSON result line.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import { HttpsProxyAgent } from 'https-proxy-agent';

export interface BlockPutOptions {
  /** `https://127.0.0.1:<port>/<account>/<container>/<blob>` or `https://<account>.blob.../<container>/<blob>`. */
  blobUrl: string;
  /** Entra ID access token for `https://storage.azure.com`. */
  token: string;
  filePath: string;
  blockSizeInBytes: number;
  concurrency: number;
  /** Extra CA (PEM) to trust, e.g. the rig's test CA. */
  ca?: string;
  /** Send through this HTTP proxy (CONNECT), e.g. the rig's; default direct. */
  proxyUrl?: string;
  contentType?: string;
  /** Send each block's MD5 as Content-MD5 (the service then checks it), as the task does. Default false. */
  blockMd5?: boolean;
}

export interface BlockPutResult {
  bytes: number;
  blocks: number;
  /** From the first read to the HEAD after the commit. */
  durationMs: number;
  mibPerSecond: number;
}

const API_VERSION = '2025-01-05';
const MIB = 1024 * 1024;

export async function blockPutUpload(o: BlockPutOptions): Promise<BlockPutResult> {
  const agent = makeAgent(o);
  const size = (await fs.promises.stat(o.filePath)).size;
  const blockCount = Math.ceil(size / o.blockSizeInBytes);
  const prefix = Math.random().toString(16).slice(2, 10).padEnd(8, '0');
  const ids = Array.from({ length: blockCount }, (_, i) => Buffer.from(`${prefix}-${String(i).padStart(6, '0')}`).toString('base64'));
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    Authorization: `Bearer ${o.token}`,
    'x-ms-version': API_VERSION,
    'x-ms-date': new Date().toUTCString(),
    ...extra,
  });
  const started = performance.now();
  const file = await fs.promises.open(o.filePath, 'r');
  try {
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      const buffer = Buffer.allocUnsafe(o.blockSizeInBytes);
      while (!failed) {
        const index = next++;
        if (index >= blockCount) return;
        const offset = index * o.blockSizeInBytes;
        const chunk = buffer.subarray(0, Math.min(o.blockSizeInBytes, size - offset));
        let read = 0;
        while (read < chunk.length) {
          const { bytesRead } = await file.read(chunk, read, chunk.length - read, offset + read);
          if (bytesRead === 0) throw new Error(`${o.filePath} ended early at ${offset + read}`);
          read += bytesRead;
        }
        try {
          const md5: Record<string, string> = o.blockMd5 ? { 'Content-MD5': createHash('md5').update(chunk).digest('base64') } : {};
          await send(agent, 'PUT', `${o.blobUrl}?comp=block&blockid=${encodeURIComponent(ids[index])}`, headers({ 'Content-Length': String(chunk.length), ...md5 }), chunk, 201);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, blockCount)) }, worker));
  } finally {
    await file.close();
  }
  const xml = Buffer.from(`<?xml version="1.0" encoding="utf-8"?><BlockList>${ids.map((id) => `<Latest>${id}</Latest>`).join('')}</BlockList>`);
  await send(
    agent,
    'PUT',
    `${o.blobUrl}?comp=blocklist`,
    headers({ 'Content-Length': String(xml.length), 'Content-Type': 'application/xml', 'x-ms-blob-content-type': o.contentType ?? 'application/java-archive' }),
    xml,
    201,
  );
  const head = await send(agent, 'HEAD', o.blobUrl, headers(), undefined, 200);
  const durationMs = performance.now() - started;
  agent.destroy();
  if (Number(head.headers['content-length']) !== size) throw new Error(`committed blob has length ${head.headers['content-length']}, expected ${size}`);
  return { bytes: size, blocks: blockCount, durationMs, mibPerSecond: size / MIB / (durationMs / 1000) };
}

function makeAgent(o: BlockPutOptions): https.Agent {
  if (!o.proxyUrl) return new https.Agent({ keepAlive: true, maxSockets: o.concurrency, ca: o.ca });
  const agent = new HttpsProxyAgent(o.proxyUrl, { keepAlive: true, maxSockets: o.concurrency });
  // https-proxy-agent 7 takes the CA for the tunnelled TLS from `options`, not from its constructor.
  if (o.ca) agent.options.ca = o.ca;
  return agent as unknown as https.Agent;
}

function send(agent: https.Agent, method: string, url: string, headers: Record<string, string>, body: Buffer | undefined, expected: number): Promise<{ headers: NodeJS.Dict<string | string[]> }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode === expected) resolve({ headers: res.headers });
        else reject(new Error(`${method} ${new URL(url).pathname}: HTTP ${res.statusCode} ${res.headers['x-ms-error-code'] ?? ''} ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

if (require.main === module) {
  const raw = process.env.BENCH_BLOCK_PUT;
  if (!raw) {
    process.stderr.write('BENCH_BLOCK_PUT (JSON BlockPutOptions) is not set\n');
    process.exit(2);
  }
  blockPutUpload(JSON.parse(raw) as BlockPutOptions).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
