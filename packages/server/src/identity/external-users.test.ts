/**
 * External identity provider (CODEMIE_IDP=external, tokens of a trusted issuer): users recorded
 * on first sight, effective membership = stored memberships ∪ token claims, roles from the token,
 * user creation and passwords through Keycloak's admin API when configured (409 naming the
 * settings otherwise). SQLite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, type TestPlatform } from '../../test/helpers.js';
import { startFakeIssuer, type FakeIssuer } from '../../test/fake-issuer.js';
import { startFakeKeycloakAdmin, type FakeKeycloakAdmin } from '../../test/fake-keycloak-admin.js';

describe.each(DB_KINDS)('external IdP users on %s', (db) => {
  let ext: FakeIssuer;
  let kc: FakeKeycloakAdmin;
  let p: TestPlatform;
  let withKc: TestPlatform;
  const adminSub = randomUUID();
  const userSub = randomUUID();
  const token = (sub: string, username: string, extra: Record<string, unknown> = {}) =>
    ext.sign({ sub, preferred_username: username, email: `${username}@corp.example`, name: username.toUpperCase(), azp: 'codemie-sdk', ...extra });
  const call = async (platform: TestPlatform, t: string, method: string, url: string, payload?: unknown) =>
    platform.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${t}` },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });

  beforeAll(async () => {
    ext = await startFakeIssuer();
    kc = await startFakeKeycloakAdmin();
    p = await startTestPlatform({ db, env: { CODEMIE_IDP: 'external', CODEMIE_TRUSTED_ISSUERS: ext.issuer } });
    withKc = await startTestPlatform({
      db,
      env: {
        CODEMIE_IDP: 'external',
        CODEMIE_TRUSTED_ISSUERS: ext.issuer,
        CODEMIE_KEYCLOAK_ADMIN_URL: kc.url,
        CODEMIE_KEYCLOAK_ADMIN_REALM: kc.realm,
        CODEMIE_KEYCLOAK_ADMIN_CLIENT_ID: kc.clientId,
        CODEMIE_KEYCLOAK_ADMIN_CLIENT_SECRET: kc.clientSecret,
      },
    });
  });
  afterAll(async () => {
    await p?.stop();
    await withKc?.stop();
    await ext?.close();
    await kc?.close();
  });

  it('records users from their tokens; claims and stored memberships add up', async () => {
    const admin = await token(adminSub, 'kc-admin', { realm_access: { roles: ['admin'] } });
    const user = await token(userSub, 'kc-user', { applications: ['kc-claimed'], applications_admin: 'kc-claimed-admin' });
    const me = (await call(p, user, 'GET', '/v1/user')).json();
    // Claims are read as the IdP gives them (the two attributes are independent lists).
    expect(me).toMatchObject({ user_id: userSub, username: 'kc-user', applications: ['kc-claimed'], applications_admin: ['kc-claimed-admin'] });
    // The claimed projects became project rows; the user is listed with its source.
    const apps = (await call(p, admin, 'GET', '/v1/admin/applications')).json().applications.map((a: any) => a.name);
    expect(apps).toEqual(expect.arrayContaining(['kc-claimed', 'kc-claimed-admin']));
    const listed = (await call(p, admin, 'GET', '/v1/admin/users?search=kc-user')).json().data;
    expect(listed).toEqual([
      expect.objectContaining({ id: userSub, username: 'kc-user', email: 'kc-user@corp.example', name: 'KC-USER', auth_source: 'keycloak', is_admin: false }),
    ]);

    // A stored membership joins the claims at once, for the token already held.
    expect((await call(p, admin, 'POST', '/v1/projects', { name: 'stored-proj' })).statusCode).toBe(201);
    expect((await call(p, admin, 'POST', '/v1/projects/stored-proj/assignment', { user_id: userSub, is_project_admin: true })).statusCode).toBe(200);
    expect((await call(p, user, 'GET', '/v1/user')).json()).toMatchObject({
      applications: ['kc-claimed', 'stored-proj'],
      applications_admin: ['kc-claimed-admin', 'stored-proj'],
    });
    expect((await call(p, user, 'PATCH', '/v1/projects/stored-proj', { description: 'managed by a Keycloak user' })).statusCode).toBe(200);
    // A claim-granted project admin manages that project too.
    expect((await call(p, user, 'PATCH', '/v1/projects/kc-claimed-admin', { description: 'from the claim' })).statusCode).toBe(200);
  });

  it('without the Keycloak admin API: creation and passwords answer 409 naming the settings; roles belong to the IdP', async () => {
    const admin = await token(adminSub, 'kc-admin', { realm_access: { roles: ['admin'] } });
    const create = await call(p, admin, 'POST', '/v1/admin/users', { email: 'n@corp.example', username: 'newcomer', password: 'long-enough-pw-1' });
    expect(create.statusCode).toBe(409);
    expect(create.json().error.message).toBe('User creation is not available');
    expect(create.json().error.details).toContain('CODEMIE_KEYCLOAK_ADMIN_URL');
    const pw = await call(p, admin, 'PUT', `/v1/admin/users/${userSub}/password`, { new_password: 'long-enough-pw-1' });
    expect([pw.statusCode, pw.json().error.message]).toEqual([409, 'Password change is not available']);
    const role = await call(p, admin, 'PUT', `/v1/admin/users/${userSub}`, { is_admin: true });
    expect([role.statusCode, role.json().error.message]).toEqual([400, 'Roles are managed by the identity provider']);
    const email = await call(p, admin, 'PUT', `/v1/admin/users/${userSub}`, { email: 'other@corp.example' });
    expect([email.statusCode, email.json().error.message]).toEqual([400, 'Email cannot be changed in IDP mode']);
    expect((await call(p, admin, 'PUT', `/v1/admin/users/${userSub}`, { project_limit: 5 })).json().project_limit).toBe(5);
  });

  it('deactivation refuses a valid token of the external IdP', async () => {
    const admin = await token(adminSub, 'kc-admin', { realm_access: { roles: ['admin'] } });
    const sub = randomUUID();
    const t = await token(sub, 'kc-leaver');
    expect((await call(p, t, 'GET', '/v1/user')).statusCode).toBe(200);
    expect((await call(p, admin, 'DELETE', `/v1/admin/users/${sub}`)).statusCode).toBe(200);
    const refused = await call(p, t, 'GET', '/v1/user');
    expect([refused.statusCode, refused.json().error.message]).toEqual([401, 'Account is deactivated']);
    expect((await call(p, admin, 'PUT', `/v1/admin/users/${sub}`, { is_active: true })).json().is_active).toBe(true);
    expect((await call(p, t, 'GET', '/v1/user')).statusCode).toBe(200);
  });

  it('with the Keycloak admin API: users are created there, assignable before their first login', async () => {
    const admin = await token(adminSub, 'kc-admin', { realm_access: { roles: ['admin'] } });
    const res = await call(withKc, admin, 'POST', '/v1/admin/users', {
      email: 'Fresh@Corp.example',
      username: 'fresh',
      password: 'long-enough-pw-1',
      name: 'Fresh Person',
      is_auditor: true,
    });
    expect(res.statusCode).toBe(200);
    const id = res.json().id;
    expect(res.json()).toMatchObject({ username: 'fresh', email: 'fresh@corp.example', auth_source: 'keycloak', is_auditor: true });
    expect(kc.users).toEqual([
      expect.objectContaining({
        id,
        username: 'fresh',
        email: 'fresh@corp.example',
        firstName: 'Fresh',
        password: 'long-enough-pw-1',
        realmRoles: ['auditor'],
      }),
    ]);
    const dup = await call(withKc, admin, 'POST', '/v1/admin/users', { email: 'other@corp.example', username: 'fresh', password: 'long-enough-pw-1' });
    expect([dup.statusCode, dup.json().error.message]).toEqual([409, 'Username already taken']);

    await call(withKc, admin, 'POST', '/v1/projects', { name: 'welcome' });
    expect((await call(withKc, admin, 'POST', '/v1/projects/welcome/assignment', { user_id: id, is_project_admin: false })).statusCode).toBe(200);
    const first = await token(id, 'fresh');
    expect((await call(withKc, first, 'GET', '/v1/user')).json()).toMatchObject({ user_id: id, applications: ['welcome'] });

    expect((await call(withKc, admin, 'PUT', `/v1/admin/users/${id}/password`, { new_password: 'another-long-pw-2' })).statusCode).toBe(200);
    expect(kc.users[0].password).toBe('another-long-pw-2');
  });
});
