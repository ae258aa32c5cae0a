/** Token verification: every way a token can be refused, through HTTP (401 envelope), plus the JWKS cache. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicKey } from 'node:crypto';
import { decodeProtectedHeader, generateKeyPair, SignJWT, type JWK } from 'jose';
import { startTestPlatform, type TestPlatform } from '../../test/helpers.js';
import { adminToken, authHeaders, createUser, passwordToken } from '../../test/identity-helpers.js';
import { startFakeIssuer, type FakeIssuer } from '../../test/fake-issuer.js';
import { TokenVerifier, TokenRejected } from './verifier.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('bearer token verification', () => {
  let p: TestPlatform;
  let ext: FakeIssuer;
  let embeddedIss: string;
  let good: string;

  const me = (headers: Record<string, string>) => p.app.inject({ url: '/v1/user', headers });
  async function rejected(headers: Record<string, string>, detail: string | RegExp) {
    const res = await me(headers);
    expect(res.statusCode).toBe(401);
    const body = res.json();
    expect(body.error.message).toBe('Authentication failed');
    if (typeof detail === 'string') expect(body.error.details).toContain(detail);
    else expect(body.error.details).toMatch(detail);
    return body;
  }
  const extClaims = (extra: Record<string, unknown> = {}) => ({
    sub: 'ext-user-1',
    preferred_username: 'kc-user',
    email: 'kc@example.com',
    name: 'KC User',
    azp: 'codemie-sdk',
    realm_access: { roles: ['developer'] },
    applications: 'proj-a, proj-b',
    applications_admin: ['proj-b'],
    ...extra,
  });

  beforeAll(async () => {
    ext = await startFakeIssuer();
    p = await startTestPlatform({ env: { CODEMIE_TRUSTED_ISSUERS: ext.issuer } });
    await createUser(p, { username: 'alice', projects: ['demo'] });
    good = await passwordToken(p, 'alice');
    const payload = JSON.parse(Buffer.from(good.split('.')[1], 'base64url').toString());
    embeddedIss = payload.iss;
  });
  afterAll(async () => {
    await p?.stop();
    await ext?.close();
  });

  it('accepts an embedded token and a trusted external (Keycloak-like) token', async () => {
    expect((await me(authHeaders(good))).statusCode).toBe(200);
    const res = await me(authHeaders(await ext.sign(extClaims())));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      user_id: 'ext-user-1',
      username: 'kc-user',
      applications: ['proj-a', 'proj-b'],
      applications_admin: ['proj-b'],
      is_admin: false,
    });
    const admin = await me(authHeaders(await ext.sign(extClaims({ realm_access: { roles: ['admin'] } }))));
    expect(admin.json().is_admin).toBe(true);
  });

  it('missing header → 401 saying how to authenticate', async () => {
    const body = await rejected({}, 'Missing Authorization header');
    expect(body.error.details).toContain('/auth/realms/codemie/protocol/openid-connect/token');
  });

  it("raw 'dev-codemie-user' (SDK local mode) → 401 pointing to the token endpoint and local-auth login", async () => {
    const body = await rejected({ authorization: 'dev-codemie-user' }, "must be 'Bearer <access token>'");
    expect(body.error.details).toContain('/auth/realms/codemie/protocol/openid-connect/token');
    expect(body.error.details).toContain('POST http://localhost:80/v1/local-auth/login');
  });

  it('malformed header or token → 401', async () => {
    await rejected({ authorization: 'Basic dXNlcjpwYXNz' }, "must use the Bearer scheme (got 'Basic')");
    await rejected({ authorization: 'Bearer' }, "must be 'Bearer <access token>'");
    await rejected({ authorization: 'Bearer not-a-jwt' }, 'Malformed token');
    await rejected({ authorization: 'Bearer a.b.c' }, 'Malformed token');
  });

  it("alg 'none' → 401", async () => {
    const [, payload] = good.split('.');
    await rejected(authHeaders(`${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`), "Token algorithm 'none' is not allowed");
  });

  it('HS256 signed with the public key as the secret → 401', async () => {
    const jwks = (await p.app.inject({ url: '/auth/realms/codemie/protocol/openid-connect/certs' })).json();
    const kid = decodeProtectedHeader(good).kid;
    const jwk = jwks.keys.find((k: JWK) => k.kid === kid);
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const forged = await new SignJWT({ sub: 'x', preferred_username: 'evil', realm_access: { roles: ['admin'] } })
      .setProtectedHeader({ alg: 'HS256', kid })
      .setIssuer(embeddedIss)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(pem as string));
    await rejected(authHeaders(forged), "Token algorithm 'HS256' is not allowed");
  });

  it('unknown issuer → 401', async () => {
    const t = await ext.sign(extClaims({ iss: 'https://evil.example/realms/codemie' }));
    await rejected(authHeaders(t), "Token issuer 'https://evil.example/realms/codemie' is not trusted");
  });

  it('expired → 401; within the 30 s leeway → accepted', async () => {
    const now = Math.floor(Date.now() / 1000);
    await rejected(authHeaders(await ext.sign(extClaims({ iat: now - 600, exp: now - 120 }))), 'Token has expired');
    expect((await me(authHeaders(await ext.sign(extClaims({ iat: now - 600, exp: now - 10 }))))).statusCode).toBe(200);
  });

  it('not yet valid (nbf in the future) → 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    await rejected(authHeaders(await ext.sign(extClaims({ nbf: now + 300 }))), 'Token is not yet valid');
  });

  it('bad signature → 401 (tampered payload, or a foreign key claiming our kid)', async () => {
    const [h, , s] = good.split('.');
    const payload = JSON.parse(Buffer.from(good.split('.')[1], 'base64url').toString());
    await rejected(authHeaders(`${h}.${b64({ ...payload, realm_access: { roles: ['admin'] } })}.${s}`), 'Token signature is invalid');
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ sub: 'x' })
      .setProtectedHeader({ alg: 'RS256', kid: decodeProtectedHeader(good).kid })
      .setIssuer(embeddedIss)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    await rejected(authHeaders(forged), 'Token signature is invalid');
  });

  it('unknown kid → 401 (embedded and external issuer)', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ sub: 'x' })
      .setProtectedHeader({ alg: 'RS256', kid: 'no-such-kid' })
      .setIssuer(embeddedIss)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    await rejected(authHeaders(forged), "Token signing key 'no-such-kid' is not a key of issuer");
    const kid = await ext.addKey({ publish: false });
    await rejected(authHeaders(await ext.sign(extClaims(), { kid })), `Token signing key '${kid}' is not a key of issuer '${ext.issuer}'`);
  });

  it('a token for another Host of this server is accepted (verified by key)', async () => {
    const res = await p.app.inject({
      method: 'POST',
      url: '/auth/realms/codemie/protocol/openid-connect/token',
      headers: { host: 'my-machine.local:8080', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=password&client_id=codemie-sdk&username=alice&password=test-password-123',
    });
    const t = res.json().access_token;
    expect(JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString()).iss).toBe('http://my-machine.local:8080/auth/realms/codemie');
    expect((await me(authHeaders(t))).statusCode).toBe(200);
  });

  describe('only access tokens are access tokens', () => {
    /** A token signed with the embedded IdP's own current key (what only this server can do). */
    async function embeddedSigned(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
      const { kid, alg, key } = await p.services.identity.keys.signingKey();
      const now = Math.floor(Date.now() / 1000);
      // The subject must be a user that exists: tokens of deleted (or never created) users are refused.
      const sub = JSON.parse(Buffer.from((await adminToken(p)).split('.')[1], 'base64url').toString()).sub;
      const all: Record<string, unknown> = { typ: 'Bearer', sub, preferred_username: 'evil', iss: embeddedIss, iat: now, exp: now + 300, ...claims };
      for (const k of Object.keys(all)) if (all[k] === undefined) delete all[k];
      return new SignJWT(all).setProtectedHeader({ alg, kid, typ: 'JWT', ...header }).sign(key);
    }

    it("the embedded IdP's own ID token → 401 (was accepted)", async () => {
      const res = await p.app.inject({
        method: 'POST',
        url: '/auth/realms/codemie/protocol/openid-connect/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'grant_type=password&client_id=codemie-sdk&username=alice&password=test-password-123&scope=openid',
      });
      const { id_token, access_token } = res.json();
      expect(id_token).toBeTruthy();
      await rejected(authHeaders(id_token), 'Token is an ID token, not an access token');
      expect((await me(authHeaders(access_token))).statusCode).toBe(200);
    });

    it('signed by our key but typ Refresh, no typ, no exp, no iat or a future iat → 401 (were accepted)', async () => {
      expect((await me(authHeaders(await embeddedSigned({})))).statusCode).toBe(200);
      await rejected(authHeaders(await embeddedSigned({ typ: 'Refresh' })), 'Token is a refresh token, not an access token');
      await rejected(authHeaders(await embeddedSigned({ typ: undefined })), 'Token does not say it is an access token');
      await rejected(authHeaders(await embeddedSigned({ exp: undefined })), 'Token has no expiry (exp)');
      await rejected(authHeaders(await embeddedSigned({ iat: undefined })), 'Token has no issue time (iat)');
      await rejected(authHeaders(await embeddedSigned({ iat: Math.floor(Date.now() / 1000) + 3600 })), 'Token is issued in the future (iat)');
      // within the clock leeway is fine
      expect((await me(authHeaders(await embeddedSigned({ iat: Math.floor(Date.now() / 1000) + 10 })))).statusCode).toBe(200);
    });

    it('external issuers alike: ID tokens, untyped and unexpiring tokens → 401; an RFC 9068 at+jwt token is accepted', async () => {
      await rejected(authHeaders(await ext.sign(extClaims({ typ: 'ID' }))), 'Token is an ID token, not an access token');
      await rejected(authHeaders(await ext.sign(extClaims({ typ: 'Logout' }))), 'Token is a logout token');
      await rejected(authHeaders(await ext.sign(extClaims({ typ: undefined }))), 'Token does not say it is an access token');
      await rejected(authHeaders(await ext.sign(extClaims({ exp: undefined }))), 'Token has no expiry (exp)');
      await rejected(authHeaders(await ext.sign(extClaims({ iat: Math.floor(Date.now() / 1000) + 3600 }))), 'Token is issued in the future (iat)');
      expect((await me(authHeaders(await ext.sign(extClaims({ typ: undefined }), { typ: 'at+jwt' })))).statusCode).toBe(200);
    });
  });

  it('invalid user_type claim → 401', async () => {
    await rejected(authHeaders(await ext.sign(extClaims({ user_type: 'robot' }))), 'Invalid user_type attribute from IDP');
  });
});

