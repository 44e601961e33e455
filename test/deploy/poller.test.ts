import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  adaptiveSchedule,
  PollAbortedError,
  pollUntilDone,
  type PollProgress,
  type Verdict,
} from '../../tasks/common/poll/poller';
import { isAbortError } from '../../tasks/common/errors/errors';
import { FakeClock, StuckClock } from './fake-clock';

type Obs = string;
/** Classifies a scripted observation: 'ok' succeeds, 'bad' fails, anything else is pending. */
const classify = (o: Obs): Verdict<string> =>
  o === 'ok' ? { status: 'succeeded', state: 'OK', result: 'done' } : o === 'bad' ? { status: 'failed', state: 'BAD', reason: 'it broke' } : { status: 'pending', state: o, phase: `phase of ${o}` };

/** A probe returning the scripted observations in order (the last one repeats), recording probe times. */
function script(clock: FakeClock, observations: Obs[]): { probe: () => Promise<Obs>; times: number[] } {
  const times: number[] = [];
  let i = 0;
  const start = clock.now();
  return {
    times,
    probe: async () => {
      times.push(clock.now() - start);
      return observations[Math.min(i++, observations.length - 1)];
    },
  };
}

/** The pauses pollUntilDone sleeps between `count + 1` probes of a wait that stays pending, on the adaptive schedule. */
async function pausesOf(count: number, maxIntervalInMs = 5000): Promise<number[]> {
  const clock = new FakeClock();
  let probes = 0;
  await pollUntilDone({ probe: async () => (++probes > count ? 'ok' : 'waiting'), classify, schedule: adaptiveSchedule(maxIntervalInMs), timeoutInMs: 3_600_000, clock });
  return clock.sleeps;
}

/** Probe times (ms after the first) of a wait that stays pending, up to `untilMs`. */
async function probeTimes(untilMs: number, maxIntervalInMs = 5000): Promise<number[]> {
  const times = [0];
  for (const pause of await pausesOf(Math.ceil(untilMs / 1000) + 1, maxIntervalInMs)) {
    if (times[times.length - 1] >= untilMs) break;
    times.push(times[times.length - 1] + pause);
  }
  return times;
}

describe('adaptive schedule', () => {
  it('pauses 2.5 s after the first read, then 1.25 s for about 30 s, then backs off to the poll interval', async () => {
    const pauses = await pausesOf(28);
    assert.deepEqual(pauses.slice(0, 3), [2500, 1250, 1250]);
    assert.deepEqual(pauses.slice(21, 28), [1250, 1250, 1875, 2813, 4219, 5000, 5000]);
    assert.equal((await probeTimes(30_000)).filter((t) => t <= 30_000).length, 24, 'one read every 1.25 s from 2.5 s to 30 s');
  });

  it('sees a new job within 1.25 s of its start at under one VVP request per second, for jobs starting 5 to 30 s after the change', async () => {
    const times = await probeTimes(60_000);
    for (let startMs = 5000; startMs <= 30_000; startMs += 50) {
      const seenAt = times.find((t) => t >= startMs) as number;
      // The probe that sees it also reads the job: one more request.
      const requests = times.filter((t) => t <= seenAt).length + 1;
      assert.ok(seenAt - startMs <= 1250, `job at ${startMs} ms seen at ${seenAt} ms`);
      assert.ok(requests / (seenAt / 1000) <= 1, `job at ${startMs} ms: ${requests} requests in ${seenAt} ms`);
    }
  });
  it('never exceeds a poll interval shorter than the first step', async () => {
    assert.deepEqual(await pausesOf(3, 100), [100, 100, 100]);
  });
  it('averages at most one probe per second over a long wait', async () => {
    const probes = (await probeTimes(60_000)).length;
    assert.ok(probes / 60 <= 1, `${probes} probes in 60 s`);
  });
});

