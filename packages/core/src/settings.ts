import { isIP } from 'node:net';
import os from 'node:os';
import { z } from 'zod';

const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const intValue = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const int = (def: number, min: number, max = Number.MAX_SAFE_INTEGER) => intValue(min, max).default(def);
const optionalInt = (min: number, max = Number.MAX_SAFE_INTEGER) => intValue(min, max).optional();
// WHATWG parsing takes "localhost:6379" as a URL of scheme "localhost:", so the scheme is checked too.
const urlOf = (...schemes: string[]) =>
  z.url({ protocol: new RegExp(`^(${schemes.join('|')})$`), message: `must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}` });

/** proxy-addr's names for whole ranges, accepted beside addresses and CIDRs. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, `address/prefix` or a proxy-addr range name: what Express's `trust proxy` list takes. */
function isProxyEntry(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const [addr, bits, extra] = entry.split('/');
  const family = isIP(addr ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * `TRUST_PROXY` as Express's `trust proxy` takes it: false (the default; X-Forwarded-For is ignored), a hop
 * count, or the proxies' addresses/CIDRs. `true` (believe any chain) is accepted for completeness only.
 */
const trustProxy = z
  .string()
  .default('false')
  .transform((v, ctx): boolean | number | string[] => {
    const t = v.trim();
    if (t === 'false') return false;
    if (t === 'true') return true;
    if (/^\d{1,3}$/.test(t)) return Number(t) === 0 ? false : Number(t);
    const list = t.split(',').map((e) => e.trim());
    const bad = list.filter((e) => !isProxyEntry(e));
    if (list.length === 0 || bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `must be false, a hop count, or a comma-separated list of IP addresses/CIDRs (bad: ${bad.map((b) => JSON.stringify(b)).join(', ')})` });
      return z.NEVER;
    }
    return list;
  });

/** `host:port` seeds of a Redis Cluster, comma-separated; ioredis discovers the other nodes from them. */
const clusterNodes = z.string().transform((v, ctx): { host: string; port: number }[] => {
  const nodes: { host: string; port: number }[] = [];
  for (const entry of v.split(',').map((e) => e.trim()).filter(Boolean)) {
    const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) {
      ctx.addIssue({ code: 'custom', message: `must be comma-separated host:port pairs (bad: ${JSON.stringify(entry)})` });
      return z.NEVER;
    }
    nodes.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port });
  }
  if (nodes.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'must name at least one host:port' });
    return z.NEVER;
  }
  return nodes;
});

