/** The store suite: the same tests against SQLite and PostgreSQL. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { freshPostgres, tempDir, DB_KINDS, type DbKind } from '../../test/helpers.js';
import { migrate, openStore, ping, type Store } from './db.js';
import { SettingsRepo } from './settings.js';
import { compiledOnce } from './compiled-query.js';

describe.each(DB_KINDS)('store on %s', (kind: DbKind) => {
  const tmp = tempDir();
  let pg: Awaited<ReturnType<typeof freshPostgres>> | undefined;
  let store: Store;
  const open = () => openStore({ dataDir: tmp.dir, databaseUrl: pg?.url });

  beforeAll(async () => {
    if (kind === 'postgres') pg = await freshPostgres();
    store = await open();
  });
  afterAll(async () => {
    await store.close();
    await pg?.drop();
    tmp.cleanup();
  });

  it('opens the right dialect and answers a ping', async () => {
    expect(store.dialect).toBe(kind);
    expect(await ping(store.db)).toBe(true);
  });

  it('applies migrations once; re-running them is a no-op', async () => {
    const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(store.db);
    expect(applied.rows.map((r) => r.name)).toContain('0001_foundation');
    expect(await migrate(store.db)).toEqual([]);
    const again = await open();
    await again.close();
  });

  it('a query compiled once binds new values on every run, keeping its constants', async () => {
    const s = new SettingsRepo(store.db);
    await s.set('c1', { n: 1 });
    await s.set('c2', { n: 2 });
    const byKey = compiledOnce((key: string) => store.db.selectFrom('settings').select(['key', 'value']).where('key', '=', key).where('key', '!=', 'never'), 1);
    expect((await byKey.run(store.db, ['c1'])).rows).toMatchObject([{ key: 'c1' }]);
    expect((await byKey.run(store.db, ['c2'])).rows).toMatchObject([{ key: 'c2' }]);
    expect((await byKey.run(store.db, ['never'])).rows).toEqual([]);
    // and inside a transaction
    await store.db.transaction().execute(async (trx) => {
      expect((await byKey.run(trx, ['c2'])).rows).toHaveLength(1);
    });
  });

  it('stores and updates settings as JSON', async () => {
    const s = new SettingsRepo(store.db);
    expect(await s.get('missing')).toBeUndefined();
    await s.set('k1', { a: 1, b: ['x'] });
    expect(await s.get('k1')).toEqual({ a: 1, b: ['x'] });
    await s.set('k1', 'two');
    expect(await s.get('k1')).toBe('two');
    await s.delete('k1');
    expect(await s.get('k1')).toBeUndefined();
  });

  it('setIfAbsent creates exactly once, even when raced', async () => {
    const s = new SettingsRepo(store.db);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => s.setIfAbsent('once', i)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(typeof (await s.get<number>('once'))).toBe('number');
  });

  it('rolls back a failed transaction and keeps stored data intact', async () => {
    const s = new SettingsRepo(store.db);
    await s.set('tx', 'before');
    await expect(
      store.db.transaction().execute(async (trx) => {
        await new SettingsRepo(trx).set('tx', 'inside');
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await s.get('tx')).toBe('before');
  });

  it('persists across re-opening', async () => {
    await new SettingsRepo(store.db).set('durable', 42);
    const other = await open();
    expect(await new SettingsRepo(other.db).get('durable')).toBe(42);
    await other.close();
  });
});
