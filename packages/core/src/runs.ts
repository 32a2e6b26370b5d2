import { z } from 'zod';
import { idSchema, pageLimitSchema } from './schemas';

/** What a completed run writes beside its terminal transition (SPEC F9): its step and its messages. */
export interface RunRecord {
  step: {
    provider: string;
    model: string;
    stop_reason: string | null;
    /** The provider's usage object; input_tokens and output_tokens are also kept as columns. */
    usage: { input_tokens: number; output_tokens: number } & Record<string, unknown>;
    ttft_ns: bigint | null;
    duration_ns: bigint | null;
  };
  /** The input messages and the assistant reply, in conversation order, content blocks as given. */
  messages: { role: string; content: unknown }[];
}

/**
 * A failure a task describes beyond its message: the job's `stop_reason` when it ends `failed`, whether retrying
 * can help, and the least delay before the next attempt (a provider's `retry-after`).
 */
export class TaskError extends Error {
  readonly code: string;
  readonly stopReason: string;
  readonly permanent: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, opts: { code: string; stopReason?: string; permanent: boolean; retryAfterMs?: number }) {
    super(message);
    this.name = 'TaskError';
    this.code = opts.code;
    this.stopReason = opts.stopReason ?? 'error';
    this.permanent = opts.permanent;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** Keyset page of a run's steps or messages: conversation order by default (`asc`), cursors are their ids. */
const runPageQuery = (prefix: 'step' | 'message') =>
  z.object({
    order: z.enum(['asc', 'desc']).default('asc'),
    limit: pageLimitSchema,
    after: idSchema(prefix).optional(),
    before: idSchema(prefix).optional(),
  });
export const listRunMessagesQuerySchema = runPageQuery('message');
export const listRunStepsQuerySchema = runPageQuery('step');
export type RunPageQuery = z.output<typeof listRunMessagesQuerySchema>;
