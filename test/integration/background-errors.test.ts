import { createApiProcess, type ApiProcess } from '../../apps/api/src/api-process';
import { loadSettings } from '../../packages/core/src';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL } from '../support/env';
import { capturingLogger } from '../support/log-capture';
import { deleteKeysWithPrefix, testPrefix } from '../support/redis';
import { OPERATOR_KEY } from '../support/stack';
import { TcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../support/wait';

const METRIC = 'jobsvc_background_errors_total';

/** The service-wide count of background errors of one source, read from /metrics like an operator. */
async function counted(url: string, source: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${OPERATOR_KEY}` } })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${METRIC}{`) && line.includes(`source="${source}"`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * Errors that no request or job reports (a transition listener that throws, Redis connection errors, a
 * failed metrics publish) are logged, at most one line per source per interval with the number suppressed,
 * and counted in jobsvc_background_errors_total{source}.
 */
describe('background errors are logged and counted, not swallowed', () => {
  let database: TestDatabase;
  const prefix = testPrefix();
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(prefix);
    await database?.drop();
  });

  const settingsFor = (redisUrl: string) =>
    loadSettings({ DATABASE_URL: database.url, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, BOOTSTRAP_API_KEY: OPERATOR_KEY, LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '1000', DB_POOL_SIZE: '3' });

  it('a transition listener that throws: one log line per interval, every failure counted', async () => {
    const { logger, lines } = capturingLogger();
    const api: ApiProcess = createApiProcess(settingsFor(REDIS_URL), logger);
    try {
      const url = await api.listen(0, '127.0.0.1');
      const before = await counted(url, 'job_listener');
      const started = Date.now();
      api.deps.jobs.onTransition(() => {
        throw new Error('listener bug');
      });
      for (let i = 0; i < 5; i++) {
        const r = await fetch(`${url}/api/jobs`, { method: 'POST', headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' }, body: '{"task":"noop"}' });
        expect(r.status).toBe(201); // the committed create is not undone by the listener
      }
      // created and pending: two transitions per job, each one failure of the listener.
      await waitFor(async () => (await counted(url, 'job_listener')) - before >= 10, 'the failures to be counted');
      const logged = lines.filter((l) => l.message === 'background error' && l.source === 'job_listener');
      // One line per 10 s interval (a single one unless the machine is very slow).
      expect(logged.length).toBeGreaterThanOrEqual(1);
      expect(logged.length).toBeLessThanOrEqual(1 + Math.floor((Date.now() - started) / 10_000));
      expect(logged[0]).toMatchObject({ level: 'warn', err: expect.stringContaining('listener bug') });
    } finally {
      await api.stop();
    }
  });

  it('Redis connection errors and failed metrics publishes while Redis is down', async () => {
    const proxy = await TcpProxy.start(REDIS_URL);
    const { logger, lines } = capturingLogger();
    const api: ApiProcess = createApiProcess(settingsFor(proxy.url(REDIS_URL)), logger);
    try {
      const url = await api.listen(0, '127.0.0.1');
      await proxy.pause();
      const cut = Date.now();
      await waitFor(() => lines.some((l) => l.message === 'background error' && l.source === 'redis'), 'a Redis connection error to be logged', 20_000);
      // The publisher runs every 10 s; its first tick after the cut fails.
      await waitFor(() => lines.some((l) => l.message === 'background error' && l.source === 'metrics_publisher'), 'a failed metrics publish to be logged', 30_000, 200);
      // ioredis retries many times meanwhile; the log holds one line per source per interval.
      const redisLines = lines.filter((l) => l.message === 'background error' && l.source === 'redis');
      expect(redisLines.length).toBeLessThanOrEqual(1 + Math.floor((Date.now() - cut) / 10_000));
      await proxy.resume();
      await waitFor(async () => (await counted(url, 'redis')) > 0, 'Redis errors to be counted');
    } finally {
      await api.stop();
      await proxy.close();
    }
  });
});
