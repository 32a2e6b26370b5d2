import type { Logger } from '@jobs/observability';
import type { z } from 'zod';

/** What a handler may return: its result, and a stop reason when `end_turn` does not fit. */
export interface TaskOutput {
  result: unknown;
  stopReason?: string;
}

/** Services a task may use; the worker provides them, tests can substitute their own. */
export interface TaskClients {
  /** Checks an outbound URL against the SSRF host guard and returns the address to connect to. */
  checkOutboundUrl?: (url: string) => Promise<void>;
  /** Extra clients registered by later tasks (Anthropic, batch store, file store). */
  [name: string]: unknown;
}

export interface TaskContext<I> {
  jobId: string;
  attempt: number;
  input: I;
  /** Fires on cancel, on the attempt's timeout and on worker shutdown. */
  signal: AbortSignal;
  reportProgress(percent: number, message?: string | null): Promise<void>;
  logger: Logger;
  clients: TaskClients;
}

export interface Task<S extends z.ZodType = z.ZodType> {
  name: string;
  /** Strict schema of the input; its defaults are applied before the job is stored. */
  input: S;
  run(ctx: TaskContext<z.output<S>>): Promise<TaskOutput>;
}

export function defineTask<S extends z.ZodType>(task: Task<S>): Task<S> {
  return task;
}

/** Resolves after `ms`, or rejects with the signal's reason when it fires first. */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
