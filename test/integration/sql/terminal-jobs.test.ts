import type { JobStatus } from '../../../packages/core/src';
import { cancelJobs, completeJobs, expireJobs, failJobs, type TransitionStatement } from '../../../packages/db/src/sql';
import { StatementWorld } from './statement-fixture';

const CALLBACK = { callback_url: 'https://example.test/hook' };

describe('terminal statements: completeJobs, failJobs, cancelJobs, expireJobs (real Postgres)', () => {
  const w = new StatementWorld();
  beforeAll(() => w.open());
  afterAll(() => w.close());

  const cases: [TransitionStatement, JobStatus, JobStatus[]][] = [
    [completeJobs, 'completed', ['running']],
    [failJobs, 'failed', ['running']],
    [cancelJobs, 'cancelled', ['created', 'pending', 'running']],
    [expireJobs, 'expired', ['created', 'pending', 'running']],
  ];

  describe.each(cases)('%s', (statement, to, from) => {
    it(`writes ${to} with stop_reason, completed_at, one event, and starts the callback series`, async () => {
      const job = await w.job('running', 1, CALLBACK);
      const out = await w.run(
        statement,
        [
          {
            id: job.id,
            attempt: 1,
            workerId: 'w1',
            reason: 'done',
            stopReason: 'why',
            result: '{"n":1}',
            setResult: true,
          },
        ],
        from,
      );
      expect(out.get(job.id)?.prev_status).toBe('running');
      const row = await w.row(job.id);
      expect(row).toMatchObject({
        status: to,
        stop_reason: 'why',
        callback_pending: true,
        event_seq: job.event_seq + 1,
        result: { n: 1 },
      });
      expect(row.completed_at).not.toBeNull();
      const webhookId = `msg_${job.id.slice(4)}_${job.event_seq + 1}`;
      expect(row.callback_webhook_id).toBe(webhookId);
      expect(await w.deliveries(job.id)).toEqual([{ webhook_id: webhookId, status: to, job_attempt: 1 }]);
      expect(await w.events(job)).toMatchObject([
        { from_status: 'running', to_status: to, attempt: 1, worker_id: 'w1', reason: 'done' },
      ]);
    });

    it('starts no callback series for a job without callback_url', async () => {
      const job = await w.job('running', 1);
      await w.run(statement, [{ id: job.id, stopReason: 'why', result: 'null' }], from);
      const row = await w.row(job.id);
      expect(row).toMatchObject({ status: to, callback_pending: false, callback_webhook_id: null });
      expect(await w.deliveries(job.id)).toEqual([]);
    });

    it('writes nothing when the status is not allowed or the attempt fence is stale', async () => {
      const done = await w.job('completed', 1, CALLBACK);
      const stale = await w.job('running', 2, CALLBACK);
      expect(
        (
          await w.run(
            statement,
            [
              { id: done.id, stopReason: 'x' },
              { id: stale.id, attempt: 1, stopReason: 'x' },
            ],
            from,
          )
        ).size,
      ).toBe(0);
      expect((await w.row(done.id)).status).toBe('completed');
      expect((await w.row(stale.id)).status).toBe('running');
      for (const j of [done, stale]) {
        expect(await w.events(j)).toEqual([]);
        expect(await w.deliveries(j.id)).toEqual([]);
      }
    });

    it('batched: several rows, mixed outcomes, an event and a series only for the rows written', async () => {
      const a = await w.job('running', 1, CALLBACK);
      const b = await w.job('running', 1);
      const stale = await w.job('running', 4, CALLBACK);
      const error = { message: 'boom', code: 'e' };
      const out = await w.run(
        statement,
        [
          { id: a.id, attempt: 1, stopReason: 'sa', error: JSON.stringify(error), setError: true },
          { id: b.id, attempt: 1, stopReason: 'sb' },
          { id: stale.id, attempt: 3, stopReason: 'sc' },
        ],
        from,
      );
      expect([...out.keys()].sort()).toEqual([a.id, b.id].sort());
      expect(await w.row(a.id)).toMatchObject({ status: to, stop_reason: 'sa', error });
      expect(await w.row(b.id)).toMatchObject({ status: to, stop_reason: 'sb', error: null });
      expect(await w.deliveries(a.id)).toHaveLength(1);
      expect(await w.deliveries(b.id)).toEqual([]);
      expect(await w.events(a)).toHaveLength(1);
      expect(await w.events(b)).toHaveLength(1);
      expect(await w.events(stale)).toEqual([]);
      expect(await w.deliveries(stale.id)).toEqual([]);
    });
  });

  describe.each([failJobs, cancelJobs, expireJobs].map((s) => [s.name, s] as const))(
    '%s without set_result',
    (_name, statement) => {
      it('keeps the row’s result and its size', async () => {
        const job = await w.job('running', 1, {}, { result: JSON.stringify({ partial: true }), result_bytes: 16 });
        await w.run(statement, [{ id: job.id, stopReason: 'x', result: 'null' }], ['running']);
        expect(await w.row(job.id)).toMatchObject({ result: { partial: true } });
        expect(
          (await w.client.query('SELECT result_bytes FROM jobs WHERE id = $1', [job.id])).rows[0].result_bytes,
        ).toBe(16);
      });
    },
  );

  it('completeJobs always writes the result and its size, and inserts the run record with the completion', async () => {
    const job = await w.job('running', 1);
    const run = {
      id: 'step-1',
      provider: 'anthropic',
      model: 'm',
      stop_reason: 'end_turn',
      input_tokens: 3,
      output_tokens: 4,
      usage: {},
      ttft_ns: '10',
      duration_ns: '20',
      messages: [
        { id: 'message-1', role: 'user', content: 'hi' },
        { id: 'message-2', role: 'assistant', content: 'hello' },
      ],
    };
    const late = await w.job('running', 2);
    await w.run(
      completeJobs,
      [
        { id: job.id, attempt: 1, stopReason: 'end_turn', result: '"ok"', run: JSON.stringify(run) },
        { id: late.id, attempt: 1, result: '"late"', run: JSON.stringify({ ...run, id: 'step-2', messages: [] }) },
      ],
      ['running'],
    );
    expect((await w.client.query('SELECT result, result_bytes FROM jobs WHERE id = $1', [job.id])).rows[0]).toEqual({
      result: 'ok',
      result_bytes: 4,
    });
    expect((await w.client.query('SELECT id, job_id, input_tokens FROM steps ORDER BY id')).rows).toEqual([
      { id: 'step-1', job_id: job.id, input_tokens: 3 },
    ]);
    expect(
      (await w.client.query('SELECT id, step_id, seq, role FROM messages WHERE job_id = $1 ORDER BY seq', [job.id]))
        .rows,
    ).toEqual([
      { id: 'message-1', step_id: 'step-1', seq: 0, role: 'user' },
      { id: 'message-2', step_id: 'step-1', seq: 1, role: 'assistant' },
    ]);
    expect((await w.row(late.id)).status).toBe('running');
  });
});
