import type { Role } from '@jobs/core';
import type { ApiKeyRow, NewApiKey, OrganizationRow, UserRow } from '@jobs/db';

/** An organization of the REST contract (its webhook secret shown to its admins). */
export interface ApiOrganization {
  id: string;
  name: string;
  created_at: string;
  webhook_secret: string;
  weight: number;
  max_concurrency: number | null;
}
export interface ApiUser {
  id: string;
  organization_id: string;
  name: string;
  created_at: string;
}
export interface ApiKeyObject {
  id: string;
  key?: string;
  prefix: string;
  user_id: string;
  organization_id: string;
  role: Role;
  created_at: string;
  revoked_at: string | null;
}

export function toApiOrganization(o: OrganizationRow): ApiOrganization {
  return {
    id: o.id,
    name: o.name,
    created_at: o.createdAt.toISOString(),
    webhook_secret: o.webhookSecret,
    weight: o.weight,
    max_concurrency: o.maxConcurrency,
  };
}

export function toApiUser(u: UserRow): ApiUser {
  return { id: u.id, organization_id: u.organizationId, name: u.name, created_at: u.createdAt.toISOString() };
}

/** A key as the API shows it: never its hash; its clear text only when just created. */
export function toApiKey(k: ApiKeyRow | NewApiKey): ApiKeyObject {
  return {
    id: k.id,
    prefix: k.prefix,
    user_id: k.userId,
    organization_id: k.organizationId,
    role: k.role as Role,
    created_at: k.createdAt.toISOString(),
    revoked_at: k.revokedAt ? k.revokedAt.toISOString() : null,
    ...('clearKey' in k ? { key: k.clearKey } : {}),
  };
}
