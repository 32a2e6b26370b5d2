-- Every callback attempt, not only the last one of its series (GET /api/jobs/{id}/callback/attempts). A row is
-- written by the same statement that counts the attempt on its series, so `attempt` is the series' own count
-- (a redelivered series carries on numbering). No foreign key, as for the series: the writer is a hot path and
-- retention deletes attempts together with their series.
CREATE TABLE "callback_attempts" (
    "webhook_id" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "job_id" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "status_code" INTEGER,
    "error" TEXT,
    "duration_ms" INTEGER NOT NULL,
    "response_excerpt" TEXT,
    CONSTRAINT "callback_attempts_pkey" PRIMARY KEY ("webhook_id", "attempt")
);

CREATE INDEX "callback_attempts_job_id_at_idx" ON "callback_attempts"("job_id", "at");

-- Redelivery by time: series that ended undelivered since a given moment, per organization.
CREATE INDEX "callback_deliveries_state_updated_at_idx" ON "callback_deliveries"("state", "updated_at");
