// The whole suite: services up, build, typecheck, lint, the console's component tests (vitest), then jest
// (unit, integration, e2e).
// Extra arguments go to jest (e.g. `npm test -- test/unit`).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureServices } from './services.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const step = (name, cmd, args) => {
  console.error(`\n== ${name}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`${name} failed`);
    process.exit(r.status ?? 1);
  }
};

if (!(await ensureServices())) process.exit(1);
step('build', 'node', ['scripts/ensure-built.mjs']);
step('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
step('typecheck console', 'npx', ['tsc', '-p', 'apps/console/tsconfig.json']);
step('lint', 'npx', ['eslint', '.']);
step('vitest', 'npx', ['vitest', 'run', '--root', 'apps/console']);
step('jest', 'npx', ['jest', '--json', '--outputFile=.jest-report.json', ...process.argv.slice(2)]);
