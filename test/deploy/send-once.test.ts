import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceError } from '../../tasks/common/errors/errors';
import { MemoryLogger } from '../support/memory-logger';
import { VvpApiError } from '../../tasks/common/vvp/errors';
import { sendOnce, type WriteOnce } from '../../tasks/common/vvp/send-once';
import { FakeClock } from './fake-clock';

const lostAnswer = (): VvpApiError =>
  new VvpApiError({ method: 'PATCH', path: '/x', operation: 'updating x', networkCode: 'ECONNRESET', serviceMessage: 'socket hang up', outcomeUnknown: true });

function write(overrides: Partial<WriteOnce<string, string>> & { reads?: (string | Error | undefined)[] }): { write: WriteOnce<string, string>; sends: () => number; readCount: () => number } {
  let sends = 0;
  let reads = 0;
  const script = overrides.reads ?? [];
  return {
    write: {
      method: 'PATCH',
      operation: 'updating x',
      send: async () => {
        sends++;
        throw lostAnswer();
      },
      readBack: async () => {
        const next = script[Math.min(reads++, script.length - 1)];
        if (next instanceof Error) throw next;
        return next;
      },
      applied: (value) => value === 'new',
      describe: (value) => `jarUri is still ${value ?? '(none)'}`,
      ...overrides,
    },
    sends: () => sends,
    readCount: () => reads,
  };
}

describe('sendOnce', () => {
  it('returns the answer of a write that answered, reading nothing back', async () => {
    const w = write({ send: async () => 'answer' });
    const result = await sendOnce(w.write, { clock: new FakeClock(), logger: new MemoryLogger() });
    assert.deepEqual(result, { value: 'answer' });
    assert.equal(w.readCount(), 0);
  });

  it('rethrows a write that certainly was not applied (not an unknown outcome) without reading back', async () => {
    const refused = new VvpApiError({ method: 'PATCH', path: '/x', operation: 'updating x', status: 400, serviceMessage: 'bad' });
    const w = write({ send: async () => Promise.reject(refused) });
    await assert.rejects(sendOnce(w.write, { clock: new FakeClock(), logger: new MemoryLogger() }), (e) => e === refused);
    assert.equal(w.readCount(), 0);
  });

  it('keeps reading back after a lost answer until VVP shows the write, and never sends it again', async () => {
    const clock = new FakeClock();
    const w = write({ reads: ['old', 'old', 'old', 'new'] });
    const logger = new MemoryLogger();
    const result = await sendOnce(w.write, { clock, logger });
    assert.deepEqual(result, { value: 'new' });
    assert.equal(w.sends(), 1);
    assert.equal(w.readCount(), 4);
    assert.ok(logger.lines.some((l) => /answer to the PATCH was lost \(ECONNRESET\).*not sent again/.test(l)));
  });

  it('calls a write not applied only after reading back for the whole grace period, and says VVP may still apply it', async () => {
    const clock = new FakeClock();
    const started = clock.now();
    const w = write({ reads: ['old'] });
    await assert.rejects(sendOnce(w.write, { clock, logger: new MemoryLogger() }), (e: unknown) => {
      assert.ok(e instanceof ServiceError);
      assert.match(e.message, /reading back for 10 s shows jarUri is still old: VVP has not applied the PATCH so far, but it may still.*Check the deployment in VVP before re-running/);
      return true;
    });
    // The documented read-back: up to 10 s (docs/troubleshooting.md; the simulation's step bound holds the same promise), a read every second.
    assert.equal(clock.now() - started, 10_000);
    assert.ok(w.readCount() >= 10);
    assert.equal(w.sends(), 1);
  });

  it('says the outcome is unknown when the read-back fails too', async () => {
    const w = write({ reads: [new Error('connect ECONNREFUSED')] });
    await assert.rejects(sendOnce(w.write, { clock: new FakeClock(), logger: new MemoryLogger() }), (e: unknown) => {
      assert.ok(e instanceof ServiceError);
      assert.match(e.message, /reading it back failed too \(connect ECONNREFUSED\), so whether VVP applied the PATCH is unknown/);
      assert.match(e.message, /Check the deployment in VVP before re-running/);
      return true;
    });
  });

  it('settles on a successful read after failed ones', async () => {
    const w = write({ reads: [new Error('503'), 'new'] });
    const result = await sendOnce(w.write, { clock: new FakeClock(), logger: new MemoryLogger() });
    assert.equal(result.value, 'new');
  });

  it('reads back an accepted write whose answer holds no resource, never sending it again, and returns what VVP stores', async () => {
    const w = write({ send: async () => undefined, reads: [new Error('503'), undefined, 'stored'] });
    const logger = new MemoryLogger();
    const result = await sendOnce(w.write, { clock: new FakeClock(), logger });
    assert.deepEqual(result, { value: 'stored' });
    assert.equal(w.readCount(), 3);
    assert.ok(!logger.lines.some((l) => /lost/.test(l)), 'an accepted write is not reported as a lost answer');
  });

  it('returns what an accepted write reads back even when it is not what the write asked for (the caller judges it)', async () => {
    const w = write({ send: async () => undefined, reads: ['rewritten-by-someone'] });
    const result = await sendOnce(w.write, { clock: new FakeClock(), logger: new MemoryLogger() });
    assert.deepEqual(result, { value: 'rewritten-by-someone' });
    assert.equal(w.readCount(), 1);
  });

  it('fails an accepted write whose resource cannot be read back, saying VVP accepted it', async () => {
    const failing = write({ send: async () => undefined, reads: [new Error('busy')] });
    await assert.rejects(sendOnce(failing.write, { clock: new FakeClock(), logger: new MemoryLogger() }), (e: unknown) => {
      assert.ok(e instanceof ServiceError);
      assert.match(e.message, /updating x failed: VVP accepted the PATCH, but its answer does not hold the resource and reading it back failed \(busy\)\. Check the deployment in VVP/);
      return true;
    });
    const gone = write({ send: async () => undefined, reads: [undefined] });
    await assert.rejects(sendOnce(gone.write, { clock: new FakeClock(), logger: new MemoryLogger() }), /reading it back for 10 s found none/);
    assert.ok(gone.readCount() >= 10, 'read back for the whole grace period');
  });

  it('stops reading back at once when the step is cancelled', async () => {
    const controller = new AbortController();
    const clock = new FakeClock();
    const w = write({
      reads: ['old'],
      readBack: async () => {
        controller.abort();
        return 'old';
      },
    });
    await assert.rejects(sendOnce(w.write, { clock, logger: new MemoryLogger(), abortSignal: controller.signal }), (e: Error) => e.name === 'AbortError');
  });

  it('reports the moment the write leaves, for the cancellation message', async () => {
    const seen: string[] = [];
    const w = write({
      send: async () => {
        seen.push('send');
        return 'answer';
      },
    });
    await sendOnce(w.write, { clock: new FakeClock(), logger: new MemoryLogger(), onSending: () => seen.push('sending') });
    assert.deepEqual(seen, ['sending', 'send']);
  });
});
