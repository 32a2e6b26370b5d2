// The system under test: a fresh database and Redis prefix, the built API and worker processes.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { SERVICE_NODE_FLAGS } from '../../scripts/node-flags.mjs';

export const PG_BASE_URL = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

const dbUrl = (name) => {
  const u = new URL(PG_BASE_URL);
  u.pathname = `/${name}`;
  return u.toString();
};

async function admin(sql) {
  const c = new pg.Client({ connectionString: PG_BASE_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A new database migrated with the project's own runner; `drop()` removes it. */
export async function createDatabase(root) {
  const name = `jobsvc_bench_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = dbUrl(name);
  const r = spawnSync(process.execPath, [path.join(root, 'packages/db/dist/cli/migrate.js')], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url },
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    throw new Error(`migrations failed: ${r.stderr || r.stdout}`);
  }
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  return {
    name,
    url,
    pool,
    async drop() {
      await pool.end().catch(() => undefined);
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** A Redis prefix of our own; `clear()` deletes its keys (SCAN + UNLINK, never FLUSHALL: the server is shared). */
export function createPrefix() {
  const prefix = `jobsvc-bench-${randomBytes(4).toString('hex')}`;
  return {
    prefix,
    async clear() {
      const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
      await r.connect();
      try {
        let cursor = '0';
        do {
          const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length) await r.unlink(...keys);
        } while (cursor !== '0');
      } finally {
        r.disconnect();
      }
    },
  };
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * One built process (`api` or `worker`) with production settings and `warn` logs. Its output is kept
 * (last 20 lines) so a crash can be reported; `stop()` sends SIGTERM and waits for the exit.
 */
export function startProcess(root, kind, env, { cpuProfDir } = {}) {
  const args = [
    ...SERVICE_NODE_FLAGS,
    ...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : []),
    path.join(root, `apps/${kind}/dist/main.js`),
  ];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = [];
  const keep = (d) => {
    for (const line of String(d).split('\n')) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 20) tail.shift();
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  const exit = new Promise((resolve) => child.once('exit', (code, sig) => resolve((exited = code ?? sig))));
  return {
    kind,
    pid: child.pid,
    tail,
    get exited() {
      return exited;
    },
    async stop(graceMs = 20000) {
      if (exited !== null) return exited;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exit;
      clearTimeout(t);
      return code;
    },
  };
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export async function waitHealthy(url, proc, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exited !== null) throw new Error(`${proc.kind} exited (${proc.exited}):\n${proc.tail.join('\n')}`);
    try {
      const r = await fetch(`${url}/api/health/live`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${proc.kind} not healthy after ${timeoutMs} ms:\n${proc.tail.join('\n')}`);
}
