/**
 * /v1/admin/users... and /v1/user(/data) through HTTP with real tokens (embedded IdP), on SQLite
 * and PostgreSQL: a user created through the API logs in and sees only its projects; roles,
 * deactivation and password changes take effect on tokens already issued.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, type TestPlatform } from '../../test/helpers.js';
import { adminToken, authHeaders, createUser, passwordToken, passwordTokens } from '../../test/identity-helpers.js';

const PW = 'a-long-password-1';

describe.each(DB_KINDS)('user admin API on %s', (db) => {
  let p: TestPlatform;
  const tok: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const req = (who: string, method: string, url: string, payload?: unknown) =>
    p.app.inject({ method: method as 'GET', url, headers: authHeaders(tok[who]), ...(payload !== undefined ? { payload: payload as object } : {}) });
  const err = (res: { json(): any }) => res.json().error as { message: string; details: unknown; help: string | null };

  beforeAll(async () => {
    p = await startTestPlatform({ db });
    tok.admin = await adminToken(p);
    ids.admin = (await req('admin', 'GET', '/v1/user')).json().user_id;
    for (const [name, roles] of [
      ['pam', ['developer']],
      ['plain', ['developer']],
      ['audit', ['developer', 'auditor']],
    ] as const) {
      ids[name] = (await createUser(p, { username: name, roles: [...roles] })).id;
      tok[name] = await passwordToken(p, name);
    }
    // pam administers team-a; plain is a member of team-b.
    await req('admin', 'POST', '/v1/projects', { name: 'team-a' });
    await req('admin', 'POST', '/v1/projects', { name: 'team-b' });
    await req('admin', 'POST', '/v1/projects/team-a/assignment', { user_id: ids.pam, is_project_admin: true });
    await req('admin', 'POST', '/v1/projects/team-b/assignment', { user_id: ids.plain, is_project_admin: false });
  });
  afterAll(async () => p?.stop());

  it('creates a local user who logs in and sees only its projects', async () => {
    const res = await req('admin', 'POST', '/v1/admin/users', { email: 'New.User@Example.com', username: 'newbie', password: PW, name: 'New User' });
    expect(res.statusCode).toBe(200);
    const u = res.json();
    expect(u).toMatchObject({
      username: 'newbie',
      email: 'new.user@example.com',
      name: 'New User',
      is_active: true,
      is_admin: false,
      is_maintainer: false,
      is_auditor: false,
      auth_source: 'local',
      email_verified: true,
      projects: [],
      project_limit: 3,
      knowledge_bases: [],
      deleted_at: null,
    });
    ids.newbie = u.id;
    tok.newbie = await passwordToken(p, 'newbie', PW);
    const me = (await req('newbie', 'GET', '/v1/user')).json();
    expect(me).toMatchObject({ user_id: u.id, username: 'newbie', applications: [], is_admin: false });
    expect((await req('newbie', 'GET', '/v1/projects')).json().data).toEqual([]);

    const grant = await req('admin', 'POST', `/v1/admin/users/${u.id}/projects`, { project_name: 'team-a' });
    expect(grant.json()).toEqual({ message: 'Project access granted successfully' });
    // Same token, new membership.
    expect((await req('newbie', 'GET', '/v1/projects')).json().data.map((r: any) => r.name)).toEqual(['team-a']);
    expect((await req('newbie', 'GET', '/v1/user')).json().applications).toEqual(['team-a']);
    expect((await req('newbie', 'GET', '/v1/projects/team-b')).statusCode).toBe(404);
    // It logs in through the SDK's local login too (by e-mail).
    const local = await p.app.inject({ method: 'POST', url: '/v1/local-auth/login', payload: { email: 'new.user@example.com', password: PW } });
    expect(local.json().user).toMatchObject({ username: 'newbie', applications: ['team-a'] });
  });

  it('create: duplicates 409, bad input 422, admins only', async () => {
    const dupEmail = await req('admin', 'POST', '/v1/admin/users', { email: 'NEW.USER@example.com', username: 'other', password: PW });
    expect([dupEmail.statusCode, err(dupEmail).message]).toEqual([409, 'Email already registered']);
    const dupName = await req('admin', 'POST', '/v1/admin/users', { email: 'x@example.com', username: 'NEWBIE', password: PW });
    expect([dupName.statusCode, err(dupName).message]).toEqual([409, 'Username already taken']);
    for (const [body, message] of [
      [{ email: 'y@example.com', username: 'yy1', password: 'short' }, 'password: String should have at least 12 characters'],
      [{ email: 'not-an-email', username: 'yy2', password: PW }, 'email: value is not a valid email address'],
      [{ email: 'z@example.com', username: 'zz', password: PW }, 'username: String should have at least 3 characters'],
    ] as const) {
      const res = await req('admin', 'POST', '/v1/admin/users', body);
      expect([res.statusCode, err(res).message]).toEqual([422, message]);
    }
    for (const who of ['pam', 'audit', 'plain']) {
      const res = await req(who, 'POST', '/v1/admin/users', { email: 'q@example.com', username: 'qqq', password: PW });
      expect([res.statusCode, err(res).details]).toEqual([403, 'This action requires administrator or maintainer privileges.']);
    }
  });

  it('list: search, filters, who may list, what project admins see', async () => {
    const page = await req('admin', 'GET', '/v1/admin/users?search=newbie');
    expect(page.statusCode).toBe(200);
    expect(page.json().pagination).toMatchObject({ total: 1, page: 0, per_page: 20 });
    expect(page.json().data[0]).toMatchObject({
      id: ids.newbie,
      username: 'newbie',
      is_active: true,
      is_admin: false,
      auth_source: 'local',
      projects: [{ name: 'team-a', display_name: null, is_project_admin: false, is_default: false }],
      budget_assignments: [],
    });
    const inTeamA = (await req('admin', 'GET', `/v1/admin/users?filters=${encodeURIComponent('{"projects":["team-a"]}')}`)).json();
    expect(inTeamA.data.map((u: any) => u.username).sort()).toEqual(['admin', 'newbie', 'pam']);
    const admins = (await req('admin', 'GET', `/v1/admin/users?filters=${encodeURIComponent('{"platform_role":"admin"}')}`)).json();
    expect(admins.data.map((u: any) => u.username)).toEqual(['admin']);
    const auditors = (await req('audit', 'GET', `/v1/admin/users?filters=${encodeURIComponent('{"is_auditor":true}')}`)).json();
    expect(auditors.data.map((u: any) => u.username)).toEqual(['audit']);
    const notJson = await req('admin', 'GET', '/v1/admin/users?filters=not%20json');
    expect([notJson.statusCode, err(notJson)]).toEqual([
      400,
      { message: 'Invalid filters', details: 'filters must be a valid JSON object', help: 'Example: filters={"projects":["proj1"],"is_active":true}' },
    ]);
    const badShape = await req('admin', 'GET', `/v1/admin/users?filters=${encodeURIComponent('{"platform_role":"king"}')}`);
    expect([badShape.statusCode, err(badShape).message]).toEqual([400, 'Invalid filters']);

    // A project admin lists users but sees only the projects it belongs to.
    const seen = (await req('pam', 'GET', '/v1/admin/users?search=plain')).json();
    expect(seen.data[0]).toMatchObject({ username: 'plain', projects: [] });
    const plainRow = (await req('admin', 'GET', '/v1/admin/users?search=plain')).json().data[0];
    expect(plainRow.projects.map((x: any) => x.name)).toEqual(['team-b']);
    const filterAdmins = await req('pam', 'GET', `/v1/admin/users?filters=${encodeURIComponent('{"platform_role":"admin"}')}`);
    expect([filterAdmins.statusCode, err(filterAdmins).message]).toEqual([403, 'Access denied: only admins can filter by admin role']);
    const plain = await req('plain', 'GET', '/v1/admin/users');
    expect([plain.statusCode, err(plain).details]).toEqual([403, 'This action requires administrator or project administrator privileges.']);
  });

  it('detail: admins and auditors; project admins for users of their projects', async () => {
    const d = await req('audit', 'GET', `/v1/admin/users/${ids.newbie}`);
    expect(d.json()).toMatchObject({ id: ids.newbie, email_verified: true, auth_source: 'local', projects: [{ name: 'team-a' }] });
    expect((await req('pam', 'GET', `/v1/admin/users/${ids.newbie}`)).statusCode).toBe(200);
    const stranger = await req('pam', 'GET', `/v1/admin/users/${ids.plain}`);
    expect([stranger.statusCode, err(stranger)]).toEqual([
      403,
      {
        message: 'User not found in your projects',
        details: 'You can only view details for users who are members of projects you administer.',
        help: "Contact an administrator if you need access to this user's information.",
      },
    ]);
    const plain = await req('plain', 'GET', `/v1/admin/users/${ids.newbie}`);
    expect([plain.statusCode, err(plain).message]).toEqual([403, 'Access denied']);
    const unknown = await req('admin', 'GET', '/v1/admin/users/0190a5e4-0000-7000-8000-000000000000');
    expect([unknown.statusCode, err(unknown).message]).toEqual([404, 'User not found']);
  });

  it('update: fields, guards, roles take effect on live tokens', async () => {
    const named = await req('admin', 'PUT', `/v1/admin/users/${ids.newbie}`, { name: 'N', picture: 'https://x/p.png' });
    expect(named.json()).toMatchObject({ name: 'N', picture: 'https://x/p.png' });
    const un = await req('admin', 'PUT', `/v1/admin/users/${ids.newbie}`, { username: 'x' });
    expect([un.statusCode, err(un).message, err(un).details]).toEqual([
      400,
      'Username cannot be changed',
      'Username is an immutable identifier and cannot be modified',
    ]);
    const none = await req('admin', 'PUT', `/v1/admin/users/${ids.newbie}`, {});
    expect([none.statusCode, err(none).message]).toEqual([400, 'No fields to update']);
    const type = await req('admin', 'PUT', `/v1/admin/users/${ids.newbie}`, { user_type: 'robot' });
    expect([type.statusCode, err(type).message]).toEqual([400, 'Invalid user_type']);
    const self = await req('admin', 'PUT', `/v1/admin/users/${ids.admin}`, { is_admin: false });
    expect([self.statusCode, err(self).message]).toEqual([403, 'Cannot revoke own admin status']);
    const ownLimit = await req('admin', 'PUT', `/v1/admin/users/${ids.admin}`, { project_limit: 5 });
    expect(err(ownLimit).message).toBe('Super admins cannot modify their own project limit (always unlimited)');
    const neg = await req('admin', 'PUT', `/v1/admin/users/${ids.newbie}`, { project_limit: -1 });
    expect([neg.statusCode, err(neg).message]).toEqual([400, 'Invalid project_limit: must be non-negative integer or NULL']);
    const unlimited = await req('admin', 'PUT', `/v1/admin/users/${ids.newbie}`, { project_limit: null });
    expect([unlimited.statusCode, err(unlimited).message]).toEqual([400, 'Only admins can have unlimited project_limit (NULL)']);
    const email = await req('admin', 'PUT', `/v1/admin/users/${ids.newbie}`, { email: 'pam@example.com' });
    expect([email.statusCode, err(email).message]).toEqual([409, 'Email already registered']);

    // Promote newbie to auditor: the token it already holds now reads across projects.
    expect((await req('newbie', 'GET', '/v1/projects/team-b')).statusCode).toBe(404);
    expect((await req('admin', 'PUT', `/v1/admin/users/${ids.newbie}`, { is_auditor: true })).json()).toMatchObject({ is_auditor: true, is_admin: false });
    expect((await req('newbie', 'GET', '/v1/projects/team-b')).statusCode).toBe(200);
    expect((await req('newbie', 'GET', '/v1/admin/audit')).statusCode).toBe(200);
    expect((await req('newbie', 'PATCH', '/v1/projects/team-b', { description: 'x' })).statusCode).toBe(403);
    await req('admin', 'PUT', `/v1/admin/users/${ids.newbie}`, { is_auditor: false });
    expect((await req('newbie', 'GET', '/v1/projects/team-b')).statusCode).toBe(404);

    // Admin and back: unlimited while admin, the default afterwards.
    expect((await req('admin', 'PUT', `/v1/admin/users/${ids.newbie}`, { is_admin: true })).json()).toMatchObject({
      is_admin: true,
      is_maintainer: true,
      project_limit: null,
    });
    expect((await req('newbie', 'GET', '/v1/admin/applications')).statusCode).toBe(200);
    expect((await req('admin', 'PUT', `/v1/admin/users/${ids.newbie}`, { is_maintainer: false, is_admin: false })).json()).toMatchObject({
      is_admin: false,
      project_limit: 3,
    });
    expect((await req('newbie', 'GET', '/v1/admin/applications')).statusCode).toBe(403);
  });

  it("a user's projects: list, grant (creates the project), update, default, revoke", async () => {
    const base = `/v1/admin/users/${ids.plain}/projects`;
    const grant = await req('admin', 'POST', base, { project_name: 'fresh-proj', is_project_admin: true });
    expect(grant.statusCode).toBe(200);
    expect((await req('admin', 'GET', '/v1/projects/fresh-proj')).statusCode).toBe(200);
    const again = await req('admin', 'POST', base, { project_name: 'fresh-proj' });
    expect([again.statusCode, err(again).message]).toEqual([409, 'User already has access to this project']);
    expect((await req('admin', 'PUT', `${base}/fresh-proj`, { is_project_admin: false })).json()).toEqual({ message: 'Project access updated successfully' });
    expect((await req('admin', 'PUT', `${base}/fresh-proj/default`, {})).json()).toEqual({ message: 'Default project set successfully' });
    expect((await req('admin', 'PUT', `${base}/team-b/default`)).statusCode).toBe(200);
    const list = (await req('audit', 'GET', base)).json();
    expect(list.projects.map((x: any) => [x.project_name, x.is_project_admin, x.is_default])).toEqual([
      ['fresh-proj', false, false],
      ['team-b', false, true],
    ]);
    expect((await req('plain', 'GET', '/v1/user')).json().projects).toContainEqual({
      name: 'team-b',
      display_name: null,
      is_project_admin: false,
      is_default: true,
    });
    expect((await req('admin', 'DELETE', `${base}/team-b/default`)).json()).toEqual({ message: 'Default project cleared successfully' });
    expect((await req('admin', 'DELETE', `${base}/fresh-proj`)).json()).toEqual({ message: 'Project access removed successfully' });
    const gone = await req('admin', 'DELETE', `${base}/fresh-proj`);
    expect([gone.statusCode, err(gone).message]).toEqual([404, 'User does not have access to this project']);
    expect((await req('admin', 'PUT', `${base}/fresh-proj/default`)).statusCode).toBe(404);
    expect((await req('admin', 'GET', '/v1/admin/users/0190a5e4-0000-7000-8000-000000000000/projects')).statusCode).toBe(404);
    expect((await req('plain', 'GET', base)).statusCode).toBe(403);
  });

  it('password: at least 12 characters; the old one and its sessions stop working', async () => {
    const tokens = await passwordTokens(p, 'plain');
    const short = await req('admin', 'PUT', `/v1/admin/users/${ids.plain}/password`, { new_password: 'short-one' });
    expect([short.statusCode, err(short).message]).toEqual([400, 'Password must be at least 12 characters']);
    expect((await req('admin', 'PUT', `/v1/admin/users/${ids.plain}/password`, { new_password: PW })).json()).toEqual({
      message: 'Password changed successfully',
    });
    await expect(passwordToken(p, 'plain')).rejects.toThrow(/401/);
    expect(await passwordToken(p, 'plain', PW)).toBeTruthy();
    const refresh = await p.app.inject({
      method: 'POST',
      url: '/auth/realms/codemie/protocol/openid-connect/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'codemie-sdk', refresh_token: tokens.refresh_token! }).toString(),
    });
    expect(refresh.statusCode).toBe(400);
  });

  it('deactivate: no login, live tokens refused, hidden from the list; reactivate', async () => {
    const u = await req('admin', 'POST', '/v1/admin/users', { email: 'gone@example.com', username: 'goner', password: PW });
    const id = u.json().id;
    tok.goner = await passwordToken(p, 'goner', PW);
    expect((await req('goner', 'GET', '/v1/user')).statusCode).toBe(200);
    expect((await req('admin', 'DELETE', `/v1/admin/users/${id}`)).json()).toEqual({ message: 'User deactivated successfully' });
    expect((await req('admin', 'DELETE', `/v1/admin/users/${id}`)).statusCode).toBe(200);
    const live = await req('goner', 'GET', '/v1/user');
    expect([live.statusCode, err(live).message]).toEqual([401, 'Account is deactivated']);
    const login = await p.app.inject({ method: 'POST', url: '/v1/local-auth/login', payload: { email: 'goner', password: PW } });
    expect([login.statusCode, login.json().error.message]).toEqual([401, 'Account is deactivated']);
    expect((await req('admin', 'GET', '/v1/admin/users?search=goner')).json().data).toEqual([]);
    expect((await req('admin', 'GET', `/v1/admin/users/${id}`)).json()).toMatchObject({ is_active: false, deleted_at: expect.any(String) });
    const last = await req('admin', 'DELETE', `/v1/admin/users/${ids.admin}`);
    expect([last.statusCode, err(last).message]).toEqual([403, 'Cannot deactivate last admin - system must have at least one admin']);

    const back = await req('admin', 'PUT', `/v1/admin/users/${id}`, { is_active: true });
    expect(back.json()).toMatchObject({ is_active: true, deleted_at: null });
    expect(await passwordToken(p, 'goner', PW)).toBeTruthy();
  });

  it('/v1/user/data: created on first read, updated by PUT', async () => {
    const first = (await req('pam', 'GET', '/v1/user/data')).json();
    expect(first).toMatchObject({ user_id: ids.pam, sidebar_view: 'flat', stt_support: false });
    expect((await req('pam', 'GET', '/v1/user/data')).json().id).toBe(first.id);
    const put = await req('pam', 'PUT', '/v1/user/data', { sidebar_view: 'folders' });
    expect(put.json()).toMatchObject({ id: first.id, user_id: ids.pam, sidebar_view: 'folders' });
    expect((await req('pam', 'PUT', '/v1/user/data', { sidebar_view: 'tree' })).statusCode).toBe(422);
    expect((await req('plain', 'PUT', '/v1/user/data', {})).json().sidebar_view).toBe('flat');
  });

  it('a token of a user removed since (codemie idp user remove) is refused, not taken for an external user', async () => {
    await createUser(p, { username: 'temp' });
    tok.temp = await passwordToken(p, 'temp');
    expect((await req('temp', 'GET', '/v1/user')).statusCode).toBe(200);
    await p.services.identity.admin.removeUser('temp');
    const res = await req('temp', 'GET', '/v1/user');
    expect([res.statusCode, err(res).details]).toEqual([401, 'The user of this token no longer exists.']);
    expect((await req('admin', 'GET', '/v1/admin/users?search=temp')).json().data).toEqual([]);
  });

  it('the CLI works on the same memberships (codemie idp user set-projects → API)', async () => {
    await p.services.identity.admin.setProjects('pam', ['team-b'], []);
    expect((await req('pam', 'GET', '/v1/user')).json()).toMatchObject({ applications: ['team-b'], applications_admin: [] });
    expect((await req('admin', 'GET', '/v1/projects/team-b')).json().members.map((m: any) => m.user_id)).toContain(ids.pam);
  });
});
