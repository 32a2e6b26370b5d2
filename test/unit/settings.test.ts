import os from 'node:os';
import { SettingsError, loadSettings, publicUrl, settingsSchema } from '../../packages/core/src/settings';

/** Runs loadSettings and returns the SettingsError it throws (fails the test if it does not throw one). */
function settingsError(env: Record<string, string>): SettingsError {
  try {
    loadSettings(env);
  } catch (err) {
    if (err instanceof SettingsError) return err;
    throw err;
  }
  throw new Error(`loadSettings accepted ${JSON.stringify(env)}`);
}

describe('settings (SPEC F11)', () => {
  it('has the documented defaults when the environment is empty', () => {
    const s = loadSettings({});
    expect(s).toMatchObject({
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/jobs',
      REDIS_URL: 'redis://127.0.0.1:6379',
      PORT: 8283,
      WORKER_CONCURRENCY: 50,
      CALLBACK_TIMEOUT_MS: 10000,
      CALLBACK_MAX_ATTEMPTS: 10,
      CALLBACK_BACKOFF_MS: 30000,
      CALLBACK_ALLOW_PRIVATE_NETWORKS: false,
      LOCK_DURATION_MS: 30000,
      STALLED_INTERVAL_MS: 30000,
      MAX_STALLED_COUNT: 1,
      SWEEP_INTERVAL_MS: 30000,
      SHUTDOWN_GRACE_MS: 30000,
      RATE_LIMIT_PER_SECOND: 1000,
      METRICS_PUBLIC: false,
      MAX_BODY_BYTES: 1024 * 1024,
      MAX_JSON_DEPTH: 64,
      MAX_UPLOAD_BYTES: 25 * 1024 * 1024,
      ENABLE_BATCH_JOB_POLLING: false,
      POLL_RUNNING_LLM_BATCHES_INTERVAL_SECONDS: 300,
      POLL_LOCK_RETRY_INTERVAL_SECONDS: 480,
      BATCH_JOB_POLLING_LOOKBACK_WEEKS: 2,
      EVENT_LOOP_THREADPOOL_MAX_WORKERS: 43,
      FILE_PROCESSING_TIMEOUT_MINUTES: 30,
      FILE_PROCESSING_TIMEOUT_ERROR_MESSAGE: 'File processing timed out after {} minutes. Please try again.',
      LOG_LEVEL: 'info',
    });
    expect(s.BATCH_JOB_POLLING_BATCH_SIZE).toBeUndefined();
    expect(s.BOOTSTRAP_API_KEY).toBeUndefined();
    expect(s.PUBLIC_URL).toBeUndefined();
  });

  it('caps the thread pool at what the machine can use', () => {
    const s = loadSettings({ EVENT_LOOP_THREADPOOL_MAX_WORKERS: '43' });
    expect(s.effectiveThreadpoolWorkers).toBe(Math.min(43, os.availableParallelism()));
    expect(loadSettings({ EVENT_LOOP_THREADPOOL_MAX_WORKERS: '1' }).effectiveThreadpoolWorkers).toBe(1);
  });

  it('parses numbers and booleans from strings', () => {
    const s = loadSettings({ PORT: '9000', WORKER_CONCURRENCY: '3', METRICS_PUBLIC: 'true', CALLBACK_ALLOW_PRIVATE_NETWORKS: '1', RATE_LIMIT_PER_SECOND: '0', BATCH_JOB_POLLING_BATCH_SIZE: '25' });
    expect(s).toMatchObject({ PORT: 9000, WORKER_CONCURRENCY: 3, METRICS_PUBLIC: true, CALLBACK_ALLOW_PRIVATE_NETWORKS: true, RATE_LIMIT_PER_SECOND: 0, BATCH_JOB_POLLING_BATCH_SIZE: 25 });
    expect(loadSettings({ METRICS_PUBLIC: 'no' }).METRICS_PUBLIC).toBe(false);
    // 0 is allowed: a lost attempt past max_attempts then fails the job at once.
    expect(loadSettings({ MAX_STALLED_COUNT: '0' }).MAX_STALLED_COUNT).toBe(0);
  });

  it('treats an empty value as unset', () => {
    const s = loadSettings({ PORT: '', REDIS_URL: '', BATCH_JOB_POLLING_BATCH_SIZE: '', BOOTSTRAP_API_KEY: '', METRICS_PUBLIC: '' });
    expect(s.PORT).toBe(8283);
    expect(s.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(s.BATCH_JOB_POLLING_BATCH_SIZE).toBeUndefined();
    expect(s.BOOTSTRAP_API_KEY).toBeUndefined();
    expect(s.METRICS_PUBLIC).toBe(false);
  });

  it('accepts the URL schemes each service speaks', () => {
    expect(loadSettings({ REDIS_URL: 'rediss://cache.example:6380/2', DATABASE_URL: 'postgres://u@db/jobs' })).toMatchObject({ REDIS_URL: 'rediss://cache.example:6380/2', DATABASE_URL: 'postgres://u@db/jobs' });
  });

  it('ignores variables it does not know', () => {
    expect(() => loadSettings({ SOMETHING_ELSE: 'x', PATH: '/bin' })).not.toThrow();
  });

  const bad: [string, string][] = [
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['WORKER_CONCURRENCY', '0'],
    ['WORKER_CONCURRENCY', 'many'],
    ['DATABASE_URL', 'not a url'],
    ['REDIS_URL', 'localhost:6379'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['DATABASE_URL', 'mysql://root@127.0.0.1/jobs'],
    ['PUBLIC_URL', 'example'],
    ['METRICS_PUBLIC', 'maybe'],
    ['CALLBACK_ALLOW_PRIVATE_NETWORKS', 'TRUEISH'],
    ['ENABLE_BATCH_JOB_POLLING', '2'],
    ['RATE_LIMIT_PER_SECOND', '-5'],
    ['MAX_BODY_BYTES', '10'],
    ['MAX_JSON_DEPTH', '1'],
    ['MAX_JSON_DEPTH', '1001'],
    ['LOG_LEVEL', 'loud'],
    ['QUEUE_PREFIX', 'has space'],
    ['BOOTSTRAP_API_KEY', 'short'],
    ['BATCH_JOB_POLLING_BATCH_SIZE', '0'],
    ['CALLBACK_TIMEOUT_MS', '1e4'],
    ['SHUTDOWN_GRACE_MS', ' 100'],
    ['ANTHROPIC_BASE_URL', 'nope'],
    ['MAX_STALLED_COUNT', '-1'],
    ['MAX_STALLED_COUNT', '101'],
  ];
  it.each(bad)('rejects %s=%j with a message naming the variable', (name, value) => {
    const err = settingsError({ [name]: value });
    expect(err.variable).toBe(name);
    expect(err.message).toContain(name);
    expect(err.message).toContain(JSON.stringify(value));
  });

  it('names the first bad variable when several are bad', () => {
    const err = settingsError({ WORKER_CONCURRENCY: '0', PORT: 'x' });
    expect(['WORKER_CONCURRENCY', 'PORT']).toContain(err.variable);
  });

  it('defines every variable SPEC F11 names', () => {
    const names = [
      'ENABLE_BATCH_JOB_POLLING', 'POLL_RUNNING_LLM_BATCHES_INTERVAL_SECONDS', 'POLL_LOCK_RETRY_INTERVAL_SECONDS',
      'BATCH_JOB_POLLING_LOOKBACK_WEEKS', 'BATCH_JOB_POLLING_BATCH_SIZE', 'EVENT_LOOP_THREADPOOL_MAX_WORKERS',
      'FILE_PROCESSING_TIMEOUT_MINUTES', 'FILE_PROCESSING_TIMEOUT_ERROR_MESSAGE', 'DATABASE_URL', 'REDIS_URL',
      'QUEUE_PREFIX', 'PORT', 'PUBLIC_URL', 'WORKER_CONCURRENCY', 'CALLBACK_TIMEOUT_MS', 'CALLBACK_MAX_ATTEMPTS',
      'CALLBACK_BACKOFF_MS', 'CALLBACK_ALLOW_PRIVATE_NETWORKS', 'LOCK_DURATION_MS', 'STALLED_INTERVAL_MS',
      'SWEEP_INTERVAL_MS', 'SHUTDOWN_GRACE_MS', 'RATE_LIMIT_PER_SECOND', 'METRICS_PUBLIC', 'MAX_BODY_BYTES',
      'MAX_UPLOAD_BYTES', 'ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'LOG_LEVEL', 'BOOTSTRAP_API_KEY',
    ];
    const defined = Object.keys(settingsSchema.shape);
    expect(names.filter((n) => !defined.includes(n))).toEqual([]);
  });

  it('parses TRUST_PROXY: off by default, a hop count, or a list of addresses/CIDRs', () => {
    expect(loadSettings({}).TRUST_PROXY).toBe(false);
    expect(loadSettings({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
    expect(loadSettings({ TRUST_PROXY: '0' }).TRUST_PROXY).toBe(false);
    expect(loadSettings({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadSettings({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadSettings({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,fd00::/8, loopback' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', 'loopback']);
    for (const bad of ['yes', '10.0.0.0/33', '10.0.0/8', '1.2.3.4,', 'proxy.example.com', '::1/129', '10.0.0.0/8/1', '-1', '1e3', '12345']) {
      const err = settingsError({ TRUST_PROXY: bad });
      expect(err.variable).toBe('TRUST_PROXY');
      expect(err.message).toContain(JSON.stringify(bad));
    }
  });

  it('derives the public URL from PUBLIC_URL without a trailing slash, else from PORT', () => {
    expect(publicUrl(loadSettings({ PUBLIC_URL: 'https://jobs.example.com/' }))).toBe('https://jobs.example.com');
    expect(publicUrl(loadSettings({ PORT: '9001' }))).toBe('http://127.0.0.1:9001');
  });
  it('reads the file processing settings with their defaults, and refuses an overlap as large as the chunk', () => {
    const d = loadSettings({});
    expect(d).toMatchObject({ CHUNK_SIZE: 512, CHUNK_OVERLAP: 64, EMBEDDING_DIMS: 256, EMBEDDINGS_MODEL: 'text-embedding-3-small', EMBEDDINGS_BATCH_SIZE: 64, MAX_UPLOAD_BYTES: 25 * 1024 * 1024 });
    expect(d.EMBEDDINGS_URL).toBeUndefined();
    expect(d.FILE_STORAGE_DIR).toBeUndefined();
    expect(loadSettings({ EMBEDDINGS_URL: 'http://127.0.0.1:9000', EMBEDDING_DIMS: '64' })).toMatchObject({ EMBEDDINGS_URL: 'http://127.0.0.1:9000', EMBEDDING_DIMS: 64 });
    expect(settingsError({ CHUNK_OVERLAP: '512' }).variable).toBe('CHUNK_OVERLAP');
    expect(settingsError({ CHUNK_SIZE: '100', CHUNK_OVERLAP: '100' }).variable).toBe('CHUNK_OVERLAP');
    expect(settingsError({ EMBEDDINGS_URL: 'localhost:9000' }).variable).toBe('EMBEDDINGS_URL');
    expect(settingsError({ EMBEDDING_DIMS: '0' }).variable).toBe('EMBEDDING_DIMS');
  });
});
