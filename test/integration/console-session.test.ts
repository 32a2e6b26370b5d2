import { Redis } from 'ioredis';
import { REDIS_URL } from '../support/env';
import { createKey } from '../support/keys';
import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';

const CONSOLE = { 'x-jobs-console': '1' };

async function login(stack: TestStack, key: string, next?: string): Promise<Response> {
  return fetch(`${stack.url}/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams(next === undefined ? { key } : { key, next }).toString(),
    redirect: 'manual',
  });
}

function sessionCookie(res: Response): string {
  const set = res.headers.getSetCookie().find((c) => c.startsWith('jobsvc_admin=') && !c.startsWith('jobsvc_admin=;'));
  if (!set) throw new Error('no session cookie set');
  return set.split(';')[0]!;
}

/**
 * The operator dashboard session as a way into /api for the jobs console: the same routes and checks as the
 * key that signed in, only on same-origin requests that send X-Jobs-Console: 1, never over a Bearer header.
 */
describe('the dashboard session on /api (the console without a key)', () => {
  let stack: TestStack;
  let redis: Redis;
  let cookie: string;
  const api = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
    stack.request(method, path, body, null, headers);

  beforeAll(async () => {
    stack = await startStack();
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    cookie = sessionCookie(await login(stack, OPERATOR_KEY));
  });
  afterAll(async () => {
    redis.disconnect();
    await stack.stop();
  });

  it('acts as the operator key that signed in, reading and writing through the ordinary routes', async () => {
    const created = await api('POST', '/api/jobs', { cookie, ...CONSOLE, 'sec-fetch-site': 'same-origin' }, { task: 'noop' });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const read = await api('GET', `/api/jobs/${id}`, { cookie, ...CONSOLE });
    expect(read.status).toBe(200);
    // Same organization as the key itself: what one sees, the other does.
    expect((await stack.request('GET', `/api/jobs/${id}`)).status).toBe(200);
    const keys = await api('GET', '/api/admin/api-keys', { cookie, ...CONSOLE, origin: stack.url });
    expect(keys.status).toBe(200);
    expect(keys.body).toEqual((await stack.request('GET', '/api/admin/api-keys')).body);
  });

  it('refuses the cookie without the console header, from another site, or from another origin', async () => {
    const refusals: Record<string, string>[] = [
      { cookie },
      { cookie, 'x-jobs-console': 'yes' },
      { cookie, ...CONSOLE, 'sec-fetch-site': 'cross-site' },
      { cookie, ...CONSOLE, 'sec-fetch-site': 'same-site' },
      { cookie, ...CONSOLE, origin: 'https://evil.example' },
    ];
    for (const headers of refusals) {
      const res = await api('POST', '/api/jobs', headers, { task: 'noop' });
      expect([JSON.stringify(headers), res.status]).toEqual([JSON.stringify(headers), 401]);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect((res.body as { detail: string }).detail).toMatch(/dashboard session counts only/);
    }
    // Nothing was created by the refused requests.
    const jobs = (await stack.request('GET', '/api/jobs?limit=100')).body as { task: string }[];
    expect(jobs.filter((j) => j.task === 'noop')).toHaveLength(1);
    // The document, health and the routes outside /api do not care either way.
    expect((await api('GET', '/api/health/live', { cookie })).status).toBe(200);
    expect((await api('GET', '/metrics', { cookie, ...CONSOLE })).status).toBe(401);
  });

  it('lets a Bearer header decide alone, even a wrong one', async () => {
    const member = await createKey(stack, 'member');
    const asMember = await api('GET', '/api/admin/api-keys', { cookie, ...CONSOLE, authorization: `Bearer ${member.key}` });
    expect(asMember.status).toBe(403);
    const jobs = await api('GET', '/api/jobs', { cookie, ...CONSOLE, authorization: `Bearer ${member.key}` });
    expect(jobs.body).toEqual([]);
    expect((await api('GET', '/api/jobs', { cookie, ...CONSOLE, authorization: 'Bearer jsk_not-a-real-key-at-all' })).status).toBe(401);
    expect((await api('GET', '/api/jobs', { cookie, ...CONSOLE, authorization: 'Basic b3A6b3A=' })).status).toBe(401);
  });

  it("ends with the key's revocation and with signing out", async () => {
    const operator = await createKey(stack, 'operator');
    const revoked = sessionCookie(await login(stack, operator.key));
    expect((await api('GET', '/api/jobs', { cookie: revoked, ...CONSOLE })).status).toBe(200);
    expect((await stack.request('DELETE', `/api/admin/api-keys/${operator.id}`)).status).toBe(200);
    const after = await api('GET', '/api/jobs', { cookie: revoked, ...CONSOLE });
    expect(after.status).toBe(401);
    expect((after.body as { detail: string }).detail).toMatch(/session has ended/);

    const other = sessionCookie(await login(stack, OPERATOR_KEY));
    expect((await api('GET', '/api/jobs', { cookie: other, ...CONSOLE })).status).toBe(200);
    const out = await fetch(`${stack.url}/admin/logout`, { method: 'POST', headers: { cookie: other }, redirect: 'manual' });
    expect(out.status).toBe(303);
    // Both the whole-origin cookie and one of an earlier release, scoped to /admin, are cleared.
    const cleared = out.headers.getSetCookie().filter((c) => c.startsWith('jobsvc_admin=;'));
    expect(cleared.map((c) => /Path=([^;]*)/.exec(c)?.[1]).sort()).toEqual(['/', '/admin']);
    expect((await api('GET', '/api/jobs', { cookie: other, ...CONSOLE })).status).toBe(401);
    // The first session is still open: signing out ends that one session only.
    expect((await api('GET', '/api/jobs', { cookie, ...CONSOLE })).status).toBe(200);
  });

  it('returns to the console after the login form only for console paths', async () => {
    const form = await fetch(`${stack.url}/admin/login?next=${encodeURIComponent('/console/jobs?status=failed')}`);
    expect(await form.text()).toContain('<input type="hidden" name="next" value="/console/jobs?status=failed">');
    const plain = await (await fetch(`${stack.url}/admin/login?next=https://evil.example/`)).text();
    expect(plain).not.toContain('name="next"');

    const back = await login(stack, OPERATOR_KEY, '/console');
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe('/console');
    for (const next of ['https://evil.example/', '//evil.example/console', '/consoleevil', '/console\\@evil.example', '/admin/logout']) {
      const res = await login(stack, OPERATOR_KEY, next);
      expect([next, res.headers.get('location')]).toEqual([next, '/admin/queues']);
    }
    const wrong = await login(stack, 'jsk_wrong-key-wrong-key-wrong', '/console');
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('name="next" value="/console"');
  });
});
