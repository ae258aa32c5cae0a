/**
 * The vitest projects (vitest.config.ts): `unit` holds only pure test files (no platform, server
 * process, database, Redis or model), so `npx vitest run --project unit` stays a loop of seconds.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UNIT } from '../../vitest.config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** What integration tests use: any of these in a file makes it one. */
const HEAVY = /startTestPlatform|startServerProcess|startWorkflowEnv|freshPostgres|createPlatform|openStore|ioredis|TEST_REDIS_URL|TEST_DATABASE_URL|fetch-test-model|startTestLlmServer|createLocalModel|createLlmService|child_process|worker_threads/;

describe('vitest projects', () => {
  const tracked = execFileSync('git', ['ls-files', '*.test.ts'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);

  it('every unit file exists and is pure', () => {
    for (const f of UNIT) {
      expect(tracked, `${f} is listed in UNIT but not a tracked test file`).toContain(f);
      // this file runs git, nothing else; services.test.ts only names the variables
      if (f === 'tests/meta/projects.test.ts' || f === 'packages/server/test/services.test.ts') continue;
      expect(HEAVY.test(readFileSync(path.join(root, f), 'utf8')), `${f} is in the unit project but starts real things`).toBe(false);
    }
  });
});
