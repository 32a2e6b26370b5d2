-- The callback sweep looks for terminal rows whose delivery series never reached the queue.
CREATE INDEX "jobs_callback_pending_completed_at_idx" ON "jobs"("callback_pending", "completed_at");
