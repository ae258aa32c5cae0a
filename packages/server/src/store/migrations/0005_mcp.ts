import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('mcp_configs')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('server_home_url', 'text')
    .addColumn('source_url', 'text')
    .addColumn('logo_url', 'text')
    .addColumn('categories', 'text', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('required_env_vars', 'text', (c) => c.notNull())
    .addColumn('user_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('is_public', 'integer', (c) => c.notNull())
    .addColumn('is_system', 'integer', (c) => c.notNull())
    .addColumn('is_active', 'integer', (c) => c.notNull())
    .addColumn('usage_count', 'integer', (c) => c.notNull())
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('update_date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('mcp_configs_name_idx').on('mcp_configs').column('name').execute();
}
