/** First start creates realm key, admin and codemie-sdk exactly once; restarts keep them. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import { DB_KINDS, freshPostgres, tempDir } from '../../test/helpers.js';
import { authHeaders, passwordToken } from '../../test/identity-helpers.js';
import { loadConfig } from '../config/config.js';
import { createPlatform, type Platform } from '../platform.js';
import { bootstrapIdentity } from './bootstrap.js';
import { openStore } from '../store/db.js';

describe.each(DB_KINDS)('identity bootstrap on %s', (db) => {
  const tmp = tempDir();
  let pg: Awaited<ReturnType<typeof freshPostgres>> | undefined;
  const env = () => ({
    CODEMIE_DATA_DIR: tmp.dir,
    PORT: '0',
    LOG_LEVEL: 'silent',
    CODEMIE_SCRYPT_N: '1024',
    ...(pg ? { DATABASE_URL: pg.url } : {}),
  });
  const start = () => createPlatform(loadConfig(env()), { logger: false });

  beforeAll(async () => {
    if (db === 'postgres') pg = await freshPostgres();
  });
  afterAll(async () => {
    await pg?.drop();
    tmp.cleanup();
  });

  it('prints a generated admin password once; a restart re-creates nothing and keeps keys and tokens', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let first: Platform | undefined;
    let printed = '';
    try {
      first = await start();
      printed = write.mock.calls.map((c) => String(c[0])).join('');
    } finally {
      write.mockRestore();
    }
    const m = /password: (\S+)/.exec(printed);
    expect(m, printed).toBeTruthy();
    expect(printed).toContain("created user 'admin' in realm 'codemie'");
    expect(printed).toContain('shown ONLY ONCE');
    const password = m![1];
    const token = await passwordToken(first!, 'admin', password);
    const me = await first!.app.inject({ url: '/v1/user', headers: authHeaders(token) });
    expect(me.json()).toMatchObject({ username: 'admin', is_admin: true, applications: ['demo'] });
    const adminId = me.json().user_id;
    const clients = await first!.services.identity.admin.listClients();
    // The SDK's client, and the web console's (authorization code + PKCE only).
    expect(clients.map((c) => [c.clientId, c.publicClient, c.directAccessGrants])).toEqual([
      ['codemie-console', true, false],
      ['codemie-sdk', true, true],
    ]);
    await first!.close();

    const write2 = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let second: Platform | undefined;
    try {
      second = await start();
      expect(write2.mock.calls.map((c) => String(c[0])).join('')).not.toContain('password:');
    } finally {
      write2.mockRestore();
    }
    try {
      // The token minted before the restart still verifies (same key), the password still works.
      const again = await second!.app.inject({ url: '/v1/user', headers: authHeaders(token) });
      expect(again.statusCode).toBe(200);
      expect(again.json().user_id).toBe(adminId);
      const t2 = await passwordToken(second!, 'admin', password);
      expect(decodeProtectedHeader(t2).kid).toBe(decodeProtectedHeader(token).kid);
      const users = await second!.services.identity.admin.listUsers();
      expect(users.filter((u) => u.username === 'admin')).toHaveLength(1);
      expect(await second!.services.identity.keys.list()).toHaveLength(1);
    } finally {
      await second!.close();
    }
  });

  it('concurrent first starts create everything exactly once', async () => {
    const other = tempDir();
    const pg2 = db === 'postgres' ? await freshPostgres() : undefined;
    // Stores are opened (migrated) one after the other; the bootstraps race.
    const stores = [];
    for (let i = 0; i < 4; i++) stores.push(await openStore({ dataDir: other.dir, databaseUrl: pg2?.url }));
    try {
      const results = await Promise.all(
        stores.map((s) =>
          bootstrapIdentity(s.db, { realm: 'codemie', scryptN: 1024, adminPassword: 'fixed-password', adminRole: 'admin', publicUrl: 'http://x' }),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const db0 = stores[0].db;
      expect(await db0.selectFrom('idp_users').select('username').execute()).toEqual([{ username: 'admin' }]);
      expect(await db0.selectFrom('idp_clients').select('client_id').execute()).toEqual([{ client_id: 'codemie-sdk' }]);
      expect(await db0.selectFrom('idp_signing_keys').select('kid').execute()).toHaveLength(1);
    } finally {
      for (const s of stores) await s.close();
      await pg2?.drop();
      other.cleanup();
    }
  });
});
