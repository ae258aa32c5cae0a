import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('assistants')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(500)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('system_prompt', 'text', (c) => c.notNull())
    .addColumn('llm_model_type', 'varchar(200)')
    .addColumn('project', 'varchar(200)', (c) => c.notNull())
    .addColumn('shared', 'integer', (c) => c.notNull())
    .addColumn('slug', 'varchar(300)', (c) => c.notNull())
    .addColumn('temperature', 'real')
    .addColumn('top_p', 'real')
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('created_by_username', 'varchar(200)', (c) => c.notNull())
    .addColumn('created_by_name', 'varchar(300)', (c) => c.notNull())
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('update_date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('assistants_project_slug_uq').unique().on('assistants').columns(['project', 'slug']).execute();
  await db.schema.createIndex('assistants_date_idx').on('assistants').column('date').execute();

  await db.schema
    .createTable('conversations')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('user_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('user_name', 'varchar(300)', (c) => c.notNull())
    .addColumn('name', 'varchar(500)', (c) => c.notNull())
    .addColumn('initial_assistant_id', 'varchar(36)')
    .addColumn('project', 'varchar(200)')
    .addColumn('folder', 'varchar(300)')
    .addColumn('pinned', 'integer', (c) => c.notNull())
    .addColumn('llm_model', 'varchar(200)')
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('update_date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('conversations_user_idx').on('conversations').columns(['user_id', 'update_date']).execute();

  await db.schema
    .createTable('conversation_messages')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('conversation_id', 'varchar(36)', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
    .addColumn('history_index', 'integer', (c) => c.notNull())
    .addColumn('role', 'varchar(20)', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('conversation_messages_conv_idx').on('conversation_messages').columns(['conversation_id', 'history_index']).execute();

  await db.schema
    .createTable('background_tasks')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(50)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('username', 'varchar(200)', (c) => c.notNull())
    .addColumn('user_name', 'varchar(300)', (c) => c.notNull())
    .addColumn('task', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('final_output', 'text')
    .addColumn('current_step', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('update_date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('background_tasks_status_idx').on('background_tasks').column('status').execute();
}
