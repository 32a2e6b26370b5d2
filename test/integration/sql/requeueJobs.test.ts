import { requeueJobs } from '../../../packages/db/src/sql';
import { StatementWorld } from './statement-fixture';

describe('requeueJobs (real Postgres)', () => {
  const w = new StatementWorld();
  beforeAll(() => w.open());
  afterAll(() => w.close());

  it('queues a created job: pending, one event with its reason', async () => {
    const job = await w.job('created');
    const out = await w.run(requeueJobs, [{ id: job.id, reason: 'queued' }], ['created']);
    expect(out.get(job.id)?.prev_status).toBe('created');
    expect(await w.row(job.id)).toMatchObject({ status: 'pending', event_seq: job.event_seq + 1, attempts: 0 });
    expect(await w.events(job)).toMatchObject([
      { from_status: 'created', to_status: 'pending', reason: 'queued', attempt: 0 },
    ]);
  });

  it('returns a running attempt for a retry: run_at and error written, hand-off owner cleared, attempts kept', async () => {
    const job = await w.job('running', 1, {}, { completion_owner: 'poller' });
    const runAt = new Date(Date.now() + 60_000);
    const error = { message: 'boom', code: 'task_error' };
    await w.run(
      requeueJobs,
      [
        {
          id: job.id,
          attempt: 1,
          workerId: 'w1',
          runAt,
          error: JSON.stringify(error),
          setError: true,
          reason: 'retry',
        },
      ],
      ['running'],
    );
    const row = await w.row(job.id);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, error });
    expect(row.run_at?.getTime()).toBe(runAt.getTime());
    expect(
      (await w.client.query('SELECT completion_owner FROM jobs WHERE id = $1', [job.id])).rows[0].completion_owner,
    ).toBeNull();
    expect(await w.events(job)).toMatchObject([
      { from_status: 'running', to_status: 'pending', attempt: 1, worker_id: 'w1', reason: 'retry' },
    ]);
  });

  it('keeps the row’s error without set_error, clears it with set_error and a null error', async () => {
    const error = { message: 'earlier', code: 'x' };
    const kept = await w.job('running', 1, {}, { error: JSON.stringify(error) });
    const cleared = await w.job('running', 1, {}, { error: JSON.stringify(error) });
    await w.run(requeueJobs, [{ id: kept.id }, { id: cleared.id, setError: true }], ['running']);
    expect((await w.row(kept.id)).error).toEqual(error);
    expect((await w.row(cleared.id)).error).toBeNull();
  });

  it('writes nothing when the status is not allowed or the attempt fence is stale', async () => {
    const done = await w.job('completed', 1);
    const stale = await w.job('running', 2);
    expect((await w.run(requeueJobs, [{ id: done.id }, { id: stale.id, attempt: 1 }], ['running'])).size).toBe(0);
    expect((await w.row(done.id)).status).toBe('completed');
    expect((await w.row(stale.id)).status).toBe('running');
    expect(await w.events(done)).toEqual([]);
    expect(await w.events(stale)).toEqual([]);
  });

  it('batched: mixed outcomes, each row its own run_at and reason', async () => {
    const a = await w.job('running', 1);
    const b = await w.job('running', 2);
    const lost = await w.job('running', 3);
    const at = new Date(Date.now() + 5_000);
    const out = await w.run(
      requeueJobs,
      [
        { id: a.id, attempt: 1, reason: 'stalled' },
        { id: b.id, attempt: 2, runAt: at, reason: 'backoff' },
        { id: lost.id, attempt: 2, reason: 'never' },
      ],
      ['running'],
    );
    expect([...out.keys()].sort()).toEqual([a.id, b.id].sort());
    expect((await w.row(a.id)).run_at).toBeNull();
    expect((await w.row(b.id)).run_at?.getTime()).toBe(at.getTime());
    expect((await w.events(a)).map((e) => e.reason)).toEqual(['stalled']);
    expect((await w.events(b)).map((e) => e.reason)).toEqual(['backoff']);
    expect(await w.events(lost)).toEqual([]);
  });
});
