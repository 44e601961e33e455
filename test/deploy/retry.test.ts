import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_RETRY_POLICY,
  isRetryableHttpFailure,
  parseRetryAfter,
  withRetry,
} from '../../tasks/common/http/retry';
import { FakeClock } from './fake-clock';

describe('isRetryableHttpFailure', () => {
  const statuses: [number, boolean][] = [
    [400, false], [401, false], [403, false], [404, false], [405, false], [409, false], [410, false], [422, false],
    [408, true], [429, true], [500, true], [502, true], [503, true], [504, true], [599, true],
    [200, false], [302, false],
  ];
  for (const [status, expected] of statuses) {
    it(`${expected ? 'retries' : 'does not retry'} a GET answered with HTTP ${status}`, () => {
      assert.equal(isRetryableHttpFailure({ method: 'GET', status }), expected);
    });
  }
  const codes: [string | undefined, boolean][] = [
    ['ECONNRESET', true], ['ECONNREFUSED', true], ['ETIMEDOUT', true], ['ECONNABORTED', true], ['EAI_AGAIN', true], ['EPIPE', true],
    ['ENOTFOUND', false], ['CERT_HAS_EXPIRED', false], ['ERR_TLS_CERT_ALTNAME_INVALID', false], [undefined, false],
  ];
  for (const [networkCode, expected] of codes) {
    it(`${expected ? 'retries' : 'does not retry'} a GET failing with ${networkCode ?? 'no code'}`, () => {
      assert.equal(isRetryableHttpFailure({ method: 'GET', networkCode }), expected);
    });
  }
  for (const method of ['POST', 'PATCH', 'PUT', 'DELETE', 'post', 'patch']) {
    it(`never retries ${method}, not even on 503, 429 or a reset connection`, () => {
      assert.equal(isRetryableHttpFailure({ method, status: 503 }), false);
      assert.equal(isRetryableHttpFailure({ method, status: 429 }), false);
      assert.equal(isRetryableHttpFailure({ method, networkCode: 'ECONNRESET' }), false);
    });
  }
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('reads delta-seconds', () => assert.equal(parseRetryAfter('3', now), 3000));
  it('reads fractional seconds', () => assert.equal(parseRetryAfter('0.5', now), 500));
  it('reads an HTTP date', () => assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now), 10_000));
  it('gives 0 for a date in the past', () => assert.equal(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now), 0));
  it('ignores garbage and absence', () => {
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter('', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});

class Failure extends Error {
  constructor(
    readonly retry: boolean,
    readonly retryAfterInMs?: number,
  ) {
    super(`failure retry=${retry}`);
  }
}

describe('withRetry', () => {
  const isRetryable = (e: unknown) => (e instanceof Failure ? { retry: e.retry, retryAfterInMs: e.retryAfterInMs } : { retry: false });

  it('returns the first success without waiting', async () => {
    const clock = new FakeClock();
    assert.equal(await withRetry(async () => 'ok', { isRetryable, clock }), 'ok');
    assert.deepEqual(clock.sleeps, []);
  });

  it('retries retryable failures with backoff and then succeeds', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new Failure(true);
        return calls;
      },
      { isRetryable, clock, random: () => 1 },
    );
    assert.equal(result, 3);
    assert.deepEqual(clock.sleeps, [500, 1000]);
  });

  it('does not retry a non-retryable failure', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await assert.rejects(
      withRetry(async () => {
        calls++;
        throw new Failure(false);
      }, { isRetryable, clock }),
      Failure,
    );
    assert.equal(calls, 1);
  });

  it('stops after maxAttempts, failing with the last error', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await assert.rejects(
      withRetry(async () => {
        calls++;
        throw new Failure(true);
      }, { isRetryable, clock, policy: { maxAttempts: 3 } }),
      Failure,
    );
    assert.equal(calls, 3);
    assert.equal(clock.sleeps.length, 2);
  });

  it('honours Retry-After when it is longer than the backoff', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await withRetry(
      async () => {
        if (++calls === 1) throw new Failure(true, 7000);
        return 'ok';
      },
      { isRetryable, clock, random: () => 0 },
    );
    assert.deepEqual(clock.sleeps, [7000]);
  });

  it('keeps the backoff when Retry-After is shorter', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await withRetry(
      async () => {
        if (++calls === 1) throw new Failure(true, 10);
        return 'ok';
      },
      { isRetryable, clock, random: () => 1 },
    );
    assert.deepEqual(clock.sleeps, [500]);
  });

  it('gives up at once when Retry-After exceeds the longest acceptable wait', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await assert.rejects(
      withRetry(async () => {
        calls++;
        throw new Failure(true, 120_000);
      }, { isRetryable, clock }),
      Failure,
    );
    assert.equal(calls, 1);
    assert.deepEqual(clock.sleeps, []);
  });

  it('stops promptly when aborted during the wait, with the abort reason', async () => {
    const controller = new AbortController();
    const clock = new FakeClock();
    const reason = new Error('stop');
    reason.name = 'AbortError';
    await assert.rejects(
      withRetry(
        async () => {
          controller.abort(reason);
          throw new Failure(true);
        },
        { isRetryable, clock, abortSignal: controller.signal },
      ),
      (e: unknown) => e === reason,
    );
  });

  it('reports each retry to onRetry', async () => {
    const seen: number[] = [];
    let calls = 0;
    await withRetry(
      async () => {
        if (++calls < 3) throw new Failure(true);
        return 'ok';
      },
      { isRetryable, clock: new FakeClock(), random: () => 1, onRetry: ({ attempt }) => seen.push(attempt) },
    );
    assert.deepEqual(seen, [1, 2]);
  });
});

describe('the backoff between retries', () => {
  const policy = { ...DEFAULT_RETRY_POLICY, baseDelayInMs: 500, maxDelayInMs: 8000 };
  /** The waits of withRetry before each retry of an operation that always fails retryably. */
  const waits = async (attempts: number, random: () => number): Promise<number[]> => {
    const clock = new FakeClock();
    await assert.rejects(
      withRetry(async () => Promise.reject(new Failure(true)), { isRetryable: () => ({ retry: true }), clock, random, policy: { ...policy, maxAttempts: attempts } }),
      Failure,
    );
    return clock.sleeps;
  };
  it('grows exponentially and stays within [cap/2, cap] whatever the jitter', async () => {
    const caps = [500, 1000, 2000, 4000, 8000, 8000, 8000];
    for (const r of [0, 0.25, 0.5, 0.999, 1]) {
      const delays = await waits(caps.length + 1, () => r);
      assert.equal(delays.length, caps.length);
      caps.forEach((cap, i) => assert.ok(delays[i] >= cap / 2 && delays[i] <= cap, `retry ${i + 1}, random ${r}: ${delays[i]} not in [${cap / 2}, ${cap}]`));
    }
  });
  it('is capped even for absurd retry numbers', async () => {
    assert.ok((await waits(100, () => 1)).every((d) => d <= 8000));
  });
  it('clamps a misbehaving random source', async () => {
    assert.equal((await waits(2, () => 7))[0], 500);
    assert.equal((await waits(2, () => -3))[0], 250);
  });
});
