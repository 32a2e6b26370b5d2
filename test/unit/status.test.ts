import { JOB_STATUSES, allowedSources, canRetry, canTransition, isTerminal, type JobStatus } from '../../packages/core/src/status';

const ALLOWED: Record<JobStatus, JobStatus[]> = {
  created: ['pending', 'running', 'failed', 'cancelled', 'expired'],
  pending: ['running', 'failed', 'cancelled', 'expired'],
  running: ['completed', 'failed', 'cancelled', 'expired', 'pending'],
  completed: [],
  failed: [],
  cancelled: [],
  expired: [],
};

describe('status state machine', () => {
  const pairs = JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to) => [from, to] as const));

  it.each(pairs)('%s → %s follows SPEC F2', (from, to) => {
    expect(canTransition(from, to)).toBe(ALLOWED[from].includes(to));
  });

  it('has exactly the 14 allowed pairs of the spec', () => {
    expect(pairs.filter(([f, t]) => canTransition(f, t))).toHaveLength(14);
  });

  it('terminal statuses have no way out but retry', () => {
    for (const s of ['completed', 'failed', 'cancelled', 'expired'] as const) {
      expect(isTerminal(s)).toBe(true);
      expect(JOB_STATUSES.some((to) => canTransition(s, to))).toBe(false);
    }
    expect(canRetry('failed')).toBe(true);
    expect(canRetry('cancelled')).toBe(true);
    expect(canRetry('expired')).toBe(true);
    expect(canRetry('completed')).toBe(false);
    expect(canRetry('running')).toBe(false);
  });

  it('allowedSources inverts the table', () => {
    expect(allowedSources('running').sort()).toEqual(['created', 'pending']);
    expect(allowedSources('pending').sort()).toEqual(['created', 'running']);
    expect(allowedSources('completed')).toEqual(['running']);
    expect(allowedSources('cancelled').sort()).toEqual(['created', 'pending', 'running']);
    expect(allowedSources('created')).toEqual([]);
  });
});
