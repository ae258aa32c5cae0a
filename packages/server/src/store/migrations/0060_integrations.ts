/**
 * Integrations (the reference's "settings": credential sets of users and projects, sealed at rest),
 * the record of webhook invocations, and the ticks fired by schedules (one row per tick: the claim
 * that makes a tick run once across processes).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('integrations')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('project_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('alias', 'varchar(255)', (c) => c.notNull())
    .addColumn('credential_type', 'varchar(40)', (c) => c.notNull())
    .addColumn('setting_type', 'varchar(10)', (c) => c.notNull())
    .addColumn('is_global', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('credentials', 'text', (c) => c.notNull())
    .addColumn('webhook_id', 'varchar(255)', (c) => c.unique())
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('update_date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('integrations_user_idx').on('integrations').columns(['user_id', 'setting_type']).execute();
  await db.schema.createIndex('integrations_project_idx').on('integrations').columns(['project_name', 'setting_type']).execute();
  await db.schema.createIndex('integrations_type_idx').on('integrations').column('credential_type').execute();

  await db.schema
    .createTable('webhook_invocations')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('webhook_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('integration_id', 'varchar(36)')
    .addColumn('project_name', 'varchar(255)')
    .addColumn('user_id', 'varchar(255)')
    .addColumn('status_code', 'integer', (c) => c.notNull())
    .addColumn('success', 'integer', (c) => c.notNull())
    .addColumn('error_cause', 'varchar(60)')
    .addColumn('verification_method', 'varchar(40)')
    .addColumn('resource_type', 'varchar(40)')
    .addColumn('resource_id', 'varchar(255)')
    .addColumn('run_id', 'varchar(36)')
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_invocations_webhook_idx').on('webhook_invocations').columns(['webhook_id', 'created_at']).execute();
  await db.schema.createIndex('webhook_invocations_project_idx').on('webhook_invocations').columns(['project_name', 'created_at']).execute();

  await db.schema
    .createTable('schedule_ticks')
    .addColumn('integration_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('tick_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('fired_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('node', 'varchar(255)', (c) => c.notNull())
    .addColumn('resource_type', 'varchar(40)', (c) => c.notNull())
    .addColumn('resource_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('run_id', 'varchar(36)')
    .addColumn('outcome', 'varchar(20)', (c) => c.notNull())
    .addColumn('error', 'text')
    .addPrimaryKeyConstraint('schedule_ticks_pk', ['integration_id', 'tick_at'])
    .execute();
}
