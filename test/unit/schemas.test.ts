import { fieldErrorsFromIssues } from '../../packages/core/src/errors';
import {
  MAX_METADATA_BYTES,
  createApiKeyBodySchema,
  createJobBodySchema,
  createOrganizationBodySchema,
  createUserBodySchema,
  findUnsafeString,
} from '../../packages/core/src/schemas';
import { listJobsQuerySchema } from '../../apps/api/src/query-schemas';

/** The field paths a body is rejected for ([] when it is accepted). */
function rejectedPaths(schema: { safeParse(v: unknown): { success: boolean; error?: { issues: Parameters<typeof fieldErrorsFromIssues>[0] } } }, body: unknown): string[] {
  const r = schema.safeParse(body);
  return r.success ? [] : fieldErrorsFromIssues(r.error!.issues).map((e) => e.path);
}

const future = () => new Date(Date.now() + 3_600_000).toISOString();

describe('create job body (API.md "Details that clients rely on")', () => {
  it('applies the defaults', () => {
    expect(createJobBodySchema.parse({ task: 'noop' })).toEqual({
      task: 'noop',
      input: {},
      background: true,
      metadata: {},
      max_attempts: 1,
      backoff_ms: 1000,
    });
  });

  it('accepts null for every optional field, meaning "not given"', () => {
    const nulls = {
      input: null,
      background: null,
      metadata: null,
      agent_id: null,
      callback_url: null,
      priority: null,
      max_attempts: null,
      backoff_ms: null,
      timeout_ms: null,
      delay_ms: null,
      expires_at: null,
      idempotency_key: null,
      wait_ms: null,
    };
    expect(createJobBodySchema.parse({ task: 'noop', ...nulls })).toEqual(createJobBodySchema.parse({ task: 'noop' }));
  });

  it('accepts every field at its bounds', () => {
    const body = {
      task: 'sleep',
      input: { ms: 1 },
      background: false,
      metadata: { source_id: 's' },
      agent_id: 'agent-1',
      callback_url: 'https://example.com/hook',
      priority: 100,
      max_attempts: 25,
      backoff_ms: 3_600_000,
      timeout_ms: 86_400_000,
      delay_ms: 2_592_000_000,
      expires_at: future(),
      idempotency_key: 'k',
      wait_ms: 300_000,
    };
    expect(rejectedPaths(createJobBodySchema, body)).toEqual([]);
    expect(rejectedPaths(createJobBodySchema, { ...body, priority: 1, max_attempts: 1, backoff_ms: 1, timeout_ms: 1, delay_ms: 0, wait_ms: 0 })).toEqual([]);
  });

  const outOfBounds: [string, unknown][] = [
    ['delay_ms', -1],
    ['delay_ms', 2_592_000_001],
    ['delay_ms', 1.5],
    ['timeout_ms', 0],
    ['timeout_ms', 86_400_001],
    ['backoff_ms', 0],
    ['backoff_ms', 3_600_001],
    ['max_attempts', 0],
    ['max_attempts', 26],
    ['priority', 0],
    ['priority', 101],
    ['priority', '5'],
    ['callback_url', 'ftp://example.com/x'],
    ['callback_url', 'not a url'],
    ['callback_url', '/relative'],
    ['expires_at', 'tomorrow'],
    ['background', 'false'],
    ['input', []],
    ['input', 'x'],
    ['metadata', [1]],
    ['agent_id', ''],
    ['idempotency_key', ''],
    ['task', ''],
  ];
  it.each(outOfBounds)('rejects %s=%j naming the field', (field, value) => {
    const body: Record<string, unknown> = { task: 'noop', background: false, [field]: value };
    expect(rejectedPaths(createJobBodySchema, body)).toEqual([field]);
  });

  it('rejects wait_ms out of bounds (with background:false)', () => {
    expect(rejectedPaths(createJobBodySchema, { task: 'noop', background: false, wait_ms: -1 })).toEqual(['wait_ms']);
    expect(rejectedPaths(createJobBodySchema, { task: 'noop', background: false, wait_ms: 300_001 })).toEqual(['wait_ms']);
  });

  it('allows wait_ms only with background:false', () => {
    expect(rejectedPaths(createJobBodySchema, { task: 'noop', wait_ms: 10 })).toEqual(['wait_ms']);
    expect(rejectedPaths(createJobBodySchema, { task: 'noop', background: true, wait_ms: 10 })).toEqual(['wait_ms']);
    expect(rejectedPaths(createJobBodySchema, { task: 'noop', background: null, wait_ms: 10 })).toEqual(['wait_ms']);
    expect(rejectedPaths(createJobBodySchema, { task: 'noop', background: false, wait_ms: 10 })).toEqual([]);
  });

  it('wants expires_at in the future', () => {
    expect(rejectedPaths(createJobBodySchema, { task: 'noop', expires_at: new Date(Date.now() - 1000).toISOString() })).toEqual(['expires_at']);
    expect(rejectedPaths(createJobBodySchema, { task: 'noop', expires_at: future() })).toEqual([]);
    expect(rejectedPaths(createJobBodySchema, { task: 'noop', expires_at: '2999-01-01T00:00:00+02:00' })).toEqual([]);
  });

  it('caps metadata at 16 KiB as UTF-8 bytes of its JSON', () => {
    const fill = (n: number, ch = 'a') => ({ v: ch.repeat(n) });
    const overhead = Buffer.byteLength(JSON.stringify(fill(0)));
    expect(rejectedPaths(createJobBodySchema, { task: 'noop', metadata: fill(MAX_METADATA_BYTES - overhead) })).toEqual([]);
    expect(rejectedPaths(createJobBodySchema, { task: 'noop', metadata: fill(MAX_METADATA_BYTES - overhead + 1) })).toEqual(['metadata']);
    // Counted in bytes, not characters: 'é' is two bytes in UTF-8.
    expect(rejectedPaths(createJobBodySchema, { task: 'noop', metadata: fill((MAX_METADATA_BYTES - overhead) / 2 + 1, 'é') })).toEqual(['metadata']);
  });

  it('is strict: unknown fields are named one by one', () => {
    expect(rejectedPaths(createJobBodySchema, { task: 'noop', colour: 'red', size: 2 }).sort()).toEqual(['colour', 'size']);
  });

  it('names every offending field at once', () => {
    expect(rejectedPaths(createJobBodySchema, { priority: 0, timeout_ms: 0 }).sort()).toEqual(['priority', 'task', 'timeout_ms']);
  });

  it('rejects a body that is not an object', () => {
    for (const body of [null, [], 'noop', 3]) expect(createJobBodySchema.safeParse(body).success).toBe(false);
  });
});

