import { parseArgs } from 'node:util';
import { unwrap, type JobsClient, type JsonBody, type ListItem } from '@jobs/client';
import { json, table } from '../format';
import { UsageError } from '../usage';
import { definedOnly, type Io } from './jobs';
import { watchJob } from './watch';

const intArg = (name: string, text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, got ${text}`);
  return Number(text);
};

/** A message's content as one line of text: text blocks as they are, other blocks named in brackets. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return JSON.stringify(content);
  return content
    .map((b: { type?: string; text?: string; name?: string }) => (b.type === 'text' ? (b.text ?? '') : b.type === 'tool_use' ? `[tool_use ${b.name ?? ''}]` : `[${b.type ?? 'block'}]`))
    .join(' ');
}

/** `jobs run --model M --message TEXT [--max-tokens N] [--system S] [--watch]`: one anthropic.message run. */
export async function runCommand(client: JobsClient, args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      message: { type: 'string' },
      'max-tokens': { type: 'string' },
      system: { type: 'string' },
      'max-attempts': { type: 'string' },
      'timeout-ms': { type: 'string' },
      'callback-url': { type: 'string' },
      watch: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length) throw new UsageError(`unexpected ${positionals.join(' ')}`);
  if (!v.model) throw new UsageError('--model is required');
  if (!v.message) throw new UsageError('--message is required');
  const input = {
    model: v.model,
    max_tokens: intArg('max-tokens', v['max-tokens']) ?? 1024,
    messages: [{ role: 'user', content: v.message }],
    ...(v.system ? { system: v.system } : {}),
  };
  const body = {
    task: 'anthropic.message',
    input,
    max_attempts: intArg('max-attempts', v['max-attempts']),
    timeout_ms: intArg('timeout-ms', v['timeout-ms']),
    callback_url: v['callback-url'],
  };
  const job = unwrap(await client.POST('/api/jobs', { body: definedOnly(body) as JsonBody<'/api/jobs', 'post'> }));
  if (!v.watch) {
    io.out.write(v.json ? json(job) : `${job.id} ${job.status}\n`);
    return 0;
  }
  if (!v.json) io.out.write(`${job.id} created\n`);
  const done = await watchJob(client, job.id, io.out, io.tty);
  if (v.json) io.out.write(json(done));
  else {
    io.out.write(`${done.id} ${done.status}${done.stop_reason ? ` (${done.stop_reason})` : ''}\n`);
    const reply = done.result as { content?: unknown } | null;
    if (done.status === 'completed' && reply) io.out.write(`${contentText(reply.content)}\n`);
    else if (done.error) io.out.write(`error: ${done.error.message}\n`);
  }
  return done.status === 'completed' ? 0 : 1;
}

/** `jobs messages RUN_ID [--order asc|desc] [--limit N]`: a run's messages, every page followed. */
export async function messagesCommand(client: JobsClient, args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { order: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) throw new UsageError('expected one run id');
  if (v.order !== undefined && v.order !== 'asc' && v.order !== 'desc') throw new UsageError(`--order must be asc or desc, got ${v.order}`);
  const total = intArg('limit', v.limit);
  const all: ListItem<'/api/runs/{id}/messages'>[] = [];
  const query = { limit: Math.min(1000, total ?? 1000), ...(v.order ? { order: v.order as 'asc' | 'desc' } : {}) };
  for await (const page of client.pages('/api/runs/{id}/messages', query, { path: { id: positionals[0]! } })) {
    all.push(...page);
    if (total !== undefined && all.length >= total) break;
  }
  const shown = total === undefined ? all : all.slice(0, total);
  if (v.json) io.out.write(json(shown));
  else io.out.write(table([['ROLE', 'CONTENT', 'ID'], ...shown.map((m) => [m.role, contentText(m.content), m.id])]));
  return 0;
}
