/**
 * Full garbage collections on demand, for tests of code that must keep working after one: on
 * Node 20 a signal from `AbortSignal.any()` or `AbortSignal.timeout()` is held only weakly and
 * never fires once a collection ran, which no test sees unless it forces one while a request
 * is pending.
 *
 * Uses `global.gc` (`node --expose-gc`; `.ci/test.mjs` runs every test file with it). Without
 * the flag it turns it on through V8 and takes the function from a fresh context, so a test
 * file run alone with `node --test` collects all the same.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

let collect: (() => void) | undefined;

/** Runs one full garbage collection now. */
export function forceGc(): void {
  if (!collect) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') collect = exposed;
    else {
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as () => void;
    }
  }
  collect();
}

/** Collects every `everyMs` until the returned function is called. */
export function collectEvery(everyMs: number): () => void {
  const timer = setInterval(forceGc, everyMs);
  return () => clearInterval(timer);
}
