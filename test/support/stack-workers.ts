import { REDIS_URL } from './env';
import { startWorker, type ServiceProcess } from './processes';
import type { TestStack } from './stack';

/**
 * Worker processes on a stack's database and Redis prefix, with a short lock so that a killed one's jobs move on
 * within seconds. `stack` and `env` are read when a worker starts (the stack is made in beforeAll).
 */
export function stackWorkers(stack: () => TestStack, env: () => Record<string, string> = () => ({})) {
  const started: ServiceProcess[] = [];
  return {
    async start(name: string): Promise<ServiceProcess> {
      const s = stack();
      const w = await startWorker(
        {
          DATABASE_URL: s.database.url,
          REDIS_URL,
          QUEUE_PREFIX: s.prefix,
          DB_POOL_SIZE: '5',
          LOG_LEVEL: 'info',
          LOCK_DURATION_MS: '2000',
          STALLED_INTERVAL_MS: '1000',
          ...env(),
          WORKER_ID: name,
        },
        name,
      );
      started.push(w);
      return w;
    },
    async killAll(): Promise<void> {
      for (const w of started.splice(0)) await w.kill();
    },
  };
}
