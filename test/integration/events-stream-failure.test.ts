import { Redis } from 'ioredis';
import { createApiProcess, type ApiProcess } from '../../apps/api/src/api-process';
import { loadSettings } from '../../packages/core/src';
import { JobBus } from '../../packages/queue/src/job-bus';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL } from '../support/env';
import { deleteKeysWithPrefix, testPrefix } from '../support/redis';
import { OPERATOR_KEY } from '../support/stack';
import { TcpProxy } from '../support/tcp-proxy';

interface Block {
  event?: string;
  id?: string;
  data?: string;
}

/** An open SSE response read block by block. */
async function openStream(url: string) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${OPERATOR_KEY}`, accept: 'text/event-stream' } });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const blocks: Block[] = [];
  let ended = false;
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const raw = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (raw.startsWith(':')) continue;
        blocks.push(Object.fromEntries(raw.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()])) as Block);
      }
    }
    ended = true;
  })().catch(() => {
    ended = true;
  });
  return {
    blocks,
    get ended() {
      return ended;
    },
    /** Waits for the stream to end, at most `ms` (false if it is still open then). */
    async endWithin(ms: number): Promise<boolean> {
      await Promise.race([pump, new Promise((r) => setTimeout(r, ms))]);
      return ended;
    },
    cancel: () => reader.cancel().catch(() => undefined),
  };
}

async function until(probe: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * API.md: the event stream ends after the terminal event. When its source fails after the headers were sent
 * (Redis, whose pub/sub carries live events, or Postgres, which holds the history), it ends with an
 * `event: error` whose data is a problem document, instead of hanging or ending silently; the client
 * reconnects with Last-Event-ID.
 */
describe('an event stream whose source fails', () => {
  let database: TestDatabase;
  const prefix = testPrefix();
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(prefix);
    await database?.drop();
  });

  async function launch(env: { DATABASE_URL: string; REDIS_URL: string }): Promise<{ api: ApiProcess; url: string }> {
    const settings = loadSettings({ ...env, QUEUE_PREFIX: prefix, BOOTSTRAP_API_KEY: OPERATOR_KEY, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error', SHUTDOWN_GRACE_MS: '1000', DB_POOL_SIZE: '3' });
    const api = createApiProcess(settings);
    return { api, url: await api.listen(0, '127.0.0.1') };
  }

  async function createJob(url: string): Promise<string> {
    // No worker runs: the job stays pending, so its stream stays open waiting for live events.
    const r = await fetch(`${url}/api/jobs`, { method: 'POST', headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' }, body: '{"task":"sleep","input":{"ms":1000}}' });
    expect(r.status).toBe(201);
    return ((await r.json()) as { id: string }).id;
  }

  const expectErrorEnd = (blocks: Block[]) => {
    const last = blocks[blocks.length - 1]!;
    expect(last.event).toBe('error');
    const problem = JSON.parse(last.data!) as { status: number; title: string; detail: string; type: string };
    expect(problem).toMatchObject({ status: 503, title: 'Service Unavailable', type: expect.any(String), detail: expect.any(String) });
  };

  it('Redis cut after the headers: the stream ends with an error event', async () => {
    const proxy = await TcpProxy.start(REDIS_URL);
    const { api, url } = await launch({ DATABASE_URL: database.url, REDIS_URL: proxy.url(REDIS_URL) });
    try {
      const id = await createJob(url);
      const stream = await openStream(`${url}/api/jobs/${id}/events`);
      await until(() => stream.blocks.length >= 2, 'the history (created, pending)');
      await proxy.pause();
      const ended = await stream.endWithin(20_000);
      await stream.cancel();
      expect(ended).toBe(true);
      expect(stream.blocks.slice(0, 2).map((b) => b.event)).toEqual(['status', 'status']);
      expectErrorEnd(stream.blocks);
    } finally {
      await proxy.resume();
      await api.stop();
      await proxy.close();
    }
  });

  it('Postgres cut after the headers: a read the stream needs fails and it ends with an error event', async () => {
    const proxy = await TcpProxy.start(database.url);
    const { api, url } = await launch({ DATABASE_URL: proxy.url(database.url), REDIS_URL });
    const publisher = new Redis(REDIS_URL);
    const subscriber = new Redis(REDIS_URL);
    try {
      const id = await createJob(url);
      const stream = await openStream(`${url}/api/jobs/${id}/events`);
      await until(() => stream.blocks.length >= 2, 'the history (created, pending)');
      await proxy.pause();
      // A live event past a gap (seq 4 after 2): the stream must read the missing one from Postgres.
      const bus = new JobBus(publisher, subscriber, prefix);
      await bus.publishEvent({ job_id: id, organization_id: 'org-x', status: 'running', event: { seq: 4, from: 'running', to: 'running', at: new Date().toISOString(), attempt: 1, worker_id: null, reason: null } });
      const ended = await stream.endWithin(20_000);
      await stream.cancel();
      expect(ended).toBe(true);
      expectErrorEnd(stream.blocks);
    } finally {
      await proxy.resume();
      publisher.disconnect();
      subscriber.disconnect();
      await api.stop();
      await proxy.close();
    }
  });
});
