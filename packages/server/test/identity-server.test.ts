/**
 * The embedded IdP over real sockets, as users call it: fetch with form bodies, curl, and the
 * built server started like `npm start` (generated admin password printed once, then used).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, tempDir, type TestPlatform } from './helpers.js';
import { createClient, createUser, DEFAULT_TEST_PASSWORD } from './identity-helpers.js';
import { startServerProcess } from './process.js';

const exec = promisify(execFile);
const curl = async (...args: string[]) => (await exec('curl', ['-sS', ...args])).stdout;

describe('embedded IdP on a listening server', () => {
  let p: TestPlatform;
  let secret: string;
  beforeAll(async () => {
    p = await startTestPlatform({ listen: true });
    await createUser(p, { username: 'alice', projects: ['demo'] });
    secret = await createClient(p, { clientId: 'svc', projects: ['ops'] });
  });
  afterAll(async () => p?.stop());

  it('password grant, refresh and logout with fetch and form posts', async () => {
    const tokenUrl = `${p.url}/auth/realms/codemie/protocol/openid-connect/token`;
    const res = await fetch(tokenUrl, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: 'codemie-sdk', username: 'alice', password: DEFAULT_TEST_PASSWORD }),
    });
    expect(res.status).toBe(200);
    const t = (await res.json()) as { access_token: string; refresh_token: string };
    const iss = JSON.parse(Buffer.from(t.access_token.split('.')[1], 'base64url').toString()).iss;
    expect(iss).toBe(`${p.url}/auth/realms/codemie`);
    // Discovery issuer matches the token issuer for this base URL.
    const disc = (await (await fetch(`${p.url}/auth/realms/codemie/.well-known/openid-configuration`)).json()) as { issuer: string };
    expect(disc.issuer).toBe(iss);
    const me = await fetch(`${p.url}/v1/user`, { headers: { authorization: `Bearer ${t.access_token}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { username: string }).username).toBe('alice');

    const refreshed = await fetch(tokenUrl, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'codemie-sdk', refresh_token: t.refresh_token }) });
    expect(refreshed.status).toBe(200);
    const r = (await refreshed.json()) as { refresh_token: string };
    const out = await fetch(`${p.url}/auth/realms/codemie/protocol/openid-connect/logout`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'codemie-sdk', refresh_token: r.refresh_token }),
    });
    expect(out.status).toBe(204);
    const after = await fetch(tokenUrl, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'codemie-sdk', refresh_token: r.refresh_token }) });
    expect(after.status).toBe(400);
    expect(await after.json()).toEqual({ error: 'invalid_grant', error_description: 'Session not active' });
  });

  it('curl: password grant and client_credentials, then /v1/user', async () => {
    const tokenUrl = `${p.url}/auth/realms/codemie/protocol/openid-connect/token`;
    const pw = JSON.parse(await curl('-d', 'grant_type=password', '-d', 'client_id=codemie-sdk', '-d', 'username=alice', '-d', `password=${DEFAULT_TEST_PASSWORD}`, tokenUrl));
    const me = JSON.parse(await curl('-H', `Authorization: Bearer ${pw.access_token}`, `${p.url}/v1/user`));
    expect(me).toMatchObject({ username: 'alice', applications: ['demo'] });
    const cc = JSON.parse(await curl('-d', 'grant_type=client_credentials', '-d', 'client_id=svc', '-d', `client_secret=${secret}`, tokenUrl));
    expect(cc.refresh_token).toBeUndefined();
    const svc = JSON.parse(await curl('-H', `Authorization: Bearer ${cc.access_token}`, `${p.url}/code-assistant-api/v1/user`));
    expect(svc).toMatchObject({ username: 'service-account-svc', applications: ['ops'] });
    const basic = JSON.parse(await curl('-u', `svc:${secret}`, '-d', 'grant_type=client_credentials', tokenUrl));
    expect(basic.access_token).toBeTruthy();
    const status = await curl('-o', '/dev/null', '-w', '%{http_code}', '-H', 'Authorization: dev-codemie-user', `${p.url}/v1/user`);
    expect(status).toBe('401');
  });
});

describe('built server (npm start path)', () => {
  const data = tempDir();
  afterAll(() => data.cleanup());

  it('prints a generated admin password once; it works with curl; a restart prints nothing', async () => {
    const env = { CODEMIE_DATA_DIR: data.dir, CODEMIE_SCRYPT_N: '1024', CODEMIE_ADMIN_PASSWORD: '' };
    const first = await startServerProcess(env);
    let password = '';
    try {
      const m = /password: (\S+)/.exec(first.output());
      expect(m, first.output()).toBeTruthy();
      password = m![1];
      const tok = JSON.parse(
        await curl('-d', 'grant_type=password', '-d', 'client_id=codemie-sdk', '-d', 'username=admin', '-d', `password=${password}`, `${first.url}/auth/realms/codemie/protocol/openid-connect/token`),
      );
      const me = JSON.parse(await curl('-H', `Authorization: Bearer ${tok.access_token}`, `${first.url}/v1/user`));
      expect(me).toMatchObject({ username: 'admin', is_admin: true, applications: ['demo'] });
    } finally {
      expect(await first.stop()).toBe(0);
    }
    const second = await startServerProcess(env);
    try {
      expect(second.output()).not.toContain('password:');
      const tok = JSON.parse(
        await curl('-d', 'grant_type=password', '-d', 'client_id=codemie-sdk', '-d', 'username=admin', '-d', `password=${password}`, `${second.url}/auth/realms/codemie/protocol/openid-connect/token`),
      );
      expect(tok.token_type).toBe('Bearer');
    } finally {
      await second.stop();
    }
  }, 60_000);
});
