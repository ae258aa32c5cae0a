import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('idp_users')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('realm', 'varchar(100)', (c) => c.notNull())
    .addColumn('username', 'varchar(255)', (c) => c.notNull())
    .addColumn('email', 'varchar(320)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('roles', 'text', (c) => c.notNull())
    .addColumn('projects', 'text', (c) => c.notNull())
    .addColumn('admin_projects', 'text', (c) => c.notNull())
    .addColumn('user_type', 'varchar(40)', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('service_account_client', 'varchar(255)')
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
    .addUniqueConstraint('idp_users_realm_username', ['realm', 'username'])
    .execute();
  await db.schema.createIndex('idp_users_email').on('idp_users').columns(['realm', 'email']).execute();

  await db.schema
    .createTable('idp_clients')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('realm', 'varchar(100)', (c) => c.notNull())
    .addColumn('client_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('public_client', 'integer', (c) => c.notNull())
    .addColumn('secret_hash', 'text')
    .addColumn('direct_access_grants', 'integer', (c) => c.notNull())
    .addColumn('service_accounts', 'integer', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
    .addUniqueConstraint('idp_clients_realm_client', ['realm', 'client_id'])
    .execute();

  await db.schema
    .createTable('idp_refresh_tokens')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('realm', 'varchar(100)', (c) => c.notNull())
    .addColumn('session_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('token_hash', 'varchar(128)', (c) => c.notNull().unique())
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('client_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('revoked', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('idp_refresh_tokens_session').on('idp_refresh_tokens').column('session_id').execute();
  await db.schema.createIndex('idp_refresh_tokens_user').on('idp_refresh_tokens').column('user_id').execute();

  await db.schema
    .createTable('idp_signing_keys')
    .addColumn('kid', 'varchar(100)', (c) => c.primaryKey())
    .addColumn('alg', 'varchar(20)', (c) => c.notNull())
    .addColumn('private_jwk', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('retired_at', 'varchar(40)')
    .execute();
}
