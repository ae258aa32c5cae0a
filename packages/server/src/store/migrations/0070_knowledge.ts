/** Knowledge bases (knowledge/tables.ts): datasources, their files and chunks, and full-text search. */
import { sql, SqliteAdapter, type Kysely } from 'kysely';

function isSqlite(db: Kysely<unknown>): boolean {
  return (db as unknown as { getExecutor(): { adapter: unknown } }).getExecutor().adapter instanceof SqliteAdapter;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = isSqlite(db);
  await db.schema
    .createTable('datasources')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('project_name', 'varchar(200)', (c) => c.notNull())
    .addColumn('repo_name', 'varchar(500)', (c) => c.notNull())
    .addColumn('name_key', 'varchar(500)', (c) => c.notNull())
    .addColumn('index_type', 'varchar(100)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('embeddings_model', 'varchar(200)')
    .addColumn('embedding_dims', 'integer')
    .addColumn('created_by_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .addColumn('project_space_visible', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('update_date', 'varchar(40)', (c) => c.notNull())
    .addColumn('current_state', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('complete_state', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('current_chunks_state', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('processed_files', 'text', (c) => c.notNull())
    .addColumn('uploaded_files', 'text', (c) => c.notNull())
    .addColumn('error', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('completed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_fetching', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_queued', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('processing_info', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('guardrail_assignments', 'text')
    .addColumn('setting_id', 'varchar(200)')
    .addColumn('last_reindex_triggered_at', 'varchar(40)')
    .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('datasources_project_name_uq').on('datasources').columns(['project_name', 'name_key']).unique().execute();
  await db.schema.createIndex('datasources_update_date_idx').on('datasources').column('update_date').execute();
  await db.schema.createIndex('datasources_created_by_idx').on('datasources').column('created_by_id').execute();

  await db.schema
    .createTable('datasource_files')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('datasource_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('name', 'varchar(1000)', (c) => c.notNull())
    .addColumn('mime_type', 'varchar(200)', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('owner_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('chunks', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('options', 'text', (c) => c.notNull())
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('datasource_files_ds_idx').on('datasource_files').columns(['datasource_id', 'status']).execute();

  await db.schema
    .createTable('datasource_chunks')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('datasource_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('file_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('source', 'varchar(1000)', (c) => c.notNull())
    .addColumn('chunk_num', 'integer', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('embedding', sqlite ? 'blob' : 'bytea')
    .execute();
  await db.schema.createIndex('datasource_chunks_ds_idx').on('datasource_chunks').columns(['datasource_id', 'source', 'chunk_num']).execute();
  await db.schema.createIndex('datasource_chunks_file_idx').on('datasource_chunks').column('file_id').execute();

  if (sqlite) {
    // External-content FTS5 over the chunks' rowid, kept in step by triggers; Porter stemming.
    await sql`create virtual table datasource_chunks_fts using fts5(text, source, content='datasource_chunks', content_rowid='rowid', tokenize='porter unicode61')`.execute(db);
    await sql`create trigger datasource_chunks_ai after insert on datasource_chunks begin
      insert into datasource_chunks_fts(rowid, text, source) values (new.rowid, new.text, new.source); end`.execute(db);
    await sql`create trigger datasource_chunks_ad after delete on datasource_chunks begin
      insert into datasource_chunks_fts(datasource_chunks_fts, rowid, text, source) values ('delete', old.rowid, old.text, old.source); end`.execute(db);
  } else {
    await sql`alter table datasource_chunks add column tsv tsvector generated always as (to_tsvector('english', source || ' ' || text)) stored`.execute(db);
    await sql`create index datasource_chunks_tsv_idx on datasource_chunks using gin (tsv)`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (isSqlite(db)) await sql`drop table if exists datasource_chunks_fts`.execute(db);
  await db.schema.dropTable('datasource_chunks').ifExists().execute();
  await db.schema.dropTable('datasource_files').ifExists().execute();
  await db.schema.dropTable('datasources').ifExists().execute();
}
