import { AccountStore, createDb, type Db } from '../../packages/db/src';
import { createTestDatabase, type TestDatabase } from '../support/database';

const OPERATOR_KEY = 'jsk_key_lookups_operator_0123456789abcdef';

/**
 * A key's cache entry expires for every request at once: the requests then in flight with that key share one
 * database lookup, and a revocation heard meanwhile is never answered from that shared lookup.
 */
describe('API key lookups on a cache miss', () => {
  let database: TestDatabase;
  let db: Db;
  let accounts: AccountStore;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url, 4);
    accounts = new AccountStore(db);
    await accounts.bootstrap(OPERATOR_KEY);
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await db.$disconnect();
    await database.drop();
  });

  it('concurrent requests that miss the cache share one lookup', async () => {
    accounts.keys.clear();
    const lookups = jest.spyOn(db.apiKey, 'findUnique');
    try {
      const actors = await Promise.all(Array.from({ length: 50 }, () => accounts.authenticate(OPERATOR_KEY)));
      expect(lookups).toHaveBeenCalledTimes(1);
      expect(new Set(actors.map((a) => a?.keyId)).size).toBe(1);
      expect(actors[0]).toMatchObject({ role: 'operator' });
      // The shared lookup filled the cache: the next request reads nothing.
      await accounts.authenticate(OPERATOR_KEY);
      expect(lookups).toHaveBeenCalledTimes(1);
    } finally {
      lookups.mockRestore();
    }
  });

  it('a request after a revocation does not join a lookup that began before it', async () => {
    const user = (await db.user.findFirst())!;
    const clearKey = 'jsk_key_lookups_member_0123456789abcdef';
    const member = await accounts.insertKey(user.id, user.organizationId, 'member', clearKey);
    accounts.keys.clear();
    const before = accounts.authenticate(clearKey);
    await db.apiKey.update({ where: { id: member.id }, data: { revokedAt: new Date() } });
    accounts.keys.forgetKey(member.id); // what the revocation message does in every process
    const after = accounts.authenticate(clearKey);
    await before;
    expect(await after).toBeNull();
    // Nor did the lookup begun before the revocation leave the key in the cache.
    expect(await accounts.authenticate(clearKey)).toBeNull();
  });
});
