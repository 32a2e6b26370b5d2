import { z } from 'zod';
import { idSchema } from './schemas';

/**
 * `POST /api/admin/callbacks/redeliver`: an admin's own organization when absent (an operator's: every
 * organization), and the earliest end of the series to reopen.
 */
export const redeliverCallbacksBodySchema = z.strictObject({
  organization_id: idSchema('org').nullish(),
  since: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 timestamp', abort: true }),
});
export type RedeliverCallbacksBody = z.output<typeof redeliverCallbacksBodySchema>;
