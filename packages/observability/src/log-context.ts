import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Fields every log line written inside a unit of work carries (request id in the API, job and worker id
 * in workers), whichever logger writes it: a library or a helper that only has the root logger included.
 */
const storage = new AsyncLocalStorage<Readonly<Record<string, unknown>>>();

export function withLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...fields }, fn);
}

export function currentLogContext(): Readonly<Record<string, unknown>> | undefined {
  return storage.getStore();
}
