/** One request of an LLM batch: the caller's id and the Messages create params. */
export interface BatchRequestInput {
  custom_id: string;
  params: Record<string, unknown>;
}

/** What the `llm.batch` task reads of its batch row. */
export interface LlmBatchState {
  provider_batch_id: string | null;
  finalized_at: Date | null;
  /** An attempt's intent to create the provider batch, recorded before the call and cleared with its outcome. */
  submit_token: string | null;
  submit_started_at: Date | null;
}

/** The slice of the batch tables the `llm.batch` task needs (implemented by BatchStore in @jobs/db). */
export interface LlmBatchStore {
  prepare(jobId: string, requests: readonly BatchRequestInput[]): Promise<void>;
  get(jobId: string): Promise<LlmBatchState | null>;
  /** Records a new intent (replacing an earlier one) unless a provider batch is recorded; returns it, or null. */
  recordIntent(jobId: string, token: string): Promise<{ submit_started_at: Date } | null>;
  /** Records the provider's batch if `token` is still the row's intent; false when another attempt took over. */
  markSubmitted(jobId: string, batch: { id: string; processing_status: string; request_counts: object }, token: string): Promise<boolean>;
  /** Which of these provider batch ids some batch row already owns. */
  owned(providerBatchIds: readonly string[]): Promise<Set<string>>;
}
