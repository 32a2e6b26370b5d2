import { createHash, randomBytes } from 'node:crypto';
import { NotFoundError, canSeeOrganization, newId, type Actor, type Role } from '@jobs/core';
import { reportBackgroundError } from '@jobs/observability';
import type { Db } from './client';
import type { ApiKey as ApiKeyRow, Organization as OrganizationRow, User as UserRow } from './generated/prisma/client';
import { KeyCache } from './key-cache';
import { keysetPage, type KeysetQuery } from './keyset-page';

/** The signing columns of an organization row. */
export interface SigningColumns {
  webhook_secret: string;
  previous_webhook_secret: string | null;
  previous_secret_expires_at: Date | null;
}

/** The current secret, and the previous one while its overlap lasts (SPEC F6: during rotation both sign). */
export function activeSigningSecrets(org: SigningColumns, now = new Date()): string[] {
  const secrets = [org.webhook_secret];
  if (org.previous_webhook_secret && org.previous_secret_expires_at && org.previous_secret_expires_at > now) {
    secrets.push(org.previous_webhook_secret);
  }
  return secrets;
}

export type { ApiKey as ApiKeyRow, Organization as OrganizationRow, User as UserRow } from './generated/prisma/client';

/** An organization's share of the fleet (SPEC F16). */
export interface FairnessSetting {
  id: string;
  weight: number;
  max_concurrency: number | null;
}

/** What PATCH /api/admin/organizations/{id} may change; an absent field is left as it is. */
export interface FairnessChange {
  weight?: number | undefined;
  max_concurrency?: number | null | undefined;
}

/** A key just created, with its clear text (shown once, never stored). */
export type NewApiKey = ApiKeyRow & { clearKey: string };

/** How long a rotated-out webhook secret keeps signing beside the new one. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');
export const newApiKey = (): string => `jsk_${randomBytes(32).toString('base64url')}`;
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;
const KEY_PREFIX_LENGTH = 12;

/**
 * Organizations, users and API keys (Prisma's typed client: none of this is on a hot path; a callback
 * attempt reads its secrets through CallbackStore.deliveryContext).
 */
export class AccountStore {
  /** Looked-up keys; revocations clear their entries here and, through the listeners, in other processes. */
  readonly keys = new KeyCache();
  /** Key lookups in flight, by key hash. */
  private readonly lookups = new Map<string, { generation: number; actor: Promise<Actor | null> }>();
  private readonly revokeListeners: ((keyId: string) => Promise<void>)[] = [];

  constructor(private readonly db: Db) {}

  /** Called (and awaited) after every revocation, before the revoke call returns: e.g. a pub/sub broadcast. */
  onKeyRevoked(listener: (keyId: string) => Promise<void>): void {
    this.revokeListeners.push(listener);
  }

  async createOrganization(name: string, id = newId('org')): Promise<OrganizationRow> {
    const org = await this.db.organization.create({ data: { id, name, webhookSecret: newWebhookSecret() } });
    return org;
  }

  async getOrganization(actor: Actor, id: string): Promise<OrganizationRow> {
    if (!canSeeOrganization(actor, id)) throw new NotFoundError(`Organization ${id} not found`);
    const org = await this.db.organization.findUnique({ where: { id } });
    if (!org) throw new NotFoundError(`Organization ${id} not found`);
    return org;
  }

  async rotateWebhookSecret(actor: Actor, id: string): Promise<OrganizationRow> {
    const current = await this.getOrganization(actor, id);
    const org = await this.db.organization.update({
      where: { id },
      data: {
        webhookSecret: newWebhookSecret(),
        previousWebhookSecret: current.webhookSecret,
        previousSecretExpiresAt: new Date(Date.now() + SECRET_OVERLAP_MS),
      },
    });
    return org;
  }

  /**
   * Every organization whose share differs from the default (weight 1, no concurrency bound): the dispatcher
   * treats every other organization alike, so it needs only these.
   */
  async fairnessSettings(): Promise<FairnessSetting[]> {
    return this.db.$queryRawUnsafe<FairnessSetting[]>(
      'SELECT id, weight, max_concurrency FROM organizations WHERE weight <> 1 OR max_concurrency IS NOT NULL ORDER BY id',
    );
  }

  /** Sets an organization's weight and/or max_concurrency (null clears the bound); null for an unknown id. */
  async updateOrganizationFairness(id: string, change: FairnessChange): Promise<OrganizationRow | null> {
    const data: { weight?: number; maxConcurrency?: number | null } = {};
    if (change.weight !== undefined) data.weight = change.weight;
    if (change.max_concurrency !== undefined) data.maxConcurrency = change.max_concurrency;
    const updated = await this.db.organization.updateMany({ where: { id }, data });
    if (updated.count === 0) return null;
    return this.db.organization.findUnique({ where: { id } });
  }

  async createUser(actor: Actor, organizationId: string, name: string): Promise<UserRow> {
    await this.getOrganization(actor, organizationId);
    const user = await this.db.user.create({ data: { id: newId('user'), organizationId, name } });
    return user;
  }

  /** An admin's organization's users; an operator's: every organization's, or the one it names. */
  async listUsers(actor: Actor, opts: { organizationId?: string | undefined; query: KeysetQuery }): Promise<UserRow[]> {
    const org = actor.role === 'operator' ? opts.organizationId : actor.organizationId;
    return keysetPage<UserRow>(this.db, {
      from: 'users',
      select: 'k.id, k.organization_id AS "organizationId", k.name, k.created_at AS "createdAt"',
      key: ['created_at', 'id'],
      scope: org ? { organization_id: org } : {},
      // An operator's cursor may be any user; an admin's must be of its organization.
      cursorScope: actor.role === 'operator' ? {} : { organization_id: actor.organizationId },
      query: opts.query,
      unknownCursor: 'unknown user id',
    });
  }

