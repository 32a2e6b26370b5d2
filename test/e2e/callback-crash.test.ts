import { Queue } from 'bullmq';
import { Webhook } from 'standardwebhooks';
import { CALLBACKS_QUEUE } from '../../packages/queue/src/names';
import { CallbackReceiver } from '../fakes/callback-receiver';
import { REDIS_URL } from '../support/env';
import { startWorker, type ServiceProcess } from '../support/processes';
import { startStack, type TestStack } from '../support/stack';
import { TcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../support/wait';

interface Job {
  id: string;
  status: string;
  organization_id: string;
  callback_attempts: number;
  callback_status_code: number | null;
  callback_error: string | null;
}
interface Event {
  seq: number;
  to: string;
}

const STALL = { LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000' };
// The sweep runs on the scheduler's leader: a killed leader's lock must lapse quickly for the survivor to sweep.
const LEADERSHIP = { POLL_LOCK_TTL_MS: '2000', POLL_LOCK_RETRY_INTERVAL_SECONDS: '1' };

/** A worker process killed with -9 in the middle of a callback's life still delivers it, under one webhook-id. */
describe('callbacks survive a killed worker (real worker processes)', () => {
  let stack: TestStack;
  let receiver: CallbackReceiver;
  const workers: ServiceProcess[] = [];
  const proxies: TcpProxy[] = [];
  const worker = async (name: string, env: Record<string, string> = {}) => {
    const w = await startWorker(
      { DATABASE_URL: stack.database.url, REDIS_URL, QUEUE_PREFIX: stack.prefix, DB_POOL_SIZE: '5', LOG_LEVEL: 'info', CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true', SWEEP_INTERVAL_MS: '1000', WORKER_ID: name, ...STALL, ...LEADERSHIP, ...env },
      name,
    );
    workers.push(w);
    return w;
  };
  const get = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
  const secretOf = async (org: string) => ((await stack.request('GET', `/api/admin/organizations/${org}`)).body as { webhook_secret: string }).webhook_secret;
  const terminalSeq = async (id: string) => ((await stack.request('GET', `/api/jobs/${id}/events`)).body as Event[]).find((e) => ['completed', 'failed', 'cancelled', 'expired'].includes(e.to))!.seq;

  beforeEach(async () => {
    receiver = await new CallbackReceiver().start();
    stack = await startStack();
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.kill();
    for (const p of proxies.splice(0)) await p.close();
    await stack.stop();
    await receiver.stop();
  });

  it('kill -9 during the POST: another worker makes the attempt again with the same webhook-id', async () => {
    const a = await worker('worker-a', { CALLBACK_TIMEOUT_MS: '60000' });
    const path = '/mid-post';
    const created = await stack.request('POST', '/api/jobs', { task: 'noop', callback_url: receiver.url(path, ['hang']) });
    const job = created.body as Job;
    await waitFor(() => receiver.at(path).length === 1, 'worker A to start the POST', 20_000);
    expect(await a.kill('SIGKILL')).toBeNull();

    await worker('worker-b');
    const reqs = await waitFor(() => (receiver.at(path).length >= 2 ? receiver.at(path) : null), 'worker B to make the attempt again', 30_000, 100);
    const ids = new Set(reqs.map((r) => r.headers['webhook-id']));
    expect(ids).toEqual(new Set([`msg_${job.id.slice(4)}_${await terminalSeq(job.id)}`]));
    const secret = await secretOf(job.organization_id);
    for (const r of reqs) expect(new Webhook(secret).verify(r.body, r.headers as Record<string, string>)).toMatchObject({ job_id: job.id, status: 'completed' });
    const done = await waitFor(async () => {
      const j = await get(job.id);
      return j.callback_status_code === 200 ? j : null;
    }, 'the delivery recorded');
    // Worker A died before it could record its attempt; only B's is on the row.
    expect(done).toMatchObject({ status: 'completed', callback_attempts: 1, callback_error: null });
  }, 90_000);

  it('kill -9 between the terminal transition and the enqueue: the sweep delivers it under the recorded webhook-id', async () => {
    // Worker A reaches Redis through a proxy we can cut; Postgres stays reachable, so A commits the
    // terminal transition but cannot queue the callback. Then it dies.
    const redisProxy = await TcpProxy.start(REDIS_URL);
    proxies.push(redisProxy);
    const a = await worker('worker-a', { REDIS_URL: redisProxy.url(REDIS_URL) });
    const path = '/never-queued';
    const job = (await stack.request('POST', '/api/jobs', { task: 'sleep', input: { ms: 2500 }, callback_url: receiver.url(path) })).body as Job;
    await waitFor(async () => (await get(job.id)).status === 'running', 'worker A to run the job', 20_000);
    await redisProxy.pause();
    await waitFor(async () => (await get(job.id)).status === 'completed', 'worker A to commit the terminal transition', 20_000);
    // The enqueue fails fast (it does not wait for Redis indefinitely) and leaves the row to the sweep.
    await a.waitForLog((l) => l.message === 'callback enqueue failed; the sweep will queue it' && l['job_id'] === job.id, 20_000);
    expect(await a.kill('SIGKILL')).toBeNull();
    // The precondition of the scenario: the series never reached the callbacks queue.
    const webhookId = `msg_${job.id.slice(4)}_${await terminalSeq(job.id)}`;
    const probe = new Queue(CALLBACKS_QUEUE, { connection: { url: REDIS_URL }, prefix: stack.prefix, skipVersionCheck: true });
    try {
      expect(await probe.getJob(webhookId)).toBeUndefined();
    } finally {
      await probe.close();
    }
    expect(receiver.at(path)).toHaveLength(0);

    await worker('worker-b');
    const [req] = await waitFor(() => (receiver.at(path).length >= 1 ? receiver.at(path) : null), 'the sweep to queue and deliver it', 30_000, 100);
    expect(req!.headers['webhook-id']).toBe(webhookId);
    expect(new Webhook(await secretOf(job.organization_id)).verify(req!.body, req!.headers as Record<string, string>)).toMatchObject({ job_id: job.id, type: 'job.completed' });
    await waitFor(async () => (await get(job.id)).callback_attempts === 1, 'the delivery recorded');
    // Later sweeps find nothing pending: one delivery, one webhook-id.
    await new Promise((r) => setTimeout(r, 3000));
    expect(receiver.at(path)).toHaveLength(1);
  }, 90_000);
});
