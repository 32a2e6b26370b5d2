import { iso, type MessageRow, type StepRow } from '@jobs/db';

/** A step of the REST contract (API.md "Runs"). */
export interface ApiStep {
  id: string;
  run_id: string;
  provider: string;
  model: string;
  stop_reason: string | null;
  usage: Record<string, unknown> & { input_tokens: number; output_tokens: number };
  ttft_ns: number | null;
  duration_ns: number | null;
  created_at: string;
}

/** A message of the REST contract (API.md "Runs"). */
export interface ApiMessage {
  id: string;
  run_id: string;
  step_id: string | null;
  role: string;
  content: unknown;
  created_at: string;
}

const num = (v: bigint | string | number | null): number | null => (v === null ? null : Number(v));

export function toApiStep(r: StepRow): ApiStep {
  return {
    id: r.id,
    run_id: r.job_id,
    provider: r.provider,
    model: r.model,
    stop_reason: r.stop_reason,
    usage: { ...r.usage, input_tokens: r.input_tokens, output_tokens: r.output_tokens },
    ttft_ns: num(r.ttft_ns),
    duration_ns: num(r.duration_ns),
    created_at: iso(r.created_at)!,
  };
}

export function toApiMessage(r: MessageRow): ApiMessage {
  return {
    id: r.id,
    run_id: r.job_id,
    step_id: r.step_id,
    role: r.role,
    content: r.content,
    created_at: iso(r.created_at)!,
  };
}
