import { Client } from 'pg';
import { createJobBodySchema, type Actor, type JobStatus } from '../../../packages/core/src';
import { AccountStore, JobStore, createDb, type Db, type JobRow } from '../../../packages/db/src';
import type { TransitionColumn, TransitionStatement } from '../../../packages/db/src/sql';
import { createTestDatabase, type TestDatabase } from '../../support/database';

/** One item of a statement run: the columns it sets; the others are null (or false for the flags). */
export type StatementItem = Partial<Record<TransitionColumn, unknown>>;

const FLAGS: readonly TransitionColumn[] = ['setError', 'setResult', 'throughPending', 'unlessExpired'];

export interface EventRow {
  seq: number;
  from_status: string | null;
  to_status: string;
  attempt: number;
  worker_id: string | null;
  reason: string | null;
}

/**
 * A fresh database with one organization, and a raw pg client that runs the named statements exactly as
 * written (no JobStore, no Batcher in between).
 */
export class StatementWorld {
  private database!: TestDatabase;
  private db!: Db;
  private jobs!: JobStore;
  private actor!: Actor;
  client!: Client;

  async open(): Promise<void> {
    this.database = await createTestDatabase();
    this.db = createDb(this.database.url, 2);
    this.jobs = new JobStore(this.db);
    const accounts = new AccountStore(this.db);
    const org = await accounts.createOrganization('sql-org');
    const user = await this.db.user.create({
      data: { id: `user-${crypto.randomUUID()}`, organizationId: org.id, name: 'sql-user' },
    });
    const key = await accounts.insertKey(user.id, org.id, 'member', `jsk_test_${crypto.randomUUID()}`);
    this.actor = { keyId: key.id, userId: user.id, organizationId: org.id, role: 'member' };
    this.client = new Client({ connectionString: this.database.url });
    await this.client.connect();
  }

  async close(): Promise<void> {
    await this.client.end();
    await this.db.$disconnect();
    await this.database.drop();
  }

  /** A new job put straight into `status` with `attempts` (and any other column given). */
  async job(
    status: JobStatus,
    attempts = 0,
    body: Record<string, unknown> = {},
    columns: Record<string, unknown> = {},
  ): Promise<JobRow> {
    const { job } = await this.jobs.create(this.actor, createJobBodySchema.parse({ task: 'noop', ...body }));
    const sets = Object.keys(columns).map((c, i) => `${c} = $${i + 4}`);
    await this.client.query(
      `UPDATE jobs SET status = $2, attempts = $3${sets.length ? ', ' + sets.join(', ') : ''} WHERE id = $1`,
      [job.id, status, attempts, ...Object.values(columns)],
    );
    return this.row(job.id);
  }

  async row(id: string): Promise<JobRow> {
    return (await this.client.query<JobRow>('SELECT * FROM jobs WHERE id = $1', [id])).rows[0]!;
  }

  /** The job's events after `job` was set up (its creation event is not the statement's). */
  async events(job: JobRow): Promise<EventRow[]> {
    const sql =
      'SELECT seq, from_status, to_status, attempt, worker_id, reason FROM job_events WHERE job_id = $1 AND seq > $2 ORDER BY seq';
    return (await this.client.query<EventRow>(sql, [job.id, job.event_seq])).rows;
  }

  async deliveries(id: string): Promise<{ webhook_id: string; status: string; job_attempt: number }[]> {
    return (
      await this.client.query('SELECT webhook_id, status, job_attempt FROM callback_deliveries WHERE job_id = $1', [id])
    ).rows;
  }

  /** Runs a transition statement over `items` from the `from` statuses; its returned rows by id. */
  async run(
    statement: TransitionStatement,
    items: StatementItem[],
    from: JobStatus[],
  ): Promise<Map<string, JobRow & { prev_status: JobStatus }>> {
    const params = statement.columns.map((c) => items.map((item) => item[c] ?? (FLAGS.includes(c) ? false : null)));
    const rows = (await this.client.query<JobRow & { prev_status: JobStatus }>(statement.text, [...params, from])).rows;
    return new Map(rows.map((r) => [r.id, r]));
  }
}
