import { BadRequestError, createJobBodySchema, type Actor } from '../../packages/core/src';
import { AccountStore, BatchStore, JobStore, createDb, type Db } from '../../packages/db/src';
import { createTestDatabase, type TestDatabase } from '../support/database';

/** The admin batch list on the shared keyset helper: newest first, `after` cursors scoped to what the caller sees. */
describe('BatchStore.listForAdmin (real Postgres)', () => {
  let database: TestDatabase;
  let db: Db;
  let jobs: JobStore;
  let batches: BatchStore;
  let alice: Actor;
  let bob: Actor;
  let operator: Actor;
  const aliceBatches: string[] = [];
  let bobBatch: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url, 4);
    jobs = new JobStore(db);
    batches = new BatchStore(db);
    const accounts = new AccountStore(db);
    const actorFor = async (name: string, role: Actor['role']): Promise<Actor> => {
      const org = await accounts.createOrganization(name);
      const user = await db.user.create({ data: { id: `user-${crypto.randomUUID()}`, organizationId: org.id, name } });
      const key = await accounts.insertKey(user.id, org.id, role, `jsk_test_${crypto.randomUUID()}`);
      return { keyId: key.id, userId: user.id, organizationId: org.id, role };
    };
    alice = await actorFor('alice', 'admin');
    bob = await actorFor('bob', 'admin');
    operator = await actorFor('ops', 'operator');
    const batchOf = async (actor: Actor) => {
      const { job } = await jobs.create(actor, { ...createJobBodySchema.parse({ task: 'noop' }), job_type: 'batch' });
      await batches.prepare(job.id, [{ custom_id: 'a', params: {} }]);
      return job.id;
    };
    for (let i = 0; i < 3; i++) aliceBatches.push(await batchOf(alice));
    bobBatch = await batchOf(bob);
  });

  afterAll(async () => {
    await db.$disconnect();
    await database.drop();
  });

  it('an admin pages through its own organization’s batches, newest first', async () => {
    const newestFirst = [...aliceBatches].reverse();
    const first = await batches.listForAdmin(alice, { limit: 2 });
    expect(first.map((b) => b.job_id)).toEqual(newestFirst.slice(0, 2));
    expect(first[0]).toMatchObject({ organization_id: alice.organizationId, status: 'created', provider: 'anthropic' });
    const next = await batches.listForAdmin(alice, { limit: 2, after: first[1]!.job_id });
    expect(next.map((b) => b.job_id)).toEqual(newestFirst.slice(2));
  });

  it('an admin’s cursor from another organization, or an unknown one, is a 400 naming after', async () => {
    for (const after of [bobBatch, 'job-00000000-0000-4000-8000-000000000000']) {
      const err = await batches.listForAdmin(alice, { limit: 2, after }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BadRequestError);
      expect(err).toMatchObject({ status: 400, errors: [{ path: 'after', message: 'unknown batch job id' }] });
    }
  });

  it('an operator lists every organization, or one; any batch is a cursor', async () => {
    expect((await batches.listForAdmin(operator, { limit: 10 })).map((b) => b.job_id)).toEqual([
      bobBatch,
      ...[...aliceBatches].reverse(),
    ]);
    expect(
      (await batches.listForAdmin(operator, { limit: 10, organizationId: bob.organizationId })).map((b) => b.job_id),
    ).toEqual([bobBatch]);
    // Bob's batch is newer than all of Alice's: after it, Alice's whole list follows.
    expect(
      (await batches.listForAdmin(operator, { limit: 10, organizationId: alice.organizationId, after: bobBatch })).map(
        (b) => b.job_id,
      ),
    ).toEqual([...aliceBatches].reverse());
  });
});
