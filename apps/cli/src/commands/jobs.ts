import { parseArgs } from 'node:util';
import type { ApiClient, Job } from '../client';
import { json, table } from '../format';
import { UsageError } from '../usage';
import { isTerminal, watchJob } from './watch';

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

const intArg = (name: string, text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, got ${text}`);
  return Number(text);
};

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

export async function createCommand(client: ApiClient, args: string[], io: Io): Promise<number> {
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
  };
  const job = await client.call<Job>('POST', '/api/jobs', Object.fromEntries(Object.entries(body).filter(([, x]) => x !== undefined)));
  if (!v.watch) {
    show(job, io, v.json);
    return 0;
  }
  if (!v.json) io.out.write(`${job.id} created\n`);
  return finish(await watchJob(client, job.id, io.out, io.tty), io, v.json);
}

export async function getCommand(client: ApiClient, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  show(await client.call<Job>('GET', `/api/jobs/${encodeURIComponent(one(positionals, 'job id'))}`), io, values.json);
  return 0;
}

export async function watchCommand(client: ApiClient, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  return finish(await watchJob(client, one(positionals, 'job id'), io.out, io.tty), io, values.json);
}

export async function listCommand(client: ApiClient, args: string[], io: Io): Promise<number> {
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
  const q = new URLSearchParams();
  for (const s of v.status ?? []) q.append('status', s);
  if (v.task) q.set('task', v.task);
  if (v.limit) q.set('limit', String(intArg('limit', v.limit)));
  if (v.organization) q.set('organization_id', v.organization);
  const jobs = await client.call<Job[]>('GET', `/api/jobs${v.active ? '/active' : ''}${q.size ? `?${q}` : ''}`);
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

export async function cancelCommand(client: ApiClient, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  show(await client.call<Job>('PATCH', `/api/jobs/${encodeURIComponent(one(positionals, 'job id'))}/cancel`), io, values.json);
  return 0;
}

export async function retryCommand(client: ApiClient, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { watch: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
  });
  const job = await client.call<Job>('POST', `/api/jobs/${encodeURIComponent(one(positionals, 'job id'))}/retry`);
  if (!values.watch || isTerminal(job.status)) {
    show(job, io, values.json);
    return 0;
  }
  return finish(await watchJob(client, job.id, io.out, io.tty), io, values.json);
}
