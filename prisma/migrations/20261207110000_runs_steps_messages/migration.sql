-- Runs (job_type `run`, SPEC F9): one `steps` row per LLM call a run made and its `messages` (the input messages
-- and the assistant reply, content blocks kept as JSON). Both are written by the statement that completes the run,
-- so a run has its step and messages exactly when it is `completed`, and never half of them. They hang off the
-- job: deleting it (or the retention sweep) takes them along.
CREATE TABLE "steps" (
    "id" TEXT NOT NULL,
    "job_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "stop_reason" TEXT,
    "input_tokens" INTEGER NOT NULL DEFAULT 0,
    "output_tokens" INTEGER NOT NULL DEFAULT 0,
    "usage" JSONB NOT NULL DEFAULT '{}',
    "ttft_ns" BIGINT,
    "duration_ns" BIGINT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "steps_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "messages" (
    "id" TEXT NOT NULL,
    "job_id" TEXT NOT NULL,
    "step_id" TEXT,
    "organization_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "role" TEXT NOT NULL,
    "content" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "messages_pkey" PRIMARY KEY ("id")
);

-- GET /api/runs/{id}/steps (in creation order) and the keyset pages of a run's or a step's messages (by seq).
CREATE INDEX "steps_job_id_created_at_id_idx" ON "steps"("job_id", "created_at", "id");
CREATE UNIQUE INDEX "messages_job_id_seq_key" ON "messages"("job_id", "seq");
CREATE INDEX "messages_step_id_seq_idx" ON "messages"("step_id", "seq");

ALTER TABLE "steps" ADD CONSTRAINT "steps_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "messages" ADD CONSTRAINT "messages_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "messages" ADD CONSTRAINT "messages_step_id_fkey" FOREIGN KEY ("step_id") REFERENCES "steps"("id") ON DELETE CASCADE ON UPDATE CASCADE;
