import { Client } from 'pg';
import { startStack, type TestStack } from '../support/stack';

interface Problem {
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

/** `n` arrays nested in one another, as JSON text: `[[[...]]]`. */
const deepArrays = (n: number) => '['.repeat(n) + ']'.repeat(n);
/** `n` objects nested under key `a`, as JSON text: `{"a":{"a":...{}}}`. */
const deepObjects = (n: number) => '{"a":'.repeat(n - 1) + '{}' + '}'.repeat(n - 1);
/** The dotted path of the container at depth 65 (the body object is depth 1) under `prefix`. */
const pathAt65 = (prefix: string, depthOfPrefix: number, key: string) => [prefix, ...Array<string>(65 - depthOfPrefix).fill(key)].join('.');

/**
 * Issue 10 item 13: a small body nested thousands of levels deep is a 400 naming the path (MAX_JSON_DEPTH,
 * default 64), never a 500 and never a stored row, on every JSON body route.
 */
describe('deeply nested JSON bodies (MAX_JSON_DEPTH)', () => {
  let stack: TestStack;
  let pg: Client;
  const countRows = async () => Number((await pg.query<{ n: string }>('SELECT (SELECT count(*) FROM jobs) + (SELECT count(*) FROM organizations) AS n')).rows[0]!.n);

  beforeAll(async () => {
    stack = await startStack();
    pg = new Client({ connectionString: stack.database.url });
    await pg.connect();
  });
  afterAll(async () => {
    await pg.end();
    await stack.stop();
  });

  const expectDepth400 = async (method: string, path: string, raw: string, errorPath: string) => {
    const before = await countRows();
    const r = await stack.request(method, path, raw);
    if (r.status !== 400) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    const p = r.body as Problem;
    expect(p.errors).toEqual([{ path: errorPath, message: 'is nested deeper than MAX_JSON_DEPTH (64) allows' }]);
    expect(await countRows()).toBe(before);
  };

  it('POST /api/jobs: 100,000 levels of [ inside input is a 400 naming input.0.0…', async () => {
    await expectDepth400('POST', '/api/jobs', `{"task":"noop","input":{"x":${deepArrays(100_000)}}}`, pathAt65('input.x', 3, '0'));
  }, 60_000);

  it('POST /api/jobs: 100,000 levels of [ inside metadata, or in an unknown field, is a 400 naming it', async () => {
    await expectDepth400('POST', '/api/jobs', `{"task":"noop","metadata":{"m":${deepArrays(100_000)}}}`, pathAt65('metadata.m', 3, '0'));
    await expectDepth400('POST', '/api/jobs', `{"task":"noop","colour":${deepObjects(100_000)}}`, pathAt65('colour', 2, 'a'));
    await expectDepth400('POST', '/api/jobs', deepArrays(100_000), Array<string>(64).fill('0').join('.'));
  }, 60_000);

  it('POST /api/batches: a deep request under its large body limit is a 400, also past MAX_BODY_BYTES', async () => {
    const params = (n: number) => `{"requests":[{"custom_id":"a","params":{"model":"m","max_tokens":1,"messages":${deepArrays(n)}}}]}`;
    await expectDepth400('POST', '/api/batches', params(100_000), pathAt65('requests.0.params.messages', 5, '0'));
    // 2 MB of brackets: over MAX_BODY_BYTES, under MAX_BATCH_BODY_BYTES.
    await expectDepth400('POST', '/api/batches', params(1_000_000), pathAt65('requests.0.params.messages', 5, '0'));
  }, 60_000);

  it('admin routes: a deep name is a 400, never a 500', async () => {
    await expectDepth400('POST', '/api/admin/organizations', `{"name":${deepArrays(100_000)}}`, pathAt65('name', 2, '0'));
  }, 60_000);

  it('depth 64 passes the depth check; 65 does not', async () => {
    // The body is depth 1, metadata 2: 62 more nested objects under it reach 64.
    const ok = await stack.request('POST', '/api/jobs', `{"task":"noop","metadata":${deepObjects(63)}}`);
    expect(ok.status).toBe(201);
    await expectDepth400('POST', '/api/jobs', `{"task":"noop","metadata":${deepObjects(64)}}`, pathAt65('metadata', 2, 'a'));
  }, 60_000);

  it('idempotent creates of deep-but-allowed bodies compare equal whatever the key order', async () => {
    const a = await stack.request('POST', '/api/jobs', `{"task":"noop","idempotency_key":"deep-1","metadata":{"x":1,"y":${deepObjects(60)}}}`);
    expect(a.status).toBe(201);
    const b = await stack.request('POST', '/api/jobs', `{"metadata":{"y":${deepObjects(60)},"x":1},"idempotency_key":"deep-1","task":"noop"}`);
    expect(b.status).toBe(200);
    expect((b.body as { id: string }).id).toBe((a.body as { id: string }).id);
  }, 60_000);
});
