
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
