import { createJobsClient } from '@jobs/client';
import type { Session } from '../src/session';

export type Handler = (req: Request) => Response | Promise<Response>;

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers },
  });

/**
 * A session whose client is the real @jobs/client over a transport answering from `handler`: the views' logic
 * is under test here, the API itself in the end-to-end tests.
 */
export function fakeSession(handler: Handler, role: Session['role'] = 'admin'): Session & { requests: Request[] } {
  const requests: Request[] = [];
  const client = createJobsClient({
    baseUrl: 'http://api.test',
    apiKey: 'test-key',
    fetch: async (req) => {
      requests.push(req.clone());
      return handler(req);
    },
  });
  return { client, via: 'key', authHeaders: { authorization: 'Bearer test-key' }, role, organizationId: 'org-1', requests };
}
