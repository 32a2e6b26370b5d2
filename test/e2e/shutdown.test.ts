import net from 'node:net';
import { REDIS_URL } from '../support/env';
import { startApi, startWorker, type ServiceProcess } from '../support/processes';
import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

interface Job {
  id: string;
  status: string;
  attempts: number;
}
interface Event {
  to: string;
  from: string | null;
  attempt: number;
  worker_id: string | null;
  reason: string | null;
}

/** Resolves true when a new TCP connection to the port is refused. */
const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });

describe('graceful shutdown (real processes, SIGTERM)', () => {
  let stack: TestStack;
  const procs: ServiceProcess[] = [];
  const env = () => ({ DATABASE_URL: stack.database.url, REDIS_URL, QUEUE_PREFIX: stack.prefix, DB_POOL_SIZE: '5', LOG_LEVEL: 'info' });
  const get = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
  const events = async (id: string) => (await stack.request('GET', `/api/jobs/${id}/events`)).body as Event[];
  const create = async (body: Record<string, unknown>) => ((await stack.request('POST', '/api/jobs', body)).body as Job).id;
  const reach = (id: string, status: string, ms = 30_000) => waitFor(async () => ((await get(id)).status === status ? get(id) : null), `${id} ${status}`, ms, 100);

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    for (const p of procs) await p.kill();
    await stack.stop();
  });

  it('a worker finishes what fits in SHUTDOWN_GRACE_MS, hands the rest back, takes nothing new, and exits 0', async () => {
    const a = await startWorker({ ...env(), WORKER_ID: 'worker-a', SHUTDOWN_GRACE_MS: '1500' }, 'worker-a');
    procs.push(a);
    const short = await create({ task: 'sleep', input: { ms: 800 } });
    const long = await create({ task: 'sleep', input: { ms: 6000 } });
    await reach(short, 'running');
    await reach(long, 'running');

    const t0 = Date.now();
    const exit = a.kill('SIGTERM');
    await a.waitForLog('shutting down', 5000);
    const late = await create({ task: 'noop' });
    expect(await exit).toBe(0);
    const took = Date.now() - t0;
    console.log(`[measured] worker exited ${(took / 1000).toFixed(1)} s after SIGTERM (SHUTDOWN_GRACE_MS=1500)`);
    expect(took).toBeLessThan(1500 + 5000);

    expect(await get(short)).toMatchObject({ status: 'completed', attempts: 1 });
    expect(await get(long)).toMatchObject({ status: 'pending', attempts: 1 });
    const handedBack = (await events(long)).at(-1)!;
    expect(handedBack).toMatchObject({ from: 'running', to: 'pending', attempt: 1, worker_id: 'worker-a', reason: 'worker shutting down' });
    expect((await get(late)).status).toBe('pending');

    const b = await startWorker({ ...env(), WORKER_ID: 'worker-b' }, 'worker-b');
    procs.push(b);
    expect(await reach(long, 'completed')).toMatchObject({ attempts: 2 });
    await reach(late, 'completed');
    expect((await events(late)).filter((e) => e.worker_id === 'worker-a')).toHaveLength(0);
    expect((await events(long)).filter((e) => e.to === 'completed')).toEqual([expect.objectContaining({ attempt: 2, worker_id: 'worker-b' })]);
  });

  it('the API stops accepting connections, finishes the request in flight, and exits 0', async () => {
    if (!procs.some((p) => p.running)) procs.push(await startWorker({ ...env(), WORKER_ID: 'worker-c' }, 'worker-c'));
    const api = await startApi({ ...env(), BOOTSTRAP_API_KEY: OPERATOR_KEY, SHUTDOWN_GRACE_MS: '10000' });
    procs.push(api.proc);
    const port = Number(new URL(api.url).port);
    const inFlight = fetch(`${api.url}/api/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ task: 'sleep', input: { ms: 1500 }, background: false }),
    });
    await waitFor(async () => {
      const running = (await stack.request('GET', '/api/jobs/active?status=running')).body as Job[];
      return running.length > 0;
    }, 'the synchronous job running', 15_000, 50);

    // An open event stream must not hold the shutdown for SHUTDOWN_GRACE_MS.
    const longId = await create({ task: 'sleep', input: { ms: 20_000 } });
    const stream = await fetch(`${api.url}/api/jobs/${longId}/events`, { headers: { authorization: `Bearer ${OPERATOR_KEY}`, accept: 'text/event-stream' } });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let streamed = '';
    while (!streamed.includes('event: status')) streamed += new TextDecoder().decode((await reader.read()).value);
    const streamEnded = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return streamed;
        streamed += new TextDecoder().decode(value);
      }
    })();

    const t0 = Date.now();
    const exit = api.proc.kill('SIGTERM');
    await api.proc.waitForLog('shutting down', 5000);
    expect(await refused(port)).toBe(true);
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as Job).status).toBe('completed');
    expect(await exit).toBe(0);
    // The stream was live (history sent) and ended by the shutdown, not by its job (still running).
    expect(await streamEnded).toContain('event: status');
    expect((await get(longId)).status).toBe('running');
    const apiTook = Date.now() - t0;
    console.log(`[measured] API exited ${(apiTook / 1000).toFixed(1)} s after SIGTERM with a 1.5 s request in flight and an open event stream (SHUTDOWN_GRACE_MS=10000)`);
    expect(apiTook).toBeLessThan(8000);
    await stack.request('PATCH', `/api/jobs/${longId}/cancel`);
  });
});
