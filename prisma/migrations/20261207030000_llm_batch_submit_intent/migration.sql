-- An llm.batch attempt records its intent to create a provider batch before the call (issue 10 item 5), so
-- that the attempt after a crash between the provider's create and our write settles the orphan instead of
-- creating a second batch. Both are NULL once the outcome (provider_batch_id) is recorded.
ALTER TABLE "llm_batch_jobs" ADD COLUMN "submit_token" TEXT;
ALTER TABLE "llm_batch_jobs" ADD COLUMN "submit_started_at" TIMESTAMPTZ(3);
