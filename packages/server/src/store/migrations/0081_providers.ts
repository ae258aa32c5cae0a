/** Providers (providers/tables.ts): external tool providers registered on the platform. */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('providers')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(500)', (c) => c.notNull())
    .addColumn('service_location_url', 'text', (c) => c.notNull())
    .addColumn('configuration', 'text', (c) => c.notNull())
    .addColumn('provided_toolkits', 'text', (c) => c.notNull())
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('update_date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('providers_name_idx').on('providers').column('name').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('providers').execute();
}
