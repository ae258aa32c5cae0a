/**
 * Workflows beyond CRUD (issue 23): marketplace columns on `workflows` (is_global, categories,
 * version_count) and one row per saved version in `workflow_versions` (existing workflows get
 * their current document as version 1).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('workflows')
    .addColumn('is_global', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('workflows')
    .addColumn('categories', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();
  await db.schema
    .alterTable('workflows')
    .addColumn('version_count', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.createIndex('workflows_global_idx').on('workflows').columns(['is_global', 'date']).execute();

  await db.schema
    .createTable('workflow_versions')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('workflow_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('version_number', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('mode', 'varchar(40)', (c) => c.notNull())
    .addColumn('yaml_config', 'text', (c) => c.notNull())
    .addColumn('icon_url', 'text')
    .addColumn('start_hint', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('change_notes', 'text')
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('workflow_versions_uq').unique().on('workflow_versions').columns(['workflow_id', 'version_number']).execute();

  const rows = await db
    .selectFrom('workflows')
    .select(['id', 'name', 'description', 'mode', 'yaml_config', 'icon_url', 'start_hint', 'created_by', 'update_date'])
    .execute();
  for (const r of rows) {
    await db
      .insertInto('workflow_versions')
      .values({
        id: `${r.id}:1`,
        workflow_id: r.id,
        version_number: 1,
        name: r.name,
        description: r.description,
        mode: r.mode,
        yaml_config: r.yaml_config,
        icon_url: r.icon_url,
        start_hint: r.start_hint,
        created_by: r.created_by,
        change_notes: null,
        date: r.update_date,
      })
      .execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('workflow_versions').execute();
  await db.schema.dropIndex('workflows_global_idx').execute();
  await db.schema.alterTable('workflows').dropColumn('version_count').execute();
  await db.schema.alterTable('workflows').dropColumn('categories').execute();
  await db.schema.alterTable('workflows').dropColumn('is_global').execute();
}
