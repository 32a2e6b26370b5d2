// A local callback endpoint: answers 204 at once and notes when each job's callback arrived.
import http from 'node:http';
import { nowMs } from './http-client.mjs';

export async function startCallbackReceiver() {
  const arrivals = new Map(); // job_id → first arrival (ms epoch)
  let total = 0;
  const server = http.createServer((req, res) => {
    const at = nowMs();
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      total++;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const id = body.job_id ?? body.id ?? body.job?.id;
        if (typeof id === 'string' && !arrivals.has(id)) arrivals.set(id, at);
      } catch {
        // not a callback of ours; counted in total only
      }
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 65000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/callback`,
    arrivals,
    get total() {
      return total;
    },
    reset() {
      arrivals.clear();
      total = 0;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
