// `npm start`: check Redis/PostgreSQL, install if needed, build, apply migrations, then run the API and one
// worker process (which also runs the scheduler) until Ctrl-C. Prints the URLs and the operator key.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureServices } from './services.mjs';
import { SERVICE_NODE_FLAGS } from './node-flags.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

// Services first: a missing one is said at once, not after a minute of installing and building.
if (!(await ensureServices())) {
  console.error('\nnpm start needs PostgreSQL and Redis; start them as shown above, then run npm start again.');
  process.exit(1);
}
run('node', ['scripts/ensure-built.mjs']);
run('node', ['packages/db/dist/cli/migrate.js']);

const env = { ...process.env };
let keySource = 'BOOTSTRAP_API_KEY';
if (!env.BOOTSTRAP_API_KEY) {
  // No key given: create one on the first start and keep it (git-ignored) so later starts reuse it.
  const keyFile = path.join(root, '.jobsvc', 'bootstrap-key');
  if (!fs.existsSync(keyFile)) {
    fs.mkdirSync(path.dirname(keyFile), { recursive: true });
    fs.writeFileSync(keyFile, `jsk_${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  }
  env.BOOTSTRAP_API_KEY = fs.readFileSync(keyFile, 'utf8').trim();
  keySource = path.relative(root, keyFile);
}
const port = env.PORT ?? '8283';
const base = (env.PUBLIC_URL ?? `http://127.0.0.1:${port}`).replace(/\/$/, '');

const children = [
  spawn(process.execPath, [...SERVICE_NODE_FLAGS, 'apps/api/dist/main.js'], { cwd: root, env, stdio: 'inherit' }),
  spawn(process.execPath, [...SERVICE_NODE_FLAGS, 'apps/worker/dist/main.js'], { cwd: root, env, stdio: 'inherit' }),
];
let stopping = false;
const stop = (signal) => {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill(signal);
};
for (const c of children) {
  c.on('exit', (code) => {
    if (!stopping) {
      console.error(`a service process exited (code ${code}); stopping the others`);
      stop('SIGTERM');
    }
    if (children.every((x) => x.exitCode !== null || x.signalCode !== null)) process.exit(stopping ? 0 : 1);
  });
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

// Announce once the API answers.
for (let i = 0; i < 100; i++) {
  try {
    const r = await fetch(`${base}/api/health/live`);
    if (r.ok) break;
  } catch {
    // not up yet
  }
  await new Promise((r) => setTimeout(r, 200));
}
console.log(`
  Job service is running
    API          ${base}/api
    Docs         ${base}/docs   (OpenAPI: ${base}/api/openapi.json)
    Console      ${base}/console   (sign in with the operator key below)
    Bull Board   ${base}/admin/queues
    Metrics      ${base}/metrics
    Operator key ${env.BOOTSTRAP_API_KEY}   (from ${keySource})

  Try: curl -s -X POST ${base}/api/jobs -H "Authorization: Bearer ${env.BOOTSTRAP_API_KEY}" \\
         -H 'Content-Type: application/json' -d '{"task":"noop"}'
`);
