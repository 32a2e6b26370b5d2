// A throwaway Redis Cluster on loopback (3 masters, 3 replicas) for the cluster scenario; `stop()` kills the
// nodes and removes their directory. Same layout as the test suite's (test/support/redis-cluster.ts).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './stack.mjs';

const field = (info, name) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();

export async function startRedisCluster() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jobsvc-bench-cluster-'));
  const ports = new Set();
  while (ports.size < 12) ports.add(await freePort());
  const list = [...ports];
  const nodes = list.slice(0, 6).map((port, i) => ({
    port,
    child: spawn(
      'redis-server',
      // prettier-ignore
      ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-port', String(list[6 + i]),
        '--cluster-config-file', `nodes-${port}.conf`, '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', `redis-${port}.log`],
      { stdio: 'ignore' },
    ),
  }));
  const stop = async () => {
    for (const n of nodes) {
      if (n.child.exitCode !== null || n.child.signalCode !== null) continue;
      const gone = new Promise((r) => n.child.once('exit', r));
      n.child.kill('SIGKILL');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const probe = async (check, what, timeoutMs = 30000) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await check().catch(() => false))) {
        if (Date.now() > deadline) throw new Error(`Redis Cluster: timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const admins = nodes.map((n) => new Redis({ port: n.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 }));
    for (const a of admins) a.on('error', () => undefined);
    try {
      for (const a of admins) await probe(async () => (await a.ping()) === 'PONG', 'a node');
      const r = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`redis-cli --cluster create failed: ${r.stdout}${r.stderr}`);
      await probe(async () => {
        for (const a of admins) {
          const info = await a.cluster('INFO');
          if (field(info, 'cluster_state') !== 'ok' || field(info, 'cluster_slots_ok') !== '16384') return false;
        }
        return true;
      }, 'cluster_state:ok on every node');
    } finally {
      for (const a of admins) a.disconnect();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes: nodes.map((n) => `127.0.0.1:${n.port}`).join(','), stop };
}

/**
 * One private redis-server with the cluster nodes' settings (no persistence), so that the comparison is not
 * against the shared server on 6379, which other work on the machine also uses.
 */
export async function startRedisSingle() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jobsvc-bench-single-'));
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const admin = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  admin.on('error', () => undefined);
  try {
    const deadline = Date.now() + 10000;
    while ((await admin.ping().catch(() => null)) !== 'PONG') {
      if (Date.now() > deadline) throw new Error('private redis-server did not answer');
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    admin.disconnect();
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}
