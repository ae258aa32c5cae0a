#!/usr/bin/env node
// `npm start`: build what is stale (tsc -b is incremental, ~1 s when up to date), then run
// the platform in this process so signals reach it directly.
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const build = spawnSync(process.execPath, [tsc, '-b', 'packages/server', 'packages/sdk', 'packages/cli', 'packages/local-llm'], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) {
  console.error('Build failed; see the errors above.');
  process.exit(build.status ?? 1);
}
const role = process.argv[2];
if (role === 'worker') process.env.CODEMIE_ROLE = 'worker';
const { main } = await import(pathToFileURL(path.join(root, 'packages/server/dist/main.js')).href);
await main();
