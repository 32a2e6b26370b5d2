import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './processes';
import { waitFor } from './wait';

/**
 * A private redis-server on a free port, for tests that break Redis on purpose (ACLs, maxmemory): the
 * shared server on 6379 is never touched. Nothing is persisted; `stop` kills it.
 */
export class PrivateRedis {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    readonly admin: Redis,
  ) {}

  static async start(): Promise<PrivateRedis> {
    const port = await freePort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const admin = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    try {
      await waitFor(async () => (await admin.ping().catch(() => null)) === 'PONG', `redis-server on port ${port}`, 10_000, 50);
    } catch (err) {
      admin.disconnect();
      child.kill('SIGKILL');
      throw err;
    }
    return new PrivateRedis(port, child, admin);
  }

  /** A URL for `user` (created with `ACL SETUSER` by the caller) or the default user. */
  url(user?: { name: string; password: string }): string {
    return user ? `redis://${user.name}:${user.password}@127.0.0.1:${this.port}` : `redis://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.admin.disconnect();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await exited;
  }
}
