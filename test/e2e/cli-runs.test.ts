import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FakeAnthropic } from '../fakes/anthropic-server';
import { ROOT } from '../support/processes';
import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';

const CLI = path.join(ROOT, 'apps', 'cli', 'dist', 'main.js');

function jobs(stack: TestStack, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before the e2e tests`);
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', JOBS_API_URL: stack.url, JOBS_API_KEY: OPERATOR_KEY }, timeout: 60000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr }),
    );
  });
}

/** Issue 12: `jobs run` and `jobs messages` against a stack whose worker streams from the fake Anthropic. */
describe('jobs run / jobs messages', () => {
  let stack: TestStack;
  let fake: FakeAnthropic;
  beforeAll(async () => {
    fake = new FakeAnthropic({ streamDelayMs: 30 });
    await fake.start();
    stack = await startStack({ worker: true, env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'test-key' } });
  });
  afterAll(async () => {
    await stack?.stop();
    await fake?.stop();
  });

  it('runs a message, watches it to the end and prints the reply; then lists its messages', async () => {
    const r = await jobs(stack, ['run', '--model', 'claude-test', '--message', 'hello from the cli', '--max-tokens', '50', '--watch']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const id = /^(job-\S+) created$/m.exec(r.stdout)![1]!;
    expect(r.stdout).toMatch(new RegExp(`^${id} completed \\(end_turn\\)$`, 'm'));
    expect(r.stdout).toMatch(/^Echo: hello from the cli$/m);

    const m = await jobs(stack, ['messages', id]);
    expect(m.code).toBe(0);
    const lines = m.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ROLE\s+CONTENT\s+ID$/);
    expect(lines[1]).toMatch(/^user\s+hello from the cli\s+message-/);
    expect(lines[2]).toMatch(/^assistant\s+Echo: hello from the cli\s+message-/);

    const desc = JSON.parse((await jobs(stack, ['messages', id, '--order', 'desc', '--json'])).stdout) as { role: string }[];
    expect(desc.map((x) => x.role)).toEqual(['assistant', 'user']);
  });

  it('a max_tokens run ends completed (max_tokens_exceeded); bad usage exits 2; a provider refusal exits 1', async () => {
    const cut = await jobs(stack, ['run', '--model', 'claude-test', '--message', 'one two three four', '--max-tokens', '2', '--watch']);
    expect(cut.code).toBe(0);
    expect(cut.stdout).toMatch(/completed \(max_tokens_exceeded\)/);
    expect((await jobs(stack, ['run', '--message', 'x'])).code).toBe(2);
    expect((await jobs(stack, ['messages'])).code).toBe(2);
    fake.fail({ path: '/v1/messages', status: 400, count: 1 });
    const refused = await jobs(stack, ['run', '--model', 'claude-test', '--message', 'x', '--watch']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/failed \(llm_api_error\)/);
    expect(refused.stdout).toMatch(/error: 400 invalid_request_error: Injected failure/);
  });
});