  async createApiKey(actor: Actor, userId: string, role: Role, clearKey = newApiKey()): Promise<NewApiKey> {
    const user = await this.db.user.findUnique({ where: { id: userId } });
    if (!user || !canSeeOrganization(actor, user.organizationId)) throw new NotFoundError(`User ${userId} not found`);
    if (role === 'operator' && actor.role !== 'operator') throw new NotFoundError(`User ${userId} not found`);
    return this.insertKey(user.id, user.organizationId, role, clearKey);
  }

  async insertKey(userId: string, organizationId: string, role: Role, clearKey: string): Promise<NewApiKey> {
    const key = await this.db.apiKey.create({
      data: { id: newId('key'), userId, organizationId, role, keyHash: hashKey(clearKey), prefix: clearKey.slice(0, KEY_PREFIX_LENGTH) },
    });
    return { ...key, clearKey };
  }

  async listApiKeys(actor: Actor, organizationId?: string): Promise<ApiKeyRow[]> {
    const org = organizationId && actor.role === 'operator' ? organizationId : actor.organizationId;
    const keys = await this.db.apiKey.findMany({ where: { organizationId: org }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    return keys;
  }

  async revokeApiKey(actor: Actor, id: string): Promise<ApiKeyRow> {
    const key = await this.db.apiKey.findUnique({ where: { id } });
    if (!key || !canSeeOrganization(actor, key.organizationId)) throw new NotFoundError(`API key ${id} not found`);
    const updated = await this.db.apiKey.update({ where: { id }, data: { revokedAt: key.revokedAt ?? new Date() } });
    this.keys.forgetKey(id);
    // A failed broadcast leaves other processes trusting the key until their cache entry expires (seconds).
    await Promise.all(this.revokeListeners.map((l) => l(id).catch((err: unknown) => reportBackgroundError('key_revoked_broadcast', err))));
    return updated;
  }

  /** The actor behind a clear-text key, or null for unknown or revoked keys. */
  async authenticate(clearKey: string): Promise<Actor | null> {
    const hash = hashKey(clearKey);
    const cached = this.keys.get(hash);
    if (cached) return cached;
    // When an entry expires, every request in flight with that key misses at once: they share one lookup,
    // unless a revocation was heard since it began (then a new lookup reads the row afresh).
    const generation = this.keys.generation;
    const inFlight = this.lookups.get(hash);
    if (inFlight?.generation === generation) return inFlight.actor;
    const actor = this.lookUp(hash, generation).finally(() => {
      if (this.lookups.get(hash)?.actor === actor) this.lookups.delete(hash);
    });
    this.lookups.set(hash, { generation, actor });
    return actor;
  }

  private async lookUp(hash: string, generation: number): Promise<Actor | null> {
    const key = await this.db.apiKey.findUnique({ where: { keyHash: hash } });
    if (!key || key.revokedAt) return null;
    const actor: Actor = { keyId: key.id, userId: key.userId, organizationId: key.organizationId, role: key.role as Role };
    // A revocation heard while the row was being read may concern this key: it is not cached then.
    if (this.keys.generation === generation) this.keys.set(hash, actor);
    return actor;
  }

  /** The actor of a key by its id (admin sessions re-check it), or null once the key is revoked. */
  async actorByKeyId(id: string): Promise<Actor | null> {
    const key = await this.db.apiKey.findUnique({ where: { id } });
    if (!key || key.revokedAt) return null;
    return { keyId: key.id, userId: key.userId, organizationId: key.organizationId, role: key.role as Role };
  }

  /**
   * Makes sure organization `default`, user `admin` and an operator key with this exact value exist.
   * Idempotent, and safe when several API processes start at once. A key that was revoked stays revoked
   * (SPEC F14): `revoked` is then true, the key authenticates nothing, and the caller should say so.
   */
  async bootstrap(clearKey: string): Promise<Actor & { revoked: boolean }> {
    return this.db.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(724011932)');
      const existing = await tx.apiKey.findUnique({ where: { keyHash: hashKey(clearKey) } });
      if (existing) {
        const actor = { keyId: existing.id, userId: existing.userId, organizationId: existing.organizationId, role: 'operator' as const };
        // Revocation is an operator's decision; a restart with the old environment must not undo it.
        if (existing.revokedAt) return { ...actor, role: existing.role as Role, revoked: true };
        if (existing.role !== 'operator') await tx.apiKey.update({ where: { id: existing.id }, data: { role: 'operator' } });
        return { ...actor, revoked: false };
      }
      let org = await tx.organization.findFirst({ where: { name: 'default' }, orderBy: { createdAt: 'asc' } });
      org ??= await tx.organization.create({ data: { id: newId('org'), name: 'default', webhookSecret: newWebhookSecret() } });
      let user = await tx.user.findFirst({ where: { organizationId: org.id, name: 'admin' }, orderBy: { createdAt: 'asc' } });
      user ??= await tx.user.create({ data: { id: newId('user'), organizationId: org.id, name: 'admin' } });
      const key = await tx.apiKey.create({
        data: { id: newId('key'), userId: user.id, organizationId: org.id, role: 'operator', keyHash: hashKey(clearKey), prefix: clearKey.slice(0, KEY_PREFIX_LENGTH) },
      });
      return { keyId: key.id, userId: user.id, organizationId: org.id, role: 'operator', revoked: false };
    });
  }
}
