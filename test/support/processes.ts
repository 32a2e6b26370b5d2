import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { waitFor } from './wait';

export const ROOT = path.resolve(__dirname, '..', '..');
export const API_MAIN = path.join(ROOT, 'apps', 'api', 'dist', 'main.js');
export const WORKER_MAIN = path.join(ROOT, 'apps', 'worker', 'dist', 'main.js');

/** A JSON log line of one of our processes (winston JSON), or the raw text when it is not JSON. */
export type LogLine = Record<string, unknown> & { message?: string; level?: string; raw: string };

/** One service process started from the built code, with its output captured line by line. */
export class ServiceProcess {
  readonly logs: LogLine[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    script: string,
    env: Record<string, string>,
  ) {
    if (!fs.existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` before the e2e tests`);
    this.child = spawn(process.execPath, [script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let buffer = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          this.push(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
        }
      });
      stream.on('end', () => buffer && this.push(buffer));
    }
  }

  private push(raw: string): void {
    if (!raw.trim()) return;
    try {
      const parsed = JSON.parse(raw) as Record<string, unknown>;
      this.logs.push({ ...parsed, raw });
    } catch {
      this.logs.push({ raw });
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits for a log line matching `match` (a message or a predicate); fails early if the process dies. */
  async waitForLog(match: string | ((l: LogLine) => boolean), timeoutMs = 30_000): Promise<LogLine> {
    const test = typeof match === 'string' ? (l: LogLine) => l.message === match : match;
    return waitFor(() => {
      const found = this.logs.find(test);
      if (found) return found;
      if (!this.running) throw new Error(`${this.name} exited (code ${this.child.exitCode}); output:\n${this.output()}`);
      return null;
    }, `${this.name} to log ${typeof match === 'string' ? JSON.stringify(match) : 'a matching line'}`, timeoutMs, 50);
  }

  output(): string {
    return this.logs.map((l) => l.raw).join('\n');
  }

  /** Sends `signal` (SIGKILL: a crash) and resolves with the exit code (null when killed by a signal). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      try {
        return await this.exited;
      } finally {
        clearTimeout(t);
      }
    }
    return this.exited;
  }
}

/** A free TCP port on 127.0.0.1 (the OS picks it; the socket is closed before the port is used). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts the built API on a free port and waits until it answers /api/health/live. */
export async function startApi(env: Record<string, string>): Promise<{ proc: ServiceProcess; url: string }> {
  const port = await freePort();
  const proc = new ServiceProcess('api', API_MAIN, { ...env, PORT: String(port), HOST: '127.0.0.1' });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (!proc.running) throw new Error(`api exited; output:\n${proc.output()}`);
      const r = await fetch(`${url}/api/health/live`).catch(() => null);
      return r?.ok ?? false;
    }, 'the API to answer', 30_000, 100);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { proc, url };
}

/** Starts a built worker process and waits for its "worker started" line. */
export async function startWorker(env: Record<string, string>, name = 'worker'): Promise<ServiceProcess> {
  const proc = new ServiceProcess(name, WORKER_MAIN, env);
  try {
    await proc.waitForLog('worker started');
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}
