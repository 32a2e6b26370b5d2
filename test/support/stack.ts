import { createApiProcess, type ApiProcess } from '../../apps/api/src/api-process';
import { createWorkerProcess, type WorkerProcess } from '../../apps/worker/src/worker-process';
import { loadSettings, type Settings } from '../../packages/core/src';
import { createTestDatabase, type TestDatabase } from './database';
import { checkContract } from './contract';
import { REDIS_URL } from './env';
import { deleteKeysWithPrefix, testPrefix } from './redis';

export const OPERATOR_KEY = 'test-operator-key-0123456789';

export interface TestStack {
  url: string;
  settings: Settings;
  database: TestDatabase;
  prefix: string;
  api: ApiProcess;
  worker?: WorkerProcess;
  /** Fetch against the API with the operator key (or `key`), JSON in and out. */
  request(method: string, path: string, body?: unknown, key?: string | null, headers?: Record<string, string>): Promise<{ status: number; body: unknown; headers: Headers }>;
  stop(): Promise<void>;
}

/**
 * An API (in this process, on a free port) and optionally a worker, on a private database and Redis
 * prefix. `stop` closes every connection and removes the database and keys.
 */
/** `checkContract`: every answer to `request` is checked against the OpenAPI document (test/support/contract.ts). */
export async function startStack(opts: { worker?: boolean; env?: Record<string, string>; checkContract?: boolean } = {}): Promise<TestStack> {
  const database = await createTestDatabase();
  const prefix = testPrefix();
  const settings = loadSettings({
    DATABASE_URL: database.url,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    BOOTSTRAP_API_KEY: OPERATOR_KEY,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
    SHUTDOWN_GRACE_MS: '2000',
    DB_POOL_SIZE: '5',
    ...opts.env,
  });
  const api = createApiProcess(settings);
  const url = await api.listen(0, '127.0.0.1');
  let worker: WorkerProcess | undefined;
  if (opts.worker) {
    worker = createWorkerProcess(settings);
    await worker.start();
  }
  const request: TestStack['request'] = async (method, path, body, key = OPERATOR_KEY, headers = {}) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const answer = { status: res.status, body: parseBody(text), headers: res.headers };
    if (opts.checkContract) checkContract(method, path, answer);
    return answer;
  };
  return {
    url,
    settings,
    database,
    prefix,
    api,
    worker,
    request,
    async stop() {
      await worker?.stop();
      await api.stop();
      await deleteKeysWithPrefix(prefix);
      await database.drop();
    },
  };
}

function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
