-- LLM batches (SPEC F8): one provider batch per batch Job, its items, and the hand-off marker on jobs.

-- Set while a running job's completion belongs to someone other than its worker (the LLM batch poller):
-- the reconciler leaves such rows alone instead of treating their finished BullMQ job as lost.
ALTER TABLE "jobs" ADD COLUMN "completion_owner" TEXT;

CREATE TABLE "llm_batch_jobs" (
    "job_id" TEXT NOT NULL,
    "provider" TEXT NOT NULL DEFAULT 'anthropic',
    "provider_batch_id" TEXT,
    "processing_status" TEXT NOT NULL DEFAULT 'created',
    "request_counts" JSONB,
    "latest_polling_response" JSONB,
    "last_poll_error" TEXT,
    "last_polled_at" TIMESTAMPTZ(3),
    "submitted_at" TIMESTAMPTZ(3),
    "cancel_requested_at" TIMESTAMPTZ(3),
    "finalized_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "llm_batch_jobs_pkey" PRIMARY KEY ("job_id")
);

CREATE TABLE "llm_batch_items" (
    "id" TEXT NOT NULL,
    "batch_job_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "custom_id" TEXT NOT NULL,
    "request" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'created',
    "result" JSONB,
    "error" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "llm_batch_items_pkey" PRIMARY KEY ("id")
);

-- The poll query: unfinalized batches, oldest poll first.
CREATE INDEX "llm_batch_jobs_finalized_at_last_polled_at_created_at_idx" ON "llm_batch_jobs"("finalized_at", "last_polled_at", "created_at");
CREATE UNIQUE INDEX "llm_batch_jobs_provider_provider_batch_id_key" ON "llm_batch_jobs"("provider", "provider_batch_id");
CREATE UNIQUE INDEX "llm_batch_items_batch_job_id_custom_id_key" ON "llm_batch_items"("batch_job_id", "custom_id");
-- Keyset pagination of a batch's items in request order.
CREATE UNIQUE INDEX "llm_batch_items_batch_job_id_seq_key" ON "llm_batch_items"("batch_job_id", "seq");

ALTER TABLE "llm_batch_jobs" ADD CONSTRAINT "llm_batch_jobs_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "llm_batch_items" ADD CONSTRAINT "llm_batch_items_batch_job_id_fkey" FOREIGN KEY ("batch_job_id") REFERENCES "llm_batch_jobs"("job_id") ON DELETE CASCADE ON UPDATE CASCADE;
