import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('workflows')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('project', 'varchar(200)', (c) => c.notNull())
    .addColumn('mode', 'varchar(40)', (c) => c.notNull())
    .addColumn('shared', 'integer', (c) => c.notNull())
    .addColumn('yaml_config', 'text', (c) => c.notNull())
    .addColumn('yaml_config_history', 'text', (c) => c.notNull())
    .addColumn('icon_url', 'text')
    .addColumn('start_hint', 'text')
    .addColumn('created_by_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('update_date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('workflows_project_idx').on('workflows').columns(['project', 'date']).execute();

  await db.schema
    .createTable('workflow_executions')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('workflow_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('project', 'varchar(200)', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('prompt', 'text', (c) => c.notNull())
    .addColumn('file_names', 'text', (c) => c.notNull())
    .addColumn('overall_status', 'varchar(40)', (c) => c.notNull())
    .addColumn('output', 'text')
    .addColumn('created_by_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .addColumn('tokens_usage', 'text', (c) => c.notNull())
    .addColumn('session_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('conversation_id', 'varchar(64)')
    .addColumn('propagated_headers', 'text')
    .addColumn('yaml_config', 'text', (c) => c.notNull())
    .addColumn('checkpoint', 'text', (c) => c.notNull())
    .addColumn('run_seq', 'integer', (c) => c.notNull())
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('update_date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('workflow_executions_wf_idx').on('workflow_executions').columns(['workflow_id', 'date']).execute();
  await db.schema.createIndex('workflow_executions_status_idx').on('workflow_executions').column('overall_status').execute();

  await db.schema
    .createTable('workflow_execution_states')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('execution_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('task', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(40)', (c) => c.notNull())
    .addColumn('output', 'text')
    .addColumn('error', 'text')
    .addColumn('task_key', 'varchar(100)', (c) => c.notNull())
    .addColumn('step', 'integer', (c) => c.notNull())
    .addColumn('iteration_number', 'integer')
    .addColumn('preceding_state_ids', 'text', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('started_at', 'varchar(40)')
    .addColumn('completed_at', 'varchar(40)')
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('update_date', 'varchar(40)', (c) => c.notNull())
    .addUniqueConstraint('workflow_execution_states_task_uq', ['execution_id', 'task_key'])
    .execute();

  await db.schema
    .createTable('workflow_thoughts')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('execution_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('execution_state_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('parent_id', 'varchar(64)')
    .addColumn('author_name', 'text', (c) => c.notNull())
    .addColumn('author_type', 'varchar(40)', (c) => c.notNull())
    .addColumn('input_text', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('error', 'integer', (c) => c.notNull())
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('workflow_thoughts_exec_idx').on('workflow_thoughts').columns(['execution_id', 'execution_state_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['workflow_thoughts', 'workflow_execution_states', 'workflow_executions', 'workflows']) await db.schema.dropTable(t).ifExists().execute();
}
