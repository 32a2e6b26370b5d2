import { JobBus, createRedis, type ProgressMessage } from '../../packages/queue/src';
import { REDIS_URL } from '../support/env';
import { testPrefix } from '../support/redis';
import { waitFor } from '../support/wait';

/**
 * A bus subscribed while its connection is still being set up (an API or worker at start, with a busy event loop)
 * keeps its subscription: ioredis would otherwise send SUBSCRIBE before its ready check, fail the check in
 * subscriber mode and drop the subscription on the reconnect that follows (about one start in three).
 */
describe('JobBus.subscribe on a connection not ready yet (real Redis)', () => {
  it('every one of 15 fresh buses, subscribed at once under a busy event loop, hears progress and events', async () => {
    const probe = createRedis(REDIS_URL, 'command');
    try {
      for (let i = 0; i < 15; i++) {
        const prefix = testPrefix();
        const pub = createRedis(REDIS_URL, 'command');
        const sub = createRedis(REDIS_URL, 'subscriber');
        const bus = new JobBus(pub, sub, prefix);
        try {
          // The window: the socket is connecting (not yet ready) when subscribe is called.
          await new Promise((r) => setTimeout(r, i % 4));
          const subscribed = bus.subscribe({ events: true, keyRevoked: true });
          const t = Date.now();
          while (Date.now() - t < 30) {
            // A start-up's synchronous work: the socket connects meanwhile.
          }
          await subscribed;
          await new Promise((r) => setTimeout(r, 300)); // past a failed ready check's reconnect, had there been one
          const [, n] = (await probe.pubsub('NUMSUB', `${prefix}:bus:job-progress`)) as [string, number];
          expect({ i, subscribers: Number(n) }).toEqual({ i, subscribers: 1 });
          const heard: ProgressMessage[] = [];
          bus.on('progress:job-x', (p: ProgressMessage) => heard.push(p));
          await bus.publishProgress({ job_id: 'job-x', attempt: 1, percent: 50, message: 'half', at: new Date(0).toISOString() });
          await waitFor(() => heard.length === 1, 'the progress message');
        } finally {
          pub.disconnect();
          sub.disconnect();
        }
      }
    } finally {
      probe.disconnect();
    }
  });
});