describe('audience policy (CODEMIE_JWT_AUDIENCE)', () => {
  let p: TestPlatform;
  let ext: FakeIssuer;
  beforeAll(async () => {
    ext = await startFakeIssuer();
    p = await startTestPlatform({ env: { CODEMIE_TRUSTED_ISSUERS: ext.issuer, CODEMIE_JWT_AUDIENCE: 'codemie-api,codemie-sdk' } });
  });
  afterAll(async () => {
    await p?.stop();
    await ext?.close();
  });
  const me = (t: string) => p.app.inject({ url: '/v1/user', headers: authHeaders(t) });

  it('accepts a matching aud or azp, refuses anything else', async () => {
    expect((await me(await ext.sign({ sub: 'u', aud: ['account', 'codemie-api'], azp: 'x' }))).statusCode).toBe(200);
    expect((await me(await ext.sign({ sub: 'u', aud: 'account', azp: 'codemie-sdk' }))).statusCode).toBe(200);
    expect((await me(await adminToken(p))).statusCode).toBe(200); // embedded token: azp codemie-sdk
    const res = await me(await ext.sign({ sub: 'u', aud: 'account', azp: 'other-app' }));
    expect(res.statusCode).toBe(401);
    expect(res.json().error.details).toContain('Token audience does not match');
  });
});

