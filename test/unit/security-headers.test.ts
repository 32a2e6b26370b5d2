import express from 'express';
import helmet from 'helmet';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { securityHeaders } from '../../apps/api/src/middleware/security-headers';

/** The one-step middleware must answer exactly the headers helmet itself would, for any response. */
describe('security headers (helmet, applied in one step)', () => {
  const servers: Server[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  async function headersOf(mw: express.RequestHandler, status: number): Promise<Record<string, string>> {
    const app = express();
    app.use(mw);
    app.get('/x', (_req, res) => {
      res.status(status).json({ ok: true });
    });
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
    await res.text();
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      if (k !== 'date' && k !== 'keep-alive' && k !== 'connection') out[k] = v;
    });
    return out;
  }

  it.each([200, 404])('matches helmet header for header (status %i)', async (status) => {
    const options = { contentSecurityPolicy: false } as const;
    const expected = await headersOf(helmet(options), status);
    const actual = await headersOf(securityHeaders(options), status);
    expect(actual).toEqual(expected);
    expect(actual['x-content-type-options']).toBe('nosniff');
    expect(actual['strict-transport-security']).toMatch(/max-age=/);
    expect(actual['x-powered-by']).toBeUndefined();
  });

  it('keeps the content security policy when one is configured (static directives)', async () => {
    const options = { contentSecurityPolicy: { directives: { defaultSrc: ["'self'"] } } };
    expect(await headersOf(securityHeaders(options), 200)).toEqual(await headersOf(helmet(options), 200));
  });
});
