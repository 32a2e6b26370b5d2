import { MAX_ATTEMPTS_CAP, createJobBodySchema, lostAttemptVerdict } from '../../packages/core/src';

describe('the attempt budget of lost attempts (SPEC F4)', () => {
  it('re-runs a lost attempt while attempts < max_attempts, then MAX_STALLED_COUNT more times', () => {
    // max_attempts 1, MAX_STALLED_COUNT 1: one crash re-runs the job, the second fails it.
    expect(lostAttemptVerdict(1, 1, 1)).toBe('retry');
    expect(lostAttemptVerdict(2, 1, 1)).toBe('worker_lost');
    // max_attempts 3: attempts 1..3 lost re-run, the fourth (the one extra) is the last.
    expect([1, 2, 3, 4].map((n) => lostAttemptVerdict(n, 3, 1))).toEqual(['retry', 'retry', 'retry', 'worker_lost']);
    // MAX_STALLED_COUNT 0: past max_attempts a lost attempt fails at once.
    expect(lostAttemptVerdict(1, 1, 0)).toBe('worker_lost');
    expect(lostAttemptVerdict(1, 2, 0)).toBe('retry');
    // Never more than max_attempts + MAX_STALLED_COUNT runs, whatever the numbers.
    for (let max = 1; max <= 5; max++) {
      for (let k = 0; k <= 3; k++) {
        let runs = 1;
        while (lostAttemptVerdict(runs, max, k) === 'retry') runs++;
        expect(runs).toBe(Math.max(max + k, 1));
      }
    }
  });

  it('knows the highest max_attempts a create accepts (BullMQ\'s backstop sits above it)', () => {
    expect(createJobBodySchema.safeParse({ task: 'noop', max_attempts: MAX_ATTEMPTS_CAP }).success).toBe(true);
    expect(createJobBodySchema.safeParse({ task: 'noop', max_attempts: MAX_ATTEMPTS_CAP + 1 }).success).toBe(false);
  });
});
