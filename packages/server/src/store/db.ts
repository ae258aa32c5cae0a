/**
 * Opens the store: SQLite (WAL) under CODEMIE_DATA_DIR by default, PostgreSQL when
 * DATABASE_URL is set. Migrations run before anything else touches the database.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type { Database } from './schema.js';
import { migrationProvider } from './migrations/index.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { trackCache } from '../metrics/caches.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Human-readable location (file path or URL without password) for logs. */
  location: string;
  /** The SQLite connection itself (loading extensions such as sqlite-vec); undefined on PostgreSQL. */
  sqlite?: import('better-sqlite3').Database;
  close(): Promise<void>;
}

export interface StoreOptions {
  dataDir: string;
  databaseUrl?: string;
  /** Called when an idle PostgreSQL connection fails (it is replaced on next use). */
  onIdleError?: (err: Error) => void;
  /** SQLite file name inside dataDir, or ':memory:'. */
  sqliteFile?: string;
  /**
   * SQLite file: checkpoint the WAL on a worker thread (store/checkpointer.ts), not in the commit
   * that fills it. Default true; short-lived tools can turn it off.
   */
  checkpointThread?: boolean;
  /** Store problems that do not stop it (a checkpoint thread that failed). */
  onWarning?: (message: string) => void;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres';
  }
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  let db: Kysely<Database>;
  let dialect: Dialect;
  let location: string;
  let sqliteHandle: import('better-sqlite3').Database | undefined;
  if (opts.databaseUrl) {
    const pg = await import('pg');
    // Return bigint counts as numbers; our counts never approach 2^53.
    pg.default.types.setTypeParser(20, (v: string) => Number(v));
    const pool = new pg.default.Pool({ connectionString: opts.databaseUrl, max: 10 });
    // An idle client losing its connection (server restart, admin termination) emits 'error';
    // unhandled, that would crash the process. The pool replaces the client on next use.
    pool.on('error', (err) => opts.onIdleError?.(err));
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    dialect = 'postgres';
    location = redact(opts.databaseUrl);
  } else {
    const { default: SQLite } = await import('better-sqlite3');
    const file = opts.sqliteFile ?? 'codemie.db';
    if (file !== ':memory:') mkdirSync(opts.dataDir, { recursive: true });
    location = file === ':memory:' ? ':memory:' : path.join(opts.dataDir, file);
    const sqlite = new SQLite(location);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    sqliteHandle = sqlite;
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    dialect = 'sqlite';
  }
  try {
    await migrate(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  let checkpointer: Checkpointer | undefined;
  if (sqliteHandle && location !== ':memory:' && opts.checkpointThread !== false) {
    checkpointer = await startCheckpointer(sqliteHandle, location, { onWarning: opts.onWarning }).catch((err: Error) => {
      opts.onWarning?.(`SQLite checkpoint thread did not start (${err.message}); checkpointing on the main connection`);
      return undefined;
    });
  }
  return {
    db,
    dialect,
    location,
    sqlite: sqliteHandle,
    close: async () => {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

/**
 * Kysely prepares every query anew; on SQLite that compile step cost as much as running the
 * statement. The queries are a fixed set of shapes (values are bound), so compiled statements are
 * kept by SQL text, bounded. Safe because better-sqlite3 runs one statement at a time on this
 * connection and SQLite recompiles a cached statement itself after a schema change.
 */
function withStatementCache(sqlite: import('better-sqlite3').Database, max = 500) {
  // Read once: process.env lookups are slow enough to show in a profile of the hot path.
  const debugSql = Boolean(process.env.DEBUG_SQL);
  const cache = new Map<string, import('better-sqlite3').Statement>();
  trackCache('sqlite_statements', cache, (c) => c.size, max);
  return {
    close: () => void sqlite.close(),
    prepare(text: string) {
      let stmt = cache.get(text);
      if (!stmt) {
        stmt = sqlite.prepare(text);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
        cache.set(text, stmt);
      }
      if (debugSql) console.error('SQL', text.slice(0, 120));
      return stmt;
    },
  };
}

export async function migrate(db: Kysely<Database>): Promise<string[]> {
  // Unordered: migrations numbered by domain may land in any order; each still runs exactly once.
  const migrator = new Migrator({ db, provider: migrationProvider, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Cheap liveness probe used by the healthcheck. */
export async function ping(db: Kysely<Database>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
