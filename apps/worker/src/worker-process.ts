import type { Settings } from '@jobs/core';
import { JobManager, createDb, type Db } from '@jobs/db';
import { createLogger, type Logger } from '@jobs/observability';
import { JobBus, createRedis, publishTransitions } from '@jobs/queue';
import { builtinTasks, type TaskClients } from '@jobs/tasks';
import type { Redis } from 'ioredis';
import { JobRunner } from './job-runner';

/** Everything one worker process runs, built from settings; `stop` releases every connection it opened. */
export interface WorkerProcess {
  runner: JobRunner;
  jobs: JobManager;
  db: Db;
  logger: Logger;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createWorkerProcess(settings: Settings, logger?: Logger): WorkerProcess {
  const log = logger ?? createLogger({ level: settings.LOG_LEVEL, service: 'worker' });
  const db = createDb(settings.DATABASE_URL, settings.DB_POOL_SIZE);
  const jobs = new JobManager(db);
  const connections: Redis[] = [];
  const redis = (role: Parameters<typeof createRedis>[1]) => {
    const c = createRedis(settings.REDIS_URL, role);
    connections.push(c);
    return c;
  };
  const bus = new JobBus(redis('worker'), redis('subscriber'), settings.QUEUE_PREFIX);
  publishTransitions(jobs, bus, (err) => log.warn('event publish failed', { err: String(err) }));
  const clients: TaskClients = {};
  const runner = new JobRunner(jobs, builtinTasks(), bus, clients, log, {
    connection: redis('worker'),
    prefix: settings.QUEUE_PREFIX,
    concurrency: settings.WORKER_CONCURRENCY,
    lockDurationMs: settings.LOCK_DURATION_MS,
    stalledIntervalMs: settings.STALLED_INTERVAL_MS,
    ...(settings.WORKER_ID ? { workerId: settings.WORKER_ID } : {}),
  });

  return {
    runner,
    jobs,
    db,
    logger: log,
    async start() {
      await bus.subscribe({ cancel: true });
      runner.start();
      log.info('worker started', { worker_id: runner.workerId, concurrency: settings.WORKER_CONCURRENCY, queue_prefix: settings.QUEUE_PREFIX });
    },
    async stop() {
      await runner.close(settings.SHUTDOWN_GRACE_MS);
      for (const c of connections) c.disconnect();
      await db.$disconnect();
      log.info('worker stopped', { worker_id: runner.workerId });
    },
  };
}
