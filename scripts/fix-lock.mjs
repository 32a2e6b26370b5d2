// The registry mirror here lacks some optional platform builds (@msgpackr-extract/*, @unrs/resolver-binding-*),
// so `npm install` writes a lock that `npm ci` rejects ("Missing: ... from lock file"). This adds an entry for
// each missing optional package with a platform that never matches, so npm ci accepts the lock and skips it.
// Run after every `npm install`: node scripts/fix-lock.mjs
import fs from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const pkgs = lock.packages;
let added = 0;
for (const [where, meta] of Object.entries(pkgs)) {
  for (const [name, range] of Object.entries(meta.optionalDependencies ?? {})) {
    const nested = `${where ? `${where}/` : ''}node_modules/${name}`;
    if (pkgs[nested] || pkgs[`node_modules/${name}`]) continue;
    const version = String(range).replace(/^[\^~=]/, '');
    pkgs[`node_modules/${name}`] = { version, optional: true, os: ['none'], cpu: ['none'] };
    added++;
  }
}
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`fix-lock: ${added} placeholder entr${added === 1 ? 'y' : 'ies'} added`);