describe('strings with NUL characters or lone surrogates', () => {
  it('are found wherever they are, with their path', () => {
    expect(findUnsafeString({ task: 'no\u0000op' })).toEqual(['task']);
    expect(findUnsafeString({ metadata: { a: ['ok', 'bad\ud800'] } })).toEqual(['metadata', 'a', '1']);
    expect(findUnsafeString({ input: { ['k\u0000']: 1 } })).toEqual(['input', 'k\u0000']);
    expect(findUnsafeString({ x: '\udc00 trailing low surrogate' })).toEqual(['x']);
  });

  it('come through JSON.parse from \\u escapes and are still found', () => {
    expect(findUnsafeString(JSON.parse('{"a":"\\u0000"}'))).toEqual(['a']);
    expect(findUnsafeString(JSON.parse('{"a":{"b":"\\ud83d"}}'))).toEqual(['a', 'b']);
  });

  it('leave well-formed text alone (paired surrogates included)', () => {
    expect(findUnsafeString({ a: 'emoji 😀', b: ['é', 'ü'], c: 1, d: null, e: true })).toBeNull();
  });
});

describe('list query', () => {
  it('has the documented defaults', () => {
    expect(listJobsQuerySchema.parse({})).toEqual({ job_type: 'job', order: 'desc', limit: 100 });
  });

  it('takes status repeated or comma-separated', () => {
    expect(listJobsQuerySchema.parse({ status: 'pending,running' }).status).toEqual(['pending', 'running']);
    expect(listJobsQuerySchema.parse({ status: ['pending', 'failed,cancelled'] }).status).toEqual(['pending', 'failed', 'cancelled']);
    expect(rejectedPaths(listJobsQuerySchema, { status: 'pending,done' })).toEqual(['status.1']);
    expect(rejectedPaths(listJobsQuerySchema, { status: '' })).toEqual(['status']);
    expect(rejectedPaths(listJobsQuerySchema, { status: ' , ' })).toEqual(['status']);
  });

  it('bounds limit to 1..1000 and wants an integer', () => {
    expect(listJobsQuerySchema.parse({ limit: '1000' }).limit).toBe(1000);
    for (const limit of ['0', '1001', '-1', '2.5', 'ten', '']) expect(rejectedPaths(listJobsQuerySchema, { limit })).toEqual(['limit']);
  });

  it('parses background and order, and checks the cursor shapes', () => {
    expect(listJobsQuerySchema.parse({ background: 'false', order: 'asc' })).toMatchObject({ background: false, order: 'asc' });
    expect(rejectedPaths(listJobsQuerySchema, { background: 'yes' })).toEqual(['background']);
    expect(rejectedPaths(listJobsQuerySchema, { order: 'up' })).toEqual(['order']);
    expect(rejectedPaths(listJobsQuerySchema, { after: 'job-1' })).toEqual(['after']);
    expect(rejectedPaths(listJobsQuerySchema, { before: 'org-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b' })).toEqual(['before']);
    expect(rejectedPaths(listJobsQuerySchema, { job_type: 'other' })).toEqual(['job_type']);
    expect(rejectedPaths(listJobsQuerySchema, { organization_id: 'default' })).toEqual(['organization_id']);
  });
});

describe('admin bodies', () => {
  const org = 'org-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b';
  const user = 'user-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b';
  it('are strict and checked', () => {
    expect(rejectedPaths(createOrganizationBodySchema, { name: 'acme' })).toEqual([]);
    expect(rejectedPaths(createOrganizationBodySchema, { name: '' })).toEqual(['name']);
    expect(rejectedPaths(createOrganizationBodySchema, { name: 'a', plan: 'gold' })).toEqual(['plan']);
    expect(rejectedPaths(createUserBodySchema, { organization_id: org, name: 'ann' })).toEqual([]);
    expect(rejectedPaths(createUserBodySchema, { organization_id: 'acme', name: 'ann' })).toEqual(['organization_id']);
    expect(rejectedPaths(createApiKeyBodySchema, { user_id: user, role: 'member' })).toEqual([]);
    expect(rejectedPaths(createApiKeyBodySchema, { user_id: user, role: 'root' })).toEqual(['role']);
    expect(rejectedPaths(createApiKeyBodySchema, { user_id: org, role: 'admin' })).toEqual(['user_id']);
  });
});
