/** `codemie idp ...` against a real database, then the server uses what the CLI created. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, tempDir, type TestPlatform } from '../../../server/test/helpers.js';
import { authHeaders, clientToken, passwordToken } from '../../../server/test/identity-helpers.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/index.js');
const run = promisify(execFile);

describe('codemie idp', () => {
  const tmp = tempDir();
  const env = { ...process.env, CODEMIE_DATA_DIR: tmp.dir, CODEMIE_SCRYPT_N: '1024', LOG_LEVEL: 'silent' };
  async function idp(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run(process.execPath, [cli, 'idp', ...args], { env });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  beforeAll(() => {
    if (!existsSync(cli)) throw new Error(`build the CLI first (npx tsc -b packages/cli): ${cli} is missing`);
  });
  afterAll(() => tmp.cleanup());

  it('manages users and clients, with --json, clear errors and exit codes', async () => {
    const add = await idp('--json', 'user', 'add', 'alice', '--email', 'alice@example.com', '--projects', 'demo,alpha', '--admin-projects', 'alpha');
    expect(add.code).toBe(0);
    const created = JSON.parse(add.stdout);
    expect(created.user).toMatchObject({ username: 'alice', projects: ['alpha', 'demo'], adminProjects: ['alpha'], roles: ['developer'] });
    expect(created.password).toMatch(/^\S{24}$/);
    expect(JSON.stringify(created.user)).not.toContain('scrypt');

    const dup = await idp('user', 'add', 'alice', '--password', 'another-pass');
    expect(dup.code).toBe(4);
    expect(dup.stderr).toContain("error: User already exists: A user named 'alice' already exists");

    expect((await idp('user', 'set-password', 'alice', '--password', 'alice-password-1')).code).toBe(0);
    expect((await idp('user', 'set-role', 'alice', 'admin,developer')).stdout).toContain('roles=admin,developer');
    // The administered project stays a membership when only --projects is given.
    expect((await idp('user', 'set-projects', 'alice', '--projects', 'demo')).stdout).toContain('projects=alpha,demo  admin_projects=alpha');
    const missing = await idp('user', 'set-role', 'nobody', 'admin');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("No user named 'nobody'");
    expect((await idp('user', 'add', 'bad name!')).code).toBe(2);
    expect((await idp('user', 'set-projects', 'alice')).code).toBe(2);

    const bot = await idp('client', 'add', 'ci-bot', '--secret', '--projects', 'demo');
    expect(bot.code).toBe(0);
    expect(bot.stdout).toContain('shown only once');
    const secret = /client_secret: (\S+)/.exec(bot.stdout)![1];
    expect((await idp('client', 'add', 'web', '--public')).code).toBe(0);
    expect((await idp('client', 'add', 'x')).code).toBe(2);
    const clients = JSON.parse((await idp('--json', 'client', 'list')).stdout);
    expect(clients.map((c: { clientId: string; publicClient: boolean }) => [c.clientId, c.publicClient])).toEqual([
      ['ci-bot', false],
      ['web', true],
    ]);
    expect((await idp('user', 'list')).stdout).toContain('service-account-ci-bot');

    // The server sees what the CLI wrote.
    let p: TestPlatform | undefined;
    try {
      p = await startTestPlatform({ env: { CODEMIE_DATA_DIR: tmp.dir } });
      const me = await p.app.inject({ url: '/v1/user', headers: authHeaders(await passwordToken(p, 'alice', 'alice-password-1')) });
      expect(me.json()).toMatchObject({ username: 'alice', is_admin: true, applications: ['alpha', 'demo'], applications_admin: ['alpha'] });
      const svc = await p.app.inject({ url: '/v1/user', headers: authHeaders(await clientToken(p, 'ci-bot', secret)) });
      expect(svc.json()).toMatchObject({ username: 'service-account-ci-bot', applications: ['demo'] });

      const rotated = JSON.parse((await idp('--json', 'client', 'rotate-secret', 'ci-bot')).stdout).client_secret;
      await expect(clientToken(p, 'ci-bot', secret)).rejects.toThrow(/401/);
      expect(await clientToken(p, 'ci-bot', rotated)).toBeTruthy();

      const keysBefore = JSON.parse((await idp('--json', 'key', 'list')).stdout);
      expect(keysBefore).toHaveLength(1);
      expect((await idp('key', 'rotate')).code).toBe(0);
      const keysAfter = JSON.parse((await idp('--json', 'key', 'list')).stdout);
      expect(keysAfter.filter((k: { active: boolean }) => k.active)).toHaveLength(1);
      expect(keysAfter.find((k: { kid: string }) => k.kid === keysBefore[0].kid)).toMatchObject({ active: false, published: true });
    } finally {
      await p?.stop();
    }

    expect((await idp('client', 'remove', 'ci-bot')).code).toBe(0);
    expect((await idp('user', 'list')).stdout).not.toContain('service-account-ci-bot');
    expect((await idp('user', 'remove', 'alice')).code).toBe(0);
    expect((await idp('user', 'remove', 'alice')).code).toBe(3);
  }, 180_000); // ~25 CLI processes
});
