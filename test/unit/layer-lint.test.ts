import { spawnSync } from 'node:child_process';
import path from 'node:path';

// The layer rule (eslint.layers.mjs) must keep biting: each case is a one-line source placed in a workspace
// and linted with the repo's real config. A wrong-way import must be reported; an allowed one must not.
const root = path.resolve(__dirname, '..', '..');

interface Case {
  file: string;
  code: string;
}

function lint(cases: Case[]): Record<string, string[]> {
  const r = spawnSync(process.execPath, [path.join(root, 'test/support/lint-layers.mjs')], { cwd: root, input: JSON.stringify(cases), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`lint-layers failed: ${r.stderr}`);
  const results = JSON.parse(r.stdout) as { file: string; rules: string[] }[];
  return Object.fromEntries(results.map((x) => [x.file, x.rules]));
}

const use = (spec: string) => `import * as m from '${spec}';\nexport const used = m;\n`;

describe('layer lint rule (one-way imports)', () => {
  const wrong: Case[] = [
    { file: 'packages/queue/src/wrong-db.ts', code: use('@jobs/db') },
    { file: 'packages/tasks/src/wrong-queue.ts', code: use('@jobs/queue') },
    { file: 'packages/tasks/src/wrong-db.ts', code: use('@jobs/db') },
    { file: 'packages/core/src/wrong-observability.ts', code: use('../../observability/src') },
    { file: 'packages/outbound/src/wrong-tasks.ts', code: use('@jobs/tasks') },
    { file: 'packages/service/src/wrong-tasks.ts', code: use('@jobs/tasks') },
    { file: 'packages/db/src/wrong-app.ts', code: use('../../../apps/api/src/app') },
    { file: 'apps/api/src/wrong-app.ts', code: use('../../worker/src/worker-process') },
    { file: 'packages/client/src/wrong-core.ts', code: use('@jobs/core') },
    // The console runs in a browser: the client only.
    { file: 'apps/console/src/wrong-core.tsx', code: use('@jobs/core') },
    { file: 'apps/console/src/wrong-app.ts', code: use('../../api/src/app') },
  ];
  const allowed: Case[] = [
    { file: 'packages/service/src/ok.ts', code: use('@jobs/db') },
    { file: 'packages/tasks/src/ok.ts', code: use('@jobs/outbound') },
    { file: 'packages/queue/src/ok.ts', code: use('@jobs/observability') },
    { file: 'apps/worker/src/ok.ts', code: use('@jobs/service') },
    // The CLI is a client of the REST API: it declares @jobs/client only.
    { file: 'apps/cli/src/ok.ts', code: use('@jobs/client') },
    { file: 'apps/console/src/ok.tsx', code: use('@jobs/client') },
  ];

  let results: Record<string, string[]>;
  beforeAll(() => {
    results = lint([
      ...wrong,
      ...allowed,
      { file: 'packages/queue/src/unresolved.ts', code: use('@jobs/nowhere') },
      { file: 'packages/core/src/undeclared.ts', code: use('express') },
      { file: 'packages/service/src/twice.ts', code: `import { enqueueCallback } from './callback-enqueue';\nimport type { CallbackSweepOptions } from './callback-enqueue';\nexport const used: [typeof enqueueCallback, CallbackSweepOptions?] = [enqueueCallback];\n` },
    ]);
  }, 60_000);

  it.each(wrong.map((c) => [c.file, c.code.split("'")[1]]))('%s importing %s is an error', (file) => {
    expect(results[file]).toContain('import-x/no-restricted-paths');
  });

  it.each(allowed.map((c) => [c.file, c.code.split("'")[1]]))('%s importing %s passes', (file) => {
    expect(results[file]).toEqual([]);
  });

  it('reports an @jobs import it cannot resolve (an unresolved import would escape the layer rule)', () => {
    expect(results['packages/queue/src/unresolved.ts']).toContain('import-x/no-unresolved');
  });

  it('reports a module imported by two statements (a merge seam)', () => {
    expect(results['packages/service/src/twice.ts']).toContain('import-x/no-duplicates');
  });

  it("reports a library the workspace's package.json does not declare", () => {
    expect(results['packages/core/src/undeclared.ts']).toContain('import-x/no-extraneous-dependencies');
  });
});
