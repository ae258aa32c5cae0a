/** Skills (skills/tables.ts): the skills, their reactions and the skill lifecycle/usage event log. */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('skills')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('description', 'varchar(1000)', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('project', 'varchar(200)', (c) => c.notNull())
    .addColumn('visibility', 'varchar(20)', (c) => c.notNull())
    .addColumn('created_by_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('categories', 'text', (c) => c.notNull())
    .addColumn('toolkits', 'text', (c) => c.notNull())
    .addColumn('mcp_servers', 'text', (c) => c.notNull())
    .addColumn('companion_files', 'text', (c) => c.notNull())
    .addColumn('enabled_builtin_subagents', 'text', (c) => c.notNull())
    .addColumn('unique_likes_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('unique_dislikes_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_date', 'varchar(40)', (c) => c.notNull())
    .addColumn('updated_date', 'varchar(40)')
    .execute();
  await db.schema.createIndex('skills_name_author_project_uq').on('skills').columns(['name', 'created_by_id', 'project']).unique().execute();
  await db.schema.createIndex('skills_project_idx').on('skills').column('project').execute();
  await db.schema.createIndex('skills_visibility_idx').on('skills').column('visibility').execute();

  await db.schema
    .createTable('skill_reactions')
    .addColumn('skill_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('reaction', 'varchar(20)', (c) => c.notNull())
    .addColumn('reaction_at', 'varchar(40)', (c) => c.notNull())
    .addPrimaryKeyConstraint('skill_reactions_pk', ['skill_id', 'user_id'])
    .execute();

  await db.schema
    .createTable('skill_events')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('user_email', 'varchar(320)')
    .addColumn('session_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('agent', 'varchar(64)', (c) => c.notNull())
    .addColumn('agent_version', 'varchar(64)')
    .addColumn('client_type', 'varchar(64)')
    .addColumn('cli_version', 'varchar(64)')
    .addColumn('repository', 'varchar(512)')
    .addColumn('branch', 'varchar(256)')
    .addColumn('project', 'varchar(256)')
    .addColumn('command', 'varchar(64)', (c) => c.notNull())
    .addColumn('status', 'varchar(32)', (c) => c.notNull())
    .addColumn('scope', 'varchar(32)')
    .addColumn('error_code', 'varchar(128)')
    .addColumn('agent_selection_mode', 'varchar(32)')
    .addColumn('target_agents', 'text', (c) => c.notNull())
    .addColumn('source', 'varchar(512)')
    .addColumn('skill_slug', 'varchar(256)')
    .addColumn('skill_id', 'varchar(1024)')
    .addColumn('attributes', 'text')
    .execute();
  await db.schema.createIndex('skill_events_user_created_idx').on('skill_events').columns(['user_id', 'created_at']).execute();
  await db.schema.createIndex('skill_events_command_created_idx').on('skill_events').columns(['command', 'created_at']).execute();
  await db.schema.createIndex('skill_events_slug_idx').on('skill_events').column('skill_slug').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('skill_events').execute();
  await db.schema.dropTable('skill_reactions').execute();
  await db.schema.dropTable('skills').execute();
}
