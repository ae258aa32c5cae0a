/** The embedded IdP's Keycloak-compatible endpoints, on SQLite and PostgreSQL. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { DB_KINDS, startTestPlatform, type TestPlatform } from '../../test/helpers.js';
import { authHeaders, createClient, createUser, DEFAULT_TEST_PASSWORD } from '../../test/identity-helpers.js';

const TOKEN = '/auth/realms/codemie/protocol/openid-connect/token';
const LOGOUT = '/auth/realms/codemie/protocol/openid-connect/logout';

describe.each(DB_KINDS)('embedded IdP token endpoint on %s', (db) => {
  let p: TestPlatform;
  let secret: string;

  const post = (url: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    p.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: new URLSearchParams(form).toString(),
    });
  const token = (form: Record<string, string>, headers?: Record<string, string>) => post(TOKEN, form, headers);
  const pw = (username: string, password = DEFAULT_TEST_PASSWORD, client = 'codemie-sdk') =>
    token({ grant_type: 'password', client_id: client, username, password });
  const me = (accessToken: string) => p.app.inject({ url: '/v1/user', headers: authHeaders(accessToken) });

  beforeAll(async () => {
    p = await startTestPlatform({ db });
    await createUser(p, { username: 'alice', roles: ['developer'], projects: ['demo', 'alpha'], adminProjects: ['alpha'], name: 'Alice A' });
    for (const u of ['bob', 'carol', 'dave', 'erin']) await createUser(p, { username: u, projects: ['demo'] });
    secret = await createClient(p, { clientId: 'ci-bot', roles: ['developer'], projects: ['beta'] });
    await createClient(p, { clientId: 'other-bot', projects: ['beta'] });
    await createClient(p, { clientId: 'locked-bot' });
  });
  afterAll(async () => p?.stop());

  it('password grant: Keycloak response shape and claims', async () => {
    const res = await pw('alice');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(
      ['access_token', 'expires_in', 'not-before-policy', 'refresh_expires_in', 'refresh_token', 'scope', 'session_state', 'token_type'].sort(),
    );
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300, refresh_expires_in: 1800, 'not-before-policy': 0, scope: 'profile email' });
    const header = decodeProtectedHeader(body.access_token);
    expect(header.alg).toBe('RS256');
    expect(header.kid).toBeTruthy();
    const claims = decodeJwt(body.access_token);
    expect(claims.iss).toMatch(/^http:\/\/localhost(:80)?\/auth\/realms\/codemie$/);
    expect(claims).toMatchObject({
      typ: 'Bearer',
      azp: 'codemie-sdk',
      preferred_username: 'alice',
      email: 'alice@example.com',
      name: 'Alice A',
      realm_access: { roles: ['developer'] },
      // Memberships are stored; tokens carry a copy, by project name.
      applications: ['alpha', 'demo'],
      applications_admin: ['alpha'],
      scope: 'profile email',
      sid: body.session_state,
    });
    expect(typeof claims.jti).toBe('string');
    expect((claims.exp as number) - (claims.iat as number)).toBe(300);

    const user = await me(body.access_token);
    expect(user.statusCode).toBe(200);
    expect(user.json()).toMatchObject({
      user_id: claims.sub,
      username: 'alice',
      name: 'Alice A',
      email: 'alice@example.com',
      roles: ['developer'],
      projects: [
        { name: 'alpha', display_name: null, is_project_admin: true, is_default: false },
        { name: 'demo', display_name: null, is_project_admin: false, is_default: false },
      ],
      applications: ['alpha', 'demo'],
      applications_admin: ['alpha'],
      is_admin: false,
      is_maintainer: false,
      is_auditor: false,
      user_type: 'regular',
      knowledge_bases: [],
      picture: '',
      project_limit: 3,
    });
  });

  it('password grant with scope=openid also returns an id_token', async () => {
    const res = await token({ grant_type: 'password', client_id: 'codemie-sdk', username: 'alice', password: DEFAULT_TEST_PASSWORD, scope: 'openid' });
    expect(res.statusCode).toBe(200);
    expect(res.json().scope).toBe('openid profile email');
    expect(decodeJwt(res.json().id_token)).toMatchObject({ typ: 'ID', aud: 'codemie-sdk', preferred_username: 'alice' });
  });

  it('client_credentials: service-account token, no refresh token (like Keycloak)', async () => {
    const res = await token({ grant_type: 'client_credentials', client_id: 'ci-bot', client_secret: secret });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.refresh_token).toBeUndefined();
    expect(body.session_state).toBeUndefined();
    expect(body).toMatchObject({ token_type: 'Bearer', refresh_expires_in: 0, expires_in: 300 });
    expect(decodeJwt(body.access_token)).toMatchObject({ azp: 'ci-bot', client_id: 'ci-bot', preferred_username: 'service-account-ci-bot' });
    const user = await me(body.access_token);
    expect(user.statusCode).toBe(200);
    expect(user.json()).toMatchObject({ username: 'service-account-ci-bot', applications: ['beta'], is_admin: false });
  });

  it('client_credentials with HTTP Basic client authentication', async () => {
    const basic = Buffer.from(`ci-bot:${secret}`).toString('base64');
    const res = await token({ grant_type: 'client_credentials' }, { authorization: `Basic ${basic}` });
    expect(res.statusCode).toBe(200);
    expect(decodeJwt(res.json().access_token).azp).toBe('ci-bot');
  });

  it('refresh rotates the refresh token; a replayed one revokes the session', async () => {
    const first = (await pw('alice')).json();
    const second = await token({ grant_type: 'refresh_token', client_id: 'codemie-sdk', refresh_token: first.refresh_token });
    expect(second.statusCode).toBe(200);
    const s = second.json();
    expect(s.refresh_token).not.toBe(first.refresh_token);
    expect(s.session_state).toBe(first.session_state);
    expect((await me(s.access_token)).statusCode).toBe(200);

    const replay = await token({ grant_type: 'refresh_token', client_id: 'codemie-sdk', refresh_token: first.refresh_token });
    expect(replay.statusCode).toBe(400);
    expect(replay.json()).toEqual({ error: 'invalid_grant', error_description: 'Session not active' });
    const after = await token({ grant_type: 'refresh_token', client_id: 'codemie-sdk', refresh_token: s.refresh_token });
    expect(after.statusCode).toBe(400);
    expect(after.json().error).toBe('invalid_grant');
  });

  it('logout revokes the refresh token (204 like Keycloak)', async () => {
    const t = (await pw('alice')).json();
    const out = await post(LOGOUT, { client_id: 'codemie-sdk', refresh_token: t.refresh_token });
    expect(out.statusCode).toBe(204);
    expect(out.body).toBe('');
    const res = await token({ grant_type: 'refresh_token', client_id: 'codemie-sdk', refresh_token: t.refresh_token });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_grant', error_description: 'Session not active' });
    const again = await post(LOGOUT, { client_id: 'codemie-sdk', refresh_token: 'not-a-token' });
    expect(again.statusCode).toBe(400);
    expect(again.json()).toEqual({ error: 'invalid_grant', error_description: 'Invalid refresh token' });
    const missing = await post(LOGOUT, { client_id: 'codemie-sdk' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toEqual({ error: 'invalid_request', error_description: 'Missing parameter: refresh_token' });
  });

  it.each([
    [
      'wrong password',
      { grant_type: 'password', client_id: 'codemie-sdk', username: 'dave', password: 'nope-nope' },
      401,
      'invalid_grant',
      'Invalid user credentials',
    ],
    [
      'unknown user',
      { grant_type: 'password', client_id: 'codemie-sdk', username: 'nobody', password: 'whatever1' },
      401,
      'invalid_grant',
      'Invalid user credentials',
    ],
    ['missing username', { grant_type: 'password', client_id: 'codemie-sdk', password: 'x' }, 400, 'invalid_request', 'Missing parameter: username'],
    [
      'unknown client',
      { grant_type: 'password', client_id: 'ghost', username: 'dave', password: 'x' },
      401,
      'invalid_client',
      'Invalid client or Invalid client credentials',
    ],
    ['missing client_id', { grant_type: 'password', username: 'dave', password: 'x' }, 400, 'invalid_client', 'Missing client_id parameter'],
    ['missing grant_type', { client_id: 'codemie-sdk' }, 400, 'invalid_request', 'Missing form parameter: grant_type'],
    ['unsupported grant', { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: 'codemie-sdk' }, 400, 'unsupported_grant_type', 'Unsupported grant_type'],
    [
      'client_credentials on a public client',
      { grant_type: 'client_credentials', client_id: 'codemie-sdk' },
      401,
      'unauthorized_client',
      'Public client not allowed to retrieve service account',
    ],
    [
      'wrong client secret',
      { grant_type: 'client_credentials', client_id: 'other-bot', client_secret: 'wrong' },
      401,
      'unauthorized_client',
      'Invalid client or Invalid client credentials',
    ],
    ['missing refresh_token', { grant_type: 'refresh_token', client_id: 'codemie-sdk' }, 400, 'invalid_request', 'Missing parameter: refresh_token'],
    ['unknown refresh_token', { grant_type: 'refresh_token', client_id: 'codemie-sdk', refresh_token: 'abc' }, 400, 'invalid_grant', 'Invalid refresh token'],
  ])('%s → Keycloak error', async (_name, form, status, error, description) => {
    const res = await token(form as Record<string, string>);
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual({ error, error_description: description });
  });

  it('password grant on a confidential client without direct access grants → 400 unauthorized_client', async () => {
    const res = await token({ grant_type: 'password', client_id: 'ci-bot', client_secret: secret, username: 'alice', password: DEFAULT_TEST_PASSWORD });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'unauthorized_client', error_description: 'Client not allowed for direct access grants' });
  });

  it('a refresh token only works for the client it was issued to', async () => {
    const t = (await pw('alice')).json();
    const res = await token({ grant_type: 'refresh_token', client_id: 'ci-bot', client_secret: secret, refresh_token: t.refresh_token });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_grant', error_description: "Invalid refresh token. Token client and authorized client don't match" });
  });

  it('unknown realm → 404 like Keycloak', async () => {
    const res = await post('/auth/realms/other/protocol/openid-connect/token', { grant_type: 'password', client_id: 'codemie-sdk' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toBe('Realm does not exist');
  });

  it('brute force: a locked user gets 429 + Retry-After; another user is unaffected', async () => {
    for (let i = 0; i < 5; i++) expect((await pw('bob', 'wrong-password')).statusCode).toBe(401);
    const locked = await pw('bob'); // even the right password
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(locked.json().error).toBe('invalid_grant');
    expect(locked.json().error_description).toContain('Account temporarily disabled');
    expect((await pw('erin')).statusCode).toBe(200);
    const local = await p.app.inject({ method: 'POST', url: '/v1/local-auth/login', payload: { email: 'bob', password: DEFAULT_TEST_PASSWORD } });
    expect(local.statusCode).toBe(429);
    expect(local.json().error.message).toBe('Too many attempts. Please wait and try again later.');
    expect(Number(local.headers['retry-after'])).toBeGreaterThan(0);
    // The account is locked however it is named (username or e-mail).
    const byEmail = await p.app.inject({ method: 'POST', url: '/v1/local-auth/login', payload: { email: 'bob@example.com', password: DEFAULT_TEST_PASSWORD } });
    expect(byEmail.statusCode).toBe(429);
  });

  it('brute force: a successful login resets the failure count', async () => {
    for (let i = 0; i < 4; i++) await pw('carol', 'wrong-password');
    expect((await pw('carol')).statusCode).toBe(200);
    for (let i = 0; i < 4; i++) expect((await pw('carol', 'wrong-password')).statusCode).toBe(401);
    expect((await pw('carol')).statusCode).toBe(200);
  });

  it('brute force on a client secret locks only that client', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await token({ grant_type: 'client_credentials', client_id: 'locked-bot', client_secret: 'bad' })).statusCode).toBe(401);
    }
    const locked = await token({ grant_type: 'client_credentials', client_id: 'locked-bot', client_secret: 'bad' });
    expect(locked.statusCode).toBe(429);
    expect(locked.headers['retry-after']).toBeDefined();
    expect(locked.json().error).toBe('invalid_client');
    expect((await token({ grant_type: 'client_credentials', client_id: 'ci-bot', client_secret: secret })).statusCode).toBe(200);
  });

  it('serves discovery, JWKS and userinfo', async () => {
    const disc = (await p.app.inject({ url: '/auth/realms/codemie/.well-known/openid-configuration' })).json();
    expect(disc.issuer).toMatch(/\/auth\/realms\/codemie$/);
    expect(disc.token_endpoint).toBe(`${disc.issuer}/protocol/openid-connect/token`);
    expect(disc.jwks_uri).toBe(`${disc.issuer}/protocol/openid-connect/certs`);
    expect(disc.grant_types_supported).toEqual(['authorization_code', 'password', 'client_credentials', 'refresh_token']);
    const jwks = (await p.app.inject({ url: '/auth/realms/codemie/protocol/openid-connect/certs' })).json();
    const t = (await pw('alice')).json().access_token;
    const kid = decodeProtectedHeader(t).kid;
    const key = jwks.keys.find((k: { kid: string }) => k.kid === kid);
    expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(key.d).toBeUndefined(); // never the private part
    const info = await p.app.inject({ url: '/auth/realms/codemie/protocol/openid-connect/userinfo', headers: authHeaders(t) });
    expect(info.statusCode).toBe(200);
    expect(info.json()).toMatchObject({ preferred_username: 'alice', email: 'alice@example.com' });
    const bad = await p.app.inject({ url: '/auth/realms/codemie/protocol/openid-connect/userinfo', headers: authHeaders('x.y.z') });
    expect(bad.statusCode).toBe(401);
    expect(bad.json()).toEqual({ error: 'invalid_token', error_description: 'Token verification failed' });
  });

  it('key rotation: old tokens stay valid, new tokens use the new key, JWKS has both', async () => {
    const before = (await pw('alice')).json().access_token;
    const oldKid = decodeProtectedHeader(before).kid;
    const newKid = await p.services.identity.keys.rotate();
    expect(newKid).not.toBe(oldKid);
    expect((await me(before)).statusCode).toBe(200);
    const after = (await pw('alice')).json().access_token;
    expect(decodeProtectedHeader(after).kid).toBe(newKid);
    expect((await me(after)).statusCode).toBe(200);
    const kids = (await p.app.inject({ url: '/auth/realms/codemie/protocol/openid-connect/certs' })).json().keys.map((k: { kid: string }) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));
  });

  it('removing a user ends its refresh; disabling refuses login', async () => {
    const admin = p.services.identity.admin;
    await createUser(p, { username: 'frank' });
    const t = (await pw('frank')).json();
    await admin.setEnabled('frank', false);
    const res = await pw('frank');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_grant', error_description: 'Account disabled' });
    const r = await token({ grant_type: 'refresh_token', client_id: 'codemie-sdk', refresh_token: t.refresh_token });
    expect(r.statusCode).toBe(400);
  });
});
