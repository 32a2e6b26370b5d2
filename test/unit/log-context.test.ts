import express from 'express';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import winston from 'winston';
import { requestContext, resumeRequestContext } from '../../apps/api/src/middleware/request-context';
import { createLogger, withLogContext, type Logger } from '../../packages/observability/src';

/** A logger whose JSON lines are also collected here. */
function capturingLogger(level = 'http'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level, service: 'test' });
  logger.clear();
  logger.add(
    new winston.transports.Stream({
      stream: new Writable({
        write(chunk: Buffer, _enc, cb) {
          for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
          cb();
        },
      }),
    }),
  );
  return { logger, lines };
}

describe('log context', () => {
  it('adds the context’s fields to every line written inside it; a line’s own fields win', async () => {
    const { logger, lines } = capturingLogger();
    await withLogContext({ job_id: 'job-1', worker_id: 'w-1' }, async () => {
      logger.info('first');
      await new Promise((r) => setTimeout(r, 5));
      logger.child({ extra: true }).warn('second');
      logger.info('third', { job_id: 'explicit' });
    });
    logger.info('outside');
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l['message'], l['job_id'], l['worker_id']])).toEqual([
      ['first', 'job-1', 'w-1'],
      ['second', 'job-1', 'w-1'],
      ['third', 'explicit', 'w-1'],
      ['outside', undefined, undefined],
    ]);
    expect(lines.every((l) => l['service'] === 'test' && typeof l['timestamp'] === 'string' && typeof l['level'] === 'string')).toBe(true);
  });

  it('carries the request id to every line of a request, body parsing and awaits included', async () => {
    const { logger, lines } = capturingLogger();
    const app = express();
    app.use(requestContext(logger));
    app.use(express.json());
    app.use(resumeRequestContext());
    app.post('/x', async (req, res) => {
      await new Promise((r) => setTimeout(r, 5));
      logger.info('inside the handler', { got: (req.body as { a: number }).a });
      res.json({ ok: true });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
      const rs = await Promise.all(
        [1, 2, 3].map((a) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': `req-${a}` }, body: JSON.stringify({ a }) })),
      );
      expect(rs.map((r) => r.headers.get('x-request-id'))).toEqual(['req-1', 'req-2', 'req-3']);
      await new Promise((r) => setTimeout(r, 20));
      const inside = lines.filter((l) => l['message'] === 'inside the handler');
      expect(inside.map((l) => [l['got'], l['request_id']]).sort()).toEqual([
        [1, 'req-1'],
        [2, 'req-2'],
        [3, 'req-3'],
      ]);
      const access = lines.filter((l) => l['message'] === 'request');
      expect(access.map((l) => l['request_id']).sort()).toEqual(['req-1', 'req-2', 'req-3']);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('never logs secrets passed as fields', () => {
    const { logger, lines } = capturingLogger();
    logger.info('with secrets', { authorization: 'Bearer abc', webhook_secret: 'whsec_x', token: 't' });
    expect(lines[0]).toMatchObject({ authorization: '[redacted]', webhook_secret: '[redacted]', token: '[redacted]' });
  });
});
