import { z } from 'zod';
import { createJobBodySchema } from './schemas';

/** Most jobs one `POST /api/jobs/bulk` may create (API.md). */
export const MAX_BULK_JOBS = 1000;

/**
 * `POST /api/jobs/bulk`: each item is a `POST /api/jobs` body, so an issue's path names its item
 * (`jobs.3.input`). A bulk create answers at once, so an item cannot ask to be waited for.
 */
export const bulkCreateBodySchema = z.strictObject({
  jobs: z
    .array(
      createJobBodySchema
        .superRefine((body, ctx) => {
          if (!body.background) ctx.addIssue({ code: 'custom', path: ['background'], message: 'must be true (or absent) in a bulk create' });
        })
        // The document's `CreateJobBody`: an item is a single create's body, which the refinement leaves unchanged.
        .meta({ id: 'CreateJobBody' }),
    )
    .min(1, 'must hold at least one job')
    .max(MAX_BULK_JOBS, `must hold at most ${MAX_BULK_JOBS} jobs`),
});
export type BulkCreateBody = z.output<typeof bulkCreateBodySchema>;
