import { EventEmitter } from 'node:events';
import type { RedisClient as Redis } from './redis';
import { channels } from './names';

export interface BusEvent {
  job_id: string;
  organization_id: string;
  status: string;
  event: { seq: number; from: string | null; to: string; at: string; attempt: number; worker_id: string | null; reason: string | null };
}

/** A running attempt's progress report, as stored on the Job; not part of the status history (no seq). */
export interface ProgressMessage {
  job_id: string;
  attempt: number;
  percent: number;
  message: string | null;
  at: string;
}

export interface CancelMessage {
  job_id: string;
  attempt: number;
  reason: string;
}

/**
 * Redis pub/sub between processes: transition events (API waiters and SSE streams) and cancel
 * requests (whichever worker runs the attempt aborts it). One subscriber connection per process.
 */
export class JobBus extends EventEmitter {
  private readonly names: ReturnType<typeof channels>;
  private subscribed = false;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefix: string,
  ) {
    super();
    this.setMaxListeners(0);
    this.names = channels(prefix);
    // Messages published while the subscriber is disconnected are lost for good: listeners that cannot
    // afford a gap (event streams) hear 'connection-lost' and end, and their clients resume from Postgres.
    subscriber.on('close', () => this.emit('connection-lost'));
    subscriber.on('message', (channel: string, message: string) => {
      try {
        if (channel === this.names.events) {
          // One message may carry one event or the array of a process's batch of transitions.
          const parsed = JSON.parse(message) as BusEvent | BusEvent[];
          for (const e of Array.isArray(parsed) ? parsed : [parsed]) {
            this.emit(`job:${e.job_id}`, e);
            this.emit('event', e);
          }
        } else if (channel === this.names.progress) {
          const p = JSON.parse(message) as ProgressMessage;
          this.emit(`progress:${p.job_id}`, p);
        } else if (channel === this.names.cancel) {
          this.emit('cancel', JSON.parse(message) as CancelMessage);
        } else if (channel === this.names.keyRevoked) {
          this.emit('key-revoked', message);
        }
      } catch {
        // A malformed message from a foreign publisher is ignored.
      }
    });
  }

  async subscribe(what: { events?: boolean; cancel?: boolean; keyRevoked?: boolean }): Promise<void> {
    // Whoever follows status events (event streams) follows progress too.
    const list = [what.events ? this.names.events : null, what.events ? this.names.progress : null, what.cancel ? this.names.cancel : null, what.keyRevoked ? this.names.keyRevoked : null].filter(
      (c): c is string => c !== null,
    );
    // ioredis writes SUBSCRIBE as soon as the socket connects, before its ready check (INFO); the check then fails
    // in subscriber mode, and the reconnect that follows drops the subscription for good (seen at API start, about
    // one process in three). Subscribing once the connection is ready avoids that; ioredis renews it on reconnects.
    await readyOrEnded(this.subscriber);
    if (list.length) await this.subscriber.subscribe(...list);
    this.subscribed = true;
  }

  async publishEvent(e: BusEvent): Promise<void> {
    await this.publisher.publish(this.names.events, JSON.stringify(e));
  }

  /** Several events in one message (in order); listeners hear them one by one as from publishEvent. */
  async publishEvents(events: BusEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.publisher.publish(this.names.events, JSON.stringify(events.length === 1 ? events[0] : events));
  }

  async publishProgress(p: ProgressMessage): Promise<void> {
    await this.publisher.publish(this.names.progress, JSON.stringify(p));
  }

  async publishCancel(m: CancelMessage): Promise<void> {
    await this.publisher.publish(this.names.cancel, JSON.stringify(m));
  }

  async publishKeyRevoked(keyId: string): Promise<void> {
    await this.publisher.publish(this.names.keyRevoked, keyId);
  }

  get isSubscribed(): boolean {
    return this.subscribed;
  }
}

/** Resolves when the connection is ready (at once if it is); rejects if it is closed for good first. */
function readyOrEnded(client: Redis): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onReady = () => {
      client.off('end', onEnd);
      resolve();
    };
    const onEnd = () => {
      client.off('ready', onReady);
      reject(new Error('Redis subscriber connection closed before it was ready'));
    };
    // Errors while connecting are retried by the connection's strategy: only 'ready' or 'end' settle this.
    client.once('ready', onReady);
    client.once('end', onEnd);
  });
}
