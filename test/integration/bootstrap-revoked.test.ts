import { createApiProcess } from '../../apps/api/src/api-process';
import { capturingLogger } from '../support/log-capture';
import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';
import { createTenant, expectStatus } from '../support/tenants';

/** SPEC F14: a revoked key stays revoked across restarts, the bootstrap key included. */
describe('a revoked BOOTSTRAP_API_KEY', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('stays revoked when the API starts again, and the start warns about it', async () => {
    // Another operator key, so the platform keeps an operator once the bootstrap key is gone.
    const t = await createTenant(stack);
    const other = expectStatus<{ key: string }>(await stack.request('POST', '/api/admin/api-keys', { user_id: t.userId, role: 'operator' }), 201);
    const keys = expectStatus<{ id: string; prefix: string; role: string; organization_id: string }[]>(await stack.request('GET', '/api/admin/api-keys'), 200);
    const bootstrapKey = keys.find((k) => OPERATOR_KEY.startsWith(k.prefix) && k.role === 'operator');
    expect(bootstrapKey).toBeDefined();
    expectStatus(await stack.request('DELETE', `/api/admin/api-keys/${bootstrapKey!.id}`, undefined, other.key), 200);
    expect((await stack.request('GET', '/api/jobs')).status).toBe(401);

    // A restart: a new API process with the same settings runs bootstrap() as it starts.
    const { logger, lines } = capturingLogger();
    const restarted = createApiProcess(stack.settings, logger);
    try {
      const url = await restarted.listen(0, '127.0.0.1');
      const r = await fetch(`${url}/api/jobs`, { headers: { authorization: `Bearer ${OPERATOR_KEY}` } });
      expect(r.status).toBe(401);
      expect((await stack.request('GET', '/api/jobs')).status).toBe(401);
      // Calling it again (another process starting) changes nothing either.
      await restarted.deps.accounts.bootstrap(OPERATOR_KEY);
      expect((await fetch(`${url}/api/jobs`, { headers: { authorization: `Bearer ${OPERATOR_KEY}` } })).status).toBe(401);
      const listed = expectStatus<{ id: string; revoked_at: string | null }[]>(await stack.request('GET', `/api/admin/api-keys?organization_id=${bootstrapKey!.organization_id}`, undefined, other.key), 200);
      expect(listed.find((k) => k.id === bootstrapKey!.id)?.revoked_at).toEqual(expect.any(String));
      expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringMatching(/bootstrap key is revoked/i), key_id: bootstrapKey!.id }));
    } finally {
      await restarted.stop();
    }
  });
});
