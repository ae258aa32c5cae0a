/** The Node SDK's generated wire types match the server's OpenAPI document (npm run gen:sdk-types regenerates them). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('generated SDK types', () => {
  it('packages/sdk/src/generated/api.ts is up to date with /openapi.json', () => {
    const res = spawnSync(process.execPath, [path.join(ROOT, 'scripts/sdk-types.mjs'), '--check'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(res.stderr + res.stdout).toContain('is up to date');
    expect(res.status).toBe(0);
  }, 90_000);
});
