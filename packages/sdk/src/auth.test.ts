import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CodeMieApiError, CodeMieAuthError, CodeMieClient, CodeMieError, KeycloakTokenProvider } from './index.js';
import { REALM, send, startFake, type FakePlatform } from './test-support/fake-server.js';

let fake: FakePlatform;

beforeEach(async () => {
  fake = await startFake();
  fake.route('GET', '/v1/user', (req, res) =>
    send(res, 200, { user_id: 'u1', username: 'alice', name: 'Alice', email: '', applications: ['demo'], applications_admin: [], is_admin: false, auth: req.headers.authorization }),
  );
});

afterEach(async () => {
  vi.useRealTimers();
  await fake.stop();
});

function passwordClient(extra: Record<string, unknown> = {}): CodeMieClient {
  return new CodeMieClient({
    codemie_api_domain: fake.apiDomain,
    auth_server_url: fake.authUrl,
    auth_realm_name: REALM,
    username: 'alice',
    password: 'secret',
    ...extra,
  });
}

describe('password grant', () => {
  it('logs in with the public client codemie-sdk, form-encoded, at the Keycloak token path', async () => {
    const client = passwordClient();
    const me = await client.users.aboutMe();
    expect(me.username).toBe('alice');
    const tokenReq = fake.requests.find((r) => r.path.startsWith('/auth/'))!;
    expect(tokenReq.method).toBe('POST');
    expect(tokenReq.path).toBe(`/auth/realms/${REALM}/protocol/openid-connect/token`);
    expect(tokenReq.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(fake.tokenRequests[0]!)).toEqual({
      grant_type: 'password',
      client_id: 'codemie-sdk',
      username: 'alice',
      password: 'secret',
    });
    expect(fake.last().headers.authorization).toBe('Bearer tok-1');
    expect(fake.last().path).toBe('/code-assistant-api/v1/user');
  });

  it('sends client_id and client_secret along when given with username/password', async () => {
    fake.clients.push({ clientId: 'confidential', secret: 's3' });
    const client = passwordClient({ auth_client_id: 'confidential', auth_client_secret: 's3' });
    await client.users.aboutMe();
    expect(Object.fromEntries(fake.tokenRequests[0]!)).toEqual({
      grant_type: 'password',
      client_id: 'confidential',
      client_secret: 's3',
      username: 'alice',
      password: 'secret',
    });
  });

  it('caches the token across requests, and concurrent first requests share one login', async () => {
    const client = passwordClient();
    await Promise.all([client.users.aboutMe(), client.users.aboutMe(), client.users.aboutMe()]);
    await client.users.aboutMe();
    expect(fake.grants()).toEqual(['password']);
    expect(fake.apiRequests().map((r) => r.headers.authorization)).toEqual(Array(4).fill('Bearer tok-1'));
  });

  it('maps rejected credentials (Keycloak error body) to CodeMieAuthError', async () => {
    const client = passwordClient({ password: 'wrong' });
    const err = await client.users.aboutMe().catch((e) => e);
    expect(err).toBeInstanceOf(CodeMieAuthError);
    expect(err).toBeInstanceOf(CodeMieApiError);
    expect(err.status).toBe(401);
    expect(err.code).toBe('invalid_grant');
    expect(err.message).toBe('Invalid user credentials');
    expect(fake.apiRequests()).toHaveLength(0);
  });
});

describe('client_credentials grant', () => {
  it('is used when a client secret is given without username/password', async () => {
    const client = new CodeMieClient({
      codemie_api_domain: fake.apiDomain,
      auth_server_url: fake.authUrl + '/',
      auth_realm_name: REALM,
      auth_client_id: 'svc',
      auth_client_secret: 'svc-secret',
    });
    await client.users.aboutMe();
    expect(Object.fromEntries(fake.tokenRequests[0]!)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'svc',
      client_secret: 'svc-secret',
    });
    expect(fake.last().headers.authorization).toBe('Bearer tok-1');
  });

  it('reports a wrong secret as CodeMieAuthError', async () => {
    const client = new CodeMieClient({
      codemie_api_domain: fake.apiDomain,
      auth_server_url: fake.authUrl,
      auth_realm_name: REALM,
      auth_client_id: 'svc',
      auth_client_secret: 'nope',
    });
    const err = await client.llms.list().catch((e) => e);
    expect(err).toBeInstanceOf(CodeMieAuthError);
    expect(err.code).toBe('unauthorized_client');
    expect(err.message).toBe('Invalid client or Invalid client credentials');
  });
});

