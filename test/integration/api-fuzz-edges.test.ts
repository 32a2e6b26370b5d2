import fc from 'fast-check';
import { Client } from 'pg';
import { startStack, type TestStack } from '../support/stack';
import { createTenant, type Tenant } from '../support/tenants';

/**
 * Issue 10 item 20: generated bodies and query strings that reach the edges (deep nesting, huge and negative
 * numbers, lone surrogates, NUL, `__proto__`/`constructor` keys, duplicate keys in the raw text, very long
 * strings) on the create, bulk (when the route exists), batch, list and admin routes. Whatever comes in: never
 * a 5xx, every 4xx a problem document, and a rejected body leaves no row behind.
 *
 * Replay a failure with the printed seed: FUZZ_SEED=<seed> npx jest test/integration/api-fuzz-edges.test.ts
 * (FUZZ_RUNS scales the number of runs, default 1).
 */
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

// ---- A JSON syntax tree, so that the raw text can hold what JSON.stringify never writes (duplicate keys,
// ---- numbers like 1e400 or -0, nesting 100,000 deep).
type Json = { raw: string } | { arr: Json[] } | { obj: [string, Json][] } | { deep: number; asObject: boolean; inner: Json };

function text(j: Json): string {
  if ('raw' in j) return j.raw;
  if ('arr' in j) return `[${j.arr.map(text).join(',')}]`;
  if ('obj' in j) return `{${j.obj.map(([k, v]) => `${JSON.stringify(k)}:${text(v)}`).join(',')}}`;
  return j.asObject ? `${'{"a":'.repeat(j.deep)}${text(j.inner)}${'}'.repeat(j.deep)}` : `${'['.repeat(j.deep)}${text(j.inner)}${']'.repeat(j.deep)}`;
}
const raw = (t: string): Json => ({ raw: t });
const str = (s: string): Json => raw(JSON.stringify(s));
const obj = (entries: [string, Json][]): Json => ({ obj: entries });

const numberText = fc.oneof(
  fc.constantFrom(
    '0', '-0', '-1', '1', '1.5', '1e308', '-1e308', '1e400', '-1e400', '1e-400', '5e-324', '9007199254740993',
    '-9223372036854775809', '123456789012345678901234567890', '2147483648', '-2147483649', '1E+2', '0.0000001',
    '25', '26', '100', '101', '3600000', '3600001', '86400000', '86400001', '2592000000', '2592000001', '300000', '300001',
  ),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
);
const edgeStrings = fc.constantFrom(
  '', ' ', 'x', 'noop', 'sleep', 'http.request', 'llm.batch', 'nope', '\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '\ud83d\ude00',
  '__proto__', 'constructor', 'prototype', 'job-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b', 'org-x', 'user-', '2999-01-01T00:00:00Z',
  '2000-01-01T00:00:00Z', 'not a date', 'http://127.0.0.1:9/x', 'https://example.com/hook', 'ftp://x', 'javascript:alert(1)',
  'member', 'admin', 'operator', "'; DROP TABLE jobs; --", 'GET', 'POST',
);
// Around the bounds of names (200, 255), URLs (2048), metadata (16 KiB) and the body limit (1 MiB).
const longString = fc.constantFrom(200, 201, 255, 256, 2048, 2049, 16 * 1024, 70_000, 1_100_000).map((n) => 'é'.repeat(n >> 1) + 'x'.repeat(n & 1));
const anyString = fc.oneof(
  { weight: 6, arbitrary: edgeStrings },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 16 }) },
  { weight: 1, arbitrary: longString },
);
const key = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'ms', 'fail', 'progress_steps', 'source_id', 'url', 'body', '', '\u0000', '\ud800', 'a.b', 'task') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
);
const scalar: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: numberText.map(raw) },
  { weight: 4, arbitrary: anyString.map(str) },
  { weight: 2, arbitrary: fc.constantFrom('true', 'false', 'null').map(raw) },
);
const depth = fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constantFrom(62, 63, 64, 65, 1000, 100_000));
const deep: fc.Arbitrary<Json> = fc.record({ deep: depth, asObject: fc.boolean(), inner: scalar });
const { value } = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: scalar },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }).map((arr): Json => ({ arr })) },
    { weight: 2, arbitrary: fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map(obj) },
    { weight: 1, arbitrary: deep },
  ),
}));
/** An object whose raw text may repeat keys (the later one wins in JSON.parse) and may hold any value. */
const objectOf = (fields: readonly string[], fieldValue: (f: string) => fc.Arbitrary<Json>, maxLength = 6) =>
  fc.array(fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...fields) }, { weight: 1, arbitrary: key }).chain((f) => fieldValue(f).map((v) => [f, v] as [string, Json])), { maxLength });
