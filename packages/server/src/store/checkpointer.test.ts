/**
 * The SQLite store checkpoints its WAL on a worker thread: the main connection never does (its
 * auto-checkpoint is off), yet the database file receives the committed pages; without the
 * thread SQLite's own auto-checkpoint stays on.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers.js';
import SQLite from 'better-sqlite3';
import { openStore, type Store } from './db.js';
import { startCheckpointer } from './checkpointer.js';
import { newRowId } from './ids.js';

const stores: Store[] = [];
const dirs: Array<{ cleanup(): void }> = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) d.cleanup();
});

async function open(checkpointThread?: boolean) {
  const tmp = tempDir('codemie-ckpt-');
  dirs.push(tmp);
  const warnings: string[] = [];
  const store = await openStore({ dataDir: tmp.dir, checkpointThread, onWarning: (m) => warnings.push(m) });
  stores.push(store);
  return { store, file: path.join(tmp.dir, 'codemie.db'), warnings };
}

const autoCheckpoint = async (s: Store) => Number(Object.values((await sql<Record<string, number>>`pragma wal_autocheckpoint`.execute(s.db)).rows[0]!)[0]);

/** Writes enough settings rows to fill a few hundred WAL pages. */
async function write(s: Store, n: number) {
  const big = 'x'.repeat(3000);
  for (let i = 0; i < n; i++) await s.db.insertInto('settings').values({ key: `k-${newRowId()}`, value: JSON.stringify(big), update_date: new Date().toISOString() }).execute();
}

describe('SQLite checkpoint thread', () => {
  it('the main connection does not checkpoint; the thread moves committed pages into the database file', async () => {
    const { store, file, warnings } = await open();
    expect(await autoCheckpoint(store)).toBe(0);
    const before = statSync(file).size;
    await write(store, 300);
    // The database file only grows by checkpoints; the main connection makes none.
    for (let i = 0; i < 50 && statSync(file).size <= before + 300 * 3000; i++) await new Promise((r) => setTimeout(r, 50));
    expect(statSync(file).size).toBeGreaterThan(before + 300 * 3000);
    expect(warnings).toEqual([]);
    // Everything written is there, and closing stops the thread cleanly.
    const count = await store.db.selectFrom('settings').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBeGreaterThanOrEqual(300);
  });

  it('without the thread, SQLite checkpoints on its own commits as usual', async () => {
    const { store } = await open(false);
    expect(await autoCheckpoint(store)).toBe(1000);
  });

  it('a thread that cannot open the database fails to start and leaves SQLite checkpointing as usual', async () => {
    const tmp = tempDir('codemie-ckpt-bad-');
    dirs.push(tmp);
    const main = new SQLite(path.join(tmp.dir, 'main.db'));
    try {
      await expect(startCheckpointer(main, path.join(tmp.dir, 'missing-dir', 'x.db'))).rejects.toThrow(/directory does not exist|unable to open/i);
      expect(main.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    } finally {
      main.close();
    }
  });

  it('data written before closing is there after re-opening', async () => {
    const tmp = tempDir('codemie-ckpt-reopen-');
    dirs.push(tmp);
    const first = await openStore({ dataDir: tmp.dir });
    await write(first, 50);
    await first.close();
    const again = await openStore({ dataDir: tmp.dir });
    stores.push(again);
    const count = await again.db.selectFrom('settings').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBeGreaterThanOrEqual(50);
  });
});
