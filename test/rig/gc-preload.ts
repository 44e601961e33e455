/**
 * Preloaded (`node --expose-gc --require <this>`) into a task process by tests of steps that
 * wait on a server that never answers: runs a full garbage collection every
 * `RIG_GC_EVERY_MS` milliseconds (default 200), as a busy agent's heap would now and then, so
 * a deadline that only holds until the first collection (Node 20's `AbortSignal.any`) shows.
 * The timer is unref'd: it never keeps the task alive.
 *
 * Test-only: it is loaded through the child's command line, never imported by production code.
 */
const collect = (globalThis as { gc?: () => void }).gc;
if (typeof collect !== 'function') {
  process.stderr.write('gc-preload: start node with --expose-gc\n');
  process.exit(70);
}
const everyMs = Number(process.env['RIG_GC_EVERY_MS'] ?? '200');
delete process.env['RIG_GC_EVERY_MS'];
setInterval(() => collect(), Number.isFinite(everyMs) && everyMs > 0 ? everyMs : 200).unref();

export {};
