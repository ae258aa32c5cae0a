/** Usage accounting, project budgets and budget limit events (analytics/tables.ts). */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('usage_records')
    .addColumn('id', 'varchar(300)', (c) => c.primaryKey())
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('kind', 'varchar(30)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('user_name', 'varchar(300)', (c) => c.notNull())
    .addColumn('project', 'varchar(200)', (c) => c.notNull())
    .addColumn('assistant_id', 'varchar(100)')
    .addColumn('assistant_name', 'varchar(300)')
    .addColumn('workflow_id', 'varchar(100)')
    .addColumn('workflow_name', 'varchar(300)')
    .addColumn('execution_id', 'varchar(100)')
    .addColumn('conversation_id', 'varchar(100)')
    .addColumn('model', 'varchar(200)')
    .addColumn('tool_name', 'varchar(300)')
    .addColumn('tool_type', 'varchar(50)')
    .addColumn('mcp_server', 'varchar(300)')
    .addColumn('webhook_alias', 'varchar(300)')
    .addColumn('input_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('output_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cached_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('money_spent', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('latency_ms', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('error_class', 'varchar(200)')
    .execute();
  // Every endpoint filters by kind and time; access filters add project or user.
  await db.schema.createIndex('usage_records_date_idx').on('usage_records').column('date').execute();
  await db.schema.createIndex('usage_records_kind_date_idx').on('usage_records').columns(['kind', 'date']).execute();
  await db.schema.createIndex('usage_records_project_date_idx').on('usage_records').columns(['project', 'date']).execute();
  await db.schema.createIndex('usage_records_user_date_idx').on('usage_records').columns(['user_id', 'date']).execute();

  await db.schema
    .createTable('project_budgets')
    .addColumn('budget_id', 'varchar(200)', (c) => c.primaryKey())
    .addColumn('project_name', 'varchar(200)', (c) => c.notNull())
    .addColumn('budget_category', 'varchar(50)', (c) => c.notNull())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('soft_budget', 'double precision', (c) => c.notNull())
    .addColumn('max_budget', 'double precision', (c) => c.notNull())
    .addColumn('budget_duration', 'varchar(20)', (c) => c.notNull())
    .addColumn('allocation_mode', 'varchar(20)', (c) => c.notNull())
    .addColumn('models', 'text')
    .addColumn('overrides', 'text', (c) => c.notNull())
    .addColumn('period_start', 'varchar(40)', (c) => c.notNull())
    .addColumn('created_by', 'varchar(300)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(40)')
    .execute();
  await db.schema.createIndex('project_budgets_project_idx').on('project_budgets').columns(['project_name', 'budget_category']).unique().execute();

  await db.schema
    .createTable('budget_events')
    .addColumn('id', 'varchar(300)', (c) => c.primaryKey())
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('kind', 'varchar(10)', (c) => c.notNull())
    .addColumn('budget_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('project', 'varchar(200)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('user_name', 'varchar(300)', (c) => c.notNull())
    .addColumn('spent', 'double precision', (c) => c.notNull())
    .addColumn('limit_value', 'double precision', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('budget_events_kind_date_idx').on('budget_events').columns(['kind', 'date']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['budget_events', 'project_budgets', 'usage_records']) await db.schema.dropTable(t).execute();
}
