import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../support/processes';
import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

const CLI = path.join(ROOT, 'apps', 'cli', 'dist', 'main.js');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

interface Job {
  id: string;
  status: string;
  task: string;
}

/** Runs the built `jobs` CLI as an operator would, with the key and URL from the environment. */
function jobs(stack: TestStack, args: string[], key: string | null = OPERATOR_KEY): Promise<Outcome> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before the e2e tests`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', JOBS_API_URL: stack.url, ...(key ? { JOBS_API_KEY: key } : {}) }, timeout: 60000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr }),
    );
  });
}

describe('jobs CLI against a running stack', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ worker: true });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('creates a job and watches it to the end with a progress bar', async () => {
    const r = await jobs(stack, ['create', 'sleep', '--input', '{"ms":4000,"progress_steps":4}', '--watch']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^job-[0-9a-f-]{36} created$/);
    // Not a terminal: one line per change. Progress is sampled from the job (the event stream carries
    // transitions only), so which steps show depends on timing; at least one before the end must.
    const steps = lines.filter((l) => /^running\s+\[#*-*\]\s+\d+% step \d of 4$/.test(l));
    expect(steps.some((l) => /(25|50|75)% step [123] of 4$/.test(l))).toBe(true);
    expect(lines.filter((l) => l.startsWith('completed'))).toEqual([`completed [${'#'.repeat(30)}] 100% step 4 of 4`]);
    // Status lines never go backwards (the stream's replayed history is not drawn again).
    const statuses = lines.filter((l) => /^(created|pending|running|completed)\b/.test(l)).map((l) => l.split(' ')[0]!);
    const order = ['created', 'pending', 'running', 'completed'];
    expect(statuses.map((s) => order.indexOf(s))).toEqual([...statuses.map((s) => order.indexOf(s))].sort((a, b) => a - b));
    expect(r.stdout).toMatch(/^job-[0-9a-f-]{36} completed \(end_turn\)$/m);
    expect(r.stdout).toContain('"slept_ms": 4000');
  });

  it('watches an existing job and exits 1 when it fails', async () => {
    const created = await stack.request('POST', '/api/jobs', { task: 'sleep', input: { ms: 300, fail: true } });
    const id = (created.body as Job).id;
    const r = await jobs(stack, ['watch', id]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${id} failed`, 'm'));
    expect(r.stdout).toContain('error: sleep task failed on request');
  });

  it('lists, gets, cancels and retries jobs', async () => {
    const created = await jobs(stack, ['create', 'sleep', '--input', '{"ms":60000}', '--json']);
    expect(created.code).toBe(0);
    const job = JSON.parse(created.stdout) as Job;
    expect(job).toMatchObject({ task: 'sleep' });

    const list = await jobs(stack, ['list', '--active']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+TASK\s+STATUS\s+PROGRESS\s+ATTEMPTS\s+CREATED$/);
    expect(list.stdout).toContain(job.id);

    const asJson = JSON.parse((await jobs(stack, ['list', '--status', 'pending,running', '--json'])).stdout) as Job[];
    expect(asJson.map((j) => j.id)).toContain(job.id);

    const cancel = await jobs(stack, ['cancel', job.id]);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`^${job.id} sleep cancelled`));
    expect((await stack.request('GET', `/api/jobs/${job.id}`)).body).toMatchObject({ status: 'cancelled' });

    const again = await jobs(stack, ['cancel', job.id]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/^jobs: 409: /);

    const retry = await jobs(stack, ['retry', job.id, '--json']);
    expect(retry.code).toBe(0);
    expect(['pending', 'running']).toContain((JSON.parse(retry.stdout) as Job).status);
    await jobs(stack, ['cancel', job.id]);

    const get = await jobs(stack, ['get', job.id]);
    expect(get.stdout).toMatch(new RegExp(`^${job.id} sleep cancelled attempts \\d/1`));
  });

  it('creates an organization, a user and a key the new user can use', async () => {
    const org = await jobs(stack, ['orgs', 'create', 'cli-test-org', '--json']);
    expect(org.code).toBe(0);
    const orgId = (JSON.parse(org.stdout) as { id: string }).id;
    const user = await jobs(stack, ['users', 'create', '--organization', orgId, '--name', 'cli-user', '--json']);
    const userId = (JSON.parse(user.stdout) as { id: string }).id;
    const key = await jobs(stack, ['keys', 'create', '--user', userId, '--role', 'member']);
    expect(key.code).toBe(0);
    const clear = key.stdout.trim();
    expect(clear).toMatch(/^jsk_/);
    expect(key.stderr).toMatch(/^created key-[0-9a-f-]{36} \(member, prefix /);

    const set = await jobs(stack, ['orgs', 'set', orgId, '--weight', '4', '--max-concurrency', '10']);
    expect([set.code, set.stdout]).toEqual([0, `${orgId} weight 4 max_concurrency 10\n`]);
    expect((await jobs(stack, ['orgs', 'set', orgId, '--max-concurrency', 'none'])).stdout).toBe(`${orgId} weight 4 max_concurrency none\n`);
    const refused = await jobs(stack, ['orgs', 'set', orgId, '--weight', '4'], clear);
    expect([refused.code, refused.stderr]).toEqual([3, expect.stringMatching(/^jobs: 403: /)]);
    expect((await jobs(stack, ['orgs', 'set', orgId])).code).toBe(2);
    const keyed = await jobs(stack, ['create', 'noop', '--concurrency-key', 'cli', '--concurrency-limit', '2', '--json'], clear);
    expect(JSON.parse(keyed.stdout)).toMatchObject({ concurrency_key: 'cli', concurrency_limit: 2 });

    const mine = await jobs(stack, ['create', 'noop', '--json'], clear);
    expect(mine.code).toBe(0);
    const listed = JSON.parse((await jobs(stack, ['list', '--json'], clear)).stdout) as Job[];
    expect(listed.map((j) => j.id)).toEqual([(JSON.parse(mine.stdout) as Job).id, (JSON.parse(keyed.stdout) as Job).id]);

    const keys = await jobs(stack, ['keys', 'list', '--organization', orgId]);
    expect(keys.stdout).toContain('member');
    expect(keys.stdout).not.toContain(clear);
    const keyId = /created (key-[0-9a-f-]{36})/.exec(key.stderr)![1]!;
    expect((await jobs(stack, ['keys', 'revoke', keyId])).stdout).toBe(`${keyId} revoked\n`);
    await waitFor(async () => (await jobs(stack, ['list'], clear)).code === 3, 'revoked key refused');
  });

  it('creates a source, uploads a file and watches its processing to completed', async () => {
    const created = await jobs(stack, ['sources', 'create', 'cli-docs']);
    expect(created.code).toBe(0);
    const source = created.stdout.trim();
    expect(source).toMatch(/^source-/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jobs-cli-'));
    try {
      const file = path.join(dir, 'notes.md');
      fs.writeFileSync(file, `# Notes\n\n${'a few words of text '.repeat(400)}`);
      const r = await jobs(stack, ['upload', source, file, '--watch']);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toMatch(/chunks embedded/);
      expect(r.stdout.trim().split('\n').pop()).toMatch(/^file-\S+ completed (\d+)\/\1 chunks$/);
      const bad = path.join(dir, 'image.png');
      fs.writeFileSync(bad, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]));
      const refused = await jobs(stack, ['upload', source, bad]);
      expect(refused.code).toBe(3);
      expect(refused.stderr).toMatch(/^jobs: 415: /);
      const listed = await jobs(stack, ['sources', 'list']);
      expect(listed.stdout).toContain(source);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains usage and API errors with distinct exit codes', async () => {
    const noKey = await jobs(stack, ['list'], null);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('set JOBS_API_KEY');
    const badArgs = await jobs(stack, ['create', 'noop', '--input', '{nope']);
    expect(badArgs.code).toBe(2);
    expect(badArgs.stderr).toContain('--input must be JSON');
    const unknown = await jobs(stack, ['frobnicate']);
    expect(unknown.code).toBe(2);
    const badTask = await jobs(stack, ['create', 'no.such.task']);
    expect(badTask.code).toBe(3);
    expect(badTask.stderr).toMatch(/^jobs: 400: .*task/);
    const wrongKey = await jobs(stack, ['list'], 'jsk_not-a-key-not-a-key-not-a-key');
    expect(wrongKey.code).toBe(3);
    expect(wrongKey.stderr).toMatch(/^jobs: 401: /);
  });
});