describe('renewal before expiry', () => {
  it('keeps the token while it is fresh and renews it with the refresh token inside the last 30 s', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    const client = passwordClient();
    await client.users.aboutMe();
    vi.setSystemTime(new Date('2026-01-01T00:04:00Z')); // 240 s of 300: still fresh
    await client.users.aboutMe();
    expect(fake.grants()).toEqual(['password']);
    vi.setSystemTime(new Date('2026-01-01T00:04:35Z')); // 275 s: within the 30 s margin
    await client.users.aboutMe();
    expect(fake.grants()).toEqual(['password', 'refresh_token']);
    expect(fake.tokenRequests[1]!.get('refresh_token')).toBe('ref-1');
    expect(fake.tokenRequests[1]!.get('client_id')).toBe('codemie-sdk');
    expect(fake.last().headers.authorization).toBe('Bearer tok-2');
  });

  it('logs in again when there is no refresh token', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    fake.issueRefresh = false;
    const client = passwordClient();
    await client.users.aboutMe();
    vi.setSystemTime(new Date('2026-01-01T00:05:00Z'));
    await client.users.aboutMe();
    expect(fake.grants()).toEqual(['password', 'password']);
    expect(fake.last().headers.authorization).toBe('Bearer tok-2');
  });

  it('logs in again when the refresh token itself has expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    fake.refreshExpiresIn = 200;
    const client = passwordClient();
    await client.users.aboutMe();
    vi.setSystemTime(new Date('2026-01-01T00:05:00Z'));
    await client.users.aboutMe();
    expect(fake.grants()).toEqual(['password', 'password']);
  });

  it('falls back to a login when the refresh token is refused', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    const client = passwordClient();
    await client.users.aboutMe();
    fake.validRefresh.clear();
    vi.setSystemTime(new Date('2026-01-01T00:05:00Z'));
    await client.users.aboutMe();
    expect(fake.grants()).toEqual(['password', 'refresh_token', 'password']);
    expect(fake.last().headers.authorization).toBe('Bearer tok-2');
  });

  it('uses half the lifetime as margin for short-lived tokens', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    fake.expiresIn = 10;
    const client = passwordClient();
    await client.users.aboutMe();
    vi.setSystemTime(new Date('2026-01-01T00:00:04Z'));
    await client.users.aboutMe();
    expect(fake.grants()).toEqual(['password']);
    vi.setSystemTime(new Date('2026-01-01T00:00:06Z'));
    await client.users.aboutMe();
    expect(fake.grants()).toEqual(['password', 'refresh_token']);
  });
});

