import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { PG_BASE_URL, REDIS_URL } from '../support/env';
import { ROOT } from '../support/processes';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('npm run screenshots (scripts/screenshots.mjs)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'screenshots-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('captures the docs, Bull Board, the CLI progress bar and the console, then leaves no service, database or key behind', async () => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [path.join(ROOT, 'scripts', 'screenshots.mjs')], { cwd: ROOT, env: { ...process.env, SCREENSHOTS_DIR: dir }, timeout: 240_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr }),
      ),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = fs.readdirSync(dir).sort();
    expect(files).toEqual(['api-docs.png', 'bull-board-jobs.png', 'bull-board.png', 'cli-progress.png', 'console-admin.png', 'console-job.png', 'console-jobs.png']);
    for (const f of files) {
      const png = fs.readFileSync(path.join(dir, f));
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      expect(png.length).toBeGreaterThan(5000);
    }

    const [, base, database, prefix] = /service at (\S+) \(database (\S+), key prefix (\S+)\)/.exec(r.stdout) ?? [];
    expect(database).toMatch(/^jobs_screenshots_/);
    await expect(fetch(`${base}/api/health/live`)).rejects.toThrow();
    const pg = new Client({ connectionString: PG_BASE_URL });
    await pg.connect();
    try {
      expect((await pg.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount).toBe(0);
    } finally {
      await pg.end();
    }
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      expect(await redis.keys(`${prefix}*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  }, 300_000);
});
