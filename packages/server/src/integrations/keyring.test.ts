/**
 * The keyring: AES-256-GCM values that authenticate, a generated key file (0600) reused across
 * restarts, key rotation through CODEMIE_SECRET_KEY_PREVIOUS (re-encrypted at start-up and by
 * `rotateSecretKey`), and the embedded IdP's signing keys sealed at rest (plaintext ones migrated)
 * while login keeps working.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestPlatform, tempDir, testAuthHeaders, TEST_ADMIN_PASSWORD } from '../../test/helpers.js';
import { loadConfig } from '../config/config.js';
import { Keyring, KeyringError, KEY_FILE } from './keyring.js';
import { rotateSecretKey } from './rotate.js';

describe('keyring', () => {
  it('seals and opens; altered values and unknown keys are refused', () => {
    const t = tempDir();
    try {
      const k = new Keyring({ secretKey: 'a-long-enough-secret-1', dataDir: t.dir });
      const sealed = k.seal('hello');
      expect(sealed).toMatch(/^cmk1:[0-9a-f]{8}:/);
      expect(sealed).not.toContain('hello');
      expect(k.open(sealed)).toBe('hello');
      expect(k.seal('hello')).not.toBe(sealed); // fresh IV each time
      const parts = sealed.split(':');
      parts[4] = Buffer.from('xxxxx').toString('base64url');
      expect(() => k.open(parts.join(':'))).toThrow(KeyringError);
      const other = new Keyring({ secretKey: 'another-secret-key-22', dataDir: t.dir });
      expect(() => other.open(sealed)).toThrow(/neither CODEMIE_SECRET_KEY/);
      const both = new Keyring({ secretKey: 'another-secret-key-22', previousKeys: 'a-long-enough-secret-1', dataDir: t.dir });
      expect(both.open(sealed)).toBe('hello');
      expect(both.isStale(sealed)).toBe(true);
      expect(both.isStale(both.reseal(sealed))).toBe(false);
    } finally {
      t.cleanup();
    }
  });

  it('generates a key file once, mode 0600, and reuses it', () => {
    const t = tempDir();
    try {
      const a = new Keyring({ dataDir: t.dir });
      expect(a.generated).toBe(true);
      expect(statSync(path.join(t.dir, KEY_FILE)).mode & 0o777).toBe(0o600);
      const b = new Keyring({ dataDir: t.dir });
      expect(b.generated).toBe(false);
      expect(b.open(a.seal('x'))).toBe('x');
    } finally {
      t.cleanup();
    }
  });
});

describe('key rotation and IdP signing keys', () => {
  it('re-encrypts under the new key at start-up; signing keys are sealed and login works', async () => {
    const t = tempDir();
    const alice = { id: 'alice', username: 'alice', projects: ['demo'] };
    const K1 = 'first-secret-key-0123456789';
    const K2 = 'second-secret-key-0123456789';
    try {
      let p = await startTestPlatform({ testAuth: true, env: { CODEMIE_DATA_DIR: t.dir, CODEMIE_SECRET_KEY: K1 } });
      const r = await p.app.inject({
        method: 'POST',
        url: '/v1/settings/user',
        headers: { ...testAuthHeaders(alice), 'content-type': 'application/json' },
        payload: { project_name: 'demo', alias: 'k', credential_type: 'DIAL', credential_values: [{ key: 'api_key', value: 'dial-key-1' }] },
      });
      expect(r.statusCode, r.body).toBe(200);
      const k1 = new Keyring({ secretKey: K1, dataDir: t.dir }).current.id;
      const keyIds = async () => (await p.infra.store.db.selectFrom('integrations').select('credentials').execute()).map((x) => Keyring.keyIdOf(x.credentials));
      expect(await keyIds()).toEqual([k1]);
      const jwks = await p.infra.store.db.selectFrom('idp_signing_keys').select('private_jwk').execute();
      expect(jwks.length).toBeGreaterThan(0);
      for (const j of jwks) expect(Keyring.keyIdOf(j.private_jwk)).toBe(k1);
      await p.stop();

      // The operator rotates: new key, old one as previous.
      p = await startTestPlatform({ testAuth: true, env: { CODEMIE_DATA_DIR: t.dir, CODEMIE_SECRET_KEY: K2, CODEMIE_SECRET_KEY_PREVIOUS: K1 } });
      const k2 = new Keyring({ secretKey: K2, dataDir: t.dir }).current.id;
      expect(await keyIds()).toEqual([k2]);
      for (const j of await p.infra.store.db.selectFrom('idp_signing_keys').select('private_jwk').execute()) expect(Keyring.keyIdOf(j.private_jwk)).toBe(k2);
      const got = await (p.services as any).integrations.integrations.resolve({
        user: { id: 'alice', projects: ['demo'], isAdmin: false },
        project: 'demo',
        alias: 'k',
      });
      expect(got.values).toEqual([{ key: 'api_key', value: 'dial-key-1' }]);
      // The embedded IdP still signs with its (sealed) key.
      await p.stop();
      p = await startTestPlatform({ env: { CODEMIE_DATA_DIR: t.dir, CODEMIE_SECRET_KEY: K2 } });
      const login = await p.app.inject({
        method: 'POST',
        url: '/auth/realms/codemie/protocol/openid-connect/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ grant_type: 'password', client_id: 'codemie-sdk', username: 'admin', password: TEST_ADMIN_PASSWORD }).toString(),
      });
      expect(login.statusCode, login.body).toBe(200);
      const token = login.json().access_token as string;
      const me = await p.app.inject({ method: 'GET', url: '/v1/settings/user', headers: { authorization: `Bearer ${token}` } });
      expect(me.statusCode, me.body).toBe(200);
      await p.stop();

      // The command does the same without a server.
      const K3 = 'third-secret-key-0123456789';
      const res = await rotateSecretKey(loadConfig({ CODEMIE_DATA_DIR: t.dir, CODEMIE_SECRET_KEY: K3, CODEMIE_SECRET_KEY_PREVIOUS: K2 }));
      expect(res).toMatchObject({ integrationsRotated: 1, integrationsUnreadable: 0 });
      p = await startTestPlatform({ testAuth: true, env: { CODEMIE_DATA_DIR: t.dir, CODEMIE_SECRET_KEY: K3 } });
      expect(await keyIds()).toEqual([res.keyId]);
      await p.stop();
    } finally {
      t.cleanup();
    }
  });
});
