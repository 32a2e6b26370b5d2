import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';
import { createTenant, expectStatus, type Tenant } from '../support/tenants';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}
interface Job {
  id: string;
  status: string;
  organization_id: string;
}

/** Every status code of API.md "Errors", over HTTP, as RFC 9457 problem documents. */
describe('API errors and access rules', () => {
  let stack: TestStack;
  let a: Tenant;
  let b: Tenant;

  const problem = (r: { status: number; body: unknown; headers: Headers }, status: number): Problem => {
    const p = expectStatus<Problem>(r, status);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(p).toMatchObject({ status, title: expect.any(String), detail: expect.any(String), type: expect.any(String) });
    return p;
  };
  const createJob = async (key: string, body: Record<string, unknown> = {}) =>
    expectStatus<Job>(await stack.request('POST', '/api/jobs', { task: 'noop', ...body }, key), 201);

  beforeAll(async () => {
    stack = await startStack({ env: { MAX_BODY_BYTES: '32768' }, checkContract: true });
    a = await createTenant(stack, 'tenant-a');
    b = await createTenant(stack, 'tenant-b');
  });
  afterAll(async () => {
    await stack.stop();
  });

  describe('401: no, unknown or revoked key', () => {
    const routes: [string, string][] = [
      ['GET', '/api/jobs'],
      ['POST', '/api/jobs'],
      ['GET', '/api/jobs/active'],
      ['GET', '/api/jobs/job-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b'],
      ['PATCH', '/api/jobs/job-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b/cancel'],
      ['POST', '/api/admin/organizations'],
      ['GET', '/api/admin/api-keys'],
      ['GET', '/metrics'],
    ];
    it.each(routes)('%s %s without a key', async (method, path) => {
      const r = await stack.request(method, path, method === 'GET' ? undefined : {}, null);
      problem(r, 401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('answers 401 for an unknown key and for a non-Bearer scheme', async () => {
      const r1 = await stack.request('GET', '/api/jobs', undefined, 'jsk_not_a_real_key');
      problem(r1, 401);
      expect(r1.headers.get('www-authenticate')).toBe('Bearer');
      const r2 = await stack.request('GET', '/api/jobs', undefined, null, { authorization: `Basic ${Buffer.from('x:y').toString('base64')}` });
      problem(r2, 401);
      expect(r2.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('answers 401 at once for a revoked key', async () => {
      const user = expectStatus<{ id: string }>(await stack.request('POST', '/api/admin/users', { organization_id: a.orgId, name: 'short-lived' }), 201);
      const key = expectStatus<{ id: string; key: string }>(await stack.request('POST', '/api/admin/api-keys', { user_id: user.id, role: 'member' }), 201);
      expectStatus(await stack.request('GET', '/api/jobs', undefined, key.key), 200);
      const revoked = expectStatus<Record<string, unknown>>(await stack.request('DELETE', `/api/admin/api-keys/${key.id}`, undefined, a.adminKey), 200);
      expect(revoked).not.toHaveProperty('key');
      expect(revoked['revoked_at']).toEqual(expect.any(String));
      const r = await stack.request('GET', '/api/jobs', undefined, key.key);
      problem(r, 401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('needs no key for health, liveness and the OpenAPI document', async () => {
      expect((await stack.request('GET', '/api/health', undefined, null)).status).toBe(200);
      expect((await stack.request('GET', '/api/health/live', undefined, null)).status).toBe(200);
      expect((await stack.request('GET', '/api/openapi.json', undefined, null)).status).toBe(200);
    });
  });

  describe('403: role too low', () => {
    it('refuses members on admin routes', async () => {
      problem(await stack.request('POST', '/api/admin/users', { organization_id: a.orgId, name: 'x' }, a.memberKey), 403);
      problem(await stack.request('POST', '/api/admin/api-keys', { user_id: a.userId, role: 'member' }, a.memberKey), 403);
      problem(await stack.request('GET', '/api/admin/api-keys', undefined, a.memberKey), 403);
      problem(await stack.request('DELETE', `/api/admin/api-keys/${a.adminKeyId}`, undefined, a.memberKey), 403);
      problem(await stack.request('GET', `/api/admin/organizations/${a.orgId}`, undefined, a.memberKey), 403);
      problem(await stack.request('POST', `/api/admin/organizations/${a.orgId}/webhook-secret/rotate`, undefined, a.memberKey), 403);
    });

    it('refuses admins on operator routes and metrics', async () => {
      problem(await stack.request('POST', '/api/admin/organizations', { name: 'nope' }, a.adminKey), 403);
      problem(await stack.request('GET', '/metrics', undefined, a.adminKey), 403);
      problem(await stack.request('GET', '/metrics', undefined, a.memberKey), 403);
      const m = await stack.request('GET', '/metrics', undefined, OPERATOR_KEY);
      expect(m.status).toBe(200);
      expect(m.headers.get('content-type')).toContain('text/plain');
    });

    it('refuses an admin minting an operator key', async () => {
      problem(await stack.request('POST', '/api/admin/api-keys', { user_id: a.userId, role: 'operator' }, a.adminKey), 403);
    });
  });

  describe('404: another organization’s resources do not exist for the caller', () => {
    let jobOfA: Job;
    beforeAll(async () => {
      jobOfA = await createJob(a.memberKey);
    });

    it.each([
      ['GET', ''],
      ['GET', '/events'],
      ['PATCH', '/cancel'],
      ['POST', '/retry'],
      ['DELETE', ''],
    ])('%s /api/jobs/{id}%s of another organization', async (method, suffix) => {
      const p = problem(await stack.request(method, `/api/jobs/${jobOfA.id}${suffix}`, undefined, b.memberKey), 404);
      expect(JSON.stringify(p)).not.toContain(a.orgId);
      problem(await stack.request(method, `/api/jobs/${jobOfA.id}${suffix}`, undefined, b.adminKey), 404);
    });

    it('leaves the job untouched after those attempts', async () => {
      const j = expectStatus<Job>(await stack.request('GET', `/api/jobs/${jobOfA.id}`, undefined, a.memberKey), 200);
      expect(['created', 'pending']).toContain(j.status);
    });

    it('answers 404 for an unknown job id of the right shape', async () => {
      problem(await stack.request('GET', '/api/jobs/job-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b', undefined, a.memberKey), 404);
    });

    it('confines an admin to its own organization', async () => {
      problem(await stack.request('GET', `/api/admin/organizations/${b.orgId}`, undefined, a.adminKey), 404);
      problem(await stack.request('POST', `/api/admin/organizations/${b.orgId}/webhook-secret/rotate`, undefined, a.adminKey), 404);
      problem(await stack.request('POST', '/api/admin/users', { organization_id: b.orgId, name: 'intruder' }, a.adminKey), 404);
      problem(await stack.request('POST', '/api/admin/api-keys', { user_id: b.userId, role: 'member' }, a.adminKey), 404);
      problem(await stack.request('DELETE', `/api/admin/api-keys/${b.memberKeyId}`, undefined, a.adminKey), 404);
      // b's key still works: the refused revoke changed nothing.
      expectStatus(await stack.request('GET', '/api/jobs', undefined, b.memberKey), 200);
      const keys = expectStatus<{ organization_id: string }[]>(await stack.request('GET', `/api/admin/api-keys?organization_id=${b.orgId}`, undefined, a.adminKey), 200);
      expect(keys.every((k) => k.organization_id === a.orgId)).toBe(true);
    });

    it('answers 404 for unknown organizations, users and keys', async () => {
      problem(await stack.request('GET', '/api/admin/organizations/org-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b'), 404);
      problem(await stack.request('POST', '/api/admin/users', { organization_id: 'org-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b', name: 'x' }), 404);
      problem(await stack.request('POST', '/api/admin/api-keys', { user_id: 'user-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b', role: 'member' }), 404);
      problem(await stack.request('DELETE', '/api/admin/api-keys/key-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b'), 404);
    });
  });

  describe('400: malformed or invalid requests', () => {
    it('malformed JSON', async () => {
      const p = problem(await stack.request('POST', '/api/jobs', '{"task": "noop",', a.memberKey), 400);
      expect(p.detail).toMatch(/JSON/i);
    });

    it('a body that is not an object', async () => {
      problem(await stack.request('POST', '/api/jobs', '[1,2]', a.memberKey), 400);
      problem(await stack.request('POST', '/api/jobs', '"noop"', a.memberKey), 400);
      problem(await stack.request('POST', '/api/jobs', 'null', a.memberKey), 400);
    });

    it('no body, or a body that is not JSON', async () => {
      problem(await stack.request('POST', '/api/jobs', undefined, a.memberKey), 400);
      problem(await stack.request('POST', '/api/jobs', 'task=noop', a.memberKey, { 'content-type': 'application/x-www-form-urlencoded' }), 400);
    });

    it('an unknown body field, named', async () => {
      const p = problem(await stack.request('POST', '/api/jobs', { task: 'noop', colour: 'blue' }, a.memberKey), 400);
      expect(p.errors).toEqual([{ path: 'colour', message: expect.any(String) }]);
      const q = problem(await stack.request('POST', '/api/admin/organizations', { name: 'x', plan: 'gold' }), 400);
      expect(q.errors?.map((e) => e.path)).toEqual(['plan']);
    });

    it('an unknown task and a bad task input, named', async () => {
      expect(problem(await stack.request('POST', '/api/jobs', { task: 'nope' }, a.memberKey), 400).errors?.[0]?.path).toBe('task');
      expect(problem(await stack.request('POST', '/api/jobs', { task: 'sleep', input: { ms: 'long' } }, a.memberKey), 400).errors?.[0]?.path).toBe('input.ms');
      expect(problem(await stack.request('POST', '/api/jobs', { task: 'noop', input: { extra: 1 } }, a.memberKey), 400).errors?.[0]?.path).toBe('input.extra');
    });

    it('bounds of the create body', async () => {
      const paths = async (body: Record<string, unknown>) => problem(await stack.request('POST', '/api/jobs', { task: 'noop', ...body }, a.memberKey), 400).errors?.map((e) => e.path);
      expect(await paths({ wait_ms: 100 })).toEqual(['wait_ms']);
      expect(await paths({ expires_at: '2000-01-01T00:00:00.000Z' })).toEqual(['expires_at']);
      expect(await paths({ delay_ms: 2_592_000_001 })).toEqual(['delay_ms']);
      expect(await paths({ timeout_ms: 0 })).toEqual(['timeout_ms']);
      expect(await paths({ metadata: { big: 'x'.repeat(17 * 1024) } })).toEqual(['metadata']);
      expect(await paths({ callback_url: 'file:///etc/passwd' })).toEqual(['callback_url']);
    });

    it('strings with NUL characters or lone surrogates', async () => {
      const p = problem(await stack.request('POST', '/api/jobs', '{"task":"noop","metadata":{"a":"x\\u0000y"}}', a.memberKey), 400);
      expect(p.errors?.[0]?.path).toBe('metadata.a');
      const q = problem(await stack.request('POST', '/api/jobs', '{"task":"noop","agent_id":"\\ud800"}', a.memberKey), 400);
      expect(q.errors?.[0]?.path).toBe('agent_id');
    });

    it('an id of the wrong shape in a path', async () => {
      for (const [method, path] of [
        ['GET', '/api/jobs/not-an-id'],
        ['GET', '/api/jobs/job-123/events'],
        ['PATCH', '/api/jobs/org-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b/cancel'],
        ['POST', '/api/jobs/x/retry'],
        ['DELETE', '/api/jobs/x'],
        ['GET', '/api/admin/organizations/acme'],
        ['POST', '/api/admin/organizations/acme/webhook-secret/rotate'],
        ['DELETE', '/api/admin/api-keys/abc'],
      ] as const) {
        const p = problem(await stack.request(method, path), 400);
        expect(p.errors?.[0]?.path).toBe('id');
      }
    });

    it('a bad list query', async () => {
      for (const q of ['status=done', 'limit=0', 'limit=1001', 'order=sideways', 'background=maybe', 'job_type=thing', 'after=nope']) {
        problem(await stack.request('GET', `/api/jobs?${q}`, undefined, a.memberKey), 400);
      }
    });

    it('an unknown cursor, a cursor of another organization or of another job_type', async () => {
      const unknown = 'job-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b';
      expect(problem(await stack.request('GET', `/api/jobs?after=${unknown}`, undefined, a.memberKey), 400).errors?.[0]?.path).toBe('after');
      expect(problem(await stack.request('GET', `/api/jobs?before=${unknown}`, undefined, a.memberKey), 400).errors?.[0]?.path).toBe('before');
      const ofB = await createJob(b.memberKey);
      problem(await stack.request('GET', `/api/jobs?after=${ofB.id}`, undefined, a.memberKey), 400);
      const ofA = await createJob(a.memberKey);
      problem(await stack.request('GET', `/api/jobs?job_type=run&after=${ofA.id}`, undefined, a.memberKey), 400);
      problem(await stack.request('GET', `/api/runs?after=${ofA.id}`, undefined, a.memberKey), 400);
      expectStatus(await stack.request('GET', `/api/jobs?after=${ofA.id}`, undefined, a.memberKey), 200);
    });

    it('an Idempotency-Key header that differs from the body key', async () => {
      const p = problem(await stack.request('POST', '/api/jobs', { task: 'noop', idempotency_key: 'one' }, a.memberKey, { 'idempotency-key': 'two' }), 400);
      expect(p.errors?.[0]?.path).toBe('idempotency_key');
    });
  });

  describe('413, 404, 405', () => {
    it('413 for a body over MAX_BODY_BYTES', async () => {
      const p = problem(await stack.request('POST', '/api/jobs', { task: 'noop', metadata: { pad: 'x'.repeat(40_000) } }, a.memberKey), 413);
      expect(p.detail).toContain('MAX_BODY_BYTES');
    });

    it('404 for an unknown route', async () => {
      problem(await stack.request('GET', '/api/nothing-here', undefined, a.memberKey), 404);
      problem(await stack.request('GET', '/api/jobs/job-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b/unknown', undefined, a.memberKey), 404);
      problem(await stack.request('GET', '/nowhere', undefined, null), 404);
    });

    it('405 with Allow for a known path and another method', async () => {
      const r1 = await stack.request('PUT', '/api/jobs', {}, a.memberKey);
      problem(r1, 405);
      expect(r1.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
      const r2 = await stack.request('POST', '/api/jobs/job-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b', {}, a.memberKey);
      problem(r2, 405);
      expect(r2.headers.get('allow')?.split(', ').sort()).toEqual(['DELETE', 'GET', 'HEAD']);
      const r3 = await stack.request('GET', '/api/jobs/job-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b/cancel', undefined, a.memberKey);
      problem(r3, 405);
      expect(r3.headers.get('allow')).toBe('PATCH');
      const r4 = await stack.request('DELETE', '/api/health', undefined, null);
      problem(r4, 405);
    });
  });

  describe('409: invalid transitions', () => {
    it('cancel of a terminal job names its status', async () => {
      const job = await createJob(a.memberKey);
      const jobs = stack.api.deps.jobs;
      await jobs.transition(job.id, 'running');
      await jobs.transition(job.id, 'completed', { result: {} });
      const p = problem(await stack.request('PATCH', `/api/jobs/${job.id}/cancel`, undefined, a.memberKey), 409);
      expect(p.detail).toContain('completed');
    });

    it('cancel twice: the second is 409 naming cancelled', async () => {
      const job = await createJob(a.memberKey);
      const c = expectStatus<Job & { stop_reason: string; completed_at: string }>(await stack.request('PATCH', `/api/jobs/${job.id}/cancel`, undefined, a.memberKey), 200);
      expect(c).toMatchObject({ status: 'cancelled', stop_reason: 'cancelled', completed_at: expect.any(String) });
      expect(problem(await stack.request('PATCH', `/api/jobs/${job.id}/cancel`, undefined, a.memberKey), 409).detail).toContain('cancelled');
    });

    it('retry of a job that is not failed, cancelled or expired', async () => {
      const job = await createJob(a.memberKey);
      expect(problem(await stack.request('POST', `/api/jobs/${job.id}/retry`, undefined, a.memberKey), 409).detail).toMatch(/pending|created/);
      await stack.api.deps.jobs.transition(job.id, 'running');
      await stack.api.deps.jobs.transition(job.id, 'completed', { result: {} });
      expect(problem(await stack.request('POST', `/api/jobs/${job.id}/retry`, undefined, a.memberKey), 409).detail).toContain('completed');
    });

    it('the same idempotency key with another body', async () => {
      expectStatus(await stack.request('POST', '/api/jobs', { task: 'noop', idempotency_key: 'k-409' }, a.memberKey), 201);
      const again = await stack.request('POST', '/api/jobs', { task: 'noop', idempotency_key: 'k-409' }, a.memberKey);
      expect(again.status).toBe(200);
      problem(await stack.request('POST', '/api/jobs', { task: 'noop', idempotency_key: 'k-409', agent_id: 'other' }, a.memberKey), 409);
    });
  });

  describe('operators', () => {
    it('act on any organization’s job by id', async () => {
      const job = await createJob(b.memberKey);
      expect(expectStatus<Job>(await stack.request('GET', `/api/jobs/${job.id}`), 200).organization_id).toBe(b.orgId);
      expectStatus(await stack.request('GET', `/api/jobs/${job.id}/events`), 200);
      expect(expectStatus<Job>(await stack.request('PATCH', `/api/jobs/${job.id}/cancel`), 200).status).toBe('cancelled');
      expect(expectStatus<Job>(await stack.request('POST', `/api/jobs/${job.id}/retry`), 200).status).toBe('pending');
      expect(expectStatus<Job>(await stack.request('DELETE', `/api/jobs/${job.id}`), 200).id).toBe(job.id);
      problem(await stack.request('GET', `/api/jobs/${job.id}`), 404);
    });

    it('list their own organization unless organization_id is given', async () => {
      const job = await createJob(b.memberKey, { agent_id: 'op-list' });
      expect(expectStatus<Job[]>(await stack.request('GET', '/api/jobs?agent_id=op-list'), 200)).toEqual([]);
      const forB = expectStatus<Job[]>(await stack.request('GET', `/api/jobs?agent_id=op-list&organization_id=${b.orgId}`), 200);
      expect(forB.map((j) => j.id)).toEqual([job.id]);
      const active = expectStatus<Job[]>(await stack.request('GET', `/api/jobs/active?agent_id=op-list&organization_id=${b.orgId}`), 200);
      expect(active.map((j) => j.id)).toEqual([job.id]);
      // A member's organization_id is not a way out of its own organization.
      expect(expectStatus<Job[]>(await stack.request('GET', `/api/jobs?agent_id=op-list&organization_id=${b.orgId}`, undefined, a.memberKey), 200)).toEqual([]);
    });
  });
});
