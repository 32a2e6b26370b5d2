-- The UTF-8 bytes of `input`'s and `result`'s JSON as the API writes them (JSON.stringify, no spaces), set with
-- the values, so that lists can replace values past 16 KiB by {"truncated": true, "bytes": n} without reading
-- them. NULL on rows written before this migration: lists then work the size out from the value (job-list-values.ts).
ALTER TABLE "jobs" ADD COLUMN "input_bytes" INTEGER;
ALTER TABLE "jobs" ADD COLUMN "result_bytes" INTEGER;
