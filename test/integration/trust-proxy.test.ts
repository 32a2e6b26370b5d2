import { createApiProcess } from '../../apps/api/src/api-process';
import { loadSettings } from '../../packages/core/src';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL } from '../support/env';
import { capturingLogger } from '../support/log-capture';
import { deleteKeysWithPrefix, testPrefix } from '../support/redis';
import { waitFor } from '../support/wait';

/**
 * SPEC F14: `TRUST_PROXY` decides whether X-Forwarded-For is believed. The client address the API settled on
 * (Express's req.ip) is observed in the request log line (`ip`), which operators read and which is all the
 * service keys by address.
 */
describe('TRUST_PROXY and X-Forwarded-For', () => {
  let database: TestDatabase;
  const prefix = testPrefix();
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(prefix);
    await database?.drop();
  });

  /** The `ip` of the request log line of one GET with this X-Forwarded-For, on an API with this TRUST_PROXY. */
  async function ipSeen(trustProxy: string | undefined, forwardedFor: string): Promise<unknown> {
    const settings = loadSettings({ DATABASE_URL: database.url, REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'http', SHUTDOWN_GRACE_MS: '1000', DB_POOL_SIZE: '2', ...(trustProxy ? { TRUST_PROXY: trustProxy } : {}) });
    const { logger, lines } = capturingLogger({ level: 'http' });
    const api = createApiProcess(settings, logger);
    try {
      const url = await api.listen(0, '127.0.0.1');
      const requestId = `xff-${Math.random().toString(36).slice(2)}`;
      const r = await fetch(`${url}/api/health/live`, { headers: { 'x-forwarded-for': forwardedFor, 'x-request-id': requestId } });
      expect(r.status).toBe(200);
      const line = await waitFor(() => lines.find((l) => l.message === 'request' && l.request_id === requestId), 'the request log line');
      return line.ip;
    } finally {
      await api.stop();
    }
  }

  const LOCAL = /^(::ffff:)?127\.0\.0\.1$/;

  it('by default a forged X-Forwarded-For does not change the client address', async () => {
    expect(await ipSeen(undefined, '203.0.113.9')).toMatch(LOCAL);
    expect(await ipSeen('false', '203.0.113.9')).toMatch(LOCAL);
  });

  it('with TRUST_PROXY=1 the nearest hop is believed', async () => {
    expect(await ipSeen('1', '203.0.113.9')).toBe('203.0.113.9');
    // One hop only: the address the trusted proxy saw, not what the client claimed before it.
    expect(await ipSeen('1', '198.51.100.7, 10.1.2.3')).toBe('10.1.2.3');
  });

  it('with a list of CIDRs only matching proxies are believed', async () => {
    // The test connects from 127.0.0.1: believed when it is listed, not otherwise.
    expect(await ipSeen('127.0.0.1/32', '203.0.113.9')).toBe('203.0.113.9');
    expect(await ipSeen('10.0.0.0/8, 192.168.0.0/16', '203.0.113.9')).toMatch(LOCAL);
    // A chain: every listed proxy is skipped, the first address that is not a trusted proxy is the client.
    expect(await ipSeen('127.0.0.1/32,10.0.0.0/8', '198.51.100.7, 10.1.2.3')).toBe('198.51.100.7');
  });
});
