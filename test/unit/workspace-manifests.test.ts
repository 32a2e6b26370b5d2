import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';

// The lint rule reports an import a workspace does not declare; this is the other direction: a dependency a
// workspace declares but no longer imports (left behind when code moved), and tsconfig references that do not
// match the @jobs imports (a missing one breaks a clean build, an extra one builds a package for nothing).
const root = path.resolve(__dirname, '..', '..');

const workspaces = ['packages', 'apps'].flatMap((parent) =>
  readdirSync(path.join(root, parent), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(root, parent, d.name, 'package.json')))
    .map((d) => `${parent}/${d.name}`),
);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : sources(p);
    return /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

/** Package names the workspace's sources import, require or resolve. */
function importedPackages(workspace: string): Set<string> {
  const out = new Set<string>();
  const spec = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire(?:\.resolve)?\(\s*|^import\s+)['"]([^'"]+)['"]/gm;
  for (const file of sources(path.join(root, workspace, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(spec)) {
      const s = m[1]!;
      if (s.startsWith('.') || s.startsWith('node:')) continue;
      out.add(s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!);
    }
  }
  return out;
}

/** Declared dependencies that are used without an import statement of the workspace's own sources. */
const USED_OTHERWISE: Record<string, string[]> = {
  // The Prisma client is generated into packages/db/src/generated, whose code imports it.
  'packages/db': ['@prisma/client'],
};

describe.each(workspaces)('%s', (workspace) => {
  const manifest = JSON.parse(readFileSync(path.join(root, workspace, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const imported = importedPackages(workspace);

  it('declares no dependency its code does not import', () => {
    const unused = Object.keys(manifest.dependencies ?? {}).filter((d) => !imported.has(d) && !(USED_OTHERWISE[workspace] ?? []).includes(d));
    expect(unused).toEqual([]);
  });

  it('references in tsconfig.json exactly the @jobs packages it imports', () => {
    const tsconfig = readFileSync(path.join(root, workspace, 'tsconfig.json'), 'utf8');
    // Project references for the workspaces tsc builds; the console, bundled by Vite, maps @jobs/* through `paths`.
    const referenced = [
      ...[...tsconfig.matchAll(/"path":\s*"[^"]*\/([\w-]+)"/g)].map((m) => `@jobs/${m[1]}`),
      ...[...tsconfig.matchAll(/"(@jobs\/[\w-]+)":\s*\[/g)].map((m) => m[1]!),
    ].sort();
    const jobs = [...imported].filter((p) => p.startsWith('@jobs/')).sort();
    expect(referenced).toEqual(jobs);
  });
});
