import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { Logger } from '@jobs/observability';
import type Anthropic from '@anthropic-ai/sdk';
import type { JobType, RunRecord } from '@jobs/core';
import type { z } from 'zod';
import type { LlmBatchStore } from './llm-batch-store';

/** What a handler may return: its result, and a stop reason when `end_turn` does not fit. */
export interface TaskOutput {
  result: unknown;
  stopReason?: string;
  /**
   * The task has done its part but the job is not finished: `owner` (e.g. the LLM batch poller) will write
   * its terminal status later. The runner then leaves the row `running` and marks it as handed off.
   */
  handOff?: { owner: string };
  /** A run's step and messages, written by the runner with the `completed` transition (never without it). */
  run?: RunRecord;
}

/** Services a task may use; the worker provides them, tests can substitute their own. */
export interface TaskClients {
  /** Checks an outbound URL against the SSRF host guard (scheme, literal IP hosts); throws a permanent error. */
  checkOutboundUrl?: (url: string) => Promise<void>;
  /** Agents whose DNS lookup applies the same guard at connect time (no DNS-rebinding window). */
  outboundAgents?: { httpAgent: HttpAgent; httpsAgent: HttpsAgent };
  /** The Anthropic SDK client (absent when neither ANTHROPIC_API_KEY nor ANTHROPIC_BASE_URL is set). */
  anthropic?: Anthropic;
  /** Storage of LLM batches and their items, for `llm.batch`. */
  llmBatches?: LlmBatchStore;
  /** Extra clients registered by later tasks (file store, ...). */
  [name: string]: unknown;
}

export interface TaskContext<I> {
  jobId: string;
  /** The job's organization: a task touching stored rows scopes them to it (a job names ids its client chose). */
  organizationId: string;
  attempt: number;
  input: I;
  /** Fires on cancel, on the attempt's timeout and on worker shutdown. */
  signal: AbortSignal;
  reportProgress(percent: number, message?: string | null): Promise<void>;
  /** The seeds' record_ttft / record_response_duration for this attempt (runs), through the JobStore. */
  recordTtft(ns: bigint): Promise<void>;
  recordResponseDuration(ns: bigint): Promise<void>;
  logger: Logger;
  clients: TaskClients;
}

export interface Task<S extends z.ZodType = z.ZodType> {
  name: string;
  /** The kind of record its jobs are (`run` for LLM calls with steps and messages); `job` when unset. */
  jobType?: JobType;
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
