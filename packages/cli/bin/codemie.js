#!/usr/bin/env node
// The `codemie` command as npm links it (node_modules/.bin/codemie, so `npx codemie` works right
// after `npm ci`): a committed file, because npm links a bin only when its target exists at
// install time and the CLI itself is built output (dist/). It runs the built CLI, building the
// workspace first (tsc -b, output on stderr) when dist/ is missing.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.join(here, '..', 'dist', 'index.js');
if (!existsSync(entry)) {
  const root = path.resolve(here, '..', '..', '..');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  process.stderr.write('codemie: building the CLI first (tsc -b)...\n');
  const build = spawnSync(process.execPath, [tsc, '-b', 'packages/server', 'packages/sdk', 'packages/cli', 'packages/local-llm'], {
    cwd: root,
    stdio: ['ignore', 2, 2],
  });
  if (build.status !== 0 || !existsSync(entry)) {
    process.stderr.write('codemie: the build failed (see above); run `npm run build` and try again\n');
    process.exit(1);
  }
}
await import(pathToFileURL(entry).href);
