import type { Actor } from '@jobs/core';

export interface KeyCacheOptions {
  /** How long a looked-up key is trusted without asking the database again. */
  ttlMs?: number;
  /** Entries kept at most; the oldest goes first. */
  maxEntries?: number;
}

/**
 * Key hash → actor, so a request does not cost a database lookup for its API key. Revocation stays
 * immediate: the revoking process drops the entry before answering and tells the other processes
 * (Redis pub/sub, see AccountStore.onKeyRevoked); the short TTL bounds the damage of a lost message.
 * Unknown and revoked keys are never cached.
 */
export class KeyCache {
  private readonly entries = new Map<string, { actor: Actor; until: number }>();
  /** Grows with every revocation heard, so a lookup that began before one knows not to cache its answer. */
  generation = 0;
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(opts: KeyCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 5000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  get(keyHash: string): Actor | undefined {
    const hit = this.entries.get(keyHash);
    if (!hit) return undefined;
    if (hit.until > Date.now()) return hit.actor;
    this.entries.delete(keyHash);
    return undefined;
  }

  set(keyHash: string, actor: Actor): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(keyHash);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(keyHash, { actor, until: Date.now() + this.ttlMs });
  }

  forgetKey(keyId: string): void {
    this.generation++;
    for (const [hash, e] of this.entries) if (e.actor.keyId === keyId) this.entries.delete(hash);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}
