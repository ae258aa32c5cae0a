/**
 * Conversations as the reference keeps them (issue #24): every assistant that answered, flags,
 * final marks and `finished_at` on the conversation; a stored position (`seq`) per message, so
 * regenerated variants, imports and feedback positions keep the history's order; folders,
 * share snapshots and per-message feedback.
 */
import { PostgresAdapter, sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  // Conversation ids may be chosen by clients (assistant calls, history imports): wider than a UUID.
  // SQLite does not enforce varchar lengths.
  if (postgres) {
    await sql`alter table conversation_messages drop constraint if exists conversation_messages_conversation_id_fkey`.execute(db);
    await sql`alter table conversations alter column id type varchar(200)`.execute(db);
    await sql`alter table conversations alter column initial_assistant_id type varchar(200)`.execute(db);
    await sql`alter table conversation_messages alter column conversation_id type varchar(200)`.execute(db);
    await sql`alter table conversation_messages add constraint conversation_messages_conversation_id_fkey foreign key (conversation_id) references conversations (id) on delete cascade`.execute(
      db,
    );
  }

  await db.schema
    .alterTable('conversations')
    .addColumn('assistant_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();
  await db.schema
    .alterTable('conversations')
    .addColumn('is_workflow', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('conversations')
    .addColumn('mcp_server_single_usage', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('conversations').addColumn('enable_image_generation', 'integer').execute();
  await db.schema.alterTable('conversations').addColumn('image_generation_model', 'varchar(200)').execute();
  await db.schema.alterTable('conversations').addColumn('final_user_mark', 'text').execute();
  await db.schema.alterTable('conversations').addColumn('final_operator_mark', 'text').execute();
  await db.schema.alterTable('conversations').addColumn('finished_at', 'varchar(40)').execute();
  // Until now only the initial assistant was known.
  await sql`update conversations set assistant_ids = '["' || initial_assistant_id || '"]' where initial_assistant_id is not null`.execute(db);
  await db.schema.createIndex('conversations_finished_idx').on('conversations').columns(['finished_at', 'date']).execute();
  await db.schema.createIndex('conversations_date_idx').on('conversations').column('date').execute();

  // Position of a message in its conversation's history (the reference's array order).
  await db.schema
    .alterTable('conversation_messages')
    .addColumn('seq', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // Existing histories had one User and one Assistant message per turn, read in (history_index, User first) order.
  await sql`
    update conversation_messages set seq = (
      select count(*) from conversation_messages m2
      where m2.conversation_id = conversation_messages.conversation_id
        and (m2.history_index < conversation_messages.history_index
          or (m2.history_index = conversation_messages.history_index and m2.role > conversation_messages.role)
          or (m2.history_index = conversation_messages.history_index and m2.role = conversation_messages.role and m2.id < conversation_messages.id))
    )`.execute(db);
  await db.schema.createIndex('conversation_messages_seq_idx').on('conversation_messages').columns(['conversation_id', 'seq']).execute();

  await db.schema
    .createTable('conversation_folders')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('user_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('folder_name', 'varchar(300)', (c) => c.notNull())
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('update_date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('conversation_folders_user_name_uq').unique().on('conversation_folders').columns(['user_id', 'folder_name']).execute();

  // A share is a snapshot taken when it is made; only a hash of its token is kept.
  await db.schema
    .createTable('conversation_shares')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('conversation_id', 'varchar(200)', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('shared_by_user_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('shared_by_user_name', 'varchar(300)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('access_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_access_at', 'varchar(40)')
    .addColumn('snapshot', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('conversation_shares_token_uq').unique().on('conversation_shares').column('token_hash').execute();
  await db.schema.createIndex('conversation_shares_conv_idx').on('conversation_shares').column('conversation_id').execute();
  await db.schema.createIndex('conversation_shares_user_idx').on('conversation_shares').column('shared_by_user_id').execute();

  // Feedback on one message (like/dislike), also mirrored into the message's userMark/operatorMark.
  await db.schema
    .createTable('conversation_feedback')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('conversation_id', 'varchar(200)', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
    .addColumn('message_id', 'varchar(36)', (c) => c.references('conversation_messages.id').onDelete('cascade'))
    .addColumn('user_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('conversation_owner_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('project', 'varchar(200)')
    .addColumn('assistant_id', 'varchar(200)')
    .addColumn('author', 'varchar(20)', (c) => c.notNull())
    .addColumn('mark', 'varchar(40)', (c) => c.notNull())
    .addColumn('rating', 'integer')
    .addColumn('comments', 'text')
    .addColumn('type', 'varchar(200)')
    .addColumn('request', 'text', (c) => c.notNull())
    .addColumn('response', 'text', (c) => c.notNull())
    .addColumn('history', 'text')
    .addColumn('app_name', 'varchar(300)')
    .addColumn('repo_name', 'varchar(300)')
    .addColumn('index_type', 'varchar(100)')
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('update_date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('conversation_feedback_conv_idx').on('conversation_feedback').column('conversation_id').execute();
  await db.schema.createIndex('conversation_feedback_msg_idx').on('conversation_feedback').column('message_id').execute();
  await db.schema.createIndex('conversation_feedback_date_idx').on('conversation_feedback').columns(['date', 'project']).execute();
}
