import { Client } from 'pg';
import { startStack, type TestStack } from '../support/stack';
import { expectStatus } from '../support/tenants';

interface Job {
  id: string;
  input: Record<string, unknown>;
  result: unknown;
}

const LIMIT = 16 * 1024;
/** What API.md's n is: the UTF-8 bytes of the value's JSON as GET /api/jobs/{id} serialises it. */
const bytesOf = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

/**
 * Issue 10 item 19 (API.md, second version): lists return each Job's `input` and `result` whole up to 16 KiB
 * each, else `{"truncated": true, "bytes": n}`; `GET /api/jobs/{id}` always returns them whole.
 */
describe('lists truncate input and result past 16 KiB', () => {
  let stack: TestStack;
  let pg: Client;

  beforeAll(async () => {
    // Polling on: POST /api/batches may refuse batches while it is off (issue 10 item 4).
    stack = await startStack({ env: { ENABLE_BATCH_JOB_POLLING: 'true' } });
    pg = new Client({ connectionString: stack.database.url });
    await pg.connect();
  });
  afterAll(async () => {
    await pg.end();
    await stack.stop();
  });

  const create = async (body: unknown): Promise<Job> => {
    const job = expectStatus<Job>(await stack.request('POST', '/api/jobs', { task: 'http.request', input: { url: 'http://127.0.0.1:9/x', body } }), 201);
    return expectStatus<Job>(await stack.request('GET', `/api/jobs/${job.id}`), 200);
  };
  const listed = async (path: string, id: string): Promise<Job> => {
    const jobs = expectStatus<Job[]>(await stack.request('GET', path), 200);
    const job = jobs.find((j) => j.id === id);
    if (!job) throw new Error(`${id} not in ${path}`);
    return job;
  };
  /** A job whose input's JSON is exactly `target` bytes, padded with `unit` (1 or 2 UTF-8 bytes). */
  const inputOfBytes = async (target: number, unit = 'x', prefix = ''): Promise<Job> => {
    const probe = await create(prefix);
    const pad = target - bytesOf(probe.input);
    const per = Buffer.byteLength(unit);
    if (pad % per !== 0) throw new Error('target not reachable with this unit');
    const job = await create(prefix + unit.repeat(pad / per));
    expect(bytesOf(job.input)).toBe(target);
    return job;
  };

  it('an input of exactly 16384 bytes is listed whole; 16385 is replaced by {truncated, bytes}', async () => {
    const whole = await inputOfBytes(LIMIT);
    const over = await inputOfBytes(LIMIT + 1);
    for (const path of ['/api/jobs', '/api/jobs/active']) {
      expect((await listed(path, whole.id)).input).toEqual(whole.input);
      expect((await listed(path, over.id)).input).toEqual({ truncated: true, bytes: LIMIT + 1 });
    }
    expect(expectStatus<Job>(await stack.request('GET', `/api/jobs/${over.id}`), 200).input).toEqual(over.input);
  }, 60_000);

  it('bytes counts UTF-8 bytes, not characters', async () => {
    // 'é' is two bytes: whichever of 16385 and 16386 the padding can reach.
    const base = bytesOf((await create('')).input);
    const target = (LIMIT + 1 - base) % 2 === 0 ? LIMIT + 1 : LIMIT + 2;
    const over = await inputOfBytes(target, 'é');
    expect(JSON.stringify(over.input).length).toBeLessThan(LIMIT);
    expect((await listed('/api/jobs', over.id)).input).toEqual({ truncated: true, bytes: target });
  }, 60_000);

  it("bytes is the API's JSON, not Postgres' text (no spaces after , and :, numbers as JSON.stringify writes them)", async () => {
    // Postgres prints 1e21 as 22 digits plus ", ": its text is ~4x the API's JSON.
    const small = await create(Array<number>(2500).fill(1e21));
    expect(bytesOf(small.input)).toBeLessThanOrEqual(LIMIT);
    const big = await create(Array<number>(2800).fill(1e21));
    const n = bytesOf(big.input);
    expect(n).toBeGreaterThan(LIMIT);
    expect((await listed('/api/jobs', small.id)).input).toEqual(small.input);
    expect((await listed('/api/jobs', big.id)).input).toEqual({ truncated: true, bytes: n });
    const keyed = await create(Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`k${i}`, [i, 'a']])));
    expect((await listed('/api/jobs', keyed.id)).input).toEqual(bytesOf(keyed.input) > LIMIT ? { truncated: true, bytes: bytesOf(keyed.input) } : keyed.input);
  }, 60_000);

  it('a result past 16 KiB is truncated in the list and whole by id', async () => {
    const job = await create('');
    const result = { text: 'ü'.repeat(9000), n: [1e-7, 1e21, 0.5] };
    await stack.api.deps.jobs.transition(job.id, 'running');
    await stack.api.deps.jobs.transition(job.id, 'completed', { result });
    const full = expectStatus<Job>(await stack.request('GET', `/api/jobs/${job.id}`), 200);
    expect(full.result).toEqual(result);
    expect((await listed('/api/jobs', job.id)).result).toEqual({ truncated: true, bytes: bytesOf(full.result) });
    const small = await create('');
    await stack.api.deps.jobs.transition(small.id, 'running');
    await stack.api.deps.jobs.transition(small.id, 'completed', { result: { ok: true } });
    expect((await listed('/api/jobs', small.id)).result).toEqual({ ok: true });
  }, 60_000);

  it('batch lists (/api/batches) truncate the requests of a large batch', async () => {
    const requests = Array.from({ length: 40 }, (_, i) => ({ custom_id: `c${i}`, params: { model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'q'.repeat(600) }] } }));
    const created = expectStatus<Job>(await stack.request('POST', '/api/batches', { requests }), 201);
    const full = expectStatus<Job>(await stack.request('GET', `/api/jobs/${created.id}`), 200);
    expect((await listed('/api/batches', created.id)).input).toEqual({ truncated: true, bytes: bytesOf(full.input) });
    expect(expectStatus<Job>(await stack.request('GET', `/api/batches/${created.id}`), 200).input).toEqual(full.input);
  }, 60_000);

  it('rows written before the size columns existed are still truncated by their size', async () => {
    // Separators and escapes inside a string must not be taken for Postgres' ", " and ": ".
    const tricky = 'a, "b": \\", c: d, ';
    const over = await inputOfBytes(LIMIT + 1, 'x', tricky);
    // Postgres' text of this one is over 16 KiB (a space after each of its 9 separators): it is counted.
    const whole = await inputOfBytes(LIMIT - 3, 'x', tricky);
    await pg.query('UPDATE jobs SET input_bytes = NULL WHERE id = ANY($1)', [[over.id, whole.id]]);
    expect((await listed('/api/jobs', over.id)).input).toEqual({ truncated: true, bytes: LIMIT + 1 });
    expect((await listed('/api/jobs', whole.id)).input).toEqual(whole.input);
    const text = await pg.query<{ n: number }>('SELECT octet_length(input::text) AS n FROM jobs WHERE id = $1', [whole.id]);
    expect(text.rows[0]!.n).toBeGreaterThan(LIMIT);
  }, 60_000);
});
