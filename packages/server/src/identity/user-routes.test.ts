/** /v1/user, /v1/user/data and the Python SDK's /v1/local-auth/login. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../test/helpers.js';
import { authHeaders, createUser, DEFAULT_TEST_PASSWORD } from '../../test/identity-helpers.js';

describe('user routes', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
    await createUser(p, { username: 'alice', email: 'Alice@Example.com', projects: ['demo'], adminProjects: ['team'] });
  });
  afterAll(async () => p?.stop());

  const login = (body: unknown) => p.app.inject({ method: 'POST', url: '/v1/local-auth/login', payload: body as object });

  it('local-auth login by e-mail or username returns a working token and the user', async () => {
    for (const email of ['alice@example.com', 'alice']) {
      const res = await login({ email, password: DEFAULT_TEST_PASSWORD });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      // A project administered is a membership too: it is listed in `applications` as well.
      expect(body.user).toMatchObject({ username: 'alice', email: 'alice@example.com', applications: ['demo', 'team'], applications_admin: ['team'] });
      const me = await p.app.inject({ url: '/code-assistant-api/v1/user', headers: authHeaders(body.access_token) });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toEqual(body.user);
    }
  });

  it('local-auth login failures: 401 envelope, 422 on a bad body', async () => {
    const res = await login({ email: 'alice', password: 'wrong-password' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toEqual({ message: 'Invalid email or password', details: null, help: null });
    expect((await login({ email: 'alice' })).statusCode).toBe(422);
  });

  it('/v1/user and /v1/profile need a token; /v1/user/data answers defaults', async () => {
    expect((await p.app.inject({ url: '/v1/user' })).statusCode).toBe(401);
    const token = (await login({ email: 'alice', password: DEFAULT_TEST_PASSWORD })).json().access_token;
    const profile = await p.app.inject({ url: '/v1/profile', headers: authHeaders(token) });
    expect(profile.json().projects).toEqual([
      { name: 'demo', display_name: null, is_project_admin: false, is_default: false },
      { name: 'team', display_name: null, is_project_admin: true, is_default: false },
    ]);
    const data = await p.app.inject({ url: '/v1/user/data', headers: authHeaders(token) });
    expect(data.statusCode).toBe(200);
    expect(data.json()).toMatchObject({ user_id: profile.json().user_id, sidebar_view: 'flat', stt_support: false });
  });
});

describe('external mode (CODEMIE_IDP=external)', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform({ env: { CODEMIE_IDP: 'external' } });
  });
  afterAll(async () => p?.stop());

  it('serves no embedded IdP and refuses local login', async () => {
    expect((await p.app.inject({ url: '/auth/realms/codemie/protocol/openid-connect/certs' })).statusCode).toBe(404);
    const res = await p.app.inject({ method: 'POST', url: '/v1/local-auth/login', payload: { email: 'admin', password: 'whatever-pass' } });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.message).toBe('Local login is not available');
    const me = await p.app.inject({ url: '/v1/user', headers: { authorization: 'dev-codemie-user' } });
    expect(me.statusCode).toBe(401);
    expect(me.json().error.details).toContain('CODEMIE_TRUSTED_ISSUERS');
  });
});
