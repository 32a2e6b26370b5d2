import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startHealthFile } from '../../packages/observability/src';
import { waitFor } from '../support/wait';

describe('health file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'health-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is rewritten while the loop runs and no longer after stop', async () => {
    const file = path.join(dir, 'worker.health');
    const h = startHealthFile(file, 50);
    await waitFor(() => existsSync(file), 'health file written');
    const first = statSync(file).mtimeMs;
    await waitFor(() => statSync(file).mtimeMs > first, 'health file refreshed');
    h.stop();
    await new Promise((r) => setTimeout(r, 60));
    const last = statSync(file).mtimeMs;
    await new Promise((r) => setTimeout(r, 200));
    expect(statSync(file).mtimeMs).toBe(last);
  });
});
