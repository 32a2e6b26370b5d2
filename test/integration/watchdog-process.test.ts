import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { HangReport } from '../../packages/observability/src';
import { defineTask } from '../../packages/tasks/src';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/** A handler that never yields, as a CPU-bound bug in a task would. */
const spinTask = defineTask({
  name: 'test.spin',
  input: z.strictObject({ ms: z.number().int().min(1).max(10000) }),
  async run({ input }) {
    const until = Date.now() + input.ms;
    while (Date.now() < until) {
      // spin
    }
    return { result: { spun_ms: input.ms } };
  },
});

describe('watchdog in the worker process', () => {
  let stack: TestStack;
  let healthFile: string;
  beforeAll(async () => {
    healthFile = path.join(mkdtempSync(path.join(tmpdir(), 'worker-health-')), 'worker.health');
    stack = await startStack({ worker: true, env: { WATCHDOG_CHECK_INTERVAL_MS: '100', WATCHDOG_TIMEOUT_MS: '600', HEALTH_FILE: healthFile } });
    stack.api.deps.tasks.register(spinTask);
    stack.worker!.tasks.register(spinTask);
    await stack.worker!.watchdog.online();
  });
  afterAll(async () => {
    await stack.stop();
    rmSync(path.dirname(healthFile), { recursive: true, force: true });
  });

  it('keeps the container health file fresh', async () => {
    await waitFor(() => existsSync(healthFile), 'health file written');
    expect(Date.now() - statSync(healthFile).mtimeMs).toBeLessThan(15000);
  });

  it('names the job that blocked the loop in its hang report', async () => {
    const reports: HangReport[] = [];
    // A loaded machine can stall this process briefly on its own (startup, compiling): only later hangs count.
    stack.worker!.watchdog.onHang((r) => reports.push(r));
    const since = Date.now();
    const created = await stack.request('POST', '/api/jobs', { task: 'test.spin', input: { ms: 1500 } });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    // Other short stalls may be reported too (first requests on a loaded machine); the spin's report names it.
    const report = await waitFor(() => reports.find((r) => Date.parse(r.detected_at) > since && r.running_job_ids.includes(id)), 'hang report naming the job', 20000);
    expect(report.blocked_ms).toBeGreaterThanOrEqual(600);
    await waitFor(async () => ((await stack.request('GET', `/api/jobs/${id}`)).body as { status: string }).status === 'completed', 'spin job completed');
  });
});
