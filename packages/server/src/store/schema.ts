import type { WorkflowTables } from '../workflows/tables.js';

/**
 * The database schema as Kysely sees it. Columns use portable types only so one set of
 * queries serves SQLite and PostgreSQL: text ids (UUID), ISO-8601 UTC text timestamps,
 * JSON as text (see json.ts), booleans as 0/1 integers.
 */
export interface SettingsTable {
  key: string;
  value: string;
  update_date: string;
}

export interface Database extends WorkflowTables {
  settings: SettingsTable;
}
