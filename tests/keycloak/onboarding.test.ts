/**
 * `codemie keycloak ...` against a REAL Keycloak (scripts/keycloak.sh: the server distribution
 * from Maven Central in dev mode), then tokens from Keycloak with both grants and their claims.
 * Keycloak is started once for this file (or reused: KEYCLOAK_URL set, or already running) and
 * stopped afterwards if this file started it (KEYCLOAK_KEEP=1 leaves it running).
 * Skipped ONLY when Maven Central is unreachable (exit 3 from the script), with a loud warning.
 */
import { randomBytes } from 'node:crypto';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../packages/server/test/helpers.js';
import { startServerProcess, type ServerProcess } from '../../packages/server/test/process.js';
import { buildPackages, claims, codemie, freePort, keycloakScript, parseExports, token } from './keycloak.js';

const external = Boolean(process.env.KEYCLOAK_URL);
let unreachable = false;
if (!external) {
  const fetched = await keycloakScript('fetch');
  if (fetched.code === 3) {
    unreachable = true;
    const bar = '!'.repeat(78);
    console.warn(`\n${bar}\n!!! MAVEN CENTRAL IS UNREACHABLE: the Keycloak suite is SKIPPED.\n${fetched.stderr}\n${bar}\n`);
  } else if (fetched.code !== 0) {
    throw new Error(`scripts/keycloak.sh fetch failed (${fetched.code}):\n${fetched.stderr}`);
  }
}

const realm = `ct-${randomBytes(4).toString('hex')}`;
const svc = 'codemie-svc-test';
const svcAdmin = 'codemie-svc-admin';
const password = `pw-${randomBytes(6).toString('hex')}`;

