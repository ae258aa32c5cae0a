import type { WorkflowTables } from '../workflows/tables.js';

/**
 * The database schema as Kysely sees it. Columns use portable types only so one set of
 * queries serves SQLite and PostgreSQL: text ids (UUID), ISO-8601 UTC text timestamps,
 * JSON as text (see json.ts), booleans as 0/1 integers.
 */
import type { IdentityTables } from '../identity/tables.js';

export interface SettingsTable {
  key: string;
  value: string;
  update_date: string;
}

import type { AuditLogTable } from '../audit/tables.js';

export interface Database extends IdentityTables, WorkflowTables {
  settings: SettingsTable;
  audit_log: AuditLogTable;
}
