import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualClock } from './virtual-clock';

const START = Date.parse('2025-01-01T00:00:00Z');

describe('VirtualClock', () => {
  it('moves time only while somebody sleeps, by exactly the time slept', async () => {
    const clock = new VirtualClock();
    assert.equal(clock.now(), START);
    await clock.sleep(15 * 60_000);
    assert.equal(clock.now(), START + 15 * 60_000);
  });

  it('runs timers due before a sleep ends in due order, then first scheduled first', async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    clock.setTimer(() => order.push(`b@${clock.now() - START}`), 200);
    clock.setTimer(() => order.push(`a@${clock.now() - START}`), 100);
    clock.setTimer(() => order.push(`c@${clock.now() - START}`), 200);
    clock.setTimer(() => order.push('late'), 1000);
    await clock.sleep(500);
    assert.deepEqual(order, ['a@100', 'b@200', 'c@200']);
    assert.equal(clock.pendingTimers(), 1);
  });

  it('lets code woken by a timer schedule more work at the same instant before time moves on', async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    const wait = (ms: number): Promise<void> => new Promise((resolve) => clock.setTimer(resolve, ms));
    void (async () => {
      await wait(100);
      order.push(`step 1 @${clock.now() - START}`);
      await wait(0);
      order.push(`step 2 @${clock.now() - START}`);
      await wait(50);
      order.push(`step 3 @${clock.now() - START}`);
    })();
    clock.setTimer(() => order.push(`other @${clock.now() - START}`), 120);
    await clock.sleep(1000);
    assert.deepEqual(order, ['step 1 @100', 'step 2 @100', 'other @120', 'step 3 @150']);
  });

  it('overlaps concurrent sleeps as real time would', async () => {
    const clock = new VirtualClock();
    const woke: number[] = [];
    await Promise.all([
      clock.sleep(1000).then(() => woke.push(clock.now() - START)),
      clock.sleep(300).then(() => woke.push(clock.now() - START)),
    ]);
    assert.deepEqual(woke, [300, 1000]);
    assert.equal(clock.now(), START + 1000);
  });

  it('never fires a cleared timer', async () => {
    const clock = new VirtualClock();
    let fired = false;
    clock.setTimer(() => (fired = true), 10).clear();
    await clock.sleep(100);
    assert.equal(fired, false);
    assert.equal(clock.pendingTimers(), 0);
  });

  it('rejects a sleep with the abort reason as soon as its signal fires, leaving time where it was', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    clock.setTimer(() => controller.abort(new Error('cancelled by the agent')), 400);
    const results = await Promise.allSettled([clock.sleep(60_000, controller.signal), clock.sleep(500)]);
    assert.equal(results[0].status, 'rejected');
    assert.match(String((results[0] as PromiseRejectedResult).reason), /cancelled by the agent/);
    assert.equal(clock.now(), START + 500, 'the aborted sleep no longer holds time back or pushes it on');
    await assert.rejects(clock.sleep(1, controller.signal), /cancelled by the agent/);
  });

  it('writes strictly increasing VVP timestamps from virtual time', async () => {
    const clock = new VirtualClock();
    const first = clock.isoNow();
    const second = clock.isoNow();
    assert.equal(first, '2025-01-01T00:00:00.000000Z');
    assert.equal(second, '2025-01-01T00:00:00.000001Z');
    await clock.sleep(1500);
    assert.equal(clock.isoNow(), '2025-01-01T00:00:01.500000Z');
  });
});