describe('JWKS cache of an external issuer', () => {
  let ext: FakeIssuer;
  beforeAll(async () => {
    ext = await startFakeIssuer();
  });
  afterAll(async () => ext?.close());

  it('fetches once, refetches on an unknown kid after the cooldown, not before', async () => {
    const v = new TokenVerifier({ trustedIssuers: [ext.issuer], audience: [], jwksCooldownMs: 300 });
    await v.verify(await ext.sign({ sub: 'a' }));
    await v.verify(await ext.sign({ sub: 'a' }));
    expect(ext.jwksFetches()).toBe(1);
    const kid2 = await ext.addKey(); // rotated at the issuer
    await expect(v.verify(await ext.sign({ sub: 'a' }, { kid: kid2 }))).rejects.toBeInstanceOf(TokenRejected); // within cooldown
    expect(ext.jwksFetches()).toBe(1);
    await new Promise((r) => setTimeout(r, 350));
    const payload = await v.verify(await ext.sign({ sub: 'b' }, { kid: kid2 }));
    expect(payload.sub).toBe('b');
    expect(ext.jwksFetches()).toBe(2);
  });

  it('an unreachable issuer → a clear rejection', async () => {
    const v = new TokenVerifier({ trustedIssuers: ['http://127.0.0.1:9/realms/x'], audience: [], fetchTimeoutMs: 1000 });
    const { privateKey } = await generateKeyPair('ES256');
    const t = await new SignJWT({ sub: 'a' }).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setIssuer('http://127.0.0.1:9/realms/x').setExpirationTime('1m').sign(privateKey);
    await expect(v.verify(t)).rejects.toThrow(/Could not load the signing keys of issuer/);
  });
});

