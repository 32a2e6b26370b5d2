import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';
import { createTenant, expectStatus, type Tenant } from '../support/tenants';

interface User {
  id: string;
  organization_id: string;
  name: string;
  created_at: string;
}
interface Problem {
  errors?: { path: string }[];
}

/** GET /api/admin/users: an admin sees its organization's users, an operator every organization's or one's. */
describe('GET /api/admin/users', () => {
  let stack: TestStack;
  let a: Tenant;
  let b: Tenant;
  /** Users of organization a, oldest first (the tenant's own user first). */
  let usersA: User[];
  let userB: User;

  const get = async (query: string, key: string | undefined) => stack.request('GET', `/api/admin/users${query}`, undefined, key);
  const ids = (users: User[]) => users.map((u) => u.id);

  beforeAll(async () => {
    stack = await startStack({ checkContract: true });
    a = await createTenant(stack, 'users-a');
    b = await createTenant(stack, 'users-b');
    const created: User[] = [];
    for (const name of ['Ann', 'Bob', 'Cy', 'Dee']) {
      created.push(expectStatus<User>(await stack.request('POST', '/api/admin/users', { organization_id: a.orgId, name }, a.adminKey), 201));
    }
    const own = expectStatus<User[]>(await get('', a.adminKey), 200).find((u) => u.id === a.userId)!;
    usersA = [own, ...created].sort((x, y) => x.created_at.localeCompare(y.created_at) || (x.id < y.id ? -1 : 1));
    userB = expectStatus<User[]>(await get('', b.adminKey), 200)[0]!;
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('answers 403 to a member', async () => {
    expect((await get('', a.memberKey)).status).toBe(403);
  });

  it("lists an admin's organization only, oldest first, whatever organization_id it passes", async () => {
    const users = expectStatus<User[]>(await get('', a.adminKey), 200);
    expect(ids(users)).toEqual(ids(usersA));
    expect(users[1]).toEqual({ id: usersA[1]!.id, organization_id: a.orgId, name: usersA[1]!.name, created_at: usersA[1]!.created_at });
    const other = expectStatus<User[]>(await get(`?organization_id=${b.orgId}`, a.adminKey), 200);
    expect(ids(other)).toEqual(ids(usersA));
  });

  it("lets an operator see every organization's users, or filter by one", async () => {
    const all: User[] = [];
    let next: string | null = '?limit=1000';
    while (next) {
      const r = await get(next, OPERATOR_KEY);
      all.push(...expectStatus<User[]>(r, 200));
      const link = r.headers.get('link');
      next = link ? /<\/api\/admin\/users([^>]*)>; rel="next"/.exec(link)![1]! : null;
    }
    expect(ids(all)).toEqual(expect.arrayContaining([...ids(usersA), userB.id]));
    expect(ids(expectStatus<User[]>(await get(`?organization_id=${b.orgId}`, OPERATOR_KEY), 200))).toEqual([userB.id]);
    expect(ids(expectStatus<User[]>(await get(`?organization_id=${a.orgId}&order=desc`, OPERATOR_KEY), 200))).toEqual(ids(usersA).reverse());
  });

  it('pages by keyset with a next link that keeps the query', async () => {
    const pages: User[][] = [];
    let next: string | null = `?limit=2&organization_id=${a.orgId}`;
    while (next) {
      const r = await get(next, OPERATOR_KEY);
      pages.push(expectStatus<User[]>(r, 200));
      const link = r.headers.get('link');
      if (link) expect(link).toContain(`organization_id=${a.orgId}`);
      next = link ? /<\/api\/admin\/users([^>]*)>; rel="next"/.exec(link)![1]! : null;
      if (pages.length > 10) throw new Error('pagination does not end');
    }
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(ids(pages.flat())).toEqual(ids(usersA));
    const before = expectStatus<User[]>(await get(`?limit=2&before=${usersA[3]!.id}`, a.adminKey), 200);
    expect(ids(before)).toEqual(ids(usersA.slice(1, 3)));
  });

  it("answers 400 for another organization's user as an admin's cursor, and for a malformed query", async () => {
    expect(expectStatus<Problem>(await get(`?after=${userB.id}`, a.adminKey), 400).errors?.map((e) => e.path)).toEqual(['after']);
    expect(expectStatus<Problem>(await get('?limit=0', a.adminKey), 400).errors?.map((e) => e.path)).toEqual(['limit']);
    expect(expectStatus<Problem>(await get('?organization_id=nope', OPERATOR_KEY), 400).errors?.map((e) => e.path)).toEqual(['organization_id']);
  });
});
