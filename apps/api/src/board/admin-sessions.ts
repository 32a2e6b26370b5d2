import { createHash, randomBytes } from 'node:crypto';
import type { RedisClient as Redis } from '@jobs/queue';

/** How long a Bull Board login lasts; the operator logs in again afterwards. */
export const ADMIN_SESSION_TTL_SECONDS = 8 * 60 * 60;

/**
 * Server-side sessions for the dashboard. The cookie holds a random token; Redis holds only its hash,
 * mapped to the API key id, so neither the cookie nor Redis ever carries the operator's clear key.
 */
export class AdminSessions {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds = ADMIN_SESSION_TTL_SECONDS,
  ) {}

  /** Opens a session for the key and returns the token for the cookie. */
  async open(keyId: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.redis.set(this.keyOf(token), keyId, 'EX', this.ttlSeconds);
    return token;
  }

  /** The API key id behind a token, or null when unknown or expired. */
  async keyIdOf(token: string): Promise<string | null> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return null;
    return this.redis.get(this.keyOf(token));
  }

  async close(token: string): Promise<void> {
    await this.redis.del(this.keyOf(token));
  }

  private keyOf(token: string): string {
    return `${this.prefix}:admin-session:${createHash('sha256').update(token).digest('hex')}`;
  }
}
