/** One request of an LLM batch: the caller's id and the Messages create params. */
export interface BatchRequestInput {
  custom_id: string;
  params: Record<string, unknown>;
}

/** The slice of the batch tables the `llm.batch` task needs (implemented by BatchManager in @jobs/db). */
export interface LlmBatchStore {
  prepare(jobId: string, requests: readonly BatchRequestInput[]): Promise<void>;
  get(jobId: string): Promise<{ provider_batch_id: string | null; finalized_at: Date | null } | null>;
  markSubmitted(jobId: string, batch: { id: string; processing_status: string; request_counts: object }): Promise<void>;
}
