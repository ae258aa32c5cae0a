/**
 * The one ordered list of migrations, applied at start-up to SQLite and PostgreSQL alike.
 * Add a new file per change (never edit an applied one) and list it here.
 */
import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_foundation.js';
import * as m0002 from './0002_identity.js';
import * as m0003 from './0003_assistants.js';
import * as m0004 from './0004_workflows.js';
import * as m0005 from './0005_mcp.js';
import * as m0006 from './0006_audit.js';
import * as m0007 from './0007_files.js';
import * as m0010 from './0010_projects.js';
import * as m0020 from './0020_assistant_marketplace.js';
import * as m0030 from './0030_workflow_catalog.js';
import * as m0040 from './0040_conversations.js';
import * as m0050 from './0050_analytics.js';
import * as m0051 from './0051_usage_rollup.js';
import * as m0060 from './0060_integrations.js';
import * as m0070 from './0070_knowledge.js';
import * as m0080 from './0080_skills.js';
import * as m0081 from './0081_providers.js';

const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_identity': m0002,
  '0003_assistants': m0003,
  '0004_workflows': m0004,
  '0005_mcp': m0005,
  '0006_audit': m0006,
  '0007_files': m0007,
  '0010_projects': m0010,
  '0020_assistant_marketplace': m0020,
  '0030_workflow_catalog': m0030,
  '0040_conversations': m0040,
  '0050_analytics': m0050,
  '0051_usage_rollup': m0051,
  '0060_integrations': m0060,
  '0070_knowledge': m0070,
  '0080_skills': m0080,
  '0081_providers': m0081,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
