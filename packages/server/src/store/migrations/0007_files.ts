import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('files')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(1000)', (c) => c.notNull())
    .addColumn('mime_type', 'varchar(200)', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('owner_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('project', 'varchar(200)')
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('files_owner_idx').on('files').column('owner_id').execute();
}
