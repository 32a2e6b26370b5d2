import type { ApiJob as Job } from '../../apps/api/src/presenters/job';
import type { JobEvent as Event } from '../../packages/db/src/job-row';
import { startWorker, type ServiceProcess } from '../support/processes';
import { REDIS_URL } from '../support/env';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

const TERMINAL = ['completed', 'failed', 'cancelled', 'expired'];
const STALL = { LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000' };

/** A job whose every attempt dies with its worker (SPEC F4: a lost attempt counts). */
describe('crash loops (real worker processes)', () => {
  let stack: TestStack;
  const workers: ServiceProcess[] = [];
  const worker = async (name: string) => {
    const w = await startWorker(
      { DATABASE_URL: stack.database.url, REDIS_URL, QUEUE_PREFIX: stack.prefix, DB_POOL_SIZE: '5', LOG_LEVEL: 'info', WORKER_ID: name, MAX_STALLED_COUNT: '1', ...STALL },
      name,
    );
    workers.push(w);
    return w;
  };
  const get = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
  const events = async (id: string) => (await stack.request('GET', `/api/jobs/${id}/events`)).body as Event[];

  beforeEach(async () => {
    stack = await startStack();
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.kill();
    await stack.stop();
  });

  it('kill -9 under the same job three times in a row: attempts stop at max_attempts + MAX_STALLED_COUNT, then failed/worker_lost', async () => {
    const maxAttempts = 2;
    const bound = maxAttempts + 1; // MAX_STALLED_COUNT = 1
    let seenMax = 0;
    let id = '';
    for (let n = 1; n <= 3; n++) {
      const w = await worker(`crash-${n}`);
      if (n === 1) id = ((await stack.request('POST', '/api/jobs', { task: 'sleep', input: { ms: 120_000 }, max_attempts: maxAttempts })).body as Job).id;
      // Attempt n runs on worker n (the previous one's stalled attempt was handed over), then worker n dies under it.
      const running = await waitFor(async () => {
        const j = await get(id);
        seenMax = Math.max(seenMax, j.attempts);
        return j.status === 'running' && j.attempts === n ? j : null;
      }, `attempt ${n} running on crash-${n}`, 60_000, 100);
      expect(running.attempts).toBeLessThanOrEqual(bound);
      expect(await w.kill('SIGKILL')).toBeNull();
    }
    // A fourth worker finds attempt 3 lost with no budget left: it fails the job instead of running it again.
    await worker('crash-4');
    const settled = await waitFor(async () => {
      const j = await get(id);
      seenMax = Math.max(seenMax, j.attempts);
      return TERMINAL.includes(j.status) || j.attempts > bound ? j : null;
    }, 'the job terminal (or running past its bound)', 60_000, 100);
    expect(seenMax).toBeLessThanOrEqual(bound);
    expect(settled).toMatchObject({ status: 'failed', stop_reason: 'worker_lost', attempts: bound, error: { code: 'worker_lost' } });
    // It stays failed: nothing re-runs it later (stall checker, reconciler).
    await new Promise((r) => setTimeout(r, 4000));
    expect(await get(id)).toMatchObject({ status: 'failed', attempts: bound });
    const evs = await events(id);
    expect(evs.filter((e) => TERMINAL.includes(e.to))).toHaveLength(1);
    expect(evs.map((e) => (e.to === 'pending' && e.attempt === 0 ? 'pending@0' : `${e.to}@${e.attempt}:${e.worker_id ?? '-'}`))).toEqual([
      'created@0:-',
      'pending@0',
      'running@1:crash-1',
      'pending@1:crash-2',
      'running@2:crash-2',
      'pending@2:crash-3',
      'running@3:crash-3',
      'failed@3:crash-4',
    ]);
  }, 240_000);
});