describe('pollUntilDone', () => {
  it('probes first, before any sleep, and returns an immediate success without sleeping', async () => {
    const clock = new FakeClock();
    const { probe, times } = script(clock, ['ok']);
    const outcome = await pollUntilDone({ probe, classify, schedule: adaptiveSchedule(5000), timeoutInMs: 60_000, clock });
    assert.equal(outcome.kind, 'succeeded');
    assert.deepEqual(times, [0]);
    assert.deepEqual(clock.sleeps, []);
  });

  it('polls on the schedule: 2.5 s, then every 1.25 s, then backing off to the poll interval', async () => {
    const clock = new FakeClock();
    const { probe, times } = script(clock, [...Array<Obs>(27).fill('a'), 'ok']);
    const outcome = await pollUntilDone({ probe, classify, schedule: adaptiveSchedule(5000), timeoutInMs: 600_000, clock });
    assert.equal(outcome.kind, 'succeeded');
    assert.deepEqual(times.slice(0, 4), [0, 2500, 3750, 5000]);
    assert.deepEqual(times.slice(23), [30_000, 31_875, 34_688, 38_907, 43_907]);
    assert.equal(outcome.kind === 'succeeded' && outcome.probes, 28);
  });

  it('polls at most every 1.25 s while a verdict says the outcome is due soon, then backs off again', async () => {
    const clock = new FakeClock();
    const { probe, times } = script(clock, [...Array<Obs>(26).fill('a'), 'moving', 'moving', 'moving', 'a', 'ok']);
    const soonClassify = (o: Obs): Verdict<string> =>
      o === 'moving' ? { status: 'pending', state: 'moving', phase: 'transition', shortPause: true } : classify(o);
    const outcome = await pollUntilDone({ probe, classify: soonClassify, schedule: adaptiveSchedule(5000), timeoutInMs: 600_000, clock });
    assert.equal(outcome.kind, 'succeeded');
    // Backing off by then (4.2 s pauses); 'moving' brings the pause down to 1.25 s, 'a' lets it grow again (5 s).
    assert.deepEqual(times.slice(25), [34_688, 38_907, 40_157, 41_407, 42_657, 47_657]);
  });

  it('sees a change 2.5 s or more after the start within 1.25 s', async () => {
    for (const changeAtMs of [2500, 4000, 7100, 12_345]) {
      const clock = new FakeClock();
      const start = clock.now();
      const probe = async (): Promise<Obs> => (clock.now() - start >= changeAtMs ? 'ok' : 'waiting');
      const outcome = await pollUntilDone({ probe, classify, schedule: adaptiveSchedule(5000), timeoutInMs: 60_000, clock });
      assert.equal(outcome.kind, 'succeeded');
      assert.ok(outcome.elapsedInMs - changeAtMs <= 1250, `change at ${changeAtMs} ms seen after ${outcome.elapsedInMs} ms`);
    }
  });

  it('returns failed with the reason on a failed verdict', async () => {
    const clock = new FakeClock();
    const { probe } = script(clock, ['a', 'bad']);
    const outcome = await pollUntilDone({ probe, classify, schedule: adaptiveSchedule(5000), timeoutInMs: 60_000, clock });
    assert.equal(outcome.kind, 'failed');
    assert.equal(outcome.kind === 'failed' && outcome.reason, 'it broke');
  });

  it('times out at the deadline with the last state and phase, after a final probe at the deadline', async () => {
    const clock = new FakeClock();
    const { probe, times } = script(clock, ['stuck']);
    const outcome = await pollUntilDone({ probe, classify, schedule: adaptiveSchedule(5000), timeoutInMs: 20_000, clock });
    assert.equal(outcome.kind, 'timedOut');
    if (outcome.kind !== 'timedOut') return;
    assert.equal(outcome.state, 'stuck');
    assert.equal(outcome.phase, 'phase of stuck');
    assert.equal(outcome.elapsedInMs, 20_000);
    assert.equal(times[times.length - 1], 20_000);
    assert.ok(clock.sleeps.every((s) => s <= 5000));
  });

  it('never sleeps past the deadline', async () => {
    const clock = new FakeClock();
    const { probe } = script(clock, ['stuck']);
    await pollUntilDone({ probe, classify, schedule: adaptiveSchedule(5000), timeoutInMs: 3_000, clock });
    assert.deepEqual(clock.sleeps, [2500, 500]);
  });

  it('reports progress only when the state changes, not on every probe', async () => {
    const clock = new FakeClock();
    const { probe } = script(clock, ['RUNNING old', 'RUNNING old', 'TRANSITIONING', 'TRANSITIONING', 'TRANSITIONING', 'RUNNING new', 'ok']);
    const seen: PollProgress<Obs, string>[] = [];
    await pollUntilDone({ probe, classify, schedule: adaptiveSchedule(5000), timeoutInMs: 60_000, clock, onProgress: (p) => seen.push(p) });
    assert.deepEqual(seen.map((p) => p.verdict.state), ['RUNNING old', 'TRANSITIONING', 'RUNNING new', 'OK']);
    assert.deepEqual(seen.map((p) => p.probes), [1, 3, 6, 7]);
  });

  it('stops promptly with PollAbortedError carrying the last state when aborted mid-sleep', async () => {
    const clock = new StuckClock();
    const controller = new AbortController();
    const promise = pollUntilDone({
      probe: async () => 'TRANSITIONING',
      classify,
      schedule: adaptiveSchedule(5000),
      timeoutInMs: 60_000,
      clock,
      abortSignal: controller.signal,
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(clock.sleeping, 1);
    controller.abort();
    await assert.rejects(promise, (e: unknown) => e instanceof PollAbortedError && e.state === 'TRANSITIONING' && e.last === 'TRANSITIONING' && isAbortError(e));
  });

  it('does not probe at all when already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    let probes = 0;
    await assert.rejects(
      pollUntilDone({ probe: async () => (probes++, 'x'), classify, schedule: adaptiveSchedule(5000), timeoutInMs: 1000, clock: new FakeClock(), abortSignal: controller.signal }),
      PollAbortedError,
    );
    assert.equal(probes, 0);
  });

  it('treats an abort error thrown by the probe as an abort', async () => {
    const controller = new AbortController();
    const clock = new FakeClock();
    await assert.rejects(
      pollUntilDone({
        probe: async () => {
          controller.abort();
          const e = new Error('canceled');
          (e as { code?: string }).code = 'ERR_CANCELED';
          throw e;
        },
        classify,
        schedule: adaptiveSchedule(5000),
        timeoutInMs: 1000,
        clock,
        abortSignal: controller.signal,
      }),
      PollAbortedError,
    );
  });

  it('propagates probe errors that are not transient', async () => {
    const boom = new Error('HTTP 401');
    await assert.rejects(
      pollUntilDone({ probe: async () => { throw boom; }, classify, schedule: adaptiveSchedule(5000), timeoutInMs: 1000, clock: new FakeClock() }),
      (e: unknown) => e === boom,
    );
  });

  it('keeps polling through transient probe errors and reports them once as a state', async () => {
    const clock = new FakeClock();
    let n = 0;
    const seen: string[] = [];
    const outcome = await pollUntilDone({
      probe: async () => {
        n++;
        if (n >= 2 && n <= 4) throw new Error('HTTP 503');
        return n < 6 ? 'TRANSITIONING' : 'ok';
      },
      classify,
      schedule: adaptiveSchedule(5000),
      timeoutInMs: 60_000,
      clock,
      isTransientProbeError: () => true,
      describeProbeError: () => 'status unreadable (HTTP 503)',
      onProgress: (p) => seen.push(p.verdict.state),
    });
    assert.equal(outcome.kind, 'succeeded');
    assert.deepEqual(seen, ['TRANSITIONING', 'status unreadable (HTTP 503)', 'TRANSITIONING', 'OK']);
  });

  it('keeps the phase of the last real observation when timing out on probe errors', async () => {
    const clock = new FakeClock();
    let n = 0;
    const outcome = await pollUntilDone({
      probe: async () => {
        if (++n > 1) throw new Error('down');
        return 'TRANSITIONING';
      },
      classify,
      schedule: adaptiveSchedule(5000),
      timeoutInMs: 10_000,
      clock,
      isTransientProbeError: () => true,
    });
    assert.equal(outcome.kind, 'timedOut');
    assert.equal(outcome.kind === 'timedOut' && outcome.phase, 'phase of TRANSITIONING');
    assert.equal(outcome.kind === 'timedOut' && outcome.last, 'TRANSITIONING');
  });
});
