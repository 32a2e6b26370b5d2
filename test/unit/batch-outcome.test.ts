import { batchOutcome } from '../../apps/worker/src/batches/batch-outcome';

const items = (c: Partial<Record<'created' | 'submitted' | 'succeeded' | 'errored' | 'canceled' | 'expired', number>>) => ({
  created: 0,
  submitted: 0,
  succeeded: 0,
  errored: 0,
  canceled: 0,
  expired: 0,
  ...c,
});

describe('batchOutcome', () => {
  it('is completed when any item succeeded, with the counts as result', () => {
    expect(batchOutcome(items({ succeeded: 1, errored: 5, canceled: 2, expired: 3 }))).toEqual({
      status: 'completed',
      stopReason: 'end_turn',
      result: { total: 11, counts: { succeeded: 1, errored: 5, canceled: 2, expired: 3 } },
      error: null,
    });
  });
  it('is cancelled when all were canceled, expired when all expired', () => {
    expect(batchOutcome(items({ canceled: 4 })).status).toBe('cancelled');
    expect(batchOutcome(items({ expired: 4 })).status).toBe('expired');
  });
  it('is failed otherwise, naming why', () => {
    const o = batchOutcome(items({ errored: 1, canceled: 1, expired: 1 }));
    expect(o.status).toBe('failed');
    expect(o.error).toMatchObject({ code: 'batch_failed' });
    expect(batchOutcome(items({})).status).toBe('failed');
  });
});