describe.skipIf(unreachable)('codemie keycloak (real Keycloak)', () => {
  let url = '';
  let adminUser = 'admin';
  let adminPassword = 'admin';
  let startedHere = false;
  let tokenUrl = '';
  let svcSecret = '';
  let svcAdminSecret = '';
  const env = () => ({ KEYCLOAK_URL: url, KEYCLOAK_ADMIN_USER: adminUser, KEYCLOAK_ADMIN_PASSWORD: adminPassword, KEYCLOAK_REALM: realm });
  const kc = async (...args: string[]) => {
    const r = await codemie(args, env());
    return r;
  };
  const json = async (...args: string[]) => {
    const r = await kc(...args, '--json');
    expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  beforeAll(async () => {
    const [built, kcEnv] = await Promise.all([
      buildPackages(),
      (async () => {
        if (external) return { ...process.env } as Record<string, string>;
        const before = await keycloakScript('status');
        const started = await keycloakScript('start');
        if (started.code !== 0) throw new Error(`scripts/keycloak.sh start failed:\n${started.stderr}`);
        startedHere = before.code !== 0;
        console.log(started.stderr.trim());
        return parseExports(started.stdout);
      })(),
    ]);
    if (built.code !== 0) throw new Error(`tsc -b failed:\n${built.stdout}${built.stderr}`);
    url = kcEnv.KEYCLOAK_URL!;
    adminUser = kcEnv.KEYCLOAK_ADMIN_USER ?? 'admin';
    adminPassword = kcEnv.KEYCLOAK_ADMIN_PASSWORD ?? 'admin';
    tokenUrl = `${url}/realms/${realm}/protocol/openid-connect/token`;
  }, 420_000);

  afterAll(async () => {
    if (url) {
      try {
        const admin = new KcAdminClient({ baseUrl: url, realmName: 'master' });
        await admin.auth({ grantType: 'password', clientId: 'admin-cli', username: adminUser, password: adminPassword });
        await admin.realms.del({ realm });
      } catch {
        /* best effort */
      }
    }
    if (startedHere && !process.env.KEYCLOAK_KEEP) await keycloakScript('stop');
  }, 120_000);

  it('refuses a realm that does not exist unless --create-realm', async () => {
    const r = await kc('create-sdk-client');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`error: realm "${realm}" does not exist at ${url} (pass --create-realm to create it)`);
  });

  it('create-sdk-client creates the realm, scope, roles and a public client; re-running updates it', async () => {
    const first = await kc('create-sdk-client', '--create-realm');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`created public client codemie-sdk in realm ${realm}`);
    expect(first.stderr).toContain(`created realm ${realm}`);
    expect(first.stderr).toContain('created client scope codemie');
    expect(first.stderr).toContain('user profile: declared applications, applications_admin');

    const again = await json('create-sdk-client', '--create-realm');
    expect(again).toMatchObject({ client_id: 'codemie-sdk', outcome: 'updated', public: true, direct_access_grants: true, standard_flow: false, token_url: tokenUrl });
  }, 120_000);

  it('create-service-client prints the secret once; re-running updates projects/role without a new secret', async () => {
    const created = await json('create-service-client', svc, '--project', 'alpha', '--project', 'beta', '--role', 'admin');
    expect(created).toMatchObject({ client_id: svc, outcome: 'created', service_account: `service-account-${svc}`, projects: ['alpha', 'beta'], role: 'admin' });
    expect(created.client_secret).toMatch(/^\S{16,}$/);
    svcSecret = created.client_secret as string;

    const human = await kc('create-service-client', svc, '--project', 'alpha', '--role', 'developer');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`updated existing service client ${svc}`);
    expect(human.stdout).toContain('client_secret unchanged');
    expect(human.stdout).not.toContain(svcSecret);

    const admin = await json('create-service-client', svcAdmin, '--project', 'alpha,gamma', '--admin-project', 'gamma', '--role', 'admin');
    expect(admin).toMatchObject({ outcome: 'created', projects: ['alpha', 'gamma'], admin_projects: ['gamma'], role: 'admin' });
    svcAdminSecret = admin.client_secret as string;

    const list = (await json('list')) as unknown as Array<Record<string, unknown>>;
    expect(list).toEqual([
      { client_id: 'codemie-sdk', kind: 'sdk', enabled: true },
      { client_id: svcAdmin, kind: 'service', enabled: true, service_account: `service-account-${svcAdmin}`, projects: ['alpha', 'gamma'], admin_projects: ['gamma'], roles: ['admin'] },
      { client_id: svc, kind: 'service', enabled: true, service_account: `service-account-${svc}`, projects: ['alpha'], admin_projects: [], roles: ['developer'] },
    ]);
  }, 120_000);

  it('create-user creates a password-grant user; re-running updates it', async () => {
    const created = await json('create-user', 'alice', '--password', password, '--project', 'alpha', '--role', 'developer', '--email', 'alice@example.com');
    expect(created).toMatchObject({ username: 'alice', outcome: 'created', password_set: true, projects: ['alpha'], role: 'developer' });
    const again = await kc('create-user', 'alice', '--project', 'alpha', '--project', 'delta', '--role', 'developer');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('updated existing user alice');
    expect(again.stdout).toContain('(password unchanged)');
    const noPassword = await kc('create-user', 'bob', '--project', 'alpha');
    expect(noPassword.code).toBe(1);
    expect(noPassword.stderr.trim()).toBe('error: --password is required to create user bob');
    const badRole = await kc('create-user', 'bob', '--password', 'x', '--project', 'alpha', '--role', 'root');
    expect(badRole.code).toBe(1);
    expect(badRole.stderr.trim()).toBe('error: --role must be one of developer, admin (got "root")');
  }, 60_000);

  it('password grant (codemie-sdk + user) yields applications, realm roles and preferred_username', async () => {
    const res = await token(tokenUrl, { grant_type: 'password', client_id: 'codemie-sdk', username: 'alice', password });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'Bearer' });
    const c = claims(res.body.access_token);
    expect(c.iss).toBe(`${url}/realms/${realm}`);
    expect(c.azp).toBe('codemie-sdk');
    expect(c.preferred_username).toBe('alice');
    expect(c.email).toBe('alice@example.com');
    expect(c.applications).toEqual(['alpha', 'delta']);
    expect((c.realm_access as { roles: string[] }).roles).toContain('developer');
    expect((c.realm_access as { roles: string[] }).roles).not.toContain('admin');

    const wrong = await token(tokenUrl, { grant_type: 'password', client_id: 'codemie-sdk', username: 'alice', password: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_grant');
  });

  it('client_credentials grant (service client) yields the service account claims', async () => {
    const res = await token(tokenUrl, { grant_type: 'client_credentials', client_id: svc, client_secret: svcSecret });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const c = claims(res.body.access_token);
    expect(c.iss).toBe(`${url}/realms/${realm}`);
    expect(c.preferred_username).toBe(`service-account-${svc}`);
    expect(c.applications).toEqual(['alpha']);
    expect(c.applications_admin).toBeUndefined();
    expect((c.realm_access as { roles: string[] }).roles).toContain('developer');
    expect((c.realm_access as { roles: string[] }).roles).not.toContain('admin');

    const admin = claims((await token(tokenUrl, { grant_type: 'client_credentials', client_id: svcAdmin, client_secret: svcAdminSecret })).body.access_token);
    expect(admin.preferred_username).toBe(`service-account-${svcAdmin}`);
    expect(admin.applications).toEqual(['alpha', 'gamma']);
    expect(admin.applications_admin).toEqual(['gamma']);
    expect((admin.realm_access as { roles: string[] }).roles).toContain('admin');
  });

  it('rotate-secret issues a new secret and the old one stops working', async () => {
    const rotated = await json('rotate-secret', svcAdmin);
    const secret = rotated.client_secret as string;
    expect(secret).toMatch(/^\S{16,}$/);
    expect(secret).not.toBe(svcAdminSecret);
    const old = await token(tokenUrl, { grant_type: 'client_credentials', client_id: svcAdmin, client_secret: svcAdminSecret });
    expect(old.status).toBe(401);
    expect(old.body.error).toBe('unauthorized_client');
    const fresh = await token(tokenUrl, { grant_type: 'client_credentials', client_id: svcAdmin, client_secret: secret });
    expect(fresh.status).toBe(200);
    svcAdminSecret = secret;

    const human = await kc('rotate-secret', svc);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^client_id=${svc}\\nclient_secret=\\S{16,}\\n$`));
    svcSecret = /client_secret=(\S+)/.exec(human.stdout)![1]!;
  });

  it(
    'our server accepts the Keycloak tokens of both grants (GET /v1/user)',
    async () => {
      const tmp = tempDir();
      const server: ServerProcess = await startServerProcess({
        CODEMIE_DATA_DIR: tmp.dir,
        CODEMIE_IDP: 'external',
        CODEMIE_TRUSTED_ISSUERS: `${url}/realms/${realm}`,
      });
      try {
        const user = await token(tokenUrl, { grant_type: 'password', client_id: 'codemie-sdk', username: 'alice', password });
        const service = await token(tokenUrl, { grant_type: 'client_credentials', client_id: svc, client_secret: svcSecret });
        for (const [tok, username, projects] of [
          [user.body.access_token, 'alice', ['alpha', 'delta']],
          [service.body.access_token, `service-account-${svc}`, ['alpha']],
        ] as const) {
          const res = await fetch(`${server.url}/v1/user`, { headers: { authorization: `Bearer ${String(tok)}` } });
          const body = (await res.json()) as Record<string, unknown>;
          expect(res.status, JSON.stringify(body)).toBe(200);
          expect(body.username).toBe(username);
          expect(body.applications).toEqual(projects);
          expect((body.projects as Array<{ name: string }>).map((p) => p.name).sort()).toEqual([...projects].sort());
        }
        const bad = await fetch(`${server.url}/v1/user`, { headers: { authorization: 'Bearer not-a-token' } });
        expect(bad.status).toBe(401);
      } finally {
        await server.stop();
        tmp.cleanup();
      }
    },
    60_000,
  );

  it('delete removes a client; unknown clients are a clear error', async () => {
    const del = await kc('delete', svcAdmin);
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout.trim()).toBe(`deleted client ${svcAdmin} from realm ${realm}`);
    const list = (await json('list')) as unknown as Array<{ client_id: string }>;
    expect(list.map((c) => c.client_id)).toEqual(['codemie-sdk', svc]);
    for (const args of [['delete', svcAdmin], ['rotate-secret', 'nope']]) {
      const r = await kc(...args);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(`error: client "${args[1]}" not found in realm ${realm}`);
    }
  });

  it('bad admin credentials and an unreachable URL give one-line errors', async () => {
    const bad = await codemie(['list'], { ...env(), KEYCLOAK_ADMIN_PASSWORD: 'wrong-password' });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(
      `error: Keycloak at ${url} rejected the admin credentials for "${adminUser}" in realm master ` +
        '(401: invalid_grant: Invalid user credentials); check --admin-user/--admin-password',
    );
    const port = await freePort();
    const down = await codemie(['list', '--url', `http://127.0.0.1:${port}`], env());
    expect(down.code).toBe(1);
    expect(down.stderr.trim()).toBe(`error: cannot reach Keycloak at http://127.0.0.1:${port}: ECONNREFUSED`);
    const noUrl = await codemie(['list'], { ...env(), KEYCLOAK_URL: '' });
    expect(noUrl.stderr.trim()).toBe('error: no Keycloak URL: pass --url or set KEYCLOAK_URL');
  });
});
