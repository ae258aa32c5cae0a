import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('event', 'varchar(100)', (c) => c.notNull())
    .addColumn('outcome', 'varchar(20)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(200)')
    .addColumn('username', 'varchar(200)')
    .addColumn('client_id', 'varchar(200)')
    .addColumn('ip', 'varchar(64)')
    .addColumn('request_id', 'varchar(128)')
    .addColumn('details', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_date_idx').on('audit_log').column('date').execute();
  await db.schema.createIndex('audit_log_event_idx').on('audit_log').columns(['event', 'date']).execute();
}
