-- Organizations, users, API keys, jobs and their status history.

CREATE TABLE "organizations" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "webhook_secret" TEXT NOT NULL,
    "previous_webhook_secret" TEXT,
    "previous_secret_expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "organizations_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "users" (
    "id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "api_keys" (
    "id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),
    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "jobs" (
    "id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "job_type" TEXT NOT NULL DEFAULT 'job',
    "task" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'created',
    "stop_reason" TEXT,
    "background" BOOLEAN NOT NULL DEFAULT true,
    "input" JSONB NOT NULL DEFAULT '{}',
    "result" JSONB,
    "error" JSONB,
    "progress" JSONB,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "agent_id" TEXT,
    "source_id" TEXT,
    "priority" INTEGER,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "max_attempts" INTEGER NOT NULL DEFAULT 1,
    "backoff_ms" INTEGER NOT NULL DEFAULT 1000,
    "timeout_ms" INTEGER,
    "delay_ms" BIGINT,
    "run_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),
    "idempotency_key" TEXT,
    "idempotency_hash" TEXT,
    "callback_url" TEXT,
    "callback_pending" BOOLEAN NOT NULL DEFAULT false,
    "callback_webhook_id" TEXT,
    "callback_sent_at" TIMESTAMPTZ(3),
    "callback_status_code" INTEGER,
    "callback_error" TEXT,
    "callback_attempts" INTEGER NOT NULL DEFAULT 0,
    "ttft_ns" BIGINT,
    "total_duration_ns" BIGINT,
    "event_seq" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "completed_at" TIMESTAMPTZ(3),
    CONSTRAINT "jobs_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "job_events" (
    "id" BIGSERIAL NOT NULL,
    "job_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "from_status" TEXT,
    "to_status" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "attempt" INTEGER NOT NULL,
    "worker_id" TEXT,
    "reason" TEXT,
    CONSTRAINT "job_events_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "users_organization_id_created_at_idx" ON "users"("organization_id", "created_at");
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");
CREATE INDEX "api_keys_organization_id_created_at_idx" ON "api_keys"("organization_id", "created_at");
CREATE INDEX "jobs_organization_id_job_type_created_at_id_idx" ON "jobs"("organization_id", "job_type", "created_at", "id");
CREATE INDEX "jobs_organization_id_job_type_status_created_at_id_idx" ON "jobs"("organization_id", "job_type", "status", "created_at", "id");
CREATE INDEX "jobs_organization_id_job_type_source_id_created_at_id_idx" ON "jobs"("organization_id", "job_type", "source_id", "created_at", "id");
CREATE INDEX "jobs_organization_id_job_type_agent_id_created_at_id_idx" ON "jobs"("organization_id", "job_type", "agent_id", "created_at", "id");
CREATE INDEX "jobs_status_updated_at_idx" ON "jobs"("status", "updated_at");
CREATE INDEX "jobs_organization_id_idempotency_key_idx" ON "jobs"("organization_id", "idempotency_key");
CREATE UNIQUE INDEX "job_events_job_id_seq_key" ON "job_events"("job_id", "seq");

ALTER TABLE "users" ADD CONSTRAINT "users_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "job_events" ADD CONSTRAINT "job_events_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
