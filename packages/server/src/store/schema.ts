/**
 * The database schema as Kysely sees it. Columns use portable types only so one set of
 * queries serves SQLite and PostgreSQL: text ids (UUID), ISO-8601 UTC text timestamps,
 * JSON as text (see json.ts), booleans as 0/1 integers. Each domain declares its tables in
 * `<domain>/tables.ts` and adds them to this interface there (declaration merging), so the store
 * knows no domain:
 *
 *   declare module '../store/schema.js' { interface Database extends MyTables {} }
 */

export interface SettingsTable {
  key: string;
  value: string;
  update_date: string;
}

export interface Database {
  settings: SettingsTable;
}
