import { ValidationError } from '@jobs/core';
import { isOutboundRefused, type HostGuard } from '@jobs/outbound';

/** The create-time half of the host guard (F6): a refused callback_url is a 400 naming the field. */
export function callbackUrlChecker(guard: HostGuard): (url: string) => Promise<void> {
  return async (url) => {
    try {
      await guard.checkUrl(url);
    } catch (err) {
      if (isOutboundRefused(err)) throw new ValidationError([{ path: 'callback_url', message: (err as Error).message }]);
      throw err;
    }
  };
}
