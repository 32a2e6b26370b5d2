import express, { Router } from 'express';
import request from 'supertest';
import { NotFoundError } from '../../packages/core/src';
import { createLogger } from '../../packages/observability/src';
import { problemHandler, notFoundHandler } from '../../apps/api/src/middleware/problem';
import { RouteTable } from '../../apps/api/src/route-table';

// RouteTable hands handlers to Express as they are: Express 5 forwards a rejected promise to the error
// middleware itself. These requests prove it still does, so the problem document never depends on a wrapper.
function appWith(register: (table: RouteTable, router: Router) => void): express.Express {
  const app = express();
  const router = Router();
  const table = new RouteTable();
  register(table, router);
  app.use(router);
  app.use(notFoundHandler(table.entries));
  app.use(problemHandler(createLogger({ service: 'route-table-test', level: 'error' })));
  return app;
}

describe('RouteTable', () => {
  it('turns a rejected async handler into its problem document', async () => {
    const app = appWith((t, r) =>
      t.add(r, 'get', '/things/:id', async () => {
        await Promise.resolve();
        throw new NotFoundError('no such thing');
      }),
    );
    const res = await request(app).get('/things/1');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 404, detail: 'no such thing' });
  });

  it('turns an unexpected rejection into a 500 problem document', async () => {
    const app = appWith((t, r) => t.add(r, 'post', '/boom', async () => Promise.reject(new Error('kaput'))));
    const res = await request(app).post('/boom');
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ status: 500, title: 'Internal Server Error' });
  });

  it('answers 405 for another method on a known path', async () => {
    const app = appWith((t, r) => t.add(r, 'get', '/things/:id', (_req, res) => res.json({ ok: true })));
    const res = await request(app).delete('/things/1');
    expect(res.status).toBe(405);
  });
});
