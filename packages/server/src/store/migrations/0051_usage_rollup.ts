/** The hourly rollup of usage records (analytics/tables.ts UsageRollupTable). */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  let t = db.schema
    .createTable('usage_rollup')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('bucket', 'varchar(13)', (c) => c.notNull());
  for (const col of [
    'kind',
    'project',
    'user_id',
    'user_name',
    'assistant_id',
    'assistant_name',
    'workflow_id',
    'workflow_name',
    'model',
    'tool_name',
    'tool_type',
    'mcp_server',
    'webhook_alias',
    'status',
    'error_class',
    'conversation_id',
  ])
    t = t.addColumn(col, 'varchar(300)', (c) => c.notNull());
  t = t
    .addColumn('calls', 'bigint', (c) => c.notNull())
    .addColumn('input_tokens', 'bigint', (c) => c.notNull())
    .addColumn('output_tokens', 'bigint', (c) => c.notNull())
    .addColumn('cached_tokens', 'bigint', (c) => c.notNull())
    .addColumn('money_spent', 'double precision', (c) => c.notNull())
    .addColumn('latency_ms', 'double precision', (c) => c.notNull())
    .addColumn('last_date', 'varchar(40)', (c) => c.notNull());
  await t.execute();
  await db.schema.createIndex('usage_rollup_bucket_idx').on('usage_rollup').columns(['bucket', 'kind']).execute();
  await db.schema.createIndex('usage_rollup_project_idx').on('usage_rollup').columns(['project', 'bucket']).execute();
  await db.schema.createIndex('usage_rollup_user_idx').on('usage_rollup').columns(['user_id', 'bucket']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('usage_rollup').execute();
}
