import { hostname } from 'node:os';
import { backgroundErrorListener } from '@jobs/observability';
import type { RedisClient as Redis } from './redis';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';

/** How this process is named in the `process` label of every series it contributes to /metrics. */
export const metricsProcessId = (): string => `${hostname()}:${process.pid}`;

const keys = (prefix: string) => ({
  index: `${prefix}:metrics:processes`,
  snapshot: (id: string) => `${prefix}:metrics:process:${id}`,
});

/** Measured from Redis, the same whichever process asks: served by the answering process alone, unlabelled. */
const SERVICE_WIDE = new Set(['jobsvc_queue_jobs', 'jobsvc_organization_jobs', 'jobsvc_scheduler_last_success_timestamp_seconds']);

type Snapshot = MetricObjectWithValues<MetricValue<string>>[];

/**
 * Each process (API or worker) writes a JSON snapshot of its registry to Redis every `intervalMs`, with a
 * TTL of three intervals, so any API process can answer /metrics for the whole service: job durations and
 * callback outcomes live in workers, queue depths in the API. A stopped process removes its snapshot; a
 * crashed one ages out.
 */
export class MetricsPublisher {
  private timer?: NodeJS.Timeout;
  private readonly ttlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly registry: Registry,
    private readonly opts: { processId?: string; intervalMs?: number; onError?: (err: unknown) => void } = {},
  ) {
    this.ttlMs = 3 * (opts.intervalMs ?? 10_000);
  }

  get processId(): string {
    return this.opts.processId ?? metricsProcessId();
  }

  start(): void {
    if (this.timer) return;
    // A failed publish leaves this process out of /metrics until the next tick: counted and logged, not dropped.
    const onError = this.opts.onError ?? backgroundErrorListener('metrics_publisher');
    const tick = () => void this.publishOnce().catch(onError);
    tick();
    this.timer = setInterval(tick, this.opts.intervalMs ?? 10_000);
    this.timer.unref();
  }

  async publishOnce(): Promise<void> {
    const k = keys(this.prefix);
    const snapshot = JSON.stringify(await this.registry.getMetricsAsJSON());
    await this.redis.multi().set(k.snapshot(this.processId), snapshot, 'PX', this.ttlMs).zadd(k.index, Date.now(), this.processId).exec();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const k = keys(this.prefix);
    await this.redis.multi().del(k.snapshot(this.processId)).zrem(k.index, this.processId).exec().catch(() => undefined);
  }
}

/**
 * Prometheus text for the whole service: this process's live registry plus every other process's latest
 * snapshot, each series labelled with the process it came from (so a restarted process reads as a new
 * series, not as a counter going backwards). Snapshots that cannot be read are skipped, never fatal.
 */
export async function clusterMetrics(redis: Redis, prefix: string, own: Registry, selfId = metricsProcessId()): Promise<string> {
  const k = keys(prefix);
  const snapshots: [string, Snapshot][] = [[selfId, await own.getMetricsAsJSON()]];
  try {
    // Index entries outlive their snapshots by a little; anything older than an hour is certainly gone.
    await redis.zremrangebyscore(k.index, '-inf', Date.now() - 3_600_000);
    const ids = (await redis.zrange(k.index, 0, -1)).filter((id) => id !== selfId);
    const raw = ids.length ? await redis.mget(...ids.map((id) => k.snapshot(id))) : [];
    ids.forEach((id, i) => {
      const text = raw[i];
      if (!text) return;
      try {
        snapshots.push([id, JSON.parse(text) as Snapshot]);
      } catch {
        // A torn or foreign value: that process shows up at its next publish.
      }
    });
  } catch {
    // Redis down: this process's own metrics still answer.
  }
  const labelled = snapshots.map(([id, metrics]) =>
    metrics
      .filter((m) => id === selfId || !SERVICE_WIDE.has(m.name))
      .map((m) => (SERVICE_WIDE.has(m.name) ? m : { ...m, values: m.values.map((v) => ({ ...v, labels: { ...v.labels, process: id } })) })),
  );
  return AggregatorRegistry.aggregate(labelled).metrics();
}
