import { createApiProcess, type ApiProcess } from '../../apps/api/src/api-process';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * The key cache must not delay revocation: a key revoked through one API process stops working on
 * another process (which had it cached) well within the cache's TTL, through the Redis bus.
 */
describe('API key revocation across API processes', () => {
  let stack: TestStack;
  let other: ApiProcess;
  let otherUrl: string;

  beforeAll(async () => {
    stack = await startStack();
    other = createApiProcess(stack.settings);
    otherUrl = await other.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await other?.stop();
    await stack?.stop();
  });

  const listOnOther = async (key: string) => (await fetch(`${otherUrl}/api/jobs`, { headers: { authorization: `Bearer ${key}` } })).status;

  it('revoking on process A refuses the key on process B at once, though B had cached it', async () => {
    const org = (await stack.request('POST', '/api/admin/organizations', { name: 'revocation' })).body as { id: string };
    const user = (await stack.request('POST', '/api/admin/users', { organization_id: org.id, name: 'Rita' })).body as { id: string };
    const key = (await stack.request('POST', '/api/admin/api-keys', { user_id: user.id, role: 'member' })).body as { id: string; key: string };

    expect(await listOnOther(key.key)).toBe(200);
    expect(await listOnOther(key.key)).toBe(200); // now answered from B's cache

    const revokedAt = Date.now();
    expect((await stack.request('DELETE', `/api/admin/api-keys/${key.id}`)).status).toBe(200);
    expect((await stack.request('GET', '/api/jobs', undefined, key.key)).status).toBe(401);
    await waitFor(async () => (await listOnOther(key.key)) === 401, 'the revoked key to be refused by the other process', 4000, 20);
    // Well inside the 5 s TTL: the bus message did it, not the entry expiring.
    expect(Date.now() - revokedAt).toBeLessThan(2500);
  });
});
