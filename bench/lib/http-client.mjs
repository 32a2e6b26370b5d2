// A small keep-alive HTTP client for driving the API: bounded in-flight loops and an open-loop pacer.
import http from 'node:http';

/** Wall-clock milliseconds with sub-millisecond resolution, comparable with other processes' clocks. */
export const nowMs = () => performance.timeOrigin + performance.now();

export class ApiClient {
  constructor(baseUrl, key, maxSockets = 256) {
    const u = new URL(baseUrl);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.auth = `Bearer ${key}`;
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });
  }

  /** Resolves {status, json, headers}; rejects only on transport errors. */
  request(method, path, body) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = { authorization: this.auth, accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: this.host, port: this.port, method, path, headers, agent: this.agent },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode, json: parseJson(text), headers: res.headers });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  close() {
    this.agent.destroy();
  }
}

function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text };
  }
}

/** Runs `fn(i)` for i in [0, n) with at most `inflight` calls pending; stops early at `deadline` (ms epoch). */
export async function runBounded(n, inflight, fn, deadline = Infinity) {
  let next = 0;
  const lane = async () => {
    while (next < n && Date.now() < deadline) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inflight, n) }, lane));
  return next;
}

/**
 * Open loop: call `fn(i)` at start + i/rate for `count` calls, whatever the responses do (a slow server
 * does not slow the offered load, so queueing shows up as latency). Resolves when every call settled.
 */
export async function runPaced(rate, count, fn) {
  const start = nowMs();
  const pending = [];
  let i = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(count, Math.floor(((nowMs() - start) * rate) / 1000) + 1);
      while (i < due) pending.push(fn(i++));
      if (i >= count) return resolve();
      const wait = start + (i * 1000) / rate - nowMs();
      setTimeout(tick, Math.max(0, wait));
    };
    tick();
  });
  await Promise.allSettled(pending);
}

/** Counts by outcome; the first few failures are kept verbatim for the report. */
export class Outcomes {
  constructor() {
    this.ok = 0;
    this.failed = 0;
    this.samples = [];
  }
  record(res, expect) {
    if (res && res.status === expect) {
      this.ok++;
      return true;
    }
    this.failed++;
    if (this.samples.length < 3)
      this.samples.push(res instanceof Error ? String(res) : { status: res?.status, body: res?.json });
    return false;
  }
}
