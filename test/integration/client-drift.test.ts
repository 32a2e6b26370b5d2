import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../support/processes';
import { startStack, type TestStack } from '../support/stack';

const GENERATE = path.join(ROOT, 'packages', 'client', 'scripts', 'generate.mjs');

function generate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [GENERATE, ...args], { cwd: ROOT, timeout: 60000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr }),
    );
  });
}

describe('@jobs/client generated types', () => {
  let stack: TestStack;
  let dir: string;
  beforeAll(async () => {
    stack = await startStack();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'client-drift-'));
  });
  afterAll(async () => {
    await stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('are what the document the API serves generates (else: npm run client:generate)', async () => {
    const r = await generate(['--check', '--url', stack.url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('are reported as drifted when the document changes', async () => {
    const served = (await stack.request('GET', '/api/openapi.json', undefined, null)).body as { paths: Record<string, unknown> };
    const changed = { ...served, paths: { ...served.paths, '/api/added-route': { get: { responses: { '200': { description: 'ok' } } } } } };
    const file = path.join(dir, 'openapi.json');
    fs.writeFileSync(file, JSON.stringify(changed));
    const r = await generate(['--check', '--file', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/packages\/client\/src\/generated\/api.ts and packages\/client\/openapi.json differ from the API's document/);
  });
});
