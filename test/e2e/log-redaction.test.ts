import { randomBytes } from 'node:crypto';
import { FakeAnthropic } from '../fakes/anthropic-server';
import { CallbackReceiver } from '../fakes/callback-receiver';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL } from '../support/env';
import { startApi, startWorker, type ServiceProcess } from '../support/processes';
import { deleteKeysWithPrefix, testPrefix } from '../support/redis';
import { waitFor } from '../support/wait';

interface Job {
  id: string;
  status: string;
}

/**
 * SPEC F14: secrets never reach the logs, at any depth. A real API and worker (the built code, LOG_LEVEL=debug,
 * every line captured) run with known secrets: the bootstrap key, the Anthropic key (sent to the fake), API keys
 * created through the API, organization webhook secrets (one rotated). Every route and task is exercised, the
 * clients' own mistakes included (secrets in URLs and headers of an http.request job that fails, a revoked key
 * used again, a dashboard login with a non-operator key); then no line of either process holds any secret.
 */
describe('e2e: no secret in any log line', () => {
  let database: TestDatabase;
  const prefix = testPrefix();
  const fake = new FakeAnthropic({ autoEndMs: 1000 });
  const receiver = new CallbackReceiver();
  const BOOTSTRAP = `boot-${randomBytes(18).toString('hex')}`;
  const ANTHROPIC = `sk-ant-api03-${randomBytes(24).toString('base64url')}`;
  let api: { proc: ServiceProcess; url: string } | undefined;
  let worker: ServiceProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    await receiver.start();
    await fake.start();
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      BOOTSTRAP_API_KEY: BOOTSTRAP,
      ANTHROPIC_API_KEY: ANTHROPIC,
      ANTHROPIC_BASE_URL: fake.url,
      ENABLE_BATCH_JOB_POLLING: 'true',
      POLL_RUNNING_LLM_BATCHES_INTERVAL_SECONDS: '1',
      POLL_LOCK_RETRY_INTERVAL_SECONDS: '1',
      LOG_LEVEL: 'debug',
      SHUTDOWN_GRACE_MS: '2000',
      DB_POOL_SIZE: '4',
      WORKER_CONCURRENCY: '4',
      CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
      CALLBACK_BACKOFF_MS: '50',
      CALLBACK_MAX_ATTEMPTS: '2',
      METRICS_PUBLIC: 'false',
    };
    api = await startApi(env);
    worker = await startWorker(env);
  }, 90_000);

  afterAll(async () => {
    await worker?.stop();
    await api?.proc.stop();
    await receiver.stop();
    await fake.stop();
    await deleteKeysWithPrefix(prefix);
    await database?.drop();
  }, 60_000);

  const call = async (method: string, path: string, body?: unknown, key: string = BOOTSTRAP, headers: Record<string, string> = {}) => {
    const r = await fetch(`${api!.url}${path}`, {
      method,
      redirect: 'manual',
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = text ? (JSON.parse(text) as unknown) : null;
    } catch {
      // HTML, Prometheus text, an event stream
    }
    return { status: r.status, headers: r.headers, body: parsed };
  };
  const ok = async <T>(p: ReturnType<typeof call>, status: number): Promise<T> => {
    const r = await p;
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body as T;
  };
  const terminal = (id: string, key: string) =>
    waitFor(async () => {
      const j = (await call('GET', `/api/jobs/${id}`, undefined, key)).body as Job;
      return ['completed', 'failed', 'cancelled', 'expired'].includes(j.status) ? j : null;
    }, `job ${id} to end`, 30_000, 100);

  it('exercises every route and task, and finds no secret in the logs', async () => {
    const secrets: string[] = [BOOTSTRAP, ANTHROPIC];

    // Organizations, users, keys: admin routes.
    const org = await ok<{ id: string; webhook_secret: string }>(call('POST', '/api/admin/organizations', { name: 'redaction' }), 201);
    secrets.push(org.webhook_secret);
    const user = await ok<{ id: string }>(call('POST', '/api/admin/users', { organization_id: org.id, name: 'rita' }), 201);
    const admin = await ok<{ id: string; key: string }>(call('POST', '/api/admin/api-keys', { user_id: user.id, role: 'admin' }), 201);
    const member = await ok<{ id: string; key: string }>(call('POST', '/api/admin/api-keys', { user_id: user.id, role: 'member' }), 201);
    const doomed = await ok<{ id: string; key: string }>(call('POST', '/api/admin/api-keys', { user_id: user.id, role: 'member' }), 201);
    secrets.push(admin.key, member.key, doomed.key);
    const rotated = await ok<{ webhook_secret: string }>(call('POST', `/api/admin/organizations/${org.id}/webhook-secret/rotate`, undefined, admin.key), 200);
    secrets.push(rotated.webhook_secret);
    await ok(call('GET', `/api/admin/organizations/${org.id}`, undefined, admin.key), 200);
    await ok(call('GET', '/api/admin/api-keys', undefined, admin.key), 200);
    await ok(call('DELETE', `/api/admin/api-keys/${doomed.id}`, undefined, admin.key), 200);
    expect((await call('GET', '/api/jobs', undefined, doomed.key)).status).toBe(401);
    expect((await call('GET', '/api/jobs', undefined, `${member.key}x`)).status).toBe(401);
    expect((await call('POST', '/api/admin/organizations', { name: 'nope' }, member.key)).status).toBe(403);

    // Jobs: create (with a signed callback), list, get, events (JSON and SSE), cancel, retry, delete, idempotency.
    const hook = receiver.url('/hook');
    const done = await ok<Job>(call('POST', '/api/jobs', { task: 'noop', callback_url: hook, metadata: { note: 'x' } }, member.key), 201);
    const sync = await ok<Job>(call('POST', '/api/jobs', { task: 'noop', background: false, idempotency_key: 'idem-1' }, member.key), 200);
    await ok(call('POST', '/api/jobs', { task: 'noop', background: false, idempotency_key: 'idem-1' }, member.key), 200);
    const sleeper = await ok<Job>(call('POST', '/api/jobs', { task: 'sleep', input: { ms: 20_000 }, callback_url: hook }, member.key), 201);
    await terminal(done.id, member.key);
    await waitFor(() => receiver.at('/hook').length >= 1, 'the callback to arrive');
    await ok(call('GET', '/api/jobs?limit=5', undefined, member.key), 200);
    await ok(call('GET', '/api/jobs/active', undefined, member.key), 200);
    await ok(call('GET', `/api/jobs/${sync.id}`, undefined, member.key), 200);
    await ok(call('GET', `/api/jobs/${done.id}/events`, undefined, member.key), 200);
    await ok(call('GET', `/api/jobs/${done.id}/events`, undefined, member.key, { accept: 'text/event-stream' }), 200);
    await ok(call('PATCH', `/api/jobs/${sleeper.id}/cancel`, undefined, member.key), 200);
    await ok(call('POST', `/api/jobs/${sleeper.id}/retry`, undefined, member.key), 200);
    await ok(call('DELETE', `/api/jobs/${sleeper.id}`, undefined, member.key), 200);
    await ok(call('POST', `/api/jobs/${done.id}/callback/redeliver`, undefined, member.key), 202);
    expect((await call('POST', '/api/jobs', { task: 'noop', input: { token: member.key } }, member.key)).status).toBe(400);
    expect((await call('GET', '/api/jobs/not-an-id', undefined, member.key)).status).toBe(400);

    // A failing callback receiver, and an http.request job carrying secrets in its URL and headers that fails.
    const failing = await ok<Job>(call('POST', '/api/jobs', { task: 'noop', callback_url: receiver.url('/down', [{ status: 500, body: `bad ${member.key}` }, { status: 500 }]) }, member.key), 201);
    const leaky = receiver.url(`/api?api_key=${admin.key}&token=${BOOTSTRAP}&secret=${encodeURIComponent(org.webhook_secret)}`, [{ status: 404, body: 'nope' }]);
    const http = await ok<Job>(
      call('POST', '/api/jobs', { task: 'http.request', input: { url: leaky, headers: { authorization: `Bearer ${admin.key}`, 'x-api-key': ANTHROPIC, cookie: `s=${rotated.webhook_secret}` } } }, member.key),
      201,
    );
    const httpOk = await ok<Job>(call('POST', '/api/jobs', { task: 'http.request', input: { url: receiver.url(`/fine?key=${member.key}`), headers: { authorization: `Bearer ${member.key}` } } }, member.key), 201);
    const failed = await ok<Job>(call('POST', '/api/jobs', { task: 'sleep', input: { ms: 10, fail: true }, max_attempts: 2, backoff_ms: 10 }, member.key), 201);
    for (const id of [failing.id, http.id, httpOk.id, failed.id]) await terminal(id, member.key);
    await waitFor(() => receiver.at('/down').length >= 2, 'the failing callback attempts');

    // LLM batches through the fake (the Anthropic key goes out on every call), then the admin views.
    const batch = await ok<Job>(
      call('POST', '/api/batches', { requests: [{ custom_id: 'q1', params: { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] } }, { custom_id: 'errored-q2', params: { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] } }] }, member.key),
      201,
    );
    expect((await terminal(batch.id, member.key)).status).toBe('completed');
    await ok(call('GET', `/api/batches/${batch.id}/items`, undefined, member.key), 200);
    await ok(call('GET', '/api/admin/batch-jobs', undefined, admin.key), 200);
    await ok(call('GET', '/api/admin/scheduler/status', undefined, admin.key), 200);
    await ok(call('GET', '/metrics'), 200);
    expect((await call('GET', '/metrics', undefined, member.key)).status).toBe(403);
    await ok(call('GET', '/api/health', undefined, member.key), 200);

    // The dashboard: a refused login (not an operator), a good one, the board with its cookie, logout.
    const form = (key: string) => fetch(`${api!.url}/admin/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `key=${encodeURIComponent(key)}` });
    expect((await form(admin.key)).status).toBe(403);
    expect((await form(doomed.key)).status).toBe(401);
    const login = await form(BOOTSTRAP);
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    secrets.push(cookie.slice(cookie.indexOf('=') + 1));
    expect((await fetch(`${api!.url}/admin/queues/api/queues`, { headers: { cookie } })).status).toBe(200);
    await fetch(`${api!.url}/admin/logout`, { method: 'POST', redirect: 'manual', headers: { cookie } });

    // Stop both (shutdown lines included), then read every line either wrote.
    await worker!.stop();
    await api!.proc.stop();
    const lines = [...api!.proc.logs, ...worker!.logs].map((l) => l.raw);
    expect(lines.length).toBeGreaterThan(50);
    const variants = (s: string) => [...new Set([s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1)])];
    const leaks = secrets.flatMap((s) => variants(s).flatMap((v) => lines.filter((l) => l.includes(v)).map((l) => ({ secret: `${s.slice(0, 8)}…`, line: l }))));
    expect(leaks).toEqual([]);
    // The paths that carried secrets were taken, and redaction (not silence) kept them out.
    const has = (message: string, extra = '') => lines.some((l) => l.includes(`"message":"${message}"`) && l.includes(extra));
    expect(has('job failed', `api_key=${'[redacted]'}`)).toBe(true);
    expect(has('callback attempt failed; retrying', 'jsk_[redacted]')).toBe(true);
    expect(has('llm batch poll cycle')).toBe(true);
    expect(has('dashboard login refused')).toBe(true);
    expect(has('request')).toBe(true);
  }, 240_000);
});