/** Free-form objects (metadata, task inputs, params) with the awkward keys and any scalar or small value. */
const freeObject = fc.array(fc.tuple(key, fc.oneof({ weight: 3, arbitrary: scalar }, { weight: 1, arbitrary: value })), { maxLength: 5 }).map(obj);

// ---- Bodies of each route.
const CREATE_FIELDS = ['task', 'input', 'background', 'metadata', 'agent_id', 'callback_url', 'priority', 'max_attempts', 'backoff_ms', 'timeout_ms', 'delay_ms', 'expires_at', 'idempotency_key', 'wait_ms', 'concurrency_key', 'concurrency_limit'] as const;
const plausibleInput = fc.oneof(
  fc.constant(obj([])),
  numberText.map((ms) => obj([['ms', raw(ms)]])),
  fc.tuple(anyString, freeObject).map(([url, body]) => obj([['url', str(url.startsWith('http') ? url : 'http://127.0.0.1:9/x')], ['body', body]])),
  value,
);
const NUMERIC_FIELDS = new Set(['priority', 'max_attempts', 'backoff_ms', 'timeout_ms', 'delay_ms', 'wait_ms', 'concurrency_limit']);
const createField = (f: string): fc.Arbitrary<Json> => {
  const mostly = (a: fc.Arbitrary<Json>) => fc.oneof({ weight: 4, arbitrary: a }, { weight: 1, arbitrary: value });
  if (f === 'task') return mostly(fc.constantFrom('noop', 'sleep', 'http.request', 'nope').map(str));
  if (f === 'input') return mostly(plausibleInput);
  if (f === 'metadata') return mostly(freeObject);
  if (f === 'background') return mostly(fc.constantFrom('true', 'false', 'null').map(raw));
  if (f === 'idempotency_key') return mostly(fc.constantFrom('k1', 'k2').map(str));
  if (NUMERIC_FIELDS.has(f)) return mostly(fc.oneof(fc.integer({ min: 1, max: 25 }).map(String), numberText).map(raw));
  return mostly(anyString.map(str));
};
/** A create body; one that asks to wait (background false) gets wait_ms 0 last, since no worker runs here. */
const createEntries = fc
  .tuple(fc.constantFrom('noop', 'sleep', 'http.request').map(str), objectOf(CREATE_FIELDS, createField))
  .map(([task, rest]): [string, Json][] => {
    const entries: [string, Json][] = [['task', task], ...rest];
    const background = [...entries].reverse().find(([k]) => k === 'background');
    if (background && 'raw' in background[1] && background[1].raw === 'false') entries.push(['wait_ms', raw('0')]);
    return entries;
  });
const createBody = fc.oneof({ weight: 9, arbitrary: createEntries.map(obj) }, { weight: 1, arbitrary: value });

const requestField = (f: string): fc.Arbitrary<Json> => {
  if (f === 'params')
    return fc.oneof(
      { weight: 4, arbitrary: fc.tuple(anyString, fc.oneof(fc.integer({ min: 1, max: 4096 }).map(String), numberText), freeObject, fc.array(fc.tuple(key, scalar), { maxLength: 3 })).map(([content, max, message, extra]) =>
        obj([['model', str('claude-x')], ['max_tokens', raw(max)], ['messages', { arr: [obj([['role', str('user')], ['content', str(content)]]), message] }], ...extra]),
      ) },
      { weight: 1, arbitrary: value },
    );
  return value;
};
const customId = fc.oneof({ weight: 5, arbitrary: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'A_-9') }, { weight: 1, arbitrary: anyString });
const batchRequest = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(customId, requestField('params'), objectOf(['params'], requestField, 1)).map(([id, params, rest]) => obj([['custom_id', str(id)], ['params', params], ...rest])) },
  { weight: 1, arbitrary: value },
);
const batchBody = fc.oneof(
  { weight: 9, arbitrary: fc.tuple(fc.array(batchRequest, { minLength: 1, maxLength: 4 }), objectOf(['callback_url', 'metadata'], createField, 2)).map(([requests, rest]) => obj([['requests', { arr: requests }], ...rest])) },
  { weight: 1, arbitrary: value },
);

interface Outcome {
  status: number;
  body: unknown;
  contentType: string | null;
}