/** Every setting of SPEC F11, with its default. Environment values are strings; this parses them once. */
export const settingsSchema = z.object({
  NODE_ENV: z.string().default('development'),
  DATABASE_URL: urlOf('postgres', 'postgresql').default('postgresql://postgres@127.0.0.1:5432/jobs'),
  REDIS_URL: urlOf('redis', 'rediss').default('redis://127.0.0.1:6379'),
  /** Set: every Redis client is a cluster client (REDIS_URL gives only its user, password and TLS) and QUEUE_PREFIX is hash-tagged. */
  REDIS_CLUSTER_NODES: clusterNodes.optional(),
  QUEUE_PREFIX: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9_{}:.-]+$/, 'may hold letters, digits and _{}:.- only')
    .default('jobsvc'),
  PORT: int(8283, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  TRUST_PROXY: trustProxy,
  PUBLIC_URL: urlOf('http', 'https').optional(),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
  WORKER_CONCURRENCY: int(50, 1, 10000),
  WORKER_ID: z.string().min(1).optional(),
  // A delivery mostly waits on its receiver (and on batched statements shared with its neighbours), so the
  // slots bound the callback rate at slots ÷ attempt time: too few and callbacks queue behind each other.
  CALLBACK_CONCURRENCY: int(100, 1, 10000),
  CALLBACK_TIMEOUT_MS: int(10000, 1),
  CALLBACK_MAX_ATTEMPTS: int(10, 1, 100),
  CALLBACK_BACKOFF_MS: int(30000, 1),
  CALLBACK_ALLOW_PRIVATE_NETWORKS: bool(false),
  CALLBACK_MAX_RESPONSE_BYTES: int(65536, 0),
  LOCK_DURATION_MS: int(30000, 1000),
  STALLED_INTERVAL_MS: int(30000, 1000),
  /** Lost attempts (worker died) re-run beyond max_attempts before the job fails `worker_lost` (SPEC F4). */
  MAX_STALLED_COUNT: int(1, 0, 100),
  SWEEP_INTERVAL_MS: int(30000, 100),
  /** Fair share across organizations (SPEC F16): jobs are staged per organization and dispatched in weighted turns. */
  FAIR_SCHEDULING: bool(true),
  /** Under fair scheduling: dispatched jobs kept waiting in BullMQ while every worker slot is busy; unset = as many as the live slots. */
  FAIR_BACKLOG: optionalInt(0),
  /** How often each worker runs the fair dispatcher's safety pass (expired slot leases, due jobs) and refreshes organization settings. */
  FAIR_TICK_MS: int(1000, 50),
  /** Terminal jobs older than this many days (by completed_at) are deleted by the sweep (SPEC F13); 0 keeps everything. */
  JOB_RETENTION_DAYS: int(30, 0, 36500),
  /** Jobs deleted per retention statement (with everything that hangs off them). */
  JOB_RETENTION_BATCH_SIZE: int(1000, 1, 100000),
  SHUTDOWN_GRACE_MS: int(30000, 0),
  RATE_LIMIT_PER_SECOND: int(1000, 0),
  METRICS_PUBLIC: bool(false),
  MAX_BODY_BYTES: int(1024 * 1024, 1024),
  /** `POST /api/batches` only: up to 10,000 Messages requests do not fit in MAX_BODY_BYTES. */
  MAX_BATCH_BODY_BYTES: int(32 * 1024 * 1024, 1024),
  /** `POST /api/jobs/bulk` only: up to 1,000 job bodies do not fit in MAX_BODY_BYTES. */
  MAX_BULK_BODY_BYTES: int(16 * 1024 * 1024, 1024),
  /** Deeper JSON bodies are a 400. At most 1000: zod, JSON.stringify and Postgres' jsonb parser recurse per level. */
  MAX_JSON_DEPTH: int(64, 2, 1000),
  MAX_UPLOAD_BYTES: int(25 * 1024 * 1024, 1),
  BOOTSTRAP_API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  ANTHROPIC_API_KEY: z.string().optional(),
  ANTHROPIC_BASE_URL: urlOf('http', 'https').optional(),
  ENABLE_BATCH_JOB_POLLING: bool(false),
  POLL_RUNNING_LLM_BATCHES_INTERVAL_SECONDS: int(300, 1),
  POLL_LOCK_RETRY_INTERVAL_SECONDS: int(480, 1),
  POLL_LOCK_TTL_MS: int(30000, 100),
  BATCH_JOB_POLLING_LOOKBACK_WEEKS: int(2, 0),
  BATCH_JOB_POLLING_BATCH_SIZE: optionalInt(1),
  BATCH_JOB_POLLING_CONCURRENCY: int(10, 1, 1000),
  EVENT_LOOP_THREADPOOL_MAX_WORKERS: int(43, 1),
  WATCHDOG_CHECK_INTERVAL_MS: int(5000, 10),
  WATCHDOG_TIMEOUT_MS: int(15000, 100),
  /** Workers rewrite this file every 5 s while their event loop runs (container HEALTHCHECK); unset = off. */
  HEALTH_FILE: z.string().min(1).optional(),
  FILE_PROCESSING_TIMEOUT_MINUTES: int(30, 1),
  FILE_PROCESSING_TIMEOUT_ERROR_MESSAGE: z.string().default('File processing timed out after {} minutes. Please try again.'),
  DB_POOL_SIZE: int(20, 1, 1000),
  /** API + worker processes sharing the database; a process refuses to start when their pools exceed max_connections. */
  EXPECTED_PROCESSES: int(1, 1, 10000),
  /** Uploads are kept here (one file per upload) when set; otherwise in PostgreSQL (`files.content`, bytea). */
  FILE_STORAGE_DIR: z.string().min(1).optional(),
  /** Chunk length in tokens (o200k BPE, as gpt-tokenizer counts them) and the tokens two neighbours share. */
  CHUNK_SIZE: int(512, 16, 8192),
  CHUNK_OVERLAP: int(64, 0, 4096),
  /** An OpenAI-compatible embeddings endpoint (base URL, or the full `.../v1/embeddings`); unset = local hashing embedder. */
  EMBEDDINGS_URL: urlOf('http', 'https').optional(),
  EMBEDDINGS_MODEL: z.string().min(1).default('text-embedding-3-small'),
  EMBEDDINGS_API_KEY: z.string().min(1).optional(),
  /** Inputs per embeddings request, and attempts per request (429, 5xx and network errors are retried with backoff). */
  EMBEDDINGS_BATCH_SIZE: int(64, 1, 2048),
  EMBEDDINGS_MAX_ATTEMPTS: int(4, 1, 20),
  EMBEDDINGS_BACKOFF_MS: int(500, 1),
  /** Dimensions of the local feature-hashing embedder's vectors. */
  EMBEDDING_DIMS: int(256, 8, 65536),
});

export type Settings = z.infer<typeof settingsSchema> & { effectiveThreadpoolWorkers: number };

export class SettingsError extends Error {
  constructor(readonly variable: string, reason: string) {
    super(`Invalid setting ${variable}: ${reason}`);
    this.name = 'SettingsError';
  }
}

/** Parses the environment; empty strings count as unset. Throws a SettingsError naming the first bad variable. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(settingsSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') cleaned[key] = v;
  }
  const parsed = settingsSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SettingsError(String(issue.path[0] ?? '(environment)'), `${issue.message} (got ${JSON.stringify(cleaned[String(issue.path[0])] ?? null)})`);
  }
  const s = parsed.data;
  if (s.CHUNK_OVERLAP >= s.CHUNK_SIZE) throw new SettingsError('CHUNK_OVERLAP', `must be smaller than CHUNK_SIZE (${s.CHUNK_SIZE}) (got ${s.CHUNK_OVERLAP})`);
  return {
    ...s,
    QUEUE_PREFIX: s.REDIS_CLUSTER_NODES ? hashTagged(s.QUEUE_PREFIX) : s.QUEUE_PREFIX,
    effectiveThreadpoolWorkers: Math.max(1, Math.min(s.EVENT_LOOP_THREADPOOL_MAX_WORKERS, os.availableParallelism())),
  };
}

/**
 * A prefix whose keys all hash to one cluster slot: BullMQ's Lua scripts and our MULTIs touch several keys of a
 * queue at once, which a cluster allows only within one slot. A prefix that already has a `{tag}` is kept.
 */
export function hashTagged(prefix: string): string {
  return /\{[^{}]+\}/.test(prefix) ? prefix : `{${prefix}}`;
}

/** The public base URL of the API, used in callback bodies and Link headers. */
export function publicUrl(s: Settings): string {
  return (s.PUBLIC_URL ?? `http://127.0.0.1:${s.PORT}`).replace(/\/+$/, '');
}
