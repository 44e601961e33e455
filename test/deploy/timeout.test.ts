import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { withTimeout } from '../../tasks/common/poll/timeout';

class Late extends Error {}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('withTimeout', () => {
  it("resolves with the operation's value, and the deadline no longer fires afterwards", async () => {
    let seen: AbortSignal | undefined;
    const value = await withTimeout(
      async (signal) => {
        seen = signal;
        return 42;
      },
      { timeoutInMs: 20, timeoutError: () => new Late('late') },
    );
    assert.equal(value, 42);
    // A timer set later fires later: had the 20 ms deadline survived, it would have fired by now.
    await sleep(60);
    assert.equal(seen?.aborted, false);
    assert.equal(getEventListeners(seen!, 'abort').length, 0, 'no listener left on the signal');
  });

  it("rejects with the caller's error when time is up, and aborts the operation's signal with it", async () => {
    let seen: AbortSignal | undefined;
    let calls = 0;
    const error = await withTimeout(
      (signal) => {
        seen = signal;
        return never<number>();
      },
      {
        timeoutInMs: 10,
        timeoutError: () => {
          calls++;
          return new Late('no answer within 10 ms');
        },
      },
    ).catch((e: unknown) => e);
    assert.ok(error instanceof Late);
    assert.equal(error.message, 'no answer within 10 ms');
    assert.equal(calls, 1);
    assert.equal(seen?.aborted, true);
    assert.equal(seen?.reason, error);
  });

  it("rejects with the operation's own error, synchronous or not", async () => {
    await assert.rejects(withTimeout(async () => Promise.reject(new Error('boom')), { timeoutInMs: 1000, timeoutError: () => new Late('late') }), /^Error: boom$/);
    await assert.rejects(
      withTimeout(
        () => {
          throw new Error('sync boom');
        },
        { timeoutInMs: 1000, timeoutError: () => new Late('late') },
      ),
      /sync boom/,
    );
  });

  it('rejects with the abort reason at once when cancelled, even if the operation ignores its signal', async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const pending = withTimeout(
      (signal) => {
        seen = signal;
        return never<void>();
      },
      { timeoutInMs: 60_000, abortSignal: controller.signal, timeoutError: () => new Late('late') },
    );
    const reason = new Error('cancelled by the agent');
    controller.abort(reason);
    await assert.rejects(pending, (e: unknown) => e === reason);
    assert.equal(seen?.aborted, true);
    assert.equal(getEventListeners(seen!, 'abort').length, 0);
  });

  it('turns a reason that is not an Error into an AbortError', async () => {
    const controller = new AbortController();
    const pending = withTimeout(() => never<void>(), { timeoutInMs: 60_000, abortSignal: controller.signal, timeoutError: () => new Late('late') });
    controller.abort('stop');
    await assert.rejects(pending, (e: Error) => e.name === 'AbortError' && e.message === 'stop');
  });

  it('does not start the operation when the signal has already fired', async () => {
    let started = false;
    await assert.rejects(
      withTimeout(
        async () => {
          started = true;
        },
        { timeoutInMs: 1000, abortSignal: AbortSignal.abort(new Error('already')), timeoutError: () => new Late('late') },
      ),
      /already/,
    );
    assert.equal(started, false);
  });

  it('drops the outcome of an operation abandoned at the deadline without an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      let fail!: (e: Error) => void;
      const abandoned = new Promise<void>((_resolve, reject) => (fail = reject));
      await assert.rejects(withTimeout(() => abandoned, { timeoutInMs: 5, timeoutError: () => new Late('late') }), Late);
      fail(new Error('the abandoned download failed later'));
      await sleep(20);
      assert.deepEqual(unhandled, []);
    } finally {
      process.removeListener('unhandledRejection', onUnhandled);
    }
  });

  it('has no deadline with an infinite timeout', async () => {
    const value = await withTimeout(async () => sleep(20).then(() => 'done'), { timeoutInMs: Infinity, timeoutError: () => new Late('late') });
    assert.equal(value, 'done');
  });
});
