#!/usr/bin/env node
// `npm test`: type-check and build every package, type-check the tests and benchmarks, make sure the real services the suites
// use are running (PostgreSQL, Redis: started on private ports unless TEST_DATABASE_URL /
// TEST_REDIS_URL are given), then run every test with vitest. Extra args go to vitest.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });

console.log('> build (tsc -b)');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (run(process.execPath, [tsc, '-b', 'packages/server', 'packages/sdk', 'packages/cli', 'packages/local-llm']).status !== 0) {
  console.error('Type-check/build failed.');
  process.exit(1);
}
console.log('> type-check tests and benchmarks (tsconfig.test.json)');
if (run(process.execPath, [tsc, '-p', 'tsconfig.test.json']).status !== 0) {
  console.error('Type-check of tests/benchmarks failed.');
  process.exit(1);
}

const wanted = [];
if (!process.env.TEST_DATABASE_URL) wanted.push('postgres');
if (!process.env.TEST_REDIS_URL) wanted.push('redis');
for (const svc of wanted) {
  const res = spawnSync('bash', [path.join(root, 'scripts/services.sh'), 'start', svc], { cwd: root, encoding: 'utf8' });
  if (res.status !== 0) {
    console.error(`\n!!! could not start ${svc} for the tests: ${(res.stderr || '').trim()}`);
    // Under CI a missing service fails the run at once (the suites would fail too: test/services.ts).
    if (/^(1|true|yes)$/i.test(process.env.CI ?? '')) {
      console.error(`!!! CI=true: ${svc} is required. Install it (see .ci/run) or set the TEST_*_URL variable.\n`);
      process.exit(1);
    }
    console.error(`!!! suites that need ${svc} will be skipped or fail. Install it (see .ci/run) or set the TEST_*_URL variable.\n`);
    continue;
  }
  for (const m of res.stdout.matchAll(/^export (\w+)=(.*)$/gm)) process.env[m[1]] = m[2];
  console.log(`> ${svc} ready`);
}

const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const res = run(process.execPath, [vitest, 'run', ...process.argv.slice(2)], { env: process.env });
process.exit(res.status ?? 1);
