import { ApiError } from './api-error';
import { delay } from './delay';
import { sseMessages } from './sse';
import { isTerminal, type JobEvent, type JobProgressEvent } from './types';

export interface WatchOptions {
  signal?: AbortSignal;
  /** Also yield the job's progress reports as they come (they carry no id and are not replayed). */
  progress?: boolean;
  /** Resume after this event sequence number, as a reconnecting client would. */
  lastEventId?: number;
  /** The longest wait between two reconnection attempts. */
  maxRetryMs?: number;
}

export type WatchEvent = { event: 'status'; id: number; data: JobEvent } | { event: 'progress'; data: JobProgressEvent };

/** Sends a request to the API with the client's base URL and key. */
export type Send = (path: string, init?: RequestInit) => Promise<Response>;

/**
 * Follows a job's event stream (`GET /api/jobs/{id}/events`, SSE) to its terminal status event. A dropped
 * connection, a stream that ends early (a stopping API) or an `error` frame is followed by a reconnection with
 * `Last-Event-ID`, from which the server replays, so each status event is yielded once and in order.
 * A 4xx answer (unknown job, bad key) ends the watch with its ApiError; 5xx and network errors are retried.
 */
export async function* watchJob(send: Send, jobId: string, opts: WatchOptions = {}): AsyncGenerator<WatchEvent> {
  const path = `/api/jobs/${encodeURIComponent(jobId)}/events`;
  let last = opts.lastEventId ?? 0;
  let failures = 0;
  for (;;) {
    opts.signal?.throwIfAborted();
    let res: Response | undefined;
    try {
      res = await send(`${path}${opts.progress ? '?progress=true' : ''}`, {
        headers: { accept: 'text/event-stream', ...(last > 0 ? { 'last-event-id': String(last) } : {}) },
        signal: opts.signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
    }
    if (res && !res.ok && res.status < 500 && res.status !== 429) throw await ApiError.from(res);
    let heard = false;
    if (res?.ok && res.body) {
      try {
        for await (const message of sseMessages(res.body)) {
          if (message.event === 'error') break;
          if (message.event === 'progress') {
            if (opts.progress) yield { event: 'progress', data: JSON.parse(message.data) as JobProgressEvent };
            continue;
          }
          if (message.event !== 'status') continue;
          const data = JSON.parse(message.data) as JobEvent;
          if (data.seq <= last) continue;
          last = data.seq;
          heard = true;
          yield { event: 'status', id: data.seq, data };
          if (isTerminal(data.to)) return;
        }
      } catch (err) {
        if (opts.signal?.aborted) throw err;
      }
    } else {
      await res?.body?.cancel().catch(() => undefined);
    }
    // A stream that opened and closed without news may be one resumed past the end (the server then has
    // nothing more to send): the history says what, if anything, was missed.
    if (res?.ok && !heard) {
      const caughtUp = await catchUp(send, path, last, opts.signal).catch((err: unknown) => {
        if (err instanceof ApiError && err.status < 500) throw err;
        return [];
      });
      for (const data of caughtUp) {
        last = data.seq;
        yield { event: 'status', id: data.seq, data };
        if (isTerminal(data.to)) return;
      }
      if (caughtUp.length) heard = true;
    }
    failures = heard ? 0 : failures + 1;
    await delay(Math.min(opts.maxRetryMs ?? 5000, 100 * 2 ** failures), opts.signal);
  }
}

async function catchUp(send: Send, path: string, after: number, signal: AbortSignal | undefined): Promise<JobEvent[]> {
  const res = await send(path, { headers: { accept: 'application/json' }, signal });
  if (!res.ok) throw await ApiError.from(res);
  return ((await res.json()) as JobEvent[]).filter((e) => e.seq > after).sort((a, b) => a.seq - b.seq);
}
