-- job_events is keyed by (job_id, seq), which was already unique: the surrogate id was never read, and its
-- index cost one more index entry for every status change (four per job). The unique index becomes the key.
ALTER TABLE "job_events" DROP CONSTRAINT "job_events_pkey";
ALTER TABLE "job_events" DROP COLUMN "id";
ALTER TABLE "job_events" ADD CONSTRAINT "job_events_pkey" PRIMARY KEY USING INDEX "job_events_job_id_seq_key";
