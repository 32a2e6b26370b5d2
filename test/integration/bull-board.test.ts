import { Redis } from 'ioredis';
import { REDIS_URL } from '../support/env';
import { createKey } from '../support/keys';
import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';

/** Raw fetch against the stack without following redirects, so 302/303 answers stay visible. */
async function get(stack: TestStack, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${stack.url}${path}`, { headers, redirect: 'manual' });
}

async function login(stack: TestStack, key: string): Promise<Response> {
  return fetch(`${stack.url}/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams({ key }).toString(),
    redirect: 'manual',
  });
}

/** `name=value` of the session cookie a login answer sets. */
function sessionCookie(res: Response): string {
  const set = res.headers.getSetCookie().find((c) => c.startsWith('jobsvc_admin='));
  if (!set) throw new Error('no session cookie set');
  return set.split(';')[0]!;
}

describe('Bull Board at /admin/queues', () => {
  let stack: TestStack;
  let redis: Redis;
  beforeAll(async () => {
    stack = await startStack();
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    redis.disconnect();
    await stack.stop();
  });

  it('answers 401 to a client without key or session, and redirects a browser to the login form', async () => {
    const api = await get(stack, '/admin/queues', { accept: 'application/json' });
    expect(api.status).toBe(401);
    expect(api.headers.get('www-authenticate')).toBe('Bearer');
    expect(api.headers.get('content-type')).toContain('application/problem+json');
    const plain = await get(stack, '/admin/queues/api/queues');
    expect(plain.status).toBe(401);
    const browser = await get(stack, '/admin/queues', { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    expect(browser.status).toBe(302);
    expect(browser.headers.get('location')).toBe('/admin/login');
  });

  it('answers 403 to a non-operator key and 401 to an unknown one', async () => {
    const member = await createKey(stack, 'member');
    const admin = await createKey(stack, 'admin');
    expect((await get(stack, '/admin/queues', { authorization: `Bearer ${member.key}` })).status).toBe(403);
    expect((await get(stack, '/admin/queues/api/queues', { authorization: `Bearer ${admin.key}` })).status).toBe(403);
    expect((await get(stack, '/admin/queues', { authorization: 'Bearer jsk_not-a-real-key-at-all' })).status).toBe(401);
  });

  it('serves the board and every queue of the service to an operator key', async () => {
    const created = await stack.request('POST', '/api/jobs', { task: 'noop', delay_ms: 600000 });
    expect(created.status).toBe(201);
    const page = await get(stack, '/admin/queues', { authorization: `Bearer ${OPERATOR_KEY}`, accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('<base href="/admin/queues/"');
    const asset = /src="(static\/js\/main[^"]*\.js)"/.exec(html);
    expect(asset).not.toBeNull();
    const js = await get(stack, `/admin/queues/${asset![1]!}`, { authorization: `Bearer ${OPERATOR_KEY}` });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('javascript');
    expect((await js.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    expect(page.headers.get('x-powered-by')).toBeNull();

    const api = await get(stack, '/admin/queues/api/queues', { authorization: `Bearer ${OPERATOR_KEY}` });
    expect(api.status).toBe(200);
    const body = (await api.json()) as { queues: { name: string; counts: Record<string, number> }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual(['callbacks', 'jobs', 'scheduler']);
    expect(body.queues.find((q) => q.name === 'jobs')!.counts['delayed']).toBe(1);
  });

  it('logs in with the form, keeps only a random token in the cookie and Redis, and logs out', async () => {
    const form = await get(stack, '/admin/login', { accept: 'text/html' });
    expect(form.status).toBe(200);
    expect(await form.text()).toMatch(/<form method="post" action="\/admin\/login">/);

    const res = await login(stack, OPERATOR_KEY);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/queues');
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('jobsvc_admin='))!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    // The whole origin: the console uses the same session under /api (test/integration/console-session.test.ts).
    expect(setCookie).toMatch(/Path=\/;/);
    expect(setCookie).not.toContain(OPERATOR_KEY);
    const cookie = sessionCookie(res);

    const sessions = await redis.keys(`${stack.prefix}:admin-session:*`);
    expect(sessions).toHaveLength(1);
    const stored = await redis.get(sessions[0]!);
    expect(stored).toMatch(/^key-/);
    expect(sessions[0]).not.toContain(cookie.split('=')[1]!);
    const ttl = await redis.ttl(sessions[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(8 * 3600);

    const board = await get(stack, '/admin/queues', { cookie, accept: 'text/html' });
    expect(board.status).toBe(200);
    expect((await get(stack, '/admin/queues/api/queues', { cookie })).status).toBe(200);

    const out = await fetch(`${stack.url}/admin/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/admin/login');
    expect(out.headers.getSetCookie().join(';')).toMatch(/jobsvc_admin=;/);
    expect(await redis.exists(sessions[0]!)).toBe(0);
    expect((await get(stack, '/admin/queues/api/queues', { cookie })).status).toBe(401);
    expect((await get(stack, '/admin/queues', { cookie, accept: 'text/html' })).status).toBe(302);
  });

  it('refuses wrong and non-operator keys at the form and ends sessions of revoked keys', async () => {
    const wrong = await login(stack, 'jsk_wrong-key-wrong-key-wrong');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.getSetCookie()).toHaveLength(0);
    expect(await wrong.text()).toContain('Unknown or revoked API key');
    const member = await createKey(stack, 'member');
    expect((await login(stack, member.key)).status).toBe(403);
    const empty = await login(stack, '');
    expect(empty.status).toBe(400);

    const operator = await createKey(stack, 'operator');
    const cookie = sessionCookie(await login(stack, operator.key));
    expect((await get(stack, '/admin/queues/api/queues', { cookie })).status).toBe(200);
    expect((await stack.request('DELETE', `/api/admin/api-keys/${operator.id}`)).status).toBe(200);
    expect((await get(stack, '/admin/queues/api/queues', { cookie })).status).toBe(401);
  });

  it('answers 405 for other methods on the login page', async () => {
    const res = await stack.request('PUT', '/admin/login', {});
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toContain('POST');
  });
});
