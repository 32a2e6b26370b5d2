import { spawn } from 'node:child_process';
import { closedPort } from '../support/closed-port';
import { PG_BASE_URL, REDIS_URL } from '../support/env';
import { ROOT } from '../support/processes';

/** Runs a script of the repository to its end and returns its exit code and output. */
function run(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not finish in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve({ code, output });
    });
  });
}

/** SPEC "Processes and scripts": when PostgreSQL or Redis is not reachable, the scripts say exactly what to do. */
describe('service checks of npm start / npm test', () => {
  // 127.0.0.2 is loopback but not "local" to the scripts, so they report instead of trying to start a service.
  it('services.mjs names each unreachable service with how to start it, and exits 1', async () => {
    const [pg, redis] = [await closedPort(), await closedPort()];
    const r = await run(['scripts/services.mjs'], { DATABASE_URL: `postgresql://postgres@127.0.0.2:${pg}/jobs`, REDIS_URL: `redis://127.0.0.2:${redis}` });
    expect(r.code).toBe(1);
    expect(r.output).toContain(`PostgreSQL is not reachable at 127.0.0.2:${pg}`);
    expect(r.output).toContain(`Redis is not reachable at 127.0.0.2:${redis}`);
    expect(r.output).toMatch(/start PostgreSQL.*or set DATABASE_URL/);
    expect(r.output).toMatch(/start Redis.*or set REDIS_URL/);
  });

  it('services.mjs exits 0 when both answer', async () => {
    const u = new URL(PG_BASE_URL);
    const r = await run(['scripts/services.mjs', '--no-start'], { DATABASE_URL: `postgresql://postgres@${u.hostname}:${u.port || 5432}/jobs`, REDIS_URL });
    expect(r.code).toBe(0);
  });

  it('npm start (scripts/start.mjs) stops with the instructions instead of starting half a service', async () => {
    const pg = await closedPort();
    const r = await run(['scripts/start.mjs'], { DATABASE_URL: `postgresql://postgres@127.0.0.2:${pg}/jobs`, REDIS_URL, PORT: String(await closedPort()) });
    expect(r.code).toBe(1);
    expect(r.output).toContain(`PostgreSQL is not reachable at 127.0.0.2:${pg}`);
    expect(r.output).toContain('npm start needs PostgreSQL and Redis');
    expect(r.output).not.toContain('Job service is running');
  }, 180_000);
});
