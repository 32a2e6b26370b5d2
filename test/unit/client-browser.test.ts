import fs from 'node:fs';
import path from 'node:path';
import { delay } from '../../packages/client/src/delay';

const SRC = path.join(__dirname, '..', '..', 'packages', 'client', 'src');

describe('@jobs/client in a browser (the console bundles it)', () => {
  it('imports no Node built-in module', () => {
    const offenders = fs
      .readdirSync(SRC, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /from\s+['"]node:|require\(['"]node:/.test(fs.readFileSync(path.join(SRC, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('delay resolves after its time and rejects with the abort reason', async () => {
    await expect(delay(5)).resolves.toBeUndefined();
    const ac = new AbortController();
    const waiting = delay(60_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    await expect(delay(1, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
  });
});
