import { claimJobs } from '../../../packages/db/src/sql';
import { StatementWorld } from './statement-fixture';

describe('claimJobs (real Postgres)', () => {
  const w = new StatementWorld();
  beforeAll(() => w.open());
  afterAll(() => w.close());

  it('starts a pending job: running, attempts + 1, timings and owner cleared, one event in the same statement', async () => {
    const job = await w.job(
      'pending',
      0,
      {},
      { ttft_ns: 5, progress: JSON.stringify({ percent: 50, message: null }), completion_owner: 'poller' },
    );
    const out = await w.run(claimJobs, [{ id: job.id, attempt: 0, workerId: 'w1', reason: 'picked' }], ['pending']);
    expect(out.get(job.id)?.prev_status).toBe('pending');
    const row = await w.row(job.id);
    expect(row).toMatchObject({
      status: 'running',
      attempts: 1,
      event_seq: job.event_seq + 1,
      ttft_ns: null,
      progress: null,
    });
    expect(row.started_at).not.toBeNull();
    expect(
      (await w.client.query('SELECT completion_owner FROM jobs WHERE id = $1', [job.id])).rows[0].completion_owner,
    ).toBeNull();
    expect((await w.events(job)).at(-1)).toMatchObject({
      from_status: 'pending',
      to_status: 'running',
      attempt: 1,
      worker_id: 'w1',
      reason: 'picked',
    });
  });

  it('writes nothing when the status is not allowed or the attempt fence is stale', async () => {
    const done = await w.job('completed', 1);
    const stale = await w.job('pending', 2);
    const out = await w.run(claimJobs, [{ id: done.id }, { id: stale.id, attempt: 1 }], ['pending']);
    expect(out.size).toBe(0);
    for (const before of [done, stale]) {
      const row = await w.row(before.id);
      expect({ status: row.status, attempts: row.attempts, event_seq: row.event_seq }).toEqual({
        status: before.status,
        attempts: before.attempts,
        event_seq: before.event_seq,
      });
      expect(await w.events(before)).toEqual([]);
    }
  });

  it('starts a created job through pending when asked: two events, event_seq + 2', async () => {
    const job = await w.job('created');
    const out = await w.run(
      claimJobs,
      [{ id: job.id, workerId: 'w2', reason: 'picked', throughPending: true }],
      ['created', 'pending'],
    );
    expect(out.get(job.id)?.prev_status).toBe('created');
    expect((await w.row(job.id)).event_seq).toBe(job.event_seq + 2);
    expect((await w.events(job)).map((e) => [e.from_status, e.to_status, e.attempt, e.reason])).toEqual([
      ['created', 'pending', 0, 'queued'],
      ['pending', 'running', 1, 'picked'],
    ]);
  });

  it('without through_pending a created job goes straight to running with one event', async () => {
    const job = await w.job('created');
    await w.run(claimJobs, [{ id: job.id }], ['created', 'pending']);
    expect((await w.row(job.id)).event_seq).toBe(job.event_seq + 1);
    expect((await w.events(job)).map((e) => [e.from_status, e.to_status])).toEqual([['created', 'running']]);
  });

  it('unless_expired: a job whose expires_at passed is not started', async () => {
    const expired = await w.job('pending', 0, {}, { expires_at: new Date(Date.now() - 1000) });
    const out = await w.run(claimJobs, [{ id: expired.id, unlessExpired: true }], ['pending']);
    expect(out.size).toBe(0);
    expect((await w.row(expired.id)).status).toBe('pending');
    // The same row without the guard is started: the flag is per item.
    expect((await w.run(claimJobs, [{ id: expired.id }], ['pending'])).size).toBe(1);
  });

  it('batched: several rows in one statement, each with its own guard and options', async () => {
    const a = await w.job('pending', 0);
    const b = await w.job('created');
    const staleFence = await w.job('pending', 3);
    const wrongStatus = await w.job('failed', 1);
    const out = await w.run(
      claimJobs,
      [
        { id: a.id, attempt: 0, workerId: 'wa' },
        { id: b.id, workerId: 'wb', throughPending: true },
        { id: staleFence.id, attempt: 2 },
        { id: wrongStatus.id },
      ],
      ['created', 'pending'],
    );
    expect([...out.keys()].sort()).toEqual([a.id, b.id].sort());
    expect(out.get(a.id)?.prev_status).toBe('pending');
    expect(out.get(b.id)?.prev_status).toBe('created');
    expect((await w.events(a)).map((e) => e.worker_id)).toEqual(['wa']);
    expect(await w.events(b)).toHaveLength(2);
    expect((await w.row(staleFence.id)).status).toBe('pending');
    expect((await w.row(wrongStatus.id)).status).toBe('failed');
  });
});
