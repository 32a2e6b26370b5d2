import type { TestStack } from './stack';

/** An organization made through the admin API, with one user and a key of each role below operator. */
export interface Tenant {
  orgId: string;
  userId: string;
  adminKey: string;
  adminKeyId: string;
  memberKey: string;
  memberKeyId: string;
  webhookSecret: string;
}

/** Fails the test with the response when the status is not the expected one. */
export function expectStatus<T>(r: { status: number; body: unknown }, status: number): T {
  if (r.status !== status) throw new Error(`expected HTTP ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body as T;
}

export async function createTenant(stack: TestStack, name = `org-${Math.random().toString(36).slice(2, 8)}`): Promise<Tenant> {
  const org = expectStatus<{ id: string; webhook_secret: string }>(await stack.request('POST', '/api/admin/organizations', { name }), 201);
  const user = expectStatus<{ id: string }>(await stack.request('POST', '/api/admin/users', { organization_id: org.id, name: `${name}-user` }), 201);
  const admin = expectStatus<{ id: string; key: string }>(await stack.request('POST', '/api/admin/api-keys', { user_id: user.id, role: 'admin' }), 201);
  const member = expectStatus<{ id: string; key: string }>(await stack.request('POST', '/api/admin/api-keys', { user_id: user.id, role: 'member' }), 201);
  return {
    orgId: org.id,
    userId: user.id,
    adminKey: admin.key,
    adminKeyId: admin.id,
    memberKey: member.key,
    memberKeyId: member.id,
    webhookSecret: org.webhook_secret,
  };
}
