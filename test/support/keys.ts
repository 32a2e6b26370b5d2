import type { TestStack } from './stack';

/** A fresh organization with one user and a key of `role`, made through the admin API with the operator key. */
export async function createKey(stack: TestStack, role: 'member' | 'admin' | 'operator'): Promise<{ id: string; key: string; organization_id: string }> {
  const org = await stack.request('POST', '/api/admin/organizations', { name: `org-${role}-${Date.now()}` });
  if (org.status !== 201) throw new Error(`organization not created: ${org.status}`);
  const orgId = (org.body as { id: string }).id;
  const user = await stack.request('POST', '/api/admin/users', { organization_id: orgId, name: `${role}-user` });
  if (user.status !== 201) throw new Error(`user not created: ${user.status}`);
  const key = await stack.request('POST', '/api/admin/api-keys', { user_id: (user.body as { id: string }).id, role });
  if (key.status !== 201) throw new Error(`key not created: ${key.status} ${JSON.stringify(key.body)}`);
  return key.body as { id: string; key: string; organization_id: string };
}
