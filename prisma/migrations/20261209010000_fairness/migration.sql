-- Fair share across organizations (SPEC F16). An organization's weight is its share of the turns workers take
-- between organizations with work waiting; max_concurrency bounds how many of its jobs run at once across the
-- fleet (NULL: no bound). A job's concurrency_key/concurrency_limit bound the running jobs of its organization
-- that share the key; the two are given together or not at all. The bounds are also checked by the API (as 400s
-- naming the field); these constraints keep any other writer from storing a value the dispatcher cannot honour.
ALTER TABLE "organizations" ADD COLUMN "weight" INTEGER NOT NULL DEFAULT 1;
ALTER TABLE "organizations" ADD COLUMN "max_concurrency" INTEGER;
ALTER TABLE "organizations" ADD CONSTRAINT "organizations_weight_check" CHECK ("weight" BETWEEN 1 AND 100);
ALTER TABLE "organizations" ADD CONSTRAINT "organizations_max_concurrency_check" CHECK ("max_concurrency" >= 1);

ALTER TABLE "jobs" ADD COLUMN "concurrency_key" TEXT;
ALTER TABLE "jobs" ADD COLUMN "concurrency_limit" INTEGER;
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_concurrency_key_check" CHECK (char_length("concurrency_key") <= 200);
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_concurrency_limit_check" CHECK ("concurrency_limit" BETWEEN 1 AND 10000);
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_concurrency_pair_check" CHECK (("concurrency_key" IS NULL) = ("concurrency_limit" IS NULL));
