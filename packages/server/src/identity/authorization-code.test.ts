/** The embedded IdP's authorization-code grant with PKCE (the web console's sign-in), on SQLite and PostgreSQL. */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { DB_KINDS, startTestPlatform, type TestPlatform } from '../../test/helpers.js';
import { authHeaders, createUser, DEFAULT_TEST_PASSWORD } from '../../test/identity-helpers.js';

const OIDC = '/auth/realms/codemie/protocol/openid-connect';
const CLIENT = 'codemie-console';

const b64url = (b: Buffer) => b.toString('base64url');
function pkce() {
  const verifier = b64url(randomBytes(48));
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}

describe.each(DB_KINDS)('authorization code + PKCE on %s', (db) => {
  let p: TestPlatform;
  let redirect: string;

  const form = (url: string, body: Record<string, string>) =>
    p.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(body).toString() });
  const authorizeQuery = (over: Record<string, string | undefined> = {}, challenge = pkce().challenge) => {
    const q: Record<string, string> = {};
    const all = {
      response_type: 'code',
      client_id: CLIENT,
      redirect_uri: redirect,
      state: 'st-1',
      scope: 'openid profile email',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...over,
    };
    for (const [k, v] of Object.entries(all)) if (v !== undefined) q[k] = v;
    return q;
  };
  /** Signs in on the login page; returns the redirect's parameters. */
  async function login(challenge: string, username = 'alice', password = DEFAULT_TEST_PASSWORD) {
    const res = await form(`${OIDC}/auth`, { ...authorizeQuery({}, challenge), username, password });
    expect(res.statusCode).toBe(302);
    const loc = new URL(res.headers.location as string);
    expect(`${loc.origin}${loc.pathname}`).toBe(new URL(redirect).href);
    return loc.searchParams;
  }
  const exchange = (code: string, verifier: string, over: Record<string, string> = {}) =>
    form(`${OIDC}/token`, { grant_type: 'authorization_code', client_id: CLIENT, code, redirect_uri: redirect, code_verifier: verifier, ...over });

  beforeAll(async () => {
    p = await startTestPlatform({ db });
    await createUser(p, { username: 'alice', projects: ['demo'], name: 'Alice A' });
    await createUser(p, { username: 'off', projects: ['demo'] });
    await p.services.identity.admin.setEnabled('off', false);
    const cfg = (await p.app.inject({ url: '/v1/console/config' })).json();
    expect(cfg).toMatchObject({ client_id: CLIENT, scope: 'openid profile email', api_base: '/v1', embedded_idp: true });
    redirect = `${cfg.issuer.replace(/\/auth\/realms\/codemie$/, '')}/`;
  });
  afterAll(async () => p?.stop());

  it('discovery names the authorization endpoint, the grant and S256', async () => {
    const d = (await p.app.inject({ url: '/auth/realms/codemie/.well-known/openid-configuration' })).json();
    expect(d.authorization_endpoint).toBe(`${d.issuer}/protocol/openid-connect/auth`);
    expect(d.grant_types_supported).toContain('authorization_code');
    expect(d.response_types_supported).toContain('code');
    expect(d.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('GET shows the login page: labelled fields, a Sign in button, the request in hidden fields (escaped), no framing', async () => {
    const res = await p.app.inject({ url: `${OIDC}/auth`, query: authorizeQuery({ state: '"><script>alert(1)</script>' }) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toContain('<label for="username">Username</label>');
    expect(res.body).toContain('<label for="password">Password</label>');
    expect(res.body).toContain('<button type="submit">Sign in</button>');
    expect(res.body).toContain('name="code_challenge"');
    expect(res.body).not.toContain('<script>alert(1)</script>');
    expect(res.body).toContain('&quot;&gt;&lt;script&gt;');
  });

  it('refuses unknown clients, other clients and unlisted redirect URIs with an error page (never redirecting)', async () => {
    for (const over of [
      { client_id: 'nope' },
      { client_id: 'codemie-sdk' },
      { redirect_uri: 'https://evil.example/' },
      { redirect_uri: `${redirect}x` },
      { redirect_uri: undefined },
    ]) {
      const res = await p.app.inject({ url: `${OIDC}/auth`, query: authorizeQuery(over) });
      expect(res.statusCode).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.body).toMatch(/Client not found|Invalid parameter: redirect_uri/);
    }
    const realm = await p.app.inject({ url: '/auth/realms/other/protocol/openid-connect/auth', query: authorizeQuery() });
    expect(realm.statusCode).toBe(404);
  });

  it('sends other request errors back to the redirect URI with the state', async () => {
    const cases: Array<[Record<string, string | undefined>, string]> = [
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ code_challenge: undefined }, 'invalid_request'],
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ code_challenge_method: undefined }, 'invalid_request'],
    ];
    for (const [over, error] of cases) {
      const res = await p.app.inject({ url: `${OIDC}/auth`, query: authorizeQuery(over) });
      expect(res.statusCode).toBe(302);
      const loc = new URL(res.headers.location as string);
      expect(loc.searchParams.get('error')).toBe(error);
      expect(loc.searchParams.get('state')).toBe('st-1');
      expect(loc.searchParams.get('code')).toBeNull();
    }
  });

  it('a wrong password or a disabled account shows the page again with the error, and no code', async () => {
    const bad = await form(`${OIDC}/auth`, { ...authorizeQuery(), username: 'alice', password: 'wrong-password' });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers.location).toBeUndefined();
    expect(bad.body).toContain('Invalid username or password.');
    expect(bad.body).toContain('value="alice"');
    const off = await form(`${OIDC}/auth`, { ...authorizeQuery(), username: 'off', password: DEFAULT_TEST_PASSWORD });
    expect(off.statusCode).toBe(400);
    expect(off.body).toContain('Account is disabled');
  });

  it('the code and verifier give tokens once; they call the API, refresh and sign out', async () => {
    const { verifier, challenge } = pkce();
    const q = await login(challenge);
    expect(q.get('state')).toBe('st-1');
    expect(q.get('iss')).toBe(`${redirect}auth/realms/codemie`);
    const code = q.get('code')!;
    const res = await exchange(code, verifier);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'openid profile email', session_state: q.get('session_state') });
    expect(typeof body.id_token).toBe('string');
    expect(decodeJwt(body.access_token)).toMatchObject({ azp: CLIENT, preferred_username: 'alice', sid: q.get('session_state') });
    const me = await p.app.inject({ url: '/v1/user', headers: authHeaders(body.access_token) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ username: 'alice' });

    // Single use.
    const again = await exchange(code, verifier);
    expect(again.statusCode).toBe(400);
    expect(again.json()).toEqual({ error: 'invalid_grant', error_description: 'Code not valid' });

    const refreshed = await form(`${OIDC}/token`, { grant_type: 'refresh_token', client_id: CLIENT, refresh_token: body.refresh_token });
    expect(refreshed.statusCode).toBe(200);
    const out = await form(`${OIDC}/logout`, { client_id: CLIENT, refresh_token: refreshed.json().refresh_token });
    expect(out.statusCode).toBe(204);
    const after = await form(`${OIDC}/token`, { grant_type: 'refresh_token', client_id: CLIENT, refresh_token: refreshed.json().refresh_token });
    expect(after.statusCode).toBe(400);
  });

  it('refuses a wrong verifier, a missing verifier, another redirect URI or another client (and the code is spent)', async () => {
    const cases: Array<[(v: string) => Record<string, string>, string]> = [
      [(v) => ({ code_verifier: `${v}x` }), 'PKCE verification failed: Invalid code verifier'],
      [() => ({ code_verifier: '' }), 'PKCE code verifier not specified'],
      [() => ({ redirect_uri: `${redirect}other` }), 'Incorrect redirect_uri'],
      [() => ({ client_id: 'codemie-sdk' }), 'Auth error'],
    ];
    for (const [over, description] of cases) {
      const { verifier, challenge } = pkce();
      const code = (await login(challenge)).get('code')!;
      const res = await exchange(code, verifier, over(verifier));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_grant', error_description: description });
      expect((await exchange(code, verifier)).statusCode).toBe(400);
    }
  });

  it('the console client may not use the password grant', async () => {
    const res = await form(`${OIDC}/token`, { grant_type: 'password', client_id: CLIENT, username: 'alice', password: DEFAULT_TEST_PASSWORD });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('unauthorized_client');
  });
});
