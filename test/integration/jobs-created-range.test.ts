import { startStack, type TestStack } from '../support/stack';
import { createTenant, expectStatus, type Tenant } from '../support/tenants';

interface Job {
  id: string;
  created_at: string;
}
interface Problem {
  status: number;
  errors?: { path: string; message: string }[];
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** created_after / created_before on the job lists: inclusive bounds on created_at, kept across keyset pages. */
describe('GET /api/jobs: created_after and created_before', () => {
  let stack: TestStack;
  let t: Tenant;
  let early: Job[];
  let middle: Job[];
  let late: Job[];

  const create = async (n: number, agent: string) => {
    const jobs: Job[] = [];
    for (let i = 0; i < n; i++) {
      jobs.push(expectStatus<Job>(await stack.request('POST', '/api/jobs', { task: 'noop', agent_id: agent }, t.memberKey), 201));
    }
    return jobs.sort((x, y) => x.created_at.localeCompare(y.created_at) || (x.id < y.id ? -1 : 1));
  };
  const list = async (query: string) => {
    const r = await stack.request('GET', `/api/jobs${query}`, undefined, t.memberKey);
    return { jobs: expectStatus<Job[]>(r, 200), link: r.headers.get('link') };
  };
  const ids = (jobs: Job[]) => jobs.map((j) => j.id);
  const q = (s: string) => encodeURIComponent(s);

  beforeAll(async () => {
    stack = await startStack({ checkContract: true });
    t = await createTenant(stack, 'created-range');
    // Pauses keep the three groups in distinct milliseconds, so bounds taken from the middle group exclude the others.
    early = await create(3, 'range');
    await pause(25);
    middle = await create(5, 'range');
    await pause(25);
    late = await create(3, 'range');
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('keeps only jobs created within both bounds, inclusive', async () => {
    const from = middle[0]!.created_at;
    const to = middle[middle.length - 1]!.created_at;
    const { jobs } = await list(`?agent_id=range&created_after=${q(from)}&created_before=${q(to)}`);
    expect(ids(jobs)).toEqual(ids(middle).reverse());
  });

  it('takes each bound alone, and offsets other than Z', async () => {
    const { jobs: after } = await list(`?agent_id=range&order=asc&created_after=${q(middle[0]!.created_at)}`);
    expect(ids(after)).toEqual([...ids(middle), ...ids(late)]);
    const lastEarly = new Date(early[early.length - 1]!.created_at);
    // The same instant written at +02:00.
    const shifted = new Date(lastEarly.getTime() + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    const { jobs: before } = await list(`?agent_id=range&order=asc&created_before=${q(shifted)}`);
    expect(ids(before)).toEqual(ids(early));
  });

  it('combines with other filters', async () => {
    const { jobs } = await list(`?agent_id=elsewhere&created_after=${q(early[0]!.created_at)}`);
    expect(jobs).toEqual([]);
  });

  it('keeps both bounds in the next link and pages through the range', async () => {
    const from = q(middle[0]!.created_at);
    const to = q(middle[middle.length - 1]!.created_at);
    const pages: Job[][] = [];
    let next: string | null = `?agent_id=range&limit=2&created_after=${from}&created_before=${to}`;
    while (next) {
      const { jobs, link } = await list(next);
      pages.push(jobs);
      if (link) {
        expect(link).toContain('created_after=');
        expect(link).toContain('created_before=');
      }
      next = link ? /<\/api\/jobs([^>]*)>; rel="next"/.exec(link)![1]! : null;
      if (pages.length > 10) throw new Error('pagination does not end');
    }
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat().map((j) => j.id)).toEqual(ids(middle).reverse());
  });

  it.each([
    ['created_after=yesterday', 'created_after'],
    ['created_before=2026-13-01T00:00:00Z', 'created_before'],
    ['created_before=2026-12-01T10:00:00', 'created_before'],
    ['created_after=2026-12-02T00:00:00Z&created_before=2026-12-01T00:00:00Z', 'created_after'],
  ])('answers 400 naming the field for %s', async (query, field) => {
    const r = await stack.request('GET', `/api/jobs?${query}`, undefined, t.memberKey);
    const problem = expectStatus<Problem>(r, 400);
    expect(problem.errors?.map((e) => e.path)).toEqual([field]);
  });

  it('filters runs the same way', async () => {
    const r = await stack.request('GET', `/api/runs?created_after=${q(late[0]!.created_at)}`, undefined, t.memberKey);
    expect(expectStatus<Job[]>(r, 200)).toEqual([]);
    const bad = await stack.request('GET', '/api/runs?created_before=nope', undefined, t.memberKey);
    expect(expectStatus<Problem>(bad, 400).errors?.map((e) => e.path)).toEqual(['created_before']);
  });
});
