import { RETRYABLE_STATUSES } from '../../../packages/core/src';
import { handOffJobs, recordTimings, reportProgress, retryJobs } from '../../../packages/db/src/sql';
import { StatementWorld } from './statement-fixture';

/** The guarded writes outside the status transitions: a client's retry, and the running attempt's own fields. */
describe('retryJobs, handOffJobs, reportProgress, recordTimings (real Postgres)', () => {
  const w = new StatementWorld();
  beforeAll(() => w.open());
  afterAll(() => w.close());

  const retryable = [...RETRYABLE_STATUSES];
  const column = async (id: string, name: string): Promise<unknown> =>
    (await w.client.query(`SELECT ${name} AS v FROM jobs WHERE id = $1`, [id])).rows[0].v;

  it('retryJobs: failed, cancelled or expired back to pending with outcome and callback fields reset; others untouched', async () => {
    const failed = await w.job(
      'failed',
      2,
      { callback_url: 'https://example.test/hook' },
      {
        error: JSON.stringify({ message: 'x', code: 'y' }),
        result: '{"a":1}',
        result_bytes: 7,
        stop_reason: 'error',
        completed_at: new Date(),
        callback_webhook_id: 'msg_x_3',
        callback_attempts: 4,
        completion_owner: 'poller',
      },
    );
    const cancelled = await w.job('cancelled', 1);
    const running = await w.job('running', 1);
    const rows = (await w.client.query(retryJobs, [[failed.id, cancelled.id, running.id], retryable])).rows as {
      id: string;
      prev_status: string;
    }[];
    expect(new Map(rows.map((r) => [r.id, r.prev_status]))).toEqual(
      new Map([
        [failed.id, 'failed'],
        [cancelled.id, 'cancelled'],
      ]),
    );
    expect(await w.row(failed.id)).toMatchObject({
      status: 'pending',
      attempts: 2,
      error: null,
      result: null,
      stop_reason: null,
      completed_at: null,
      callback_pending: false,
      callback_webhook_id: null,
      callback_attempts: 0,
    });
    expect(await column(failed.id, 'completion_owner')).toBeNull();
    expect(await w.events(failed)).toMatchObject([
      { from_status: 'failed', to_status: 'pending', attempt: 2, worker_id: null, reason: 'retry requested' },
    ]);
    expect(await w.events(cancelled)).toHaveLength(1);
    expect((await w.row(running.id)).status).toBe('running');
    expect(await w.events(running)).toEqual([]);
  });

  it('handOffJobs: sets the owner of the running attempt only', async () => {
    const a = await w.job('running', 1);
    const stale = await w.job('running', 2);
    const done = await w.job('completed', 1);
    const rows = (
      await w.client.query(handOffJobs, [
        [a.id, stale.id, done.id],
        [1, 1, 1],
        ['poller', 'poller', 'poller'],
      ])
    ).rows;
    expect(rows).toEqual([{ id: a.id }]);
    expect(await column(a.id, 'completion_owner')).toBe('poller');
    expect(await column(stale.id, 'completion_owner')).toBeNull();
    expect(await column(done.id, 'completion_owner')).toBeNull();
    expect((await w.row(a.id)).status).toBe('running');
  });

  it('reportProgress: the running attempt’s progress; a stale or finished attempt’s report is dropped', async () => {
    const a = await w.job('running', 1);
    const stale = await w.job('running', 2);
    const progress = { percent: 40, message: 'reading' };
    const rows = (
      await w.client.query(reportProgress, [
        [a.id, stale.id],
        [1, 1],
        [JSON.stringify(progress), JSON.stringify(progress)],
      ])
    ).rows;
    expect(rows).toEqual([{ id: a.id }]);
    expect((await w.row(a.id)).progress).toEqual(progress);
    expect((await w.row(stale.id)).progress).toBeNull();
  });

  it('recordTimings: each timing kept when null, written for the running attempt only', async () => {
    const a = await w.job('running', 1, {}, { ttft_ns: 5 });
    const stale = await w.job('running', 2);
    const rows = (
      await w.client.query(recordTimings, [
        [a.id, stale.id],
        [1, 1],
        [null, '7'],
        ['900', '900'],
      ])
    ).rows;
    expect(rows).toEqual([{ id: a.id }]);
    expect(await column(a.id, 'ttft_ns::text')).toBe('5');
    expect(await column(a.id, 'total_duration_ns::text')).toBe('900');
    expect(await column(stale.id, 'total_duration_ns')).toBeNull();
  });
});
