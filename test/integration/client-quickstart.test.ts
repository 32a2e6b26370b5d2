import { quickstart } from '../../packages/client/examples/quickstart';
import { startStack, type TestStack } from '../support/stack';
import { createTenant } from '../support/tenants';

describe('the README example of @jobs/client (packages/client/examples/quickstart.ts)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ worker: true });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('creates a job, watches it to completed and verifies its callback', async () => {
    const tenant = await createTenant(stack);
    const lines: string[] = [];
    const payload = await quickstart({ JOBS_API_URL: stack.url, JOBS_API_KEY: tenant.memberKey, JOBS_WEBHOOK_SECRET: tenant.webhookSecret }, (l) => lines.push(l));
    expect(payload).toMatchObject({ type: 'job.completed', status: 'completed' });
    const id = payload.job_id;
    expect(lines[0]).toBe(`created ${id}`);
    expect(lines.at(-2)).toMatch(/^\d+ running -> completed$/);
    expect(lines.at(-1)).toBe(`callback job.completed for ${id}, verified`);
    expect(lines.some((l) => l.startsWith('rejected'))).toBe(false);
  });
});
