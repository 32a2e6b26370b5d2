-- Callback delivery series in their own rows (issue 10 item 6). A row is written by the same statement as the
-- terminal transition it reports and carries a snapshot of what the callback body needs, so the series
-- outlives anything that happens to the job afterwards (deleted, retried) and to Redis (unreachable when the
-- series should have been queued, or emptied while it waited). No foreign key: deleting a job must not
-- delete its undelivered series.
CREATE TABLE "callback_deliveries" (
    "webhook_id" TEXT NOT NULL,
    "job_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "job_attempt" INTEGER NOT NULL,
    "callback_url" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "stop_reason" TEXT,
    "completed_at" TIMESTAMPTZ(3),
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "state" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_attempt_at" TIMESTAMPTZ(3),
    "last_status_code" INTEGER,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "callback_deliveries_pkey" PRIMARY KEY ("webhook_id")
);

-- The sweep: series still to be queued (`pending`) and queued series overdue for their next attempt.
CREATE INDEX "callback_deliveries_state_next_attempt_at_idx" ON "callback_deliveries"("state", "next_attempt_at");
CREATE INDEX "callback_deliveries_job_id_idx" ON "callback_deliveries"("job_id");

-- Series that were written but never queued before this migration keep their place in the sweep.
INSERT INTO "callback_deliveries" ("webhook_id", "job_id", "organization_id", "job_attempt", "callback_url", "status", "stop_reason", "completed_at", "metadata", "next_attempt_at")
SELECT "callback_webhook_id", "id", "organization_id", "attempts", "callback_url", "status", "stop_reason", "completed_at", "metadata", COALESCE("completed_at", CURRENT_TIMESTAMP)
FROM "jobs"
WHERE "callback_pending" AND "callback_webhook_id" IS NOT NULL AND "callback_url" IS NOT NULL
  AND "status" IN ('completed', 'failed', 'cancelled', 'expired')
ON CONFLICT DO NOTHING;
