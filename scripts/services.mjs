// Makes sure PostgreSQL and Redis answer; starts the local ones (this machine kind's commands) when they don't.
// Usage: node scripts/services.mjs [--no-start]
import { execSync } from 'node:child_process';
import net from 'node:net';

const pgUrl = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/jobs');
const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

const services = [
  {
    name: 'PostgreSQL',
    host: pgUrl.hostname,
    port: Number(pgUrl.port || 5432),
    start: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    hint: 'start PostgreSQL 15+ (e.g. `pg_ctlcluster 15 main start` or `docker run -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15`) or set DATABASE_URL',
  },
  {
    name: 'Redis',
    host: redisUrl.hostname,
    port: Number(redisUrl.port || 6379),
    start: 'mkdir -p /var/lib/redis /var/log/redis && redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
    hint: 'start Redis 7 (e.g. `redis-server --daemonize yes` or `docker run -p 6379:6379 redis:7`) or set REDIS_URL',
  },
];

function answers(host, port, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export async function ensureServices({ start = true } = {}) {
  const missing = [];
  for (const svc of services) {
    if (await answers(svc.host, svc.port)) continue;
    const local = ['127.0.0.1', 'localhost', '::1'].includes(svc.host);
    if (start && local) {
      console.error(`${svc.name} is not answering on ${svc.host}:${svc.port}; starting it`);
      try {
        execSync(svc.start, { stdio: 'inherit', shell: '/bin/bash' });
      } catch {
        // reported below if it still does not answer
      }
      for (let i = 0; i < 40 && !(await answers(svc.host, svc.port)); i++) await new Promise((r) => setTimeout(r, 250));
      if (await answers(svc.host, svc.port)) continue;
    }
    missing.push(`${svc.name} is not reachable at ${svc.host}:${svc.port}: ${svc.hint}`);
  }
  if (missing.length) {
    for (const m of missing) console.error(m);
    return false;
  }
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureServices({ start: !process.argv.includes('--no-start') }).then((ok) => process.exit(ok ? 0 : 1));
}
