// The one-way import graph of the workspaces (docs/architecture.md, "Layers"): which of our packages each
// workspace may import. Everything not listed is a wrong-way import and fails `npm run lint` (and so `npm test`).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

export const root = path.dirname(fileURLToPath(import.meta.url));

/** Packages and the packages each may import. Apps may import any package, never another app. */
export const PACKAGE_IMPORTS = {
  core: [],
  observability: ['core'],
  db: ['core', 'observability'],
  queue: ['core', 'observability'],
  outbound: ['core', 'observability'],
  tasks: ['core', 'observability', 'outbound'],
  service: ['core', 'observability', 'db', 'queue', 'outbound'],
  // A client others install carries no server code.
  client: [],
};

/**
 * Apps that may import fewer packages than "any": the console runs in a browser, where only the client (no
 * server code, no Node built-ins) belongs.
 */
export const APP_IMPORTS = {
  console: ['client'],
};

const dirs = (parent) =>
  readdirSync(path.join(root, parent), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);

function zones() {
  const packages = dirs('packages');
  const apps = dirs('apps');
  const unknown = packages.filter((p) => !(p in PACKAGE_IMPORTS));
  if (unknown.length) throw new Error(`eslint.layers.mjs: no layer declared for packages/${unknown.join(', packages/')}`);
  const out = [];
  for (const [pkg, allowed] of Object.entries(PACKAGE_IMPORTS)) {
    const from = [...packages.filter((p) => p !== pkg && !allowed.includes(p)).map((p) => `./packages/${p}`), './apps'];
    const may = allowed.length ? `only @jobs/${allowed.join(', @jobs/')}` : 'nothing of ours';
    out.push({ target: `./packages/${pkg}`, from, message: `packages/${pkg} may import ${may} (one-way layers, docs/architecture.md).` });
  }
  for (const app of apps) {
    const from = apps.filter((a) => a !== app).map((a) => `./apps/${a}`);
    if (from.length) out.push({ target: `./apps/${app}`, from, message: 'an app never imports another app (one-way layers, docs/architecture.md).' });
    const allowed = APP_IMPORTS[app];
    if (allowed) {
      const others = packages.filter((p) => !allowed.includes(p)).map((p) => `./packages/${p}`);
      out.push({ target: `./apps/${app}`, from: others, message: `apps/${app} may import only @jobs/${allowed.join(', @jobs/')} (it runs in a browser; docs/architecture.md).` });
    }
  }
  return out;
}

/** Flat-config blocks: the layer rule, plus "every @jobs import resolves" so the rule cannot pass by not seeing one. */
export function layerConfig() {
  return [
    {
      files: ['packages/*/src/**/*.ts', 'apps/*/src/**/*.ts', 'apps/*/src/**/*.tsx'],
      plugins: { 'import-x': importX },
      settings: {
        // Resolve @jobs/* to the sources (tsconfig.json paths), built or not.
        'import-x/resolver-next': [createNodeResolver({ tsconfig: { configFile: path.join(root, 'tsconfig.json') }, extensions: ['.ts', '.tsx', '.d.ts', '.js', '.json'] })],
      },
      rules: {
        'import-x/no-restricted-paths': ['error', { basePath: root, zones: zones() }],
        'import-x/no-unresolved': ['error', { ignore: ['^(?!@jobs/)'] }],
        // Two imports of one module are usually a merge seam; one statement per module.
        'import-x/no-duplicates': ['error', { 'prefer-inline': true }],
      },
    },
    // Each workspace's package.json declares what its code imports (the root's list alone would hide a gap).
    ...['packages', 'apps'].flatMap((parent) =>
      dirs(parent).map((name) => ({
        files: [`${parent}/${name}/src/**/*.ts`, `${parent}/${name}/src/**/*.tsx`],
        ignores: ['packages/db/src/generated/**'],
        rules: { 'import-x/no-extraneous-dependencies': ['error', { packageDir: [path.join(root, parent, name)], devDependencies: false, includeInternal: true, includeTypes: true }] },
      })),
    ),
  ];
}
