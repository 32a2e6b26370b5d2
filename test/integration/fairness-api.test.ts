import { Client } from 'pg';
import type { ApiOrganization } from '../../apps/api/src/presenters/account';
import type { ApiJob as Job } from '../../apps/api/src/presenters/job';
import { AccountStore, createDb, type Db } from '../../packages/db/src';
import { startStack, type TestStack } from '../support/stack';
import { createTenant, expectStatus, type Tenant } from '../support/tenants';

interface Problem {
  status: number;
  errors?: { path: string; message: string }[];
}

const paths = (body: unknown) => ((body as Problem).errors ?? []).map((e) => e.path);
const MISSING_ORG = 'org-00000000-0000-4000-8000-000000000000';

/** The API side of fair share (SPEC F16): a job's concurrency_key/limit and an organization's weight/max_concurrency. */
describe('fair share settings through the API', () => {
  let stack: TestStack;
  let tenant: Tenant;
  let pg: Client;
  let db: Db;

  beforeAll(async () => {
    stack = await startStack({ checkContract: true });
    tenant = await createTenant(stack, 'fair');
    pg = new Client({ connectionString: stack.database.url });
    await pg.connect();
    db = createDb(stack.database.url, 2);
  });
  afterAll(async () => {
    await db.$disconnect();
    await pg.end();
    await stack.stop();
  });

  const create = (body: unknown) => stack.request('POST', '/api/jobs', body, tenant.memberKey);
  const bulk = (jobs: unknown[]) => stack.request('POST', '/api/jobs/bulk', { jobs }, tenant.memberKey);
  const jobCount = async () =>
    Number((await pg.query<{ n: string }>('SELECT count(*) AS n FROM jobs WHERE organization_id = $1', [tenant.orgId])).rows[0]!.n);

  it('a job created with concurrency_key and concurrency_limit echoes them, stores them, and lists them; null when unset', async () => {
    const job = expectStatus<Job>(await create({ task: 'noop', concurrency_key: 'tenant-42', concurrency_limit: 3 }), 201);
    expect(job).toMatchObject({ concurrency_key: 'tenant-42', concurrency_limit: 3 });
    expect(expectStatus<Job>(await stack.request('GET', `/api/jobs/${job.id}`, undefined, tenant.memberKey), 200)).toMatchObject({
      concurrency_key: 'tenant-42',
      concurrency_limit: 3,
    });
    const listed = expectStatus<Job[]>(await stack.request('GET', '/api/jobs?limit=100', undefined, tenant.memberKey), 200);
    expect(listed.find((j) => j.id === job.id)).toMatchObject({ concurrency_key: 'tenant-42', concurrency_limit: 3 });
    const { rows } = await pg.query('SELECT concurrency_key, concurrency_limit FROM jobs WHERE id = $1', [job.id]);
    expect(rows).toEqual([{ concurrency_key: 'tenant-42', concurrency_limit: 3 }]);

    const plain = expectStatus<Job>(await create({ task: 'noop' }), 201);
    expect(plain).toMatchObject({ concurrency_key: null, concurrency_limit: null });
    // null is "not given", as for every optional create field.
    const nulls = expectStatus<Job>(await create({ task: 'noop', concurrency_key: null, concurrency_limit: null }), 201);
    expect(nulls).toMatchObject({ concurrency_key: null, concurrency_limit: null });
    const longest = expectStatus<Job>(await create({ task: 'noop', concurrency_key: 'k'.repeat(200), concurrency_limit: 10_000 }), 201);
    expect(longest).toMatchObject({ concurrency_key: 'k'.repeat(200), concurrency_limit: 10_000 });
  });

  it('the idempotency of a create takes the concurrency fields into account', async () => {
    const body = { task: 'noop', idempotency_key: 'fair-idem', concurrency_key: 'k', concurrency_limit: 2 };
    const first = expectStatus<Job>(await create(body), 201);
    expect(expectStatus<Job>(await create(body), 200).id).toBe(first.id);
    expect((await create({ ...body, concurrency_limit: 3 })).status).toBe(409);
    expect((await create({ ...body, concurrency_key: 'other' })).status).toBe(409);
    expect((await create({ task: 'noop', idempotency_key: 'fair-idem' })).status).toBe(409);
  });

  it.each([
    ['a limit without a key', { concurrency_limit: 2 }, 'concurrency_limit'],
    ['a key without a limit', { concurrency_key: 'k' }, 'concurrency_limit'],
    ['a key with a null limit', { concurrency_key: 'k', concurrency_limit: null }, 'concurrency_limit'],
    ['limit 0', { concurrency_key: 'k', concurrency_limit: 0 }, 'concurrency_limit'],
    ['limit 10001', { concurrency_key: 'k', concurrency_limit: 10_001 }, 'concurrency_limit'],
    ['a fractional limit', { concurrency_key: 'k', concurrency_limit: 1.5 }, 'concurrency_limit'],
    ['a limit as a string', { concurrency_key: 'k', concurrency_limit: '2' }, 'concurrency_limit'],
    ['a key of 201 characters', { concurrency_key: 'k'.repeat(201), concurrency_limit: 2 }, 'concurrency_key'],
    ['an empty key', { concurrency_key: '', concurrency_limit: 2 }, 'concurrency_key'],
    ['a key that is not a string', { concurrency_key: 7, concurrency_limit: 2 }, 'concurrency_key'],
  ])('a single create with %s is a 400 naming the field, and creates nothing', async (_name, fields, field) => {
    const before = await jobCount();
    const r = await create({ task: 'noop', ...fields });
    expect(r.status).toBe(400);
    expect(paths(r.body)).toEqual([field]);
    expect(await jobCount()).toBe(before);
  });

  it('a bulk create names the item and field of each bad concurrency value and creates nothing', async () => {
    const before = await jobCount();
    const r = await bulk([
      { task: 'noop', concurrency_key: 'k', concurrency_limit: 2 },
      { task: 'noop', concurrency_limit: 2 },
      { task: 'noop' },
      { task: 'noop', concurrency_key: 'k', concurrency_limit: 0 },
      { task: 'noop', concurrency_key: 'k'.repeat(201), concurrency_limit: 2 },
      { task: 'noop', concurrency_key: 'k' },
    ]);
    expect(r.status).toBe(400);
    expect(paths(r.body).sort()).toEqual(['jobs.1.concurrency_limit', 'jobs.3.concurrency_limit', 'jobs.4.concurrency_key', 'jobs.5.concurrency_limit']);
    expect(await jobCount()).toBe(before);
  });

  it('a bulk create echoes each item’s concurrency fields', async () => {
    const r = await bulk([{ task: 'noop', concurrency_key: 'a', concurrency_limit: 1 }, { task: 'noop' }, { task: 'noop', concurrency_key: 'b', concurrency_limit: 10_000 }]);
    const jobs = expectStatus<{ jobs: Job[] }>(r, 201).jobs;
    expect(jobs.map((j) => [j.concurrency_key, j.concurrency_limit])).toEqual([
      ['a', 1],
      [null, null],
      ['b', 10_000],
    ]);
  });

  it('an operator sets, keeps and clears an organization’s weight and max_concurrency; reads show them', async () => {
    const url = `/api/admin/organizations/${tenant.orgId}`;
    const fresh = expectStatus<ApiOrganization>(await stack.request('GET', url, undefined, tenant.adminKey), 200);
    expect(fresh).toMatchObject({ weight: 1, max_concurrency: null });

    const weighted = expectStatus<ApiOrganization>(await stack.request('PATCH', url, { weight: 5 }), 200);
    expect(weighted).toEqual({ ...fresh, weight: 5, max_concurrency: null });
    // A field left out keeps its value.
    expect(expectStatus<ApiOrganization>(await stack.request('PATCH', url, { max_concurrency: 3 }), 200)).toMatchObject({ weight: 5, max_concurrency: 3 });
    expect(expectStatus<ApiOrganization>(await stack.request('GET', url, undefined, tenant.adminKey), 200)).toMatchObject({ weight: 5, max_concurrency: 3 });
    const accounts = new AccountStore(db);
    expect((await accounts.fairnessSettings()).find((s) => s.id === tenant.orgId)).toEqual({ id: tenant.orgId, weight: 5, max_concurrency: 3 });

    expect(expectStatus<ApiOrganization>(await stack.request('PATCH', url, { weight: 1, max_concurrency: null }), 200)).toMatchObject({
      weight: 1,
      max_concurrency: null,
    });
    expect(expectStatus<ApiOrganization>(await stack.request('GET', url), 200)).toMatchObject({ weight: 1, max_concurrency: null });
    // Back at the defaults, the organization is no longer among those the dispatcher must treat apart.
    expect((await accounts.fairnessSettings()).map((s) => s.id)).not.toContain(tenant.orgId);
  });

  it('only an operator may set the fair share: an admin (even of its own organization) and a member are refused', async () => {
    const url = `/api/admin/organizations/${tenant.orgId}`;
    expect((await stack.request('PATCH', url, { weight: 9 }, tenant.adminKey)).status).toBe(403);
    expect((await stack.request('PATCH', url, { weight: 9 }, tenant.memberKey)).status).toBe(403);
    expect((await stack.request('PATCH', url, { weight: 9 }, null)).status).toBe(401);
    expect(expectStatus<ApiOrganization>(await stack.request('GET', url), 200).weight).toBe(1);
  });

  it('an unknown organization is a 404, a malformed id a 400', async () => {
    expect((await stack.request('PATCH', `/api/admin/organizations/${MISSING_ORG}`, { weight: 2 })).status).toBe(404);
    const r = await stack.request('PATCH', '/api/admin/organizations/org-1', { weight: 2 });
    expect(r.status).toBe(400);
    expect(paths(r.body)).toEqual(['id']);
  });

  it.each([
    ['an empty body', {}, ''],
    ['an unknown field', { weight: 2, surprise: 1 }, 'surprise'],
    ['weight 0', { weight: 0 }, 'weight'],
    ['weight 101', { weight: 101 }, 'weight'],
    ['a fractional weight', { weight: 1.5 }, 'weight'],
    ['a null weight', { weight: null }, 'weight'],
    ['max_concurrency 0', { max_concurrency: 0 }, 'max_concurrency'],
    ['max_concurrency past a Postgres integer', { max_concurrency: 2 ** 31 }, 'max_concurrency'],
    ['max_concurrency as a string', { max_concurrency: '3' }, 'max_concurrency'],
  ])('a PATCH with %s is a 400 naming the field, and changes nothing', async (_name, body, field) => {
    const url = `/api/admin/organizations/${tenant.orgId}`;
    const before = expectStatus<ApiOrganization>(await stack.request('GET', url), 200);
    const r = await stack.request('PATCH', url, body);
    expect(r.status).toBe(400);
    expect(paths(r.body)).toEqual([field]);
    expect(expectStatus<ApiOrganization>(await stack.request('GET', url), 200)).toEqual(before);
  });
});
