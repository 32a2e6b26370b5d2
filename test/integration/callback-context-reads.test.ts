import { Pool } from 'pg';
import { AccountStore, CallbackStore, createDb, type Db } from '../../packages/db/src';
import { createTestDatabase, type TestDatabase } from '../support/database';

const OPERATOR_KEY = 'jsk_callback_context_operator_0123456789abcdef';

/**
 * Every callback attempt reads its organization's signing secrets. The attempts of one organization in flight
 * together share that read: they must not queue behind each other one statement at a time (every callback
 * of a busy organization would then wait for all the reads ahead of it).
 */
describe('callback delivery context reads', () => {
  let database: TestDatabase;
  let db: Db;
  let store: CallbackStore;
  let organizationId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url, 4);
    await new AccountStore(db).bootstrap(OPERATOR_KEY);
    organizationId = (await db.user.findFirstOrThrow()).organizationId;
    await db.organization.update({ where: { id: organizationId }, data: { webhookSecret: 'whsec_context_reads_secret' } });
    store = new CallbackStore(db);
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await db.$disconnect();
    await database.drop();
  });

  it('concurrent attempts of one organization share one read, and each gets its secrets', async () => {
    const queries = jest.spyOn(Pool.prototype, 'query');
    try {
      const contexts = await Promise.all(Array.from({ length: 20 }, () => store.deliveryContext('job', organizationId)));
      const reads = queries.mock.calls.filter(([q]) => JSON.stringify(q).includes('webhook_secret'));
      // The first call goes alone at once; everything that queued behind it goes in one more statement.
      expect(reads.length).toBeLessThanOrEqual(2);
      expect(contexts.every((c) => c.secrets.length === 1)).toBe(true);
    } finally {
      queries.mockRestore();
    }
  });

  it('an organization that is gone still answers with no secrets, next to one that exists', async () => {
    const [gone, here] = await Promise.all([store.deliveryContext('job', 'org_missing'), store.deliveryContext('job', organizationId)]);
    expect(gone.secrets).toEqual([]);
    expect(here.secrets).toHaveLength(1);
  });
});
