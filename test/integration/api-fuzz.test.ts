import { startStack, type TestStack } from '../support/stack';

/** A small seeded PRNG (mulberry32), so a failure can be replayed with the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.FUZZ_SEED ?? 20261122);

/**
 * "Nothing else ever answers 500 for a client's mistake" (API.md): random bodies, queries and path ids
 * only ever get the documented answers.
 */
describe(`API under random input (seed ${SEED})`, () => {
  let stack: TestStack;
  const rnd = prng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

  const scalars: readonly unknown[] = [
    null, true, false, 0, -1, 1, 1.5, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, '', ' ', 'x', 'noop', 'sleep', '0', '-1',
    '2999-01-01T00:00:00Z', '2000-01-01T00:00:00Z', 'http://127.0.0.1/x', 'ftp://x', '\u0000', '\ud800', '😀', 'a'.repeat(300),
  ];
  const value = (depth = 0): unknown => {
    const r = rnd();
    if (depth > 2 || r < 0.6) return pick(scalars);
    if (r < 0.8) return Array.from({ length: Math.floor(rnd() * 3) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 3) }, () => [pick(['ms', 'fail', 'a', 'source_id', '']), value(depth + 1)]));
  };
  const fields = ['task', 'input', 'background', 'metadata', 'agent_id', 'callback_url', 'priority', 'max_attempts', 'backoff_ms', 'timeout_ms', 'delay_ms', 'expires_at', 'idempotency_key', 'wait_ms', 'unknown_field'];

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('create: random bodies get 200/201/202, 400, 409 or 413 problems, never a 500', async () => {
    const seen = new Map<number, number>();
    for (let i = 0; i < 150; i++) {
      const body: Record<string, unknown> = {};
      if (rnd() < 0.8) body['task'] = pick(['noop', 'sleep', 'nope', 7, null]);
      for (const f of fields) if (rnd() < 0.3) body[f] = value();
      // Keep synchronous waits short: no worker runs here.
      if (body['background'] === false && rnd() < 0.9) body['wait_ms'] = 0;
      const raw = rnd() < 0.1 ? JSON.stringify(body).slice(0, Math.floor(rnd() * 20)) : JSON.stringify(body);
      const r = await stack.request('POST', '/api/jobs', raw);
      seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
      if (![200, 201, 202, 400, 409, 413].includes(r.status)) throw new Error(`POST /api/jobs ${raw} → ${r.status} ${JSON.stringify(r.body)}`);
      if (r.status >= 400) expect(r.headers.get('content-type')).toContain('application/problem+json');
    }
    expect(seen.get(400)).toBeGreaterThan(0);
  }, 120_000);

  it('list: random query strings get 200 or 400, never a 500', async () => {
    const params = ['status', 'job_type', 'task', 'agent_id', 'source_id', 'background', 'stop_reason', 'user_id', 'organization_id', 'order', 'limit', 'after', 'before', 'x'];
    const values = ['', 'pending', 'running,failed', 'job', 'run', 'true', 'false', 'asc', 'desc', '1', '0', '1000', '1001', '-5', 'abc', 'job-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b', 'org-x', '%00', '%F0%9F%98%80', "'; DROP TABLE jobs; --"];
    for (let i = 0; i < 120; i++) {
      const q = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => `${pick(params)}=${pick(values)}`).join('&');
      const path = `${pick(['/api/jobs', '/api/jobs/active', '/api/runs'])}?${q}`;
      const r = await stack.request('GET', path);
      if (![200, 400].includes(r.status)) throw new Error(`GET ${path} → ${r.status} ${JSON.stringify(r.body)}`);
    }
  }, 120_000);

  it('path ids: random ids get 400 or 404, never a 500', async () => {
    const ids = ['x', 'job-', 'job-1', 'JOB-0B6A1C9E-4B52-4C1F-9A43-4F3F0E1D2C3B', 'job-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b', '%00', '%E2%82', '..%2F..%2Fetc', 'a'.repeat(2000)];
    for (let i = 0; i < 60; i++) {
      const id = pick(ids);
      const [method, suffix] = pick([['GET', ''], ['GET', '/events'], ['PATCH', '/cancel'], ['POST', '/retry'], ['DELETE', '']] as const);
      const r = await stack.request(method, `/api/jobs/${id}${suffix}`);
      if (![400, 404].includes(r.status)) throw new Error(`${method} /api/jobs/${id}${suffix} → ${r.status} ${JSON.stringify(r.body)}`);
    }
  }, 60_000);
});
