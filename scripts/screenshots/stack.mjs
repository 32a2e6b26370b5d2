// A throwaway service for the screenshots: a fresh database (migrated), a private Redis key prefix, a free port,
// and the built API and worker processes, as `npm start` runs them. `stop` ends the processes and removes the
// database and keys.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { SERVICE_NODE_FLAGS } from '../node-flags.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

async function waitForHealth(base, children) {
  for (let i = 0; i < 150; i++) {
    if (children.some((c) => c.exitCode !== null)) throw new Error('a service process exited while starting');
    try {
      if ((await fetch(`${base}/api/health/live`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${base} did not answer`);
}

export async function startStack(extraEnv = {}) {
  const pgBase = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const suffix = randomBytes(5).toString('hex');
  const dbName = `jobs_screenshots_${suffix}`;
  const prefix = `shots${suffix}`;
  const adminUrl = new URL(pgBase);
  adminUrl.pathname = '/postgres';
  const dbUrl = new URL(pgBase);
  dbUrl.pathname = `/${dbName}`;

  const children = [];
  let created = false;
  const stop = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const force = setTimeout(() => c.kill('SIGKILL'), 10_000);
            c.once('exit', () => {
              clearTimeout(force);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
    if (created) {
      const admin = new pg.Client({ connectionString: adminUrl.toString() });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    }
  };

  try {
    const admin = new pg.Client({ connectionString: adminUrl.toString() });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${dbName}`);
      created = true;
    } finally {
      await admin.end();
    }
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const operatorKey = `jsk_${randomBytes(32).toString('base64url')}`;
    const env = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      BOOTSTRAP_API_KEY: operatorKey,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...extraEnv,
    };
    const migrated = spawnSync(process.execPath, ['packages/db/dist/cli/migrate.js'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (migrated.status !== 0) throw new Error('migrations failed');
    for (const main of ['apps/api/dist/main.js', 'apps/worker/dist/main.js']) {
      children.push(spawn(process.execPath, [...SERVICE_NODE_FLAGS, main], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] }));
    }
    await waitForHealth(base, children);
    return { base, operatorKey, database: dbName, prefix, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
