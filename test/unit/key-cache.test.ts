import type { Actor } from '../../packages/core/src';
import { KeyCache } from '../../packages/db/src/key-cache';

const actor = (keyId: string): Actor => ({ keyId, userId: 'user-1', organizationId: 'org-1', role: 'member' });

describe('KeyCache', () => {
  afterEach(() => jest.useRealTimers());

  it('answers within its TTL and forgets after it', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const cache = new KeyCache({ ttlMs: 1000 });
    cache.set('h1', actor('key-1'));
    expect(cache.get('h1')).toEqual(actor('key-1'));
    jest.setSystemTime(1_000_999);
    expect(cache.get('h1')).toEqual(actor('key-1'));
    jest.setSystemTime(1_001_000);
    expect(cache.get('h1')).toBeUndefined();
  });

  it('drops every entry of a revoked key id, and nothing else', () => {
    const cache = new KeyCache();
    cache.set('h1', actor('key-1'));
    cache.set('h2', actor('key-2'));
    cache.forgetKey('key-1');
    expect(cache.get('h1')).toBeUndefined();
    expect(cache.get('h2')).toEqual(actor('key-2'));
  });

  it('keeps at most maxEntries, evicting the oldest', () => {
    const cache = new KeyCache({ maxEntries: 2 });
    cache.set('h1', actor('key-1'));
    cache.set('h2', actor('key-2'));
    cache.set('h3', actor('key-3'));
    expect(cache.get('h1')).toBeUndefined();
    expect(cache.get('h2')).toEqual(actor('key-2'));
    expect(cache.get('h3')).toEqual(actor('key-3'));
  });

  it('caches nothing with a TTL of 0', () => {
    const cache = new KeyCache({ ttlMs: 0 });
    cache.set('h1', actor('key-1'));
    expect(cache.get('h1')).toBeUndefined();
  });
});
