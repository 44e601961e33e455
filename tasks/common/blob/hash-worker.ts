import type * as WorkerThreads from 'node:worker_threads';

/** SHA-256 and (optionally) MD5 of a byte stream fed in order, computed somewhere else. */
interface BackgroundHasher {
  /**
   * Queues `chunk` (it must not change until the promise settles); resolves once it is hashed.
   * Chunks are hashed in the order given.
   */
  update(chunk: Buffer): Promise<void>;
  /** The digests of everything queued, once it is all hashed. */
  digest(): Promise<{ sha256Hex: string; md5Base64?: string }>;
  /** Stops the hasher (after a failure or cancellation); pending updates reject. */
  close(): Promise<void>;
}

// The worker's code, run with `eval`: the task is one bundled file, so there is no file to point at.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const sha256 = createHash('sha256');
const md5 = workerData.md5 ? createHash('md5') : undefined;
parentPort.on('message', (m) => {
  if (m.kind === 'chunk') {
    const view = new Uint8Array(m.buffer, m.offset, m.length);
    sha256.update(view);
    if (md5) md5.update(view);
    parentPort.postMessage({ kind: 'hashed', seq: m.seq });
  } else {
    parentPort.postMessage({ kind: 'digest', sha256Hex: sha256.digest('hex'), md5Base64: md5 ? md5.digest('base64') : undefined });
  }
});
`;

/**
 * A hasher on a worker thread, so the main thread reads and sends while the previous blocks
 * are hashed: on a 2-core agent hashing is as much CPU as the rest of the upload together.
 * Chunks backed by a SharedArrayBuffer are hashed in place; others are copied.
 */
export function workerHasher(options: { md5: boolean }): BackgroundHasher {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Worker } = require('node:worker_threads') as typeof WorkerThreads;
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { md5: options.md5 } });
  const pending = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>();
  let digestWaiter: { resolve: (d: { sha256Hex: string; md5Base64?: string }) => void; reject: (e: unknown) => void } | undefined;
  let failure: unknown;
  let seq = 0;
  const failAll = (error: unknown): void => {
    failure ??= error;
    for (const p of pending.values()) p.reject(failure);
    pending.clear();
    digestWaiter?.reject(failure);
    digestWaiter = undefined;
  };
  worker.on('message', (m: { kind: 'hashed'; seq: number } | { kind: 'digest'; sha256Hex: string; md5Base64?: string }) => {
    if (m.kind === 'hashed') {
      pending.get(m.seq)?.resolve();
      pending.delete(m.seq);
    } else {
      digestWaiter?.resolve({ sha256Hex: m.sha256Hex, md5Base64: m.md5Base64 });
      digestWaiter = undefined;
    }
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`the hashing thread ended (exit code ${code})`)));
  return {
    update(chunk) {
      if (failure) return Promise.reject(failure);
      const id = seq++;
      const shared = chunk.buffer instanceof SharedArrayBuffer;
      const copy = shared ? undefined : Uint8Array.from(chunk);
      const message = shared
        ? { kind: 'chunk', seq: id, buffer: chunk.buffer, offset: chunk.byteOffset, length: chunk.length }
        : { kind: 'chunk', seq: id, buffer: (copy as Uint8Array).buffer, offset: 0, length: chunk.length };
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage(message, copy ? [copy.buffer] : []);
      });
    },
    digest() {
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        digestWaiter = { resolve, reject };
        worker.postMessage({ kind: 'digest' });
      });
    },
    async close() {
      failAll(new Error('the hashing thread was stopped'));
      await worker.terminate();
    },
  };
}
