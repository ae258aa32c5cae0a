import type { WorkflowTables } from '../workflows/tables.js';

/**
 * The database schema as Kysely sees it. Columns use portable types only so one set of
 * queries serves SQLite and PostgreSQL: text ids (UUID), ISO-8601 UTC text timestamps,
 * JSON as text (see json.ts), booleans as 0/1 integers. Each domain declares its tables in
 * `<domain>/tables.ts`; they are combined here.
 */
import type { IdentityTables } from '../identity/tables.js';
import type { AuditLogTable } from '../audit/tables.js';
import type { McpConfigsTable } from '../mcp/tables.js';
import type { AssistantTables } from '../assistants/tables.js';
import type { ConversationTables } from '../conversations/tables.js';
import type { TaskTables } from '../tasks/tables.js';
import type { FileTables } from '../files/tables.js';

export interface SettingsTable {
  key: string;
  value: string;
  update_date: string;
}

export interface Database extends IdentityTables, AssistantTables, ConversationTables, TaskTables, WorkflowTables, FileTables {
  settings: SettingsTable;
  audit_log: AuditLogTable;
  mcp_configs: McpConfigsTable;
}
