import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { unwrap, type JobsClient } from '@jobs/client';
import { json, table } from '../format';
import { UsageError } from '../usage';
import { watchJob } from './watch';
import type { Io } from './jobs';

/** `jobs sources create <name>` and `jobs sources list`. */
export async function sourcesCommand(client: JobsClient, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  const [action, ...rest] = positionals;
  if (action === 'create' && rest.length === 1) {
    const source = unwrap(await client.POST('/api/sources', { body: { name: rest[0]! } }));
    io.out.write(values.json ? json(source) : `${source.id}\n`);
    return 0;
  }
  if (action === 'list' && rest.length === 0) {
    const sources = unwrap(await client.GET('/api/sources'));
    io.out.write(values.json ? json(sources) : table([['ID', 'NAME', 'CREATED'], ...sources.map((s) => [s.id, s.name, s.created_at])]));
    return 0;
  }
  throw new UsageError('expected `sources create <name>` or `sources list`');
}

/**
 * `jobs upload <source-id> <path> [--watch]`: the multipart upload of API.md, then (with --watch) the processing
 * job's live progress bar and the File as it ended. Exit 0 only when the file is `completed`.
 */
export async function uploadCommand(client: JobsClient, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { watch: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
  if (positionals.length !== 2) throw new UsageError('expected a source id and a file path');
  const [sourceId, path] = positionals as [string, string];
  const form = new FormData();
  form.append('file', new Blob([await readFile(path)]), basename(path));
  // The form goes as it is: openapi-fetch sends FormData as multipart, with its boundary.
  const body = unwrap(await client.POST('/api/sources/{id}/upload', { params: { path: { id: sourceId } }, body: { file: '' }, bodySerializer: () => form }));
  if (!values.watch || !body.job_id) {
    io.out.write(values.json ? json(body) : `${body.id} ${body.status} job ${body.job_id ?? '-'}\n`);
    return 0;
  }
  await watchJob(client, body.job_id, io.out, io.tty);
  const file = unwrap(await client.GET('/api/files/{id}', { params: { path: { id: body.id } } }));
  if (values.json) io.out.write(json(file));
  else io.out.write(`${file.id} ${file.status} ${file.chunks_embedded}/${file.total_chunks ?? 0} chunks${file.error_message ? `: ${file.error_message}` : ''}\n`);
  return file.status === 'completed' ? 0 : 1;
}
