import { Queue } from 'bullmq';
import { FairScheduler, JobQueue, createRedis, queuePriority, type FairJob, type RedisClient, waitReady } from '../../packages/queue/src';
import { waitFor } from '../support/wait';
import { REDIS_URL } from '../support/env';
import { deleteKeysWithPrefix, testPrefix } from '../support/redis';

/**
 * The fair pick (SPEC F16) against a real Redis: the order of jobs leaving staging between organizations and
 * within one, and the concurrency slots. `pick` is the Lua alone (nothing is added to BullMQ here).
 */
describe('fair pick', () => {
  let redis: RedisClient;
  const queues: Queue[] = [];
  const prefixes: string[] = [];
  let n = 0;

  beforeAll(async () => {
    redis = createRedis(REDIS_URL, 'command');
    await waitReady(redis);
  });
  afterAll(async () => {
    for (const q of queues) await q.close();
    redis.disconnect();
    for (const p of prefixes) await deleteKeysWithPrefix(p);
  });

  /** A scheduler on a fresh prefix; backlog large enough that the pick is never bounded by it. */
  const scheduler = (leaseMs = 30_000) => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const queue = new Queue('jobs', { connection: redis, prefix, skipVersionCheck: true });
    queues.push(queue);
    return new FairScheduler(redis, queue, prefix, { leaseMs, backlog: 10_000, priorityOf: queuePriority, onError: (err) => { throw err; } });
  };
  const job = (org: string, extra: Partial<FairJob> = {}): FairJob => ({ id: `job_${++n}`, task: 'noop', organization_id: org, priority: null, run_at: null, ...extra });
  const orgsOf = async (fair: FairScheduler, most: number) => (await fair.pick(most)).map((p) => p.organization_id);

  it('takes equal-weight organizations in turn, whatever order their jobs arrived in', async () => {
    const fair = scheduler();
    await fair.stage(Array.from({ length: 5 }, () => job('org_a')));
    await fair.stage(Array.from({ length: 3 }, () => job('org_b')));
    expect(await orgsOf(fair, 8)).toEqual(['org_a', 'org_b', 'org_a', 'org_b', 'org_a', 'org_b', 'org_a', 'org_a']);
  });

  it('gives organizations turns in proportion to their weights (three organizations)', async () => {
    const fair = scheduler();
    await fair.applySettings([{ id: 'org_b', weight: 2, max_concurrency: null }], true);
    for (const org of ['org_a', 'org_b', 'org_c']) await fair.stage(Array.from({ length: 20 }, () => job(org)));
    const order = await orgsOf(fair, 16);
    // Virtual time: b advances by 1/2 per job, a and c by 1; ties go by organization id.
    expect(order.slice(0, 8)).toEqual(['org_a', 'org_b', 'org_c', 'org_b', 'org_a', 'org_b', 'org_c', 'org_b']);
    const count = (org: string) => order.filter((o) => o === org).length;
    expect([count('org_a'), count('org_b'), count('org_c')]).toEqual([4, 8, 4]);
  });

  it('within an organization: priority first, then arrival', async () => {
    const fair = scheduler();
    const jobs = [job('org_a'), job('org_a', { priority: 10 }), job('org_a', { priority: 90 }), job('org_a', { priority: 10 }), job('org_a')];
    for (const j of jobs) await fair.stage([j]);
    expect((await fair.pick(5)).map((p) => p.id)).toEqual([jobs[1]!.id, jobs[3]!.id, jobs[0]!.id, jobs[4]!.id, jobs[2]!.id]);
  });

  it('an organization that becomes active starts at the current virtual time, with no credit for its idle time', async () => {
    const fair = scheduler();
    await fair.stage(Array.from({ length: 30 }, () => job('org_b')));
    expect(await orgsOf(fair, 20)).toEqual(Array(20).fill('org_b'));
    await fair.stage(Array.from({ length: 10 }, () => job('org_a')));
    // org_a joins at org_b's virtual time: they alternate from here, org_a does not get ten turns in a row.
    expect(await orgsOf(fair, 6)).toEqual(['org_a', 'org_b', 'org_a', 'org_b', 'org_a', 'org_b']);
  });

  it('skips jobs whose concurrency key is full and lets them in as slots are released', async () => {
    const fair = scheduler();
    const keyed = Array.from({ length: 3 }, () => job('org_a', { concurrency_key: 'k', concurrency_limit: 2 }));
    const plain = job('org_a');
    await fair.stage([...keyed, plain]);
    const first = await fair.pick(10);
    expect(first.map((p) => p.id)).toEqual([keyed[0]!.id, keyed[1]!.id, plain.id]);
    expect(first[0]).toMatchObject({ concurrency_key: 'k', concurrency_limit: 2 });
    expect(await fair.pick(10)).toEqual([]);
    expect((await fair.staged([keyed[2]!.id])).has(keyed[2]!.id)).toBe(true);
    await fair.release([{ id: keyed[0]!.id, organization_id: 'org_a', concurrency_key: 'k', concurrency_limit: 2 }]);
    expect((await fair.pick(10)).map((p) => p.id)).toEqual([keyed[2]!.id]);
    await fair.close();
  });

  it("bounds an organization's running jobs by its max_concurrency while other organizations go on", async () => {
    const fair = scheduler();
    await fair.applySettings([{ id: 'org_a', weight: 1, max_concurrency: 2 }], true);
    const a = Array.from({ length: 4 }, () => job('org_a'));
    await fair.stage(a);
    await fair.stage(Array.from({ length: 4 }, () => job('org_b')));
    expect(await orgsOf(fair, 10)).toEqual(['org_a', 'org_b', 'org_a', 'org_b', 'org_b', 'org_b']);
    await fair.release([{ id: a[0]!.id, organization_id: 'org_a', concurrency_key: null, concurrency_limit: null }]);
    expect((await fair.pick(10)).map((p) => p.id)).toEqual([a[2]!.id]);
    expect(await fair.organizationLoads()).toEqual(expect.arrayContaining([{ organization_id: 'org_a', waiting: 1, running: 2 }]));
    await fair.close();
  });

  it('frees the slots of an expired lease (a dead worker) at the next pass', async () => {
    const fair = scheduler(300);
    const keyed = Array.from({ length: 2 }, () => job('org_a', { concurrency_key: 'k', concurrency_limit: 1 }));
    await fair.stage(keyed);
    expect((await fair.pick(10)).map((p) => p.id)).toEqual([keyed[0]!.id]);
    expect(await fair.pick(10)).toEqual([]);
    // Nobody renews or releases the first job's slot: it lapses with its lease.
    await new Promise((r) => setTimeout(r, 400));
    await fair.maintain(); // also dispatches: the lapsed slot goes to the parked job
    expect(await fair.staged([keyed[1]!.id])).toEqual(new Set());
    await fair.close();
  });

  it('admits a delivery that holds its slot (renewing it) and refuses one whose key is full', async () => {
    const fair = scheduler();
    const [a, b] = [job('org_a', { concurrency_key: 'k', concurrency_limit: 1 }), job('org_a', { concurrency_key: 'k', concurrency_limit: 1 })];
    await fair.stage([a]);
    await fair.pick(1);
    const slotA = { id: a.id, organization_id: 'org_a', concurrency_key: 'k', concurrency_limit: 1 };
    expect(await fair.admit(slotA)).toBe(true);
    // A stalled re-run of the same job keeps the slot it holds; another job of the full key gets none.
    expect(await fair.admit(slotA)).toBe(true);
    expect(await fair.admit({ ...slotA, id: b.id })).toBe(false);
  });

  it('unstages a cancelled job and keeps a not-yet-due one out of the pick', async () => {
    const fair = scheduler();
    const [gone, later, now] = [job('org_a'), job('org_a', { run_at: new Date(Date.now() + 60_000) }), job('org_a')];
    await fair.stage([gone, later, now]);
    expect(await fair.unstage([gone.id])).toBe(1);
    expect((await fair.pick(10)).map((p) => p.id)).toEqual([now.id]);
    expect(await fair.staged([gone.id, later.id, now.id])).toEqual(new Set([later.id]));
    await fair.close();
  });

  it('keeps the slot of a dispatched job still waiting in BullMQ past its lease: no second job of a full key is let in', async () => {
    // Before, only running jobs renewed their leases: a job waiting its turn in BullMQ longer than the lease lost
    // its slot, the next job of the key was dispatched, and one of the two bounced back to staging at admission.
    const fair = scheduler(300);
    const keyed = Array.from({ length: 2 }, () => job('org_a', { concurrency_key: 'k', concurrency_limit: 1 }));
    await fair.stage(keyed);
    expect(await fair.dispatch()).toBe(1);
    await new Promise((r) => setTimeout(r, 400));
    await fair.maintain();
    expect(await fair.staged([keyed[1]!.id])).toEqual(new Set([keyed[1]!.id]));
    // Once the first has left BullMQ without a release (a lost entry), its lease lapses as before.
    await queues[queues.length - 1]!.remove(keyed[0]!.id);
    await new Promise((r) => setTimeout(r, 400));
    await fair.maintain();
    expect(await fair.staged([keyed[1]!.id])).toEqual(new Set());
    await fair.close();
  });

  it('puts picked jobs back in staging when their add to BullMQ fails, and frees their slots', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const broken = createRedis(REDIS_URL, 'command');
    await waitReady(broken);
    const queue = new Queue('jobs', { connection: broken, prefix, skipVersionCheck: true });
    queue.on('error', () => undefined);
    const fair = new FairScheduler(redis, queue, prefix, { leaseMs: 30_000, backlog: 10_000, priorityOf: queuePriority, onError: () => undefined });
    const keyed = Array.from({ length: 2 }, () => job('org_a', { concurrency_key: 'k', concurrency_limit: 1 }));
    await fair.stage(keyed);
    broken.disconnect();
    await expect(fair.dispatch()).rejects.toThrow();
    expect(await fair.staged([keyed[0]!.id, keyed[1]!.id])).toEqual(new Set([keyed[0]!.id, keyed[1]!.id]));
    // The slot the failed pick took goes back with the next call, so the key's one slot is free at once (the job put
    // back takes a new place in its organization's line, behind the one that was parked).
    expect(await fair.pick(10)).toHaveLength(1);
    await fair.close();
    await queue.close();
  });

  it('a cancelled job that was dispatched but never ran gives its slot back at once', async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const connection = createRedis(REDIS_URL, 'producer');
    await waitReady(connection);
    const jobs = new JobQueue(connection, prefix, { leaseMs: 30_000, backlog: 10, onError: () => undefined });
    try {
      const [first, second] = [job('org_a', { concurrency_key: 'k', concurrency_limit: 1 }), job('org_a', { concurrency_key: 'k', concurrency_limit: 1 })];
      await jobs.enqueue(first);
      await jobs.enqueue(second);
      await waitFor(async () => (await jobs.state(first.id)) === 'prioritized', 'the first job dispatched', 5000);
      expect(await jobs.state(second.id)).toBe('staged');
      await jobs.removeIfWaiting(first.id);
      // Without the release the key stays full until the first job's lease (30 s) lapses.
      await waitFor(async () => (await jobs.state(second.id)) === 'prioritized', 'the second job dispatched', 5000);
    } finally {
      await jobs.close();
      connection.disconnect();
    }
  });

  it('a job staged again while its dispatched entry still waits in BullMQ is skipped without freeing the slot that entry holds', async () => {
    const fair = scheduler();
    const keyed = () => job('org_a', { concurrency_key: 'k', concurrency_limit: 2 });
    const [x, y, z] = [keyed(), keyed(), keyed()];
    await fair.stage([x]);
    expect(await fair.dispatch()).toBe(1);
    // E.g. an add that landed but answered with an error: the id is staged once more beside its waiting entry.
    await fair.stage([x, y, z]);
    expect((await fair.pick(10)).map((p) => p.id)).toEqual([y.id]);
    // z waits: x's waiting entry and y fill the key. Before, the skip of x dropped x's slot and z was let in too.
    expect(await fair.staged([z.id])).toEqual(new Set([z.id]));
    await fair.close();
  });
});
