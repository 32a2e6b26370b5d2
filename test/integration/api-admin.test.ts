import { Client } from 'pg';
import type { ApiKeyObject, ApiOrganization } from '../../apps/api/src/presenters/account';
import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';
import { createTenant, expectStatus } from '../support/tenants';

type Org = ApiOrganization;
type Key = ApiKeyObject;

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('admin routes: organizations, users, API keys', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ checkContract: true });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('an operator creates, reads and rotates an organization', async () => {
    const r = await stack.request('POST', '/api/admin/organizations', { name: 'Acme' });
    const org = expectStatus<Org>(r, 201);
    expect(org).toEqual({ id: expect.stringMatching(/^org-[0-9a-f-]{36}$/), name: 'Acme', created_at: expect.stringMatching(ISO), webhook_secret: expect.stringMatching(/^whsec_/), weight: 1, max_concurrency: null });
    expect(expectStatus<Org>(await stack.request('GET', `/api/admin/organizations/${org.id}`), 200)).toEqual(org);
    const rotated = expectStatus<Org>(await stack.request('POST', `/api/admin/organizations/${org.id}/webhook-secret/rotate`), 200);
    expect(rotated).toMatchObject({ id: org.id, name: 'Acme' });
    expect(rotated.webhook_secret).toMatch(/^whsec_/);
    expect(rotated.webhook_secret).not.toBe(org.webhook_secret);
  });

  it('an admin reads and rotates its own organization', async () => {
    const t = await createTenant(stack);
    const org = expectStatus<Org>(await stack.request('GET', `/api/admin/organizations/${t.orgId}`, undefined, t.adminKey), 200);
    expect(org.webhook_secret).toBe(t.webhookSecret);
    const rotated = expectStatus<Org>(await stack.request('POST', `/api/admin/organizations/${t.orgId}/webhook-secret/rotate`, undefined, t.adminKey), 200);
    expect(rotated.webhook_secret).not.toBe(t.webhookSecret);
  });

  it('creates users and keys; a new key works at once; its clear text is shown once and stored hashed', async () => {
    const t = await createTenant(stack);
    const user = expectStatus<{ id: string; organization_id: string; name: string; created_at: string }>(
      await stack.request('POST', '/api/admin/users', { organization_id: t.orgId, name: 'Ann' }, t.adminKey),
      201,
    );
    expect(user).toEqual({ id: expect.stringMatching(/^user-/), organization_id: t.orgId, name: 'Ann', created_at: expect.stringMatching(ISO) });
    const key = expectStatus<Key>(await stack.request('POST', '/api/admin/api-keys', { user_id: user.id, role: 'member' }, t.adminKey), 201);
    expect(key).toMatchObject({ id: expect.stringMatching(/^key-/), user_id: user.id, organization_id: t.orgId, role: 'member', created_at: expect.stringMatching(ISO) });
    expect(key.key!.startsWith(key.prefix)).toBe(true);
    expect(key.prefix.length).toBeLessThan(key.key!.length);
    const job = expectStatus<{ user_id: string; organization_id: string }>(await stack.request('POST', '/api/jobs', { task: 'noop' }, key.key!), 201);
    expect(job).toMatchObject({ user_id: user.id, organization_id: t.orgId });

    const pg = new Client({ connectionString: stack.database.url });
    await pg.connect();
    try {
      const { rows } = await pg.query<{ key_hash: string }>('SELECT key_hash FROM api_keys WHERE id = $1', [key.id]);
      expect(rows[0]!.key_hash).not.toContain(key.key!);
      expect(rows[0]!.key_hash).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await pg.end();
    }
  });

  it('lists keys without their clear text; an admin sees its organization, an operator any it names', async () => {
    const t = await createTenant(stack);
    const mine = expectStatus<Key[]>(await stack.request('GET', '/api/admin/api-keys', undefined, t.adminKey), 200);
    expect(mine.map((k) => k.id).sort()).toEqual([t.adminKeyId, t.memberKeyId].sort());
    for (const k of mine) expect(k).not.toHaveProperty('key');
    const viaOperator = expectStatus<Key[]>(await stack.request('GET', `/api/admin/api-keys?organization_id=${t.orgId}`), 200);
    expect(viaOperator.map((k) => k.id).sort()).toEqual(mine.map((k) => k.id).sort());
    expect(expectStatus<Key[]>(await stack.request('GET', '/api/admin/api-keys?organization_id=nope'), 400)).toBeTruthy();
  });

  it('revokes a key at once and answers with the key object', async () => {
    const t = await createTenant(stack);
    const revoked = expectStatus<Key & { revoked_at: string }>(await stack.request('DELETE', `/api/admin/api-keys/${t.memberKeyId}`, undefined, t.adminKey), 200);
    expect(revoked).toMatchObject({ id: t.memberKeyId, organization_id: t.orgId, role: 'member', revoked_at: expect.stringMatching(ISO) });
    expect(revoked).not.toHaveProperty('key');
    expect((await stack.request('GET', '/api/jobs', undefined, t.memberKey)).status).toBe(401);
    // Revoking again is harmless and keeps the first revocation time.
    const again = expectStatus<Key & { revoked_at: string }>(await stack.request('DELETE', `/api/admin/api-keys/${t.memberKeyId}`, undefined, t.adminKey), 200);
    expect(again.revoked_at).toBe(revoked.revoked_at);
  });

  it('an operator may mint operator keys; they act platform-wide', async () => {
    const t = await createTenant(stack);
    const op = expectStatus<Key>(await stack.request('POST', '/api/admin/api-keys', { user_id: t.userId, role: 'operator' }), 201);
    expect(op.role).toBe('operator');
    expectStatus(await stack.request('POST', '/api/admin/organizations', { name: 'made-by-new-operator' }, op.key!), 201);
  });

  it('bootstrap is idempotent: the operator key keeps working and one default organization exists', async () => {
    await stack.api.deps.accounts.bootstrap(OPERATOR_KEY);
    await Promise.all([stack.api.deps.accounts.bootstrap(OPERATOR_KEY), stack.api.deps.accounts.bootstrap(OPERATOR_KEY)]);
    expectStatus(await stack.request('GET', '/api/jobs'), 200);
    const pg = new Client({ connectionString: stack.database.url });
    await pg.connect();
    try {
      const { rows } = await pg.query<{ n: string }>(`SELECT count(*) AS n FROM organizations WHERE name = 'default'`);
      expect(rows[0]!.n).toBe('1');
      const keys = await pg.query<{ n: string }>(`SELECT count(*) AS n FROM api_keys WHERE role = 'operator' AND prefix = $1`, [OPERATOR_KEY.slice(0, 12)]);
      expect(keys.rows[0]!.n).toBe('1');
    } finally {
      await pg.end();
    }
  });

  it('serves the OpenAPI document and the docs page', async () => {
    const doc = expectStatus<{ openapi: string; paths: Record<string, unknown> }>(await stack.request('GET', '/api/openapi.json', undefined, null), 200);
    expect(doc.openapi).toBe('3.1.0');
    for (const p of ['/api/jobs', '/api/jobs/{id}', '/api/jobs/{id}/cancel', '/api/jobs/{id}/retry', '/api/jobs/{id}/events', '/api/admin/organizations', '/api/admin/api-keys']) {
      expect(doc.paths).toHaveProperty([p]);
    }
    // Progress frames on the event stream are opt-in, and documented as such.
    const events = doc.paths['/api/jobs/{id}/events'] as { get: { parameters: { name: string; in: string }[] } };
    expect(events.get.parameters).toContainEqual(expect.objectContaining({ name: 'progress', in: 'query' }));
    const docs = await fetch(`${stack.url}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toContain('text/html');
    expect(await docs.text()).toContain('/api/openapi.json');
  });

  it('reports health of both dependencies', async () => {
    expect(expectStatus(await stack.request('GET', '/api/health', undefined, null), 200)).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
  });
});

describe('GET /metrics with METRICS_PUBLIC=true', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ env: { METRICS_PUBLIC: 'true' }, checkContract: true });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('answers without a key, in the Prometheus text format', async () => {
    const r = await fetch(`${stack.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain');
    expect(await r.text()).toContain('# TYPE ');
  });
});
