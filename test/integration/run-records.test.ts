import { createJobBodySchema, type Actor, type RunRecord } from '../../packages/core/src';
import { AccountStore, JobStore, createDb, type Db } from '../../packages/db/src';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { toApiMessage, toApiStep } from '../../apps/api/src/presenters/run';

const record = (text: string): RunRecord => ({
  step: { provider: 'anthropic', model: 'm', stop_reason: 'end_turn', usage: { input_tokens: 3, output_tokens: 2, service_tier: 'standard' }, ttft_ns: 5_000_000n, duration_ns: 9_000_000n },
  messages: [
    { role: 'user', content: [{ type: 'text', text }] },
    { role: 'assistant', content: [{ type: 'text', text: `Echo: ${text}` }] },
  ],
});

/** The JobStore's run methods over real Postgres: the step and messages exist exactly with the completion. */
describe('JobStore run records (real Postgres)', () => {
  let database: TestDatabase;
  let db: Db;
  let jobs: JobStore;
  let alice: Actor;
  let bob: Actor;
  const page = { order: 'asc' as const, limit: 100 };
  const newRun = async (actor: Actor) =>
    (await jobs.create(actor, { ...createJobBodySchema.parse({ task: 'anthropic.message', input: {} }), job_type: 'run' })).job;
  const start = async (id: string) => (await jobs.transition(id, 'running', { from: ['created'], throughPending: true }))!;
  const counts = async (id: string) => {
    const [s] = await db.$queryRawUnsafe<{ steps: bigint; messages: bigint }[]>(
      'SELECT (SELECT count(*) FROM steps WHERE job_id = $1) AS steps, (SELECT count(*) FROM messages WHERE job_id = $1) AS messages',
      id,
    );
    return { steps: Number(s!.steps), messages: Number(s!.messages) };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url, 10);
    jobs = new JobStore(db);
    const accounts = new AccountStore(db);
    const actorFor = async (name: string): Promise<Actor> => {
      const org = await accounts.createOrganization(name);
      const user = await db.user.create({ data: { id: `user-${crypto.randomUUID()}`, organizationId: org.id, name } });
      const key = await accounts.insertKey(user.id, org.id, 'member', `jsk_test_${crypto.randomUUID()}`);
      return { keyId: key.id, userId: user.id, organizationId: org.id, role: 'member' };
    };
    alice = await actorFor('alice');
    bob = await actorFor('bob');
  });
  afterAll(async () => {
    await db.$disconnect();
    await database.drop();
  });

  it('completion writes the step and the messages in order, with the timings; reads are organization-scoped', async () => {
    const run = await newRun(alice);
    const running = await start(run.id);
    await jobs.recordTtft(run.id, running.attempts, 5_000_000n);
    await jobs.recordResponseDuration(run.id, running.attempts, 9_000_000n);
    const done = await jobs.transition(run.id, 'completed', { from: ['running'], attempt: running.attempts, result: { role: 'assistant' }, run: record('hi') });
    expect(done).toMatchObject({ status: 'completed' });
    expect(Number(done!.ttft_ns)).toBe(5_000_000);
    expect(Number(done!.total_duration_ns)).toBe(9_000_000);
    const steps = (await jobs.getJobSteps(alice, run.id, page)).map(toApiStep);
    expect(steps).toEqual([
      expect.objectContaining({ run_id: run.id, provider: 'anthropic', stop_reason: 'end_turn', ttft_ns: 5_000_000, duration_ns: 9_000_000, usage: { input_tokens: 3, output_tokens: 2, service_tier: 'standard' } }),
    ]);
    const messages = (await jobs.getRunMessages(alice, run.id, page)).map(toApiMessage);
    expect(messages.map((m) => [m.role, m.step_id])).toEqual([
      ['user', steps[0]!.id],
      ['assistant', steps[0]!.id],
    ]);
    expect((await jobs.getStepMessages(alice, steps[0]!.id, { ...page, order: 'desc' })).map(toApiMessage)).toEqual([...messages].reverse());
    await expect(jobs.getRunMessages(bob, run.id, page)).rejects.toMatchObject({ status: 404 });
    await expect(jobs.getJobSteps(bob, run.id, page)).rejects.toMatchObject({ status: 404 });
    await expect(jobs.getStepMessages(bob, steps[0]!.id, page)).rejects.toMatchObject({ status: 404 });
  });

  it('a completion that loses its guard (cancelled meanwhile) writes no step, no messages, no timing', async () => {
    const run = await newRun(alice);
    const running = await start(run.id);
    await jobs.cancel(alice, run.id);
    await jobs.recordTtft(run.id, running.attempts, 1n);
    const late = await jobs.transition(run.id, 'completed', { from: ['running'], attempt: running.attempts, result: {}, run: record('late') });
    expect(late).toBeNull();
    expect(await counts(run.id)).toEqual({ steps: 0, messages: 0 });
    expect((await jobs.get(alice, run.id)).ttft_ns).toBeNull();
  });

  it('concurrent completions of many runs (one batched statement) each get their own step and messages', async () => {
    const runs = await Promise.all(Array.from({ length: 12 }, () => newRun(alice)));
    const started = await Promise.all(runs.map((r) => start(r.id)));
    const done = await Promise.all(started.map((r, i) => jobs.transition(r.id, 'completed', { from: ['running'], attempt: r.attempts, result: {}, run: record(`n${i}`) })));
    expect(done.every((d) => d?.status === 'completed')).toBe(true);
    for (const [i, r] of runs.entries()) {
      const messages = await jobs.getRunMessages(alice, r.id, page);
      expect(messages.map((m) => (m.content as { text: string }[])[0]!.text)).toEqual([`n${i}`, `Echo: n${i}`]);
    }
  });

  it('a job that is not a run has no steps or messages (404)', async () => {
    const plain = (await jobs.create(alice, createJobBodySchema.parse({ task: 'noop' }))).job;
    await expect(jobs.getRunMessages(alice, plain.id, page)).rejects.toMatchObject({ status: 404 });
  });
});