describe(`API edge fuzzing with fast-check (seed ${SEED}; replay with FUZZ_SEED=${SEED})`, () => {
  let stack: TestStack;
  let pg: Client;
  let tenant: Tenant;
  let bulkExists = false;
  let batchId = '';
  const seen = new Map<string, Map<number, number>>();
  /** Which fields 400s named, per route: shows which checks the generated input reached. */
  const rejectedFields = new Map<string, Map<string, number>>();

  beforeAll(async () => {
    console.log(`api-fuzz-edges: seed ${SEED} (replay: FUZZ_SEED=${SEED} npx jest test/integration/api-fuzz-edges.test.ts)`);
    // Polling on: should POST /api/batches depend on it, valid batches are still accepted.
    stack = await startStack({ env: { ENABLE_BATCH_JOB_POLLING: 'true' } });
    pg = new Client({ connectionString: stack.database.url });
    await pg.connect();
    tenant = await createTenant(stack, 'fuzz');
    // The bulk route of API.md's second version, if it is built: an empty list is a 400 there, not a 404/405.
    const probe = await stack.request('POST', '/api/jobs/bulk', { jobs: [] });
    bulkExists = probe.status !== 404 && probe.status !== 405;
    const batch = await stack.request('POST', '/api/batches', { requests: [{ custom_id: 'a', params: { model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'hi' }] } }] });
    batchId = (batch.body as { id?: string }).id ?? 'job-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b';
  }, 60_000);
  afterAll(async () => {
    for (const [route, statuses] of seen) {
      const fields = [...(rejectedFields.get(route) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]).slice(0, 12);
      console.log(`api-fuzz-edges ${route}: ${JSON.stringify(Object.fromEntries(statuses))}; most rejected: ${JSON.stringify(Object.fromEntries(fields))}`);
    }
    await pg.end();
    await stack.stop();
  });

  const rowCounts = async () =>
    (
      await pg.query<{ n: string }>(
        `SELECT concat_ws(',', (SELECT count(*) FROM jobs), (SELECT count(*) FROM llm_batch_items), (SELECT count(*) FROM organizations),
                (SELECT count(*) FROM users), (SELECT count(*) FROM api_keys)) AS n`,
      )
    ).rows[0]!.n;

  const send = async (method: string, path: string, body?: string): Promise<Outcome> => {
    const r = await stack.request(method, path, body);
    return { status: r.status, body: r.body, contentType: r.headers.get('content-type') };
  };
  const record = (route: string, status: number) => {
    const m = seen.get(route) ?? new Map<number, number>();
    m.set(status, (m.get(status) ?? 0) + 1);
    seen.set(route, m);
  };
  /** Never a 5xx; a 4xx is a problem document; a rejected body leaves every table as it was. */
  const check = async (route: string, method: string, path: string, body?: string) => {
    const before = body !== undefined ? await rowCounts() : '';
    const r = await send(method, path, body);
    record(route, r.status);
    for (const e of (r.body as { errors?: { path: string }[] } | null)?.errors ?? []) {
      const m = rejectedFields.get(route) ?? new Map<string, number>();
      const field = e.path.split('.').slice(0, route === 'batch' ? 4 : 2).join('.');
      m.set(field, (m.get(field) ?? 0) + 1);
      rejectedFields.set(route, m);
    }
    const shown = `${method} ${path} ${body === undefined ? '' : body.length > 600 ? `${body.slice(0, 600)}… (${body.length} chars)` : body}`;
    if (r.status >= 500) throw new Error(`${shown} → ${r.status} ${JSON.stringify(r.body)}`);
    if (r.status >= 400 && !(r.contentType ?? '').includes('application/problem+json')) throw new Error(`${shown} → ${r.status} without a problem document`);
    if (body !== undefined && r.status >= 400) {
      const after = await rowCounts();
      if (after !== before) throw new Error(`${shown} → ${r.status} but rows changed: ${before} → ${after}`);
    }
  };
  const options = (numRuns: number) => ({ seed: SEED, numRuns, endOnFailure: true });

  it('create: POST /api/jobs', async () => {
    await fc.assert(fc.asyncProperty(createBody, async (b) => check('create', 'POST', '/api/jobs', text(b))), options(runs(800)));
  }, 600_000);

  it('bulk: POST /api/jobs/bulk (when the route exists)', async () => {
    if (!bulkExists) return console.log('api-fuzz-edges: POST /api/jobs/bulk is not built; skipped');
    const bulk = fc.oneof({ weight: 9, arbitrary: fc.array(createBody, { maxLength: 5 }).map((jobs) => obj([['jobs', { arr: jobs }]])) }, { weight: 1, arbitrary: value });
    await fc.assert(fc.asyncProperty(bulk, async (b) => check('bulk', 'POST', '/api/jobs/bulk', text(b))), options(runs(200)));
  }, 600_000);

  it('batch: POST /api/batches', async () => {
    await fc.assert(fc.asyncProperty(batchBody, async (b) => check('batch', 'POST', '/api/batches', text(b))), options(runs(300)));
  }, 600_000);

  it('admin: organizations, users, API keys, webhook secrets, redelivery', async () => {
    const orgId = fc.oneof(fc.constant(str(tenant.orgId)), value);
    const route = fc.oneof(
      value.map((name) => ['POST', '/api/admin/organizations', obj([['name', name]])] as const),
      objectOf(['name'], () => fc.oneof(anyString.map(str), value), 3).map((e) => ['POST', '/api/admin/organizations', obj(e)] as const),
      fc.tuple(orgId, fc.oneof(anyString.map(str), value)).map(([o, name]) => ['POST', '/api/admin/users', obj([['organization_id', o], ['name', name]])] as const),
      fc.tuple(fc.oneof(fc.constant(str(tenant.userId)), value), fc.oneof(fc.constantFrom('member', 'admin', 'operator', 'root').map(str), value)).map(([u, role]) => ['POST', '/api/admin/api-keys', obj([['user_id', u], ['role', role]])] as const),
      objectOf(['weight', 'max_concurrency'], () => fc.oneof(numberText.map(raw), value), 3).map((e) => ['PATCH', `/api/admin/organizations/${tenant.orgId}`, obj(e)] as const),
      objectOf(['organization_id', 'since'], () => value, 3).map((e) => ['POST', '/api/admin/callbacks/redeliver', obj(e)] as const),
      value.map((b) => ['POST', `/api/admin/organizations/${tenant.orgId}/webhook-secret/rotate`, b] as const),
    );
    await fc.assert(fc.asyncProperty(route, async ([method, path, b]) => check('admin', method, path, text(b))), options(runs(300)));
  }, 600_000);

  it('lists: query strings on every list route', async () => {
    const params = ['status', 'job_type', 'task', 'agent_id', 'source_id', 'background', 'stop_reason', 'user_id', 'organization_id', 'order', 'limit', 'after', 'before', 'x', 'status[]', 'limit[a]', '__proto__', 'constructor'];
    const rawValues = ['', '%', '%zz', '%00', '%ED%A0%80', '%F0%9F%98%80', '%C3', 'pending,running', 'running,,', 'job', 'run', 'batch', 'true', 'false', 'asc', 'desc', '-1', '0', '1', '1000', '1001', '1e3', '1.5', '%201', '99999999999999999999', '-99999999999999999999', 'job-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b', 'org-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b', "'%3B%20DROP%20TABLE%20jobs%3B--"];
    const queryValue = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...rawValues) },
      { weight: 2, arbitrary: anyString.filter((s) => s.length < 5000).map((s) => encodeURIComponent(s.isWellFormed() ? s : s.toWellFormed())) },
      { weight: 1, arbitrary: fc.constantFrom(tenant.orgId, tenant.userId, batchId) },
    );
    const query = fc.array(fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...params) }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }).map(encodeURIComponent) }), queryValue), { maxLength: 6 });
    const path = fc.constantFrom('/api/jobs', '/api/jobs/active', '/api/runs', '/api/batches', `/api/batches/${batchId}/items`, '/api/admin/api-keys', '/api/admin/batch-jobs');
    await fc.assert(
      fc.asyncProperty(path, query, async (p, q) => check('list', 'GET', `${p}?${q.map(([k, v]) => `${k}=${v}`).join('&')}`)),
      options(runs(600)),
    );
  }, 600_000);

  it('sent at least 2,000 bodies and query strings, and reached both sides of the checks', () => {
    const total = [...seen.values()].reduce((n, m) => n + [...m.values()].reduce((a, b) => a + b, 0), 0);
    expect(total).toBeGreaterThanOrEqual(runs(2000));
    expect(seen.get('create')?.get(400)).toBeGreaterThan(0);
    expect(seen.get('create')?.get(201)).toBeGreaterThan(0);
    expect(seen.get('list')?.get(200)).toBeGreaterThan(0);
  });
});
