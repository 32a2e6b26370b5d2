// Lints source texts as if they were files of the repo, with the repo's own eslint.config.mjs; prints
// [{ file, rules: [ruleId...] }] as JSON. Read from stdin: [{ file, code }]. Used by test/unit/layer-lint.test.ts
// (ESLint's config loading needs real ESM, which jest's module sandbox does not give).
import { ESLint } from 'eslint';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let input = '';
for await (const chunk of process.stdin) input += chunk;
const eslint = new ESLint({ cwd: root });
const out = [];
for (const { file, code } of JSON.parse(input)) {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  out.push({ file, rules: (result?.messages ?? []).map((m) => m.ruleId ?? m.message) });
}
process.stdout.write(JSON.stringify(out));
