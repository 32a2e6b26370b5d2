import { createJobBodySchema } from '../../packages/core/src';
import { startStack, type TestStack } from '../support/stack';
import { createTenant, expectStatus, type Tenant } from '../support/tenants';

interface Job {
  id: string;
  status: string;
  job_type: string;
  created_at: string;
  task: string;
}

/** The list/pagination cases ported from the seeds, plus every filter of API.md. */
describe('GET /api/jobs: keyset pagination and filters', () => {
  let stack: TestStack;
  let t: Tenant;
  /** The ten jobs of the pagination cases, oldest first. */
  let ten: Job[];

  const list = async (query: string, key = t.memberKey) => {
    const r = await stack.request('GET', `/api/jobs${query}`, undefined, key);
    return { jobs: expectStatus<Job[]>(r, 200), link: r.headers.get('link') };
  };
  const ids = (jobs: Job[]) => jobs.map((j) => j.id);
  /** Follows rel="next" links from `first` until a page comes back without one. */
  const walk = async (first: string) => {
    const pages: Job[][] = [];
    let next: string | null = first;
    while (next) {
      const { jobs, link } = await list(next);
      pages.push(jobs);
      next = link ? /<\/api\/jobs([^>]*)>; rel="next"/.exec(link)![1]! : null;
      if (pages.length > 20) throw new Error('pagination does not end');
    }
    return pages;
  };

  beforeAll(async () => {
    stack = await startStack({ checkContract: true });
    t = await createTenant(stack, 'paging');
    ten = [];
    for (let i = 0; i < 10; i++) {
      ten.push(expectStatus<Job>(await stack.request('POST', '/api/jobs', { task: 'noop', agent_id: 'paging', metadata: { n: i } }, t.memberKey), 201));
    }
    // The keyset is (created_at, id): two jobs created in the same millisecond are ordered by id.
    ten.sort((x, y) => x.created_at.localeCompare(y.created_at) || (x.id < y.id ? -1 : 1));
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('lists newest first by default', async () => {
    const { jobs, link } = await list('?agent_id=paging');
    expect(ids(jobs)).toEqual(ids(ten).reverse());
    expect(link).toBeNull();
  });

  it.each(['desc', 'asc'])('pages of 3 in %s order are disjoint, ordered and cover all ten', async (order) => {
    const pages = await walk(`?agent_id=paging&order=${order}&limit=3`);
    expect(pages.map((p) => p.length)).toEqual([3, 3, 3, 1]);
    const all = pages.flat();
    expect(new Set(ids(all)).size).toBe(10);
    expect(ids(all)).toEqual(order === 'asc' ? ids(ten) : ids(ten).reverse());
  });

  it('sets rel="next" only on a full page, keeping every query parameter', async () => {
    const { link } = await list('?agent_id=paging&limit=5&status=pending&status=created,running&task=noop&order=asc');
    expect(link).not.toBeNull();
    const url = new URL(/<([^>]+)>; rel="next"/.exec(link!)![1]!, 'http://x');
    expect(url.pathname).toBe('/api/jobs');
    expect(url.searchParams.getAll('status')).toEqual(['pending', 'created,running']);
    expect(url.searchParams.get('agent_id')).toBe('paging');
    expect(url.searchParams.get('limit')).toBe('5');
    expect(url.searchParams.get('task')).toBe('noop');
    expect(url.searchParams.get('order')).toBe('asc');
    expect(url.searchParams.get('after')).toBe(ten[4]!.id);
    // A full last page still links on; the page it leads to is empty and unlinked.
    const exact = await walk('?agent_id=paging&limit=5');
    expect(exact.map((p) => p.length)).toEqual([5, 5, 0]);
    expect((await list('?agent_id=paging&limit=11')).link).toBeNull();
  });

  it('after + before give the items strictly between, in the chosen order', async () => {
    const desc = ids(ten).reverse();
    expect(ids((await list(`?agent_id=paging&after=${desc[1]}&before=${desc[7]}`)).jobs)).toEqual(desc.slice(2, 7));
    expect(ids((await list(`?agent_id=paging&after=${desc[1]}&before=${desc[7]}&limit=2`)).jobs)).toEqual(desc.slice(2, 4));
    const asc = ids(ten);
    expect(ids((await list(`?agent_id=paging&order=asc&after=${asc[0]}&before=${asc[4]}`)).jobs)).toEqual(asc.slice(1, 4));
    expect(ids((await list(`?agent_id=paging&order=asc&after=${asc[3]}&before=${asc[4]}`)).jobs)).toEqual([]);
  });

  it('before alone gives the nearest items before the cursor, in the chosen order', async () => {
    const desc = ids(ten).reverse();
    expect(ids((await list(`?agent_id=paging&before=${desc[5]}&limit=3`)).jobs)).toEqual(desc.slice(2, 5));
    expect(ids((await list(`?agent_id=paging&before=${desc[1]}&limit=3`)).jobs)).toEqual(desc.slice(0, 1));
    const asc = ids(ten);
    expect(ids((await list(`?agent_id=paging&order=asc&before=${asc[5]}&limit=3`)).jobs)).toEqual(asc.slice(2, 5));
    expect(ids((await list(`?agent_id=paging&order=asc&before=${asc[0]}`)).jobs)).toEqual([]);
  });

  it('after alone gives the page that follows the cursor', async () => {
    const desc = ids(ten).reverse();
    expect(ids((await list(`?agent_id=paging&after=${desc[2]}&limit=4`)).jobs)).toEqual(desc.slice(3, 7));
    expect(ids((await list(`?agent_id=paging&after=${desc[9]}`)).jobs)).toEqual([]);
  });

  describe('filters', () => {
    let f: Tenant;
    let other: { id: string; key: string };
    const made: Record<string, Job> = {};

    beforeAll(async () => {
      f = await createTenant(stack, 'filters');
      const user = expectStatus<{ id: string }>(await stack.request('POST', '/api/admin/users', { organization_id: f.orgId, name: 'second' }), 201);
      const key = expectStatus<{ key: string }>(await stack.request('POST', '/api/admin/api-keys', { user_id: user.id, role: 'member' }), 201);
      other = { id: user.id, key: key.key };
      const post = async (body: Record<string, unknown>, key = f.memberKey, status = 201) =>
        expectStatus<Job>(await stack.request('POST', '/api/jobs', { task: 'noop', ...body }, key), status);
      made['plain'] = await post({});
      made['agent'] = await post({ agent_id: 'agent-7' });
      made['source'] = await post({ metadata: { source_id: 'source-abc', other: 1 } });
      made['sleep'] = await post({ task: 'sleep', input: { ms: 10 } });
      made['sync'] = await post({ background: false, wait_ms: 0 }, f.memberKey, 202);
      made['byOther'] = await post({}, other.key);
      made['failed'] = await post({});
      made['cancelled'] = await post({});
      const jobs = stack.api.deps.jobs;
      await jobs.transition(made['failed'].id, 'failed', { stopReason: 'llm_api_error', error: { message: 'x', code: 'y' } });
      expectStatus(await stack.request('PATCH', `/api/jobs/${made['cancelled'].id}/cancel`, undefined, f.memberKey), 200);
      const run = await jobs.create({ keyId: f.memberKeyId, userId: f.userId, organizationId: f.orgId, role: 'member' }, { ...createJobBodySchema.parse({ task: 'noop' }), job_type: 'run' });
      made['run'] = { id: run.job.id } as Job;
    });

    const q = async (query: string, key?: string) => ids((await list(query, key ?? f.memberKey)).jobs).sort();
    const of = (...names: string[]) => names.map((n) => made[n]!.id).sort();
    const everyJob = () => of('plain', 'agent', 'source', 'sleep', 'sync', 'byOther', 'failed', 'cancelled');

    it('status: repeatable and comma-separated', async () => {
      expect(await q('?status=failed')).toEqual(of('failed'));
      expect(await q('?status=failed,cancelled')).toEqual(of('failed', 'cancelled'));
      expect(await q('?status=failed&status=cancelled')).toEqual(of('failed', 'cancelled'));
      expect(await q('?status=completed')).toEqual([]);
    });

    it('job_type (default job) and /api/runs', async () => {
      expect(await q('')).toEqual(everyJob());
      expect(await q('?job_type=run')).toEqual(of('run'));
      expect(await q('?job_type=batch')).toEqual([]);
      const runs = expectStatus<Job[]>(await stack.request('GET', '/api/runs', undefined, f.memberKey), 200);
      expect(ids(runs)).toEqual(of('run'));
      expect(expectStatus<Job>(await stack.request('GET', `/api/runs/${made['run']!.id}`, undefined, f.memberKey), 200).job_type).toBe('run');
      // A job of another type does not exist under /api/runs.
      expectStatus(await stack.request('GET', `/api/runs/${made['plain']!.id}`, undefined, f.memberKey), 404);
      // GET /api/jobs/{id} answers for any job_type.
      expect(expectStatus<Job>(await stack.request('GET', `/api/jobs/${made['run']!.id}`, undefined, f.memberKey), 200).job_type).toBe('run');
    });

    it('task, agent_id, source_id, background, stop_reason, user_id', async () => {
      expect(await q('?task=sleep')).toEqual(of('sleep'));
      expect(await q('?task=http.request')).toEqual([]);
      expect(await q('?agent_id=agent-7')).toEqual(of('agent'));
      expect(await q('?source_id=source-abc')).toEqual(of('source'));
      expect(await q('?source_id=anything%20free-form')).toEqual([]);
      expect(await q('?background=false')).toEqual(of('sync'));
      expect(await q('?background=true')).toEqual(everyJob().filter((id) => id !== made['sync']!.id).sort());
      expect(await q('?stop_reason=llm_api_error')).toEqual(of('failed'));
      expect(await q('?stop_reason=cancelled')).toEqual(of('cancelled'));
      expect(await q(`?user_id=${other.id}`)).toEqual(of('byOther'));
      expect(await q('?user_id=user-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b')).toEqual([]);
      expect(await q('?user_id=nobody')).toEqual([]);
    });

    it('combine (AND)', async () => {
      expect(await q('?task=noop&status=failed,cancelled&stop_reason=cancelled')).toEqual(of('cancelled'));
    });

    it('/api/jobs/active: created, pending and running only, oldest first, status narrows within them', async () => {
      const active = (await list('/active', f.memberKey)).jobs;
      const expected = ['plain', 'agent', 'source', 'sleep', 'sync', 'byOther']
        .map((n) => made[n]!)
        .sort((x, y) => x.created_at.localeCompare(y.created_at) || (x.id < y.id ? -1 : 1))
        .map((j) => j.id);
      expect(ids(active)).toEqual(expected);
      expect(active.every((j) => ['created', 'pending', 'running'].includes(j.status))).toBe(true);
      expect(ids((await list('/active?status=failed', f.memberKey)).jobs)).toEqual([]);
      expect(ids((await list('/active?limit=2', f.memberKey)).jobs)).toEqual(expected.slice(0, 2));
      expect(ids((await list('/active?order=desc&limit=2', f.memberKey)).jobs)).toEqual(expected.reverse().slice(0, 2));
      const { link } = await list('/active?limit=2', f.memberKey);
      expect(link).toMatch(/^<\/api\/jobs\/active\?limit=2&after=job-[^>]+>; rel="next"$/);
    });
  });
});
