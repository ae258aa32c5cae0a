import { describe, expect, it } from 'vitest';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { createWriteBatcher } from './write-batch.js';

interface DB {
  t: { id: string; v: number };
}

function memoryDb() {
  const statements: string[] = [];
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }), log: (e) => void statements.push(e.query.sql) });
  return { db, statements };
}

describe('write batcher (SQLite group commit)', () => {
  it('writes of one tick share one transaction, each resolving with its own result', async () => {
    const { db, statements } = memoryDb();
    await sql`create table t (id text primary key, v integer not null)`.execute(db);
    const w = createWriteBatcher(db, 'sqlite');
    statements.length = 0;
    const results = await Promise.all(
      [1, 2, 3].map((v) =>
        w.run(async (trx) => {
          await trx.insertInto('t').values({ id: `r${v}`, v }).execute();
          return v * 10;
        }),
      ),
    );
    expect(results).toEqual([10, 20, 30]);
    expect(statements.filter((s) => s === 'begin')).toHaveLength(1);
    expect(statements.filter((s) => s === 'commit')).toHaveLength(1);
    expect(statements.some((s) => s.startsWith('savepoint'))).toBe(false);
    expect((await db.selectFrom('t').select('v').orderBy('v').execute()).map((r) => r.v)).toEqual([1, 2, 3]);
    await db.destroy();
  });

  it('a failing write is rolled back alone and rejects with its own error', async () => {
    const { db, statements } = memoryDb();
    await sql`create table t (id text primary key, v integer not null)`.execute(db);
    const w = createWriteBatcher(db, 'sqlite');
    const outcomes = await Promise.allSettled([
      w.run((trx) => trx.insertInto('t').values({ id: 'a', v: 1 }).execute()),
      w.run(async (trx) => {
        await trx.insertInto('t').values({ id: 'b', v: 2 }).execute();
        throw new Error('refused');
      }),
      w.run((trx) => trx.insertInto('t').values({ id: 'c', v: 3 }).execute()),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe('refused');
    expect((await db.selectFrom('t').select('id').orderBy('id').execute()).map((r) => r.id)).toEqual(['a', 'c']);
    // The shared transaction was rolled back, then each write ran in a transaction of its own.
    expect(statements.filter((s) => s === 'rollback')).toHaveLength(2);
    expect(statements.filter((s) => s === 'commit')).toHaveLength(2);
    await db.destroy();
  });

  it('after a failed batch, each write re-runs against the committed state only', async () => {
    const { db } = memoryDb();
    await sql`create table t (id text primary key, v integer not null)`.execute(db);
    const w = createWriteBatcher(db, 'sqlite');
    // The second write refuses once it sees the first one's row: in the batch, and again alone
    // (the first is committed by then). Nothing of the second write is stored.
    const outcomes = await Promise.allSettled([
      w.run((trx) => trx.insertInto('t').values({ id: 'k', v: 1 }).execute()),
      w.run(async (trx) => {
        const seen = await trx.selectFrom('t').select('id').where('id', '=', 'k').executeTakeFirst();
        if (seen) throw new Error('saw an uncommitted neighbour');
        await trx.insertInto('t').values({ id: 'm', v: 2 }).execute();
      }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    expect((await db.selectFrom('t').select('id').orderBy('id').execute()).map((r) => r.id)).toEqual(['k']);
    await db.destroy();
  });

  it('writes of later ticks commit separately; a lone write uses a plain transaction', async () => {
    const { db, statements } = memoryDb();
    await sql`create table t (id text primary key, v integer not null)`.execute(db);
    const w = createWriteBatcher(db, 'sqlite');
    statements.length = 0;
    await w.run((trx) => trx.insertInto('t').values({ id: 'x', v: 1 }).execute());
    await w.run((trx) => trx.insertInto('t').values({ id: 'y', v: 2 }).execute());
    expect(statements.filter((s) => s === 'commit')).toHaveLength(2);
    expect(statements.some((s) => s.startsWith('savepoint'))).toBe(false);
    await db.destroy();
  });
});
