import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './processes';
import { waitFor } from './wait';

/** One redis-server of the cluster. */
interface ClusterNode {
  port: number;
  child: ChildProcess;
  admin: Redis;
}

const run = (cmd: string, args: string[]) =>
  new Promise<string>((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`))));
  });

const infoField = (info: string, field: string) => new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();

/**
 * A private Redis Cluster on loopback: 3 masters and 3 replicas on free ports (client and bus ports both
 * probed), in a temporary directory, with a short node timeout so a failover takes seconds. Nothing of the
 * shared Redis on 6379 is touched; `stop` kills every node and removes the directory.
 */
export class LocalRedisCluster {
  private constructor(
    private readonly dir: string,
    private readonly nodes: ClusterNode[],
  ) {}

  static async start(opts: { masters?: number; nodeTimeoutMs?: number } = {}): Promise<LocalRedisCluster> {
    const masters = opts.masters ?? 3;
    const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
    if (version.error || !/v=([7-9]|\d{2,})\./.test(version.stdout)) {
      throw new Error(`the cluster suite starts its own nodes: redis-server 7 or later must be on PATH (${version.error?.message ?? version.stdout.trim()})`);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jobsvc-redis-cluster-'));
    const nodes: ClusterNode[] = [];
    const cluster = new LocalRedisCluster(dir, nodes);
    try {
      const ports = new Set<number>();
      while (ports.size < masters * 4) ports.add(await freePort());
      const list = [...ports];
      for (let i = 0; i < masters * 2; i++) {
        const port = list[i]!;
        const busPort = list[masters * 2 + i]!;
        // prettier-ignore
        const child = spawn('redis-server', [
          '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-port', String(busPort),
          '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(opts.nodeTimeoutMs ?? 1500),
          // A replica takes over however long its link was down: the test kills masters on purpose.
          '--cluster-replica-validity-factor', '0', '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', `redis-${port}.log`,
        ], { stdio: 'ignore' });
        const admin = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
        admin.on('error', () => undefined);
        nodes.push({ port, child, admin });
      }
      for (const n of nodes) await waitFor(async () => (await n.admin.ping().catch(() => null)) === 'PONG', `redis-server on ${n.port}`, 10_000, 50);
      await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes']);
      await cluster.waitHealthy();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  /** Seeds for REDIS_CLUSTER_NODES. */
  get nodesSetting(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  private live(): ClusterNode[] {
    return this.nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
  }

  /** Until every live node says cluster_state:ok with all slots covered, and every live replica's link is up. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        for (const n of this.live()) {
          const cl = await n.admin.cluster('INFO');
          if (infoField(cl, 'cluster_state') !== 'ok' || infoField(cl, 'cluster_slots_ok') !== '16384') return false;
          const repl = await n.admin.info('replication');
          if (infoField(repl, 'role') === 'slave' && infoField(repl, 'master_link_status') !== 'up') return false;
        }
        return true;
      },
      'the Redis Cluster to be healthy',
      timeoutMs,
      100,
    );
  }

  /** The port of the live master serving `key`'s slot. */
  async masterOf(key: string): Promise<number> {
    const admin = this.live()[0]!.admin;
    const slot = await admin.cluster('KEYSLOT', key);
    const ranges = await admin.cluster('SLOTS');
    const master = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2];
    if (!master) throw new Error(`no node serves slot ${slot}`);
    return master[1];
  }

  /** Live masters' ports. */
  async masters(): Promise<number[]> {
    const out: number[] = [];
    for (const n of this.live()) if (infoField(await n.admin.info('replication'), 'role') === 'master') out.push(n.port);
    return out;
  }

  /** The keys matching `pattern` on each live master (SCAN of each node, not the cluster). */
  async keysPerMaster(pattern: string): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    for (const port of await this.masters()) {
      const admin = this.nodes.find((n) => n.port === port)!.admin;
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await admin.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      out.set(port, keys);
    }
    return out;
  }

  /** FLUSHALL on every live master: a Redis that lost its data. */
  async flushAll(): Promise<void> {
    for (const port of await this.masters()) await this.nodes.find((n) => n.port === port)!.admin.flushall();
  }

  /** kill -9 of the node on `port`; resolves once it is gone. */
  async kill(port: number): Promise<void> {
    const n = this.nodes.find((x) => x.port === port);
    if (!n || n.child.exitCode !== null || n.child.signalCode !== null) return;
    n.admin.disconnect();
    const exited = new Promise((r) => n.child.once('exit', r));
    n.child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) {
      n.admin.disconnect();
      if (n.child.exitCode === null && n.child.signalCode === null) {
        const exited = new Promise((r) => n.child.once('exit', r));
        n.child.kill('SIGKILL');
        await exited;
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
