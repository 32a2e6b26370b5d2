import { writeFile } from 'node:fs/promises';

/**
 * Liveness for processes without an HTTP port (workers): the main loop rewrites `path` every `everyMs`,
 * so a container HEALTHCHECK can test the file's age. A hung or dead loop stops refreshing it.
 */
export function startHealthFile(path: string, everyMs = 5000): { stop(): void } {
  const touch = () => void writeFile(path, `${new Date().toISOString()}\n`).catch(() => undefined);
  touch();
  const timer = setInterval(touch, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
