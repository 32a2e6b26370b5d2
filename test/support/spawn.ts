import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REDIS_URL } from './env';
import { closedPort } from './tcp-proxy';
import { OPERATOR_KEY } from './stack';
import { waitFor } from './wait';

const ROOT = path.resolve(__dirname, '..', '..');

/** A built API or worker process (`npm run build` first), its output kept for assertions and failures. */
export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  /** Log lines (JSON) whose message matches. */
  logs(message: string): Record<string, unknown>[];
  /** SIGKILL if still running; for cleanup. */
  kill(): Promise<void>;
}

function start(entry: string, env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [path.join(ROOT, entry)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', REDIS_URL, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    pid: child.pid!,
    exited,
    output: () => out,
    logs: (message) =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l) as Record<string, unknown>;
          } catch {
            return {};
          }
        })
        .filter((l) => l['message'] === message),
    async kill() {
      if (done) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A worker process; resolves once it logged "worker started". */
export async function spawnWorker(env: Record<string, string>): Promise<Spawned> {
  const w = start('apps/worker/dist/main.js', env);
  await waitFor(() => w.logs('worker started').length > 0 || w.child.exitCode !== null, 'worker started', 20_000, 50);
  if (w.child.exitCode !== null) throw new Error(`worker exited at start:\n${w.output()}`);
  return w;
}

/** An API process on a free port; resolves once /api/health/live answers. */
export async function spawnApi(env: Record<string, string>): Promise<Spawned & { url: string }> {
  const port = await closedPort();
  const a = start('apps/api/dist/main.js', { PORT: String(port), HOST: '127.0.0.1', BOOTSTRAP_API_KEY: OPERATOR_KEY, ...env });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (a.child.exitCode !== null) throw new Error(`api exited at start:\n${a.output()}`);
    return (await fetch(`${url}/api/health/live`)).ok;
  }, 'api listening', 20_000, 100);
  return { ...a, url };
}
