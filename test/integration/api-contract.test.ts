import type { ContractJob } from '../../packages/core/src';
import { CallbackReceiver } from '../fakes/callback-receiver';
import { FakeAnthropic } from '../fakes/anthropic-server';
import { expectContract } from '../support/contract';
import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';
import { createTenant, type Tenant } from '../support/tenants';
import { waitFor } from '../support/wait';

/**
 * Real responses of every route family checked against the OpenAPI document's schemas (strict: a field too many
 * or too few fails), with their documented statuses, media types and headers, errors included.
 */
describe('the API answers as its OpenAPI document says', () => {
  let stack: TestStack;
  let fake: FakeAnthropic;
  let receiver: CallbackReceiver;
  let tenant: Tenant;

  beforeAll(async () => {
    fake = new FakeAnthropic();
    await fake.start();
    receiver = await new CallbackReceiver().start();
    stack = await startStack({
      worker: true,
      env: {
        ANTHROPIC_BASE_URL: fake.url,
        ANTHROPIC_API_KEY: 'test-key',
        // Batches accepted; the scheduled poll runs once, at start, so last_poll is filled.
        ENABLE_BATCH_JOB_POLLING: 'true',
        POLL_RUNNING_LLM_BATCHES_INTERVAL_SECONDS: '86400',
        CHUNK_SIZE: '64',
        CHUNK_OVERLAP: '8',
        MAX_BODY_BYTES: String(64 * 1024),
      },
    });
    tenant = await createTenant(stack, 'contract');
  });
  afterAll(async () => {
    await stack.stop();
    await receiver.stop();
    await fake.stop();
  });

  /** A request whose answer must match the document; returns the parsed body. */
  const call = async <T = unknown>(
    method: string,
    url: string,
    body?: unknown,
    key: string | null = tenant.adminKey,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T; headers: Headers }> => {
    const res = await stack.request(method, url, body, key, headers);
    return { status: res.status, body: expectContract<T>(method, url, res), headers: res.headers };
  };
  const expectCall = async <T = unknown>(
    status: number,
    method: string,
    url: string,
    body?: unknown,
    key?: string | null,
    headers?: Record<string, string>,
  ): Promise<T> => {
    const res = await call<T>(method, url, body, key, headers);
    expect([method, url, res.status]).toEqual([method, url, status]);
    return res.body;
  };
  const terminal = (id: string, path = '/api/jobs') =>
    waitFor(
      async () => {
        const job = await expectCall<ContractJob>(200, 'GET', `${path}/${id}`);
        return ['completed', 'failed', 'cancelled', 'expired'].includes(job.status) ? job : null;
      },
      `job ${id} terminal`,
      30_000,
    );
  const missingJob = 'job-00000000-0000-4000-8000-000000000000';

  it('health, liveness, the document and metrics', async () => {
    expect(await expectCall(200, 'GET', '/api/health', undefined, null)).toEqual({
      status: 'ok',
      checks: { postgres: 'ok', redis: 'ok' },
    });
    await expectCall(200, 'GET', '/api/health/live', undefined, null);
    await expectCall(200, 'GET', '/api/openapi.json', undefined, null);
    await expectCall(200, 'GET', '/metrics', undefined, OPERATOR_KEY);
    await expectCall(403, 'GET', '/metrics', undefined, tenant.memberKey);
    await expectCall(401, 'GET', '/metrics', undefined, null);
  });

  it('jobs: create, replay, wait, list, read, events (JSON and SSE), cancel, retry, delete, callbacks', async () => {
    const created = await call<ContractJob>('POST', '/api/jobs', {
      task: 'noop',
      metadata: { k: 'v' },
      callback_url: receiver.url('/hook'),
      idempotency_key: 'contract-1',
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/api/jobs/${created.body.id}`);
    await expectCall(
      200,
      'POST',
      '/api/jobs',
      { task: 'noop', metadata: { k: 'v' }, callback_url: receiver.url('/hook') },
      undefined,
      { 'Idempotency-Key': 'contract-1' },
    );
    await expectCall(409, 'POST', '/api/jobs', { task: 'noop' }, undefined, { 'Idempotency-Key': 'contract-1' });
    expect(
      (
        await expectCall<{ errors: { path: string }[] }>(400, 'POST', '/api/jobs', { task: 'noop', surprise: 1 })
      ).errors.map((e) => e.path),
    ).toEqual(['surprise']);
    expect(
      (
        await expectCall<{ errors: { path: string }[] }>(400, 'POST', '/api/jobs', {
          task: 'sleep',
          input: { ms: 'long' },
        })
      ).errors.map((e) => e.path),
    ).toEqual(['input.ms']);
    await expectCall(400, 'POST', '/api/jobs', '{"task": ');
    await expectCall(413, 'POST', '/api/jobs', { task: 'noop', metadata: { big: 'x'.repeat(70 * 1024) } });
    await expectCall(401, 'POST', '/api/jobs', { task: 'noop' }, 'not-a-key');
    expect(
      await expectCall<ContractJob>(201, 'POST', '/api/jobs', { task: 'noop', concurrency_key: 'contract', concurrency_limit: 2 }),
    ).toMatchObject({ concurrency_key: 'contract', concurrency_limit: 2 });
    await expectCall(400, 'POST', '/api/jobs', { task: 'noop', concurrency_key: 'contract' });

    const waited = await expectCall<ContractJob>(200, 'POST', '/api/jobs', {
      task: 'noop',
      background: false,
      wait_ms: 20_000,
    });
    expect(waited.status).toBe('completed');
    const slow = await expectCall<ContractJob>(202, 'POST', '/api/jobs', {
      task: 'sleep',
      input: { ms: 60_000 },
      background: false,
      wait_ms: 0,
    });

    await terminal(created.body.id);
    const page = await call<ContractJob[]>('GET', '/api/jobs?limit=1&status=completed,failed');
    expect(page.status).toBe(200);
    expect(page.headers.get('link')).toContain('rel="next"');
    await expectCall(
      200,
      'GET',
      `/api/jobs?status=completed&status=cancelled&order=asc&background=true&limit=1000&after=${created.body.id}`,
    );
    await expectCall(400, 'GET', '/api/jobs?limit=0');
    await expectCall(400, 'GET', `/api/jobs?after=${missingJob}`);
    const active = await expectCall<ContractJob[]>(200, 'GET', '/api/jobs/active');
    expect(active.map((j) => j.id)).toContain(slow.id);
    await expectCall(404, 'GET', `/api/jobs/${missingJob}`);
    await expectCall(400, 'GET', '/api/jobs/not-an-id');

    const events = await expectCall<{ seq: number }[]>(200, 'GET', `/api/jobs/${created.body.id}/events`);
    expect(events[0]).toMatchObject({ seq: 1, from: null, to: 'created', attempt: 0 });
    const frames = await expectCall<{ event: string; data: { to: string } }[]>(
      200,
      'GET',
      `/api/jobs/${created.body.id}/events`,
      undefined,
      undefined,
      { accept: 'text/event-stream' },
    );
    expect(frames.filter((f) => f.event === 'status').map((f) => f.data.to)).toEqual(
      events.map((e) => (e as unknown as { to: string }).to),
    );

    await waitFor(
      async () => (await expectCall<ContractJob>(200, 'GET', `/api/jobs/${created.body.id}`)).callback_attempts > 0,
      'callback sent',
    );
    await expectCall(202, 'POST', `/api/jobs/${created.body.id}/callback/redeliver`);
    await expectCall(409, 'POST', `/api/jobs/${waited.id}/callback/redeliver`);
    const attempts = await expectCall<{ webhook_id: string }[]>(
      200,
      'GET',
      `/api/jobs/${created.body.id}/callback/attempts`,
    );
    expect(attempts.length).toBeGreaterThan(0);
    await expectCall(404, 'GET', `/api/jobs/${missingJob}/callback/attempts`);
    expect(
      await expectCall(202, 'POST', '/api/admin/callbacks/redeliver', { since: new Date(0).toISOString() }),
    ).toEqual({ series: expect.any(Number) });
    await expectCall(400, 'POST', '/api/admin/callbacks/redeliver', { since: 'yesterday' });
    await expectCall(
      403,
      'POST',
      '/api/admin/callbacks/redeliver',
      { since: new Date(0).toISOString() },
      tenant.memberKey,
    );

    const bulk = await expectCall<{ jobs: ContractJob[] }>(201, 'POST', '/api/jobs/bulk', {
      jobs: [{ task: 'noop' }, { task: 'noop', idempotency_key: 'contract-bulk' }],
    });
    expect(bulk.jobs).toHaveLength(2);
    await expectCall(409, 'POST', '/api/jobs/bulk', {
      jobs: [{ task: 'noop', idempotency_key: 'contract-bulk', metadata: { other: true } }],
    });
    await expectCall(400, 'POST', '/api/jobs/bulk', { jobs: [] });
    const huge = { jobs: [{ task: 'noop', metadata: { pad: 'x'.repeat(stack.settings.MAX_BULK_BODY_BYTES) } }] };
    await expectCall(413, 'POST', '/api/jobs/bulk', huge);

    await expectCall(409, 'PATCH', `/api/jobs/${created.body.id}/cancel`);
    await expectCall(409, 'POST', `/api/jobs/${created.body.id}/retry`);
    expect(await expectCall<ContractJob>(200, 'PATCH', `/api/jobs/${slow.id}/cancel`)).toMatchObject({
      status: 'cancelled',
      stop_reason: 'cancelled',
    });
    await expectCall(200, 'POST', `/api/jobs/${slow.id}/retry`);
    await expectCall(200, 'DELETE', `/api/jobs/${slow.id}`);
    await expectCall(404, 'DELETE', `/api/jobs/${slow.id}`);
  });

  it('runs: the run, its steps and messages, one step’s messages', async () => {
    const input = { model: 'claude-test', max_tokens: 32, messages: [{ role: 'user', content: 'hello' }] };
    const run = await expectCall<ContractJob>(201, 'POST', '/api/jobs', { task: 'anthropic.message', input });
    expect(run.job_type).toBe('run');
    expect((await terminal(run.id, '/api/runs')).status).toBe('completed');
    expect((await expectCall<ContractJob[]>(200, 'GET', '/api/runs')).map((j) => j.id)).toContain(run.id);
    await expectCall(200, 'GET', '/api/runs/active');
    const steps = await expectCall<{ id: string }[]>(200, 'GET', `/api/runs/${run.id}/steps`);
    expect(steps).toHaveLength(1);
    const messages = await expectCall<unknown[]>(200, 'GET', `/api/runs/${run.id}/messages?limit=1`);
    expect(messages).toHaveLength(1);
    expect(
      (await expectCall<unknown[]>(200, 'GET', `/api/steps/${steps[0]!.id}/messages`)).length,
    ).toBeGreaterThanOrEqual(2);
    await expectCall(400, 'GET', '/api/steps/nope/messages');
    await expectCall(404, 'GET', `/api/runs/${missingJob}/steps`);
  });

  it('batches: create, replay, read, items, and the admin view with its polling state', async () => {
    const body = {
      requests: [
        {
          custom_id: 'a',
          params: { model: 'claude-test', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] },
        },
      ],
      idempotency_key: 'contract-batch',
    };
    const created = await call<ContractJob>('POST', '/api/batches', body);
    expect(created.status).toBe(201);
    await expectCall(200, 'POST', '/api/batches', body);
    await expectCall(400, 'POST', '/api/batches', { requests: [] });
    const id = created.body.id;
    await expectCall(200, 'GET', '/api/batches');
    await expectCall(200, 'GET', '/api/batches/active');
    await expectCall(200, 'GET', `/api/batches/${id}`);
    const items = await expectCall<{ custom_id: string }[]>(200, 'GET', `/api/batches/${id}/items`);
    expect(items.map((i) => i.custom_id)).toEqual(['a']);
    await waitFor(
      async () =>
        (await expectCall<{ provider_batch_id: string | null }[]>(200, 'GET', '/api/admin/batch-jobs')).some(
          (b) => b.provider_batch_id !== null,
        ),
      'batch submitted',
    );
    await expectCall(200, 'GET', '/api/admin/batch-jobs', undefined, OPERATOR_KEY);
    await expectCall(403, 'GET', '/api/admin/batch-jobs', undefined, tenant.memberKey);
  });

  it('sources, uploads, files and chunks', async () => {
    const source = await expectCall<{ id: string }>(201, 'POST', '/api/sources', { name: 'docs' });
    await expectCall(200, 'GET', '/api/sources');
    await expectCall(200, 'GET', `/api/sources/${source.id}`);
    const form = (name: string, text: string, type: string) => {
      const f = new FormData();
      f.append('file', new Blob([Buffer.from(text)], { type }), name);
      return f;
    };
    const send = async (f: FormData) => {
      const res = await fetch(`${stack.url}/api/sources/${source.id}/upload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.adminKey}` },
        body: f,
      });
      const text = await res.text();
      return {
        status: res.status,
        body: expectContract<{ id: string }>('POST', `/api/sources/${source.id}/upload`, {
          status: res.status,
          body: JSON.parse(text),
          headers: res.headers,
        }),
      };
    };
    const up = await send(form('notes.md', `# Notes\n\n${'some words here '.repeat(40)}`, 'text/markdown'));
    expect(up.status).toBe(202);
    expect((await send(form('image.png', 'not really', 'image/png'))).status).toBe(415);
    const file = await waitFor(
      async () => {
        const f = await expectCall<{ status: string }>(200, 'GET', `/api/files/${up.body.id}`);
        return f.status === 'completed' || f.status === 'error' ? f : null;
      },
      'file processed',
      30_000,
    );
    expect(file.status).toBe('completed');
    await expectCall(200, 'GET', `/api/sources/${source.id}/files?check_status_updates=true`);
    expect((await expectCall<unknown[]>(200, 'GET', `/api/files/${up.body.id}/chunks`)).length).toBeGreaterThan(0);
    await expectCall(200, 'DELETE', `/api/sources/${source.id}`);
    await expectCall(404, 'GET', `/api/sources/${source.id}`);
  });

  it('admin: organizations, users, keys, scheduler status', async () => {
    const org = await expectCall<{ id: string }>(
      201,
      'POST',
      '/api/admin/organizations',
      { name: 'contract-org' },
      OPERATOR_KEY,
    );
    await expectCall(403, 'POST', '/api/admin/organizations', { name: 'nope' }, tenant.adminKey);
    await expectCall(200, 'GET', `/api/admin/organizations/${tenant.orgId}`);
    await expectCall(404, 'GET', `/api/admin/organizations/${org.id}`);
    await expectCall(200, 'POST', `/api/admin/organizations/${tenant.orgId}/webhook-secret/rotate`);
    expect(
      await expectCall(200, 'PATCH', `/api/admin/organizations/${org.id}`, { weight: 3, max_concurrency: 5 }, OPERATOR_KEY),
    ).toMatchObject({ weight: 3, max_concurrency: 5 });
    await expectCall(400, 'PATCH', `/api/admin/organizations/${org.id}`, {}, OPERATOR_KEY);
    await expectCall(403, 'PATCH', `/api/admin/organizations/${tenant.orgId}`, { weight: 2 });
    await expectCall(404, 'PATCH', '/api/admin/organizations/org-00000000-0000-4000-8000-000000000000', { weight: 2 }, OPERATOR_KEY);
    const user = await expectCall<{ id: string }>(201, 'POST', '/api/admin/users', {
      organization_id: tenant.orgId,
      name: 'second',
    });
    await expectCall(404, 'POST', '/api/admin/users', { organization_id: org.id, name: 'elsewhere' });
    await expectCall(200, 'GET', '/api/admin/users?limit=1');
    await expectCall(200, 'GET', `/api/admin/users?organization_id=${tenant.orgId}`, undefined, OPERATOR_KEY);
    await expectCall(400, 'GET', '/api/admin/users?after=user-1');
    await expectCall(403, 'GET', '/api/admin/users', undefined, tenant.memberKey);
    const key = await expectCall<{ id: string }>(201, 'POST', '/api/admin/api-keys', {
      user_id: user.id,
      role: 'member',
    });
    await expectCall(403, 'POST', '/api/admin/api-keys', { user_id: user.id, role: 'operator' });
    await expectCall(200, 'GET', '/api/admin/api-keys');
    await expectCall(200, 'GET', `/api/admin/api-keys?organization_id=${tenant.orgId}`, undefined, OPERATOR_KEY);
    expect(
      await expectCall<{ revoked_at: string | null }>(200, 'DELETE', `/api/admin/api-keys/${key.id}`),
    ).toMatchObject({ revoked_at: expect.any(String) });
    await expectCall(400, 'DELETE', '/api/admin/api-keys/key-1');
    await waitFor(
      async () =>
        (await expectCall<{ last_poll: unknown }>(200, 'GET', '/api/admin/scheduler/status')).last_poll !== null,
      'first poll recorded',
    );
    await expectCall(403, 'GET', '/api/admin/scheduler/status', undefined, tenant.memberKey);
  });
});
