// CPU time used by the processes under test (Linux /proc), so a scenario can report CPU-ms per job:
// a figure that stays meaningful when other work on the machine makes wall-clock rates noisy.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond = 100;
try {
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // the usual Linux value
}

/** User + system CPU milliseconds of one process, or null when it is gone. */
export function cpuMsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / ticksPerSecond;
  } catch {
    return null;
  }
}

async function backendPids(pool) {
  const { rows } = await pool.query(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
  return rows.map((r) => r.pid);
}

/**
 * Starts counting for the API, the workers and this database's PostgreSQL backends; `stop()` returns the
 * CPU milliseconds each group used since. Backends that connected meanwhile count from their start.
 */
/** This database's commits and row counts (pg_stat_database), to report statements and row writes per job. */
async function dbCounters(pool) {
  await pool.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await pool.query(
    'SELECT xact_commit::float8 AS commits, tup_inserted::float8 AS inserted, tup_updated::float8 AS updated, tup_fetched::float8 AS fetched FROM pg_stat_database WHERE datname = current_database()',
  );
  return rows[0];
}

export async function cpuMeter(ctx) {
  // The Redis server is shared with whatever else runs on the machine: its figure is an upper bound for ours.
  const procs = () => [
    ['api', ctx.apiProc.pid],
    ...ctx.workers.map((w) => ['worker', w.pid]),
    ...(ctx.redisPid ? [['redis', ctx.redisPid]] : []),
  ];
  const before = new Map();
  for (const [, pid] of procs()) before.set(pid, cpuMsOf(pid) ?? 0);
  for (const pid of await backendPids(ctx.db.pool)) before.set(pid, cpuMsOf(pid) ?? 0);
  const counters = await dbCounters(ctx.db.pool);
  return {
    /** pg_stat_database deltas since the start (flushed by backends at most once a second, so read after a pause). */
    async dbActivity() {
      const now = await dbCounters(ctx.db.pool);
      return Object.fromEntries(Object.keys(now).map((k) => [k, now[k] - counters[k]]));
    },
    async stop() {
      const used = { api: 0, worker: 0, postgres: 0, ...(ctx.redisPid ? { redis: 0 } : {}) };
      for (const [group, pid] of procs()) used[group] += (cpuMsOf(pid) ?? 0) - (before.get(pid) ?? 0);
      for (const pid of await backendPids(ctx.db.pool)) used.postgres += (cpuMsOf(pid) ?? 0) - (before.get(pid) ?? 0);
      return used;
    },
  };
}
