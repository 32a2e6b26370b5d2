#!/usr/bin/env node
import { ApiError, createJobsClient } from '@jobs/client';
import { adminCommand } from './commands/admin';
import { sourcesCommand, uploadCommand } from './commands/files';
import { cancelCommand, createCommand, getCommand, listCommand, retryCommand, watchCommand, type Io } from './commands/jobs';
import { messagesCommand, runCommand } from './commands/runs';
import { USAGE, UsageError } from './usage';

const JOB_COMMANDS = { create: createCommand, get: getCommand, watch: watchCommand, list: listCommand, cancel: cancelCommand, retry: retryCommand, run: runCommand, messages: messagesCommand };

/** Runs one command line; returns the exit code (0 ok, 1 job did not complete, 2 usage, 3 API or network error). */
export async function run(argv: string[], env: NodeJS.ProcessEnv, io: Io, err: NodeJS.WritableStream): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    (command ? io.out : err).write(USAGE);
    return command ? 0 : 2;
  }
  try {
    const key = env['JOBS_API_KEY'];
    if (!key) throw new UsageError('set JOBS_API_KEY to your API key');
    const client = createJobsClient({ baseUrl: env['JOBS_API_URL'] ?? 'http://127.0.0.1:8283', apiKey: key });
    if (command in JOB_COMMANDS) return await JOB_COMMANDS[command as keyof typeof JOB_COMMANDS](client, args, io);
    if (command === 'sources') return await sourcesCommand(client, args, io);
    if (command === 'upload') return await uploadCommand(client, args, io);
    if (command === 'orgs' || command === 'users' || command === 'keys') return await adminCommand(client, command, args, io);
    throw new UsageError(`unknown command: ${command}`);
  } catch (e) {
    if (e instanceof UsageError || (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      err.write(`jobs: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof ApiError) {
      err.write(`jobs: ${e.message}\n`);
      return 3;
    }
    err.write(`jobs: ${e instanceof Error ? `${e.message}${e.cause instanceof Error ? ` (${e.cause.message})` : ''}` : String(e)}\n`);
    return 3;
  }
}

if (require.main === module) {
  run(process.argv.slice(2), process.env, { out: process.stdout, tty: process.stdout.isTTY === true }, process.stderr).then((code) => {
    process.exitCode = code;
  });
}
