/**
 * Migration 0040 on a database that already holds conversations: message positions are backfilled
 * in the order they were read before (turn, User first), assistant_ids from the initial assistant,
 * and ids longer than a UUID fit afterwards (PostgreSQL enforces varchar lengths).
 */
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { DB_KINDS, freshPostgres } from '../../test/helpers.js';
import { migrationProvider } from '../store/migrations/index.js';
import type { Database } from '../store/schema.js';

describe.each(DB_KINDS)('migration 0040_conversations (%s)', (kind) => {
  let db: Kysely<Database>;
  let drop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await db?.destroy();
    await drop?.();
  });

  it('backfills seq and assistant_ids; long ids fit', async () => {
    if (kind === 'postgres') {
      const pgDb = await freshPostgres();
      drop = pgDb.drop;
      const pg = await import('pg');
      db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.default.Pool({ connectionString: pgDb.url, max: 2 }) }) });
    } else {
      db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) });
    }
    const migrator = new Migrator({ db, provider: migrationProvider, allowUnorderedMigrations: true });
    expect((await migrator.migrateTo('0007_files')).error).toBeUndefined();
    const at = '2026-01-01T00:00:00.000Z';
    const legacy = { user_id: 'u', user_name: 'U', name: 'n', project: 'demo', folder: null, pinned: 0, llm_model: null, date: at, update_date: at };
    // Tables as they were before 0040 (the current types have more columns).
    const raw = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
    await raw
      .insertInto('conversations')
      .values([
        { id: 'c1', initial_assistant_id: 'a1', ...legacy },
        { id: 'c2', initial_assistant_id: null, ...legacy },
      ])
      .execute();
    const msg = (id: string, conv: string, index: number, role: string) => ({
      id,
      conversation_id: conv,
      history_index: index,
      role,
      message: `${role} ${index}`,
      date: at,
      data: '{}',
    });
    await raw
      .insertInto('conversation_messages')
      .values([
        msg('m4', 'c1', 1, 'Assistant'),
        msg('m1', 'c1', 0, 'User'),
        msg('m3', 'c1', 1, 'User'),
        msg('m2', 'c1', 0, 'Assistant'),
        msg('m5', 'c2', 0, 'User'),
      ])
      .execute();

    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const rows = await db.selectFrom('conversation_messages').select(['id', 'seq']).where('conversation_id', '=', 'c1').orderBy('seq').execute();
    expect(rows).toEqual([
      { id: 'm1', seq: 0 },
      { id: 'm2', seq: 1 },
      { id: 'm3', seq: 2 },
      { id: 'm4', seq: 3 },
    ]);
    expect((await db.selectFrom('conversation_messages').select('seq').where('id', '=', 'm5').executeTakeFirstOrThrow()).seq).toBe(0);
    const convs = await db.selectFrom('conversations').select(['id', 'assistant_ids', 'finished_at', 'is_workflow']).orderBy('id').execute();
    expect(convs).toEqual([
      { id: 'c1', assistant_ids: '["a1"]', finished_at: null, is_workflow: 0 },
      { id: 'c2', assistant_ids: '[]', finished_at: null, is_workflow: 0 },
    ]);
    const long = `imported-${'x'.repeat(150)}`;
    await raw
      .insertInto('conversations')
      .values({ id: long, initial_assistant_id: 'a1', ...legacy })
      .execute();
    await raw
      .insertInto('conversation_messages')
      .values({ ...msg('m9', long, 0, 'User'), seq: 0 })
      .execute();
    // Messages still go with their conversation.
    await db.deleteFrom('conversations').where('id', '=', long).execute();
    expect(await db.selectFrom('conversation_messages').select('id').where('id', '=', 'm9').execute()).toEqual([]);
  });
});
