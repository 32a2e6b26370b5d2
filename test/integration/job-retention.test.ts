import { randomUUID } from 'node:crypto';
import { runJobRetention } from '../../apps/worker/src/retention/job-retention';
import { JobRetentionStore, createDb, type Db } from '../../packages/db/src';
import { createLogger, retentionRowsDeleted } from '../../packages/observability/src';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startStack } from '../support/stack';

jest.setTimeout(60_000);

const ORG = 'org-00000000-0000-4000-8000-00000000f13a';
const SOURCE = 'src-00000000-0000-4000-8000-00000000f13a';
const logger = createLogger({ level: 'error', service: 'test' });

/** Every table that hangs off a job, with the column naming it. */
const DEPENDANTS: [string, string][] = [
  ['job_events', 'job_id'],
  ['callback_deliveries', 'job_id'],
  ['callback_attempts', 'job_id'],
  ['steps', 'job_id'],
  ['messages', 'job_id'],
  ['llm_batch_jobs', 'job_id'],
  ['llm_batch_items', 'batch_job_id'],
];

const deletedCount = async (table: string) =>
  (await retentionRowsDeleted.get()).values.find((v) => v.labels['table'] === table)?.value ?? 0;

describe('job retention (SPEC F13)', () => {
  let database: TestDatabase;
  let db: Db;
  const sql = (text: string, ...params: unknown[]) => db.$executeRawUnsafe(text, ...params);
  const count = async (text: string, ...params: unknown[]) =>
    (await db.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${text}`, ...params))[0]!.n;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url, 2);
    await sql(`INSERT INTO organizations (id, name, webhook_secret) VALUES ($1, 'retention', 'whsec_x')`, ORG);
    await sql(`INSERT INTO sources (id, organization_id, name) VALUES ($1, $2, 'docs')`, SOURCE, ORG);
  });
  afterAll(async () => {
    await db.$disconnect();
    await database.drop();
  });
  beforeEach(async () => {
    retentionRowsDeleted.reset();
    await sql(`DELETE FROM jobs`);
    await sql(`DELETE FROM callback_deliveries`);
    await sql(`DELETE FROM callback_attempts`);
    await sql(`DELETE FROM files`);
  });

  /** A job `ageDays` past completion (or creation, when not terminal) with one row in every dependant table. */
  async function job(status: string, ageDays: number, series: string | null = 'delivered'): Promise<string> {
    const id = `job-${randomUUID()}`;
    const at = `now() - make_interval(days => ${ageDays})`;
    const terminal = ['completed', 'failed', 'cancelled', 'expired'].includes(status);
    await sql(
      `INSERT INTO jobs (id, organization_id, user_id, task, status, created_at, updated_at, completed_at, callback_url)
       VALUES ($1, $2, 'user-x', 'noop', $3, ${at}, ${at}, ${terminal ? at : 'NULL'}, 'http://127.0.0.1:9/cb')`,
      id,
      ORG,
      status,
    );
    await sql(
      `INSERT INTO job_events (job_id, seq, to_status, attempt) SELECT $1, s, 'pending', 1 FROM generate_series(1, 3) s`,
      id,
    );
    if (series) {
      await sql(
        `INSERT INTO callback_deliveries (webhook_id, job_id, organization_id, job_attempt, callback_url, status, state) VALUES ($1, $2, $3, 1, 'http://127.0.0.1:9/cb', $4, $5)`,
        `msg_${id}`,
        id,
        ORG,
        status,
        series,
      );
      await sql(
        `INSERT INTO callback_attempts (webhook_id, attempt, job_id, status_code, duration_ms) VALUES ($1, 1, $2, 500, 3), ($1, 2, $2, 200, 4)`,
        `msg_${id}`,
        id,
      );
    }
    await sql(
      `INSERT INTO steps (id, job_id, organization_id, provider, model) VALUES ($1, $2, $3, 'anthropic', 'm')`,
      `step-${id}`,
      id,
      ORG,
    );
    await sql(
      `INSERT INTO messages (id, job_id, organization_id, seq, role, content, step_id) VALUES ($1, $2, $3, 1, 'user', '"hi"', $4)`,
      `msg-${id}`,
      id,
      ORG,
      `step-${id}`,
    );
    await sql(`INSERT INTO llm_batch_jobs (job_id) VALUES ($1)`, id);
    await sql(
      `INSERT INTO llm_batch_items (id, batch_job_id, seq, custom_id, request) VALUES ($1, $2, 1, 'a', '{}')`,
      `item-${id}`,
      id,
    );
    await sql(
      `INSERT INTO files (id, organization_id, source_id, name, mime_type, size_bytes, job_id) VALUES ($1, $2, $3, 'a.txt', 'text/plain', 1, $4)`,
      `file-${id}`,
      ORG,
      SOURCE,
      id,
    );
    return id;
  }

  const leftOf = async (id: string) => {
    const rows: Record<string, number> = { jobs: await count(`jobs WHERE id = $1`, id) };
    for (const [table, column] of DEPENDANTS) rows[table] = await count(`${table} WHERE ${column} = $1`, id);
    return rows;
  };
  const all = (n: number) =>
    Object.fromEntries([
      ['jobs', n],
      ...DEPENDANTS.map(([t]) => [t, t === 'job_events' ? 3 * n : t === 'callback_attempts' ? 2 * n : n]),
    ]);

  it('deletes old terminal jobs with all that hangs off them and keeps the rest', async () => {
    const old = await Promise.all(
      ['completed', 'failed', 'cancelled', 'expired'].map((s) => job(s, 40, s === 'failed' ? 'failed' : 'delivered')),
    );
    const noSeries = await job('completed', 40, null);
    const recent = await job('completed', 10);
    const running = await job('running', 40, null);
    const pending = await job('pending', 40, null);
    const deleted = await runJobRetention(new JobRetentionStore(db), logger, { retentionDays: 30, batchSize: 1000 });
    expect(deleted).toBe(5);
    for (const id of [...old, noSeries]) expect(Object.values(await leftOf(id)).every((n) => n === 0)).toBe(true);
    expect(await leftOf(recent)).toEqual(all(1));
    for (const id of [running, pending]) expect((await leftOf(id)).jobs).toBe(1);
    // Uploads are user data: they stay, unlinked from the deleted processing job.
    expect(await count(`files`)).toBe(8);
    expect(await count(`files WHERE job_id IS NULL`)).toBe(5);
    expect(await deletedCount('jobs')).toBe(5);
    expect(await deletedCount('job_events')).toBe(15);
    expect(await deletedCount('callback_deliveries')).toBe(4);
    expect(await deletedCount('callback_attempts')).toBe(8);
    for (const t of ['steps', 'messages', 'llm_batch_jobs', 'llm_batch_items']) expect(await deletedCount(t)).toBe(5);
  });

  it('keeps a job whose callback series is still being delivered until it is delivered', async () => {
    const queued = await job('completed', 40, 'queued');
    const unqueued = await job('failed', 40, 'pending');
    const store = new JobRetentionStore(db);
    expect(await runJobRetention(store, logger, { retentionDays: 30, batchSize: 100 })).toBe(0);
    expect(await leftOf(queued)).toEqual(all(1));
    expect(await leftOf(unqueued)).toEqual(all(1));
    await sql(`UPDATE callback_deliveries SET state = 'delivered' WHERE job_id = $1`, queued);
    expect(await runJobRetention(store, logger, { retentionDays: 30, batchSize: 100 })).toBe(1);
    expect((await leftOf(queued)).jobs).toBe(0);
    expect((await leftOf(unqueued)).jobs).toBe(1);
  });

  it('deletes old ended series left behind by deleted jobs, with their attempts', async () => {
    const [oldEnded, oldFailed, oldQueued, recentEnded] = await Promise.all([
      job('completed', 40, 'delivered'),
      job('failed', 40, 'failed'),
      job('completed', 40, 'queued'),
      job('completed', 40, 'delivered'),
    ]);
    // Deleted through the API: the job row goes, its series stays (it may still have to be delivered).
    await sql(`DELETE FROM jobs WHERE id = ANY($1::text[])`, [oldEnded, oldFailed, oldQueued, recentEnded]);
    await sql(`UPDATE callback_deliveries SET updated_at = now() - interval '40 days' WHERE job_id <> $1`, recentEnded);
    expect(await runJobRetention(new JobRetentionStore(db), logger, { retentionDays: 30, batchSize: 100 })).toBe(0);
    const left = await db.$queryRawUnsafe<{ job_id: string; attempts: number }[]>(
      `SELECT c.job_id, (SELECT count(*)::int FROM callback_attempts a WHERE a.webhook_id = c.webhook_id) AS attempts FROM callback_deliveries c ORDER BY c.job_id`,
    );
    expect(left).toEqual(
      [
        { job_id: oldQueued, attempts: 2 },
        { job_id: recentEnded, attempts: 2 },
      ].sort((a, b) => a.job_id.localeCompare(b.job_id)),
    );
    expect(await deletedCount('callback_deliveries')).toBe(2);
    expect(await deletedCount('callback_attempts')).toBe(4);
  });

  it('does nothing when JOB_RETENTION_DAYS is 0', async () => {
    const id = await job('completed', 4000);
    expect(await runJobRetention(new JobRetentionStore(db), logger, { retentionDays: 0, batchSize: 100 })).toBe(0);
    expect((await leftOf(id)).jobs).toBe(1);
  });

  it('deletes in batches of at most the batch size, stopping at a short batch or at the per-run bound', async () => {
    await Promise.all(Array.from({ length: 7 }, () => job('completed', 40, null)));
    const store = new JobRetentionStore(db);
    const sizes: number[] = [];
    const spy = {
      deleteBatch: async (cutoff: Date, limit: number) => {
        const r = await store.deleteBatch(cutoff, limit);
        sizes.push(r.jobs);
        return r;
      },
      deleteOrphanSeries: (cutoff: Date, limit: number) => store.deleteOrphanSeries(cutoff, limit),
    } as unknown as JobRetentionStore;
    expect(
      await runJobRetention(spy, logger, { retentionDays: 30, batchSize: 3, maxBatchesPerRun: 2, pauseMs: 0 }),
    ).toBe(6);
    expect(sizes).toEqual([3, 3]);
    expect(await count(`jobs`)).toBe(1);
    sizes.length = 0;
    expect(await runJobRetention(spy, logger, { retentionDays: 30, batchSize: 3, pauseMs: 0 })).toBe(1);
    expect(sizes).toEqual([1]);
    expect(await deletedCount('jobs')).toBe(7);
  });
});

describe('job retention in the worker', () => {
  it('runs as a step of the reconciler sweep with JOB_RETENTION_DAYS', async () => {
    const stack = await startStack({ worker: true, env: { JOB_RETENTION_DAYS: '7', SWEEP_INTERVAL_MS: '600000' } });
    try {
      const db = stack.api.deps.db;
      const [org] = await db.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM organizations LIMIT 1`);
      const old = `job-${randomUUID()}`;
      const recent = `job-${randomUUID()}`;
      for (const [id, days] of [
        [old, 8],
        [recent, 6],
      ] as const) {
        await db.$executeRawUnsafe(
          `INSERT INTO jobs (id, organization_id, user_id, task, status, created_at, updated_at, completed_at)
           VALUES ($1, $2, 'user-x', 'noop', 'completed', now() - make_interval(days => $3), now() - make_interval(days => $3), now() - make_interval(days => $3))`,
          id,
          org!.id,
          days,
        );
      }
      const report = await stack.worker!.reconciler.sweepOnce();
      // The leader's own first sweep may have run the step just before this one did.
      expect(report.extra['retention']).toBeGreaterThanOrEqual(0);
      const left = await db.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM jobs WHERE id = ANY($1::text[])`, [
        old,
        recent,
      ]);
      expect(left.map((r) => r.id)).toEqual([recent]);
    } finally {
      await stack.stop();
    }
  });
});
