import { JobBus, createRedis, type BusEvent } from '../../packages/queue/src';
import { REDIS_URL } from '../support/env';
import { deleteKeysWithPrefix, testPrefix } from '../support/redis';
import { waitFor } from '../support/wait';

const event = (jobId: string, seq: number, to: string): BusEvent => ({
  job_id: jobId,
  organization_id: 'org-1',
  status: to,
  event: { seq, from: null, to, at: new Date(0).toISOString(), attempt: 0, worker_id: null, reason: null },
});

/** Transitions of one batch travel as one message; listeners still hear every event, in order, per job. */
describe('JobBus event batches (real Redis)', () => {
  const prefix = testPrefix();
  const pub = createRedis(REDIS_URL, 'command');
  const sub = createRedis(REDIS_URL, 'subscriber');
  const bus = new JobBus(pub, sub, prefix);

  beforeAll(async () => {
    await bus.subscribe({ events: true });
  });

  afterAll(async () => {
    pub.disconnect();
    sub.disconnect();
    await deleteKeysWithPrefix(prefix);
  });

  it('delivers a batch as separate events, each to its job’s listeners, in order; single events still work', async () => {
    const heardA: number[] = [];
    const heardB: number[] = [];
    const all: string[] = [];
    bus.on('job:job-a', (e: BusEvent) => heardA.push(e.event.seq));
    bus.on('job:job-b', (e: BusEvent) => heardB.push(e.event.seq));
    bus.on('event', (e: BusEvent) => all.push(`${e.job_id}:${e.event.seq}`));
    await bus.publishEvents([event('job-a', 1, 'created'), event('job-b', 1, 'created'), event('job-a', 2, 'pending')]);
    await bus.publishEvent(event('job-b', 2, 'pending'));
    await bus.publishEvents([]);
    await waitFor(() => all.length === 4, 'four events');
    expect(heardA).toEqual([1, 2]);
    expect(heardB).toEqual([1, 2]);
    expect(all).toEqual(['job-a:1', 'job-b:1', 'job-a:2', 'job-b:2']);
  });
});
