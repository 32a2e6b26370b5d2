import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RESPONSE_EXCERPT_BYTES, postCallback } from '../../apps/worker/src/callbacks/post-callback';
import { HostGuard } from '../../packages/outbound/src/host-guard';

/** One attempt against a local server that never stops sending its body. */
describe('postCallback reads at most CALLBACK_MAX_RESPONSE_BYTES', () => {
  let server: Server;
  let base = '';
  const streams = new Set<ServerResponse>();
  const guard = new HostGuard({ allowPrivateNetworks: true });
  beforeAll(async () => {
    server = createServer((req, res) => {
      const status = Number(req.url?.slice(1) ?? 200);
      res.writeHead(status, { 'content-type': 'text/plain' });
      streams.add(res);
      const chunk = 'x'.repeat(16 * 1024);
      const pump = setInterval(() => res.write(chunk), 5);
      res.on('close', () => {
        clearInterval(pump);
        streams.delete(res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of streams) s.destroy();
    guard.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const send = (path: string) =>
    postCallback({ url: `${base}${path}`, body: '{}', headers: {} }, { timeoutMs: 10_000, maxResponseBytes: 4096, guard });

  it('counts a 2xx as delivered without waiting for an endless body', async () => {
    const started = Date.now();
    const r = await send('/200');
    expect(r).toMatchObject({ statusCode: 200, error: null, retryAfterMs: null, refused: false });
    // The attempt log keeps a bounded excerpt of the body, whatever its length.
    expect(r.responseExcerpt).toBe('x'.repeat(RESPONSE_EXCERPT_BYTES));
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('keeps a short excerpt of an endless error body', async () => {
    const started = Date.now();
    const r = await send('/500');
    expect(r.statusCode).toBe(500);
    expect(r.error).toBe(`HTTP 500: ${'x'.repeat(200)}`);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('reports a connection failure with no status code', async () => {
    const r = await postCallback({ url: 'http://127.0.0.1:1/', body: '{}', headers: {} }, { timeoutMs: 2000, maxResponseBytes: 4096, guard });
    expect(r).toMatchObject({ statusCode: null, refused: false });
    expect(r.error).toContain('ECONNREFUSED');
  });
});

/** A receiver that stalls: the attempt ends at its timeout, whether the headers or the body are missing. */
describe('postCallback bounds the whole exchange by its timeout', () => {
  let server: Server;
  let base = '';
  const open = new Set<ServerResponse>();
  const guard = new HostGuard({ allowPrivateNetworks: true });
  beforeAll(async () => {
    server = createServer((req, res) => {
      open.add(res);
      res.on('close', () => open.delete(res));
      // '/headers': headers and one chunk, then nothing; otherwise not even the headers.
      if (req.url === '/headers') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.write('partial');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of open) s.destroy();
    guard.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('no headers: no response within the timeout', async () => {
    const r = await postCallback({ url: `${base}/silent`, body: '{}', headers: {} }, { timeoutMs: 300, maxResponseBytes: 4096, guard });
    expect(r).toMatchObject({ statusCode: null, refused: false, error: 'no response within 300 ms' });
  });

  it('a body that stops: the attempt ends at the timeout, decided by its status line', async () => {
    const r = await postCallback({ url: `${base}/headers`, body: '{}', headers: {} }, { timeoutMs: 300, maxResponseBytes: 4096, guard });
    expect(r).toMatchObject({ statusCode: 500, refused: false, error: 'HTTP 500: partial', responseExcerpt: 'partial' });
  });
});

/** Concurrent POSTs to one receiver reuse their keep-alive connections instead of closing all but a few. */
describe('postCallback keeps a connection per concurrent attempt', () => {
  let server: Server;
  let base = '';
  let connections = 0;
  const guard = new HostGuard({ allowPrivateNetworks: true, maxFreeSockets: 40 });
  beforeAll(async () => {
    server = createServer((_req, res) => {
      // Answered together, so all 40 requests hold a socket at once.
      setTimeout(() => res.writeHead(204).end(), 30);
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    guard.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('opens no new connection for a second wave as wide as the first', async () => {
    const wave = () => Promise.all(Array.from({ length: 40 }, () => postCallback({ url: `${base}/cb`, body: '{}', headers: {} }, { timeoutMs: 10_000, maxResponseBytes: 4096, guard })));
    for (const r of await wave()) expect(r.statusCode).toBe(204);
    expect(connections).toBe(40);
    for (const r of await wave()) expect(r.statusCode).toBe(204);
    expect(connections).toBe(40);
  });
});