describe('401 from the API', () => {
  it('re-authenticates once and retries the request', async () => {
    const client = passwordClient();
    await client.users.aboutMe();
    fake.revokeAccessTokens();
    const me = await client.users.aboutMe();
    expect(me.auth).toBe('Bearer tok-2');
    expect(fake.grants()).toEqual(['password', 'password']);
    expect(fake.apiRequests().map((r) => r.headers.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2']);
  });

  it('concurrent requests rejected with 401 share one re-login', async () => {
    const client = passwordClient();
    await client.users.aboutMe();
    fake.revokeAccessTokens();
    const results = await Promise.all([client.users.aboutMe(), client.users.aboutMe(), client.users.aboutMe()]);
    expect(results.map((r) => r.auth)).toEqual(['Bearer tok-2', 'Bearer tok-2', 'Bearer tok-2']);
    expect(fake.grants()).toEqual(['password', 'password']);
  });

  it('retries the same body after re-authentication', async () => {
    fake.route('POST', '/v1/workflows/:id/executions', (req, res) => send(res, 200, { execution_id: 'e1', got: req.body }));
    const client = passwordClient();
    await client.getToken();
    fake.revokeAccessTokens();
    const out = await client.workflows.run('wf', 'hello', undefined, undefined, undefined, { 'X-Trace': 't1' });
    expect(out.got).toEqual({ user_input: 'hello' });
    const posts = fake.apiRequests().filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(2);
    expect(posts.map((p) => p.body)).toEqual([{ user_input: 'hello' }, { user_input: 'hello' }]);
    expect(posts.map((p) => p.headers['x-trace'])).toEqual(['t1', 't1']);
  });

  it('gives up after exactly one retry and throws CodeMieAuthError with the envelope', async () => {
    fake.route('GET', '/v1/llm_models', (_req, res) =>
      send(res, 401, { error: { message: 'Authentication failed', details: 'Token validation failed', help: 'Log in again' } }, { 'X-Request-ID': 'req-401' }),
    );
    const client = passwordClient();
    const err = await client.llms.list().catch((e) => e);
    expect(err).toBeInstanceOf(CodeMieAuthError);
    expect(err.status).toBe(401);
    expect(err.message).toBe('Authentication failed');
    expect(err.details).toBe('Token validation failed');
    expect(err.help).toBe('Log in again');
    expect(err.requestId).toBe('req-401');
    expect(fake.apiRequests()).toHaveLength(2);
    expect(fake.grants()).toEqual(['password', 'password']);
  });

  it('does not retry with a fixed jwt_token (nothing to renew)', async () => {
    const client = new CodeMieClient({ codemie_api_domain: fake.apiDomain, jwt_token: 'stale' });
    const err = await client.users.aboutMe().catch((e) => e);
    expect(err).toBeInstanceOf(CodeMieAuthError);
    expect(fake.apiRequests()).toHaveLength(1);
    expect(fake.last().headers.authorization).toBe('Bearer stale');
    expect(fake.tokenRequests).toHaveLength(0);
  });

  it('asks a jwt_token callback again after a 401', async () => {
    fake.validTokens.add('fresh');
    const tokens = ['old', 'fresh'];
    let calls = 0;
    const client = new CodeMieClient({ codemie_api_domain: fake.apiDomain, jwt_token: () => tokens[Math.min(calls++, 1)]! });
    const me = await client.users.aboutMe();
    expect(me.auth).toBe('Bearer fresh');
    expect(fake.apiRequests().map((r) => r.headers.authorization)).toEqual(['Bearer old', 'Bearer fresh']);
  });
});

describe('other credentials and validation', () => {
  it('sends cookies and default headers', async () => {
    fake.route('GET', '/v1/info', (req, res) => send(res, 200, { cookie: req.headers.cookie, extra: req.headers['x-client'] }), { auth: false });
    const client = new CodeMieClient({
      codemie_api_domain: fake.apiDomain,
      cookies: { _oauth2_proxy: 'abc', other: '1' },
      headers: { 'X-Client': 'tests' },
    });
    const info = await client.http.get<{ cookie: string; extra: string }>('/v1/info');
    expect(info).toEqual({ cookie: '_oauth2_proxy=abc; other=1', extra: 'tests' });
    expect(fake.last().headers.authorization).toBeUndefined();
  });

  it('rejects incomplete configurations', () => {
    const base = { codemie_api_domain: 'http://127.0.0.1:1/code-assistant-api' };
    expect(() => new CodeMieClient({} as never)).toThrow(/codemie_api_domain is required/);
    expect(() => new CodeMieClient({ codemie_api_domain: 'not a url' })).toThrow(CodeMieError);
    expect(() => new CodeMieClient({ ...base, username: 'a' })).toThrow(/username and password/);
    expect(() => new CodeMieClient({ ...base, username: 'a', password: 'b' })).toThrow(/auth_server_url/);
    expect(() => new CodeMieClient({ ...base, username: 'a', password: 'b', auth_server_url: 'http://x' })).toThrow(/auth_realm_name/);
    expect(() => new CodeMieClient({ ...base, auth_server_url: 'http://x', auth_realm_name: 'r', auth_client_secret: 's' })).toThrow(/auth_client_id/);
    expect(() => new CodeMieClient({ ...base, auth_server_url: 'http://x', auth_realm_name: 'r' })).toThrow(/No credentials/);
  });

  it('KeycloakTokenProvider builds the token URL from server and realm', () => {
    const p = new KeycloakTokenProvider({ authServerUrl: 'https://kc.example.com/auth/', realm: 'codemie prod', getFetch: async () => fetch });
    expect(p.tokenUrl).toBe('https://kc.example.com/auth/realms/codemie%20prod/protocol/openid-connect/token');
  });
});
