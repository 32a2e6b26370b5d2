import type { Actor } from '@jobs/core';
import { LRUCache } from 'lru-cache';

export interface KeyCacheOptions {
  /** How long a looked-up key is trusted without asking the database again. */
  ttlMs?: number;
  /** Entries kept at most; the least recently used goes first. */
  maxEntries?: number;
}

/** Wall-clock milliseconds, so a key's TTL follows the same clock as everything else in the process. */
const wallClock = { now: () => Date.now() };

/**
 * Key hash → actor, so a request does not cost a database lookup for its API key. Revocation stays
 * immediate: the revoking process drops the entry before answering and tells the other processes
 * (Redis pub/sub, see AccountStore.onKeyRevoked); the short TTL bounds the damage of a lost message.
 * Unknown and revoked keys are never cached.
 */
export class KeyCache {
  private readonly entries: LRUCache<string, Actor>;
  /** Grows with every revocation heard, so a lookup that began before one knows not to cache its answer. */
  generation = 0;
  private readonly ttlMs: number;

  constructor(opts: KeyCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 5000;
    // ttlResolution 0: every read asks the clock, so an entry is never served on a cached "now" past its TTL.
    this.entries = new LRUCache<string, Actor>({
      max: opts.maxEntries ?? 10_000,
      ttl: Math.max(this.ttlMs, 1),
      ttlResolution: 0,
      perf: wallClock,
    });
  }

  get(keyHash: string): Actor | undefined {
    const actor = this.entries.get(keyHash);
    // lru-cache still serves an entry in its TTL's last millisecond; the key is trusted for strictly less than ttlMs.
    if (actor && this.entries.getRemainingTTL(keyHash) <= 0) {
      this.entries.delete(keyHash);
      return undefined;
    }
    return actor;
  }

  set(keyHash: string, actor: Actor): void {
    if (this.ttlMs <= 0) return;
    this.entries.set(keyHash, actor);
  }

  forgetKey(keyId: string): void {
    const hashes = [...this.entries.entries()].filter(([, actor]) => actor.keyId === keyId).map(([hash]) => hash);
    for (const hash of hashes) this.entries.delete(hash);
    this.generation++;
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}
