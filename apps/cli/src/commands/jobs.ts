import { parseArgs } from 'node:util';
import { isTerminal, unwrap, type Job, type JobsClient, type JsonBody, type Query } from '@jobs/client';
import { json, table } from '../format';
import { UsageError } from '../usage';
import { watchJob } from './watch';

export interface Io {
  out: NodeJS.WritableStream;
  tty: boolean;
}

const jsonArg = (name: string, text: string | undefined): unknown => {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`--${name} must be JSON, got ${text}`);
  }
};

export const intArg = (name: string, text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, got ${text}`);
  return Number(text);
};

/** The object without its undefined entries: options not given are not sent. */
export const definedOnly = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as Partial<T>;

const one = (positionals: string[], what: string): string => {
  if (positionals.length !== 1) throw new UsageError(`expected one ${what}`);
  return positionals[0]!;
};

/** Prints a finished job briefly (or as JSON) and gives the exit code: 0 only for `completed`. */
function finish(job: Job, io: Io, asJson: boolean): number {
  if (asJson) io.out.write(json(job));
  else {
    io.out.write(`${job.id} ${job.status}${job.stop_reason ? ` (${job.stop_reason})` : ''}\n`);
    if (job.status === 'completed') io.out.write(json(job.result));
    else if (job.error) io.out.write(`error: ${job.error.message}\n`);
  }
  return job.status === 'completed' ? 0 : 1;
}

function show(job: Job, io: Io, asJson: boolean): void {
  if (asJson) io.out.write(json(job));
  else {
    const progress = job.progress ? ` ${job.progress.percent.toFixed(0)}%${job.progress.message ? ` ${job.progress.message}` : ''}` : '';
    io.out.write(`${job.id} ${job.task} ${job.status}${progress} attempts ${job.attempts}/${job.max_attempts}\n`);
  }
}

export async function createCommand(client: JobsClient, args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      input: { type: 'string' },
      metadata: { type: 'string' },
      priority: { type: 'string' },
      'delay-ms': { type: 'string' },
      'timeout-ms': { type: 'string' },
      'max-attempts': { type: 'string' },
      'callback-url': { type: 'string' },
      'idempotency-key': { type: 'string' },
      'concurrency-key': { type: 'string' },
      'concurrency-limit': { type: 'string' },
      watch: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const body = {
    task: one(positionals, 'task name'),
    input: jsonArg('input', v.input),
    metadata: jsonArg('metadata', v.metadata),
    priority: intArg('priority', v.priority),
    delay_ms: intArg('delay-ms', v['delay-ms']),
    timeout_ms: intArg('timeout-ms', v['timeout-ms']),
    max_attempts: intArg('max-attempts', v['max-attempts']),
    callback_url: v['callback-url'],
    idempotency_key: v['idempotency-key'],
    concurrency_key: v['concurrency-key'],
    concurrency_limit: intArg('concurrency-limit', v['concurrency-limit']),
  };
  // Sent as typed: the API validates and names a wrong field in its 400.
  const job = unwrap(await client.POST('/api/jobs', { body: definedOnly(body) as JsonBody<'/api/jobs', 'post'> }));
  if (!v.watch) {
    show(job, io, v.json);
    return 0;
  }
  if (!v.json) io.out.write(`${job.id} created\n`);
  return finish(await watchJob(client, job.id, io.out, io.tty), io, v.json);
}

export async function getCommand(client: JobsClient, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  show(unwrap(await client.GET('/api/jobs/{id}', { params: { path: { id: one(positionals, 'job id') } } })), io, values.json);
  return 0;
}

export async function watchCommand(client: JobsClient, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  return finish(await watchJob(client, one(positionals, 'job id'), io.out, io.tty), io, values.json);
}

export async function listCommand(client: JobsClient, args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      status: { type: 'string', multiple: true },
      task: { type: 'string' },
      limit: { type: 'string' },
      active: { type: 'boolean', default: false },
      organization: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length) throw new UsageError(`unexpected ${positionals.join(' ')}`);
  // Statuses go as typed (`pending,running` too): the API names a wrong one in its 400.
  const query = definedOnly({ status: v.status as Query<'/api/jobs'>['status'], task: v.task || undefined, limit: intArg('limit', v.limit), organization_id: v.organization || undefined });
  const jobs = unwrap(await client.GET(v.active ? '/api/jobs/active' : '/api/jobs', { params: { query } }));
  if (v.json) io.out.write(json(jobs));
  else
    io.out.write(
      table([
        ['ID', 'TASK', 'STATUS', 'PROGRESS', 'ATTEMPTS', 'CREATED'],
        ...jobs.map((j) => [j.id, j.task, j.status, j.progress ? `${j.progress.percent.toFixed(0)}%` : '-', `${j.attempts}/${j.max_attempts}`, j.created_at]),
      ]),
    );
  return 0;
}

export async function cancelCommand(client: JobsClient, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  show(unwrap(await client.PATCH('/api/jobs/{id}/cancel', { params: { path: { id: one(positionals, 'job id') } } })), io, values.json);
  return 0;
}

export async function retryCommand(client: JobsClient, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { watch: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
  });
  const job = unwrap(await client.POST('/api/jobs/{id}/retry', { params: { path: { id: one(positionals, 'job id') } } }));
  if (!values.watch || isTerminal(job.status)) {
    show(job, io, values.json);
    return 0;
  }
  return finish(await watchJob(client, job.id, io.out, io.tty), io, values.json);
}
