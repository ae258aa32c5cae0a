/**
 * Assistants beyond CRUD (issue 22): marketplace columns on `assistants` (is_global, categories,
 * counters, version_count) and a nullable slug; versions; categories (seeded); usage and reactions;
 * per-user integration and prompt-variable mappings; project feature mappings; A2A tasks; tool
 * calls waiting for the user's approval.
 */
import { sql, type Kysely } from 'kysely';

/** The reference's 15 categories (ids and names are wire-visible; descriptions are ours). */
export const SEED_CATEGORIES: Array<[id: string, name: string, description: string]> = [
  ['migration-modernization', 'Migration & Modernization', 'Moving legacy systems, languages and platforms to current ones.'],
  ['support', 'Support', 'Answering questions and resolving issues for users and customers.'],
  ['business-analysis', 'Business Analysis', 'Requirements, user stories, process and domain analysis.'],
  ['product-management', 'Product management', 'Roadmaps, prioritisation, product discovery and release planning.'],
  ['data-analytics', 'Data Analytics', 'Exploring, querying, reporting on and visualising data.'],
  ['engineering', 'Engineering', 'Writing, reviewing, explaining and refactoring code.'],
  ['quality-assurance', 'Quality Assurance', 'Test design, test automation and quality checks.'],
  ['devops', 'DevOps', 'Pipelines, infrastructure, deployment and operations.'],
  ['security', 'Security', 'Threat analysis, vulnerability review and secure coding.'],
  ['compliance', 'Compliance', 'Policies, regulations, audits and governance.'],
  ['project-management', 'Project Management', 'Planning, tracking and reporting on project delivery.'],
  ['customer-experience', 'Customer Experience', 'Improving how customers interact with products and services.'],
  ['monitoring-alerts', 'Monitoring & Alerts', 'Watching systems, triaging alerts and incidents.'],
  ['ui-ux-design', 'UI/UX Design', 'Interfaces, user research and design systems.'],
  ['knowledge-management', 'Knowledge Management', 'Documentation, onboarding and finding what the organisation knows.'],
];

/** Version fields (reference §4.6), copied from an existing assistant's columns and `data`. */
const VERSIONED_FROM_DATA = [
  'enable_image_generation',
  'image_generation_model',
  'tools_tokens_size_limit',
  'context',
  'toolkits',
  'mcp_servers',
  'assistant_ids',
  'conversation_starters',
  'bedrock',
  'bedrock_agentcore_runtime',
  'agent_card',
  'custom_metadata',
] as const;

export async function up(db: Kysely<any>): Promise<void> {
  // ── assistants: marketplace columns ──
  await db.schema.alterTable('assistants').addColumn('is_global', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('assistants').addColumn('categories', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  await db.schema.alterTable('assistants').addColumn('version_count', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('assistants').addColumn('unique_users_count', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('assistants').addColumn('unique_likes_count', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('assistants').addColumn('unique_dislikes_count', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  // A nullable slug (a name with no ASCII letters or digits derives none): swap the column.
  await db.schema.alterTable('assistants').addColumn('slug_n', 'varchar(300)').execute();
  await db.updateTable('assistants').set({ slug_n: sql`slug` }).execute();
  await db.schema.dropIndex('assistants_project_slug_uq').execute();
  await db.schema.alterTable('assistants').dropColumn('slug').execute();
  await db.schema.alterTable('assistants').renameColumn('slug_n', 'slug').execute();
  await db.schema.createIndex('assistants_project_slug_uq').unique().on('assistants').columns(['project', 'slug']).execute();
  await db.schema.createIndex('assistants_global_idx').on('assistants').columns(['is_global', 'update_date']).execute();
  await db.schema.createIndex('assistants_update_idx').on('assistants').column('update_date').execute();

  // ── versions ──
  await db.schema
    .createTable('assistant_versions')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('assistant_id', 'varchar(36)', (c) => c.notNull().references('assistants.id').onDelete('cascade'))
    .addColumn('version_number', 'integer', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('change_notes', 'text')
    .addColumn('created_date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('assistant_versions_uq').unique().on('assistant_versions').columns(['assistant_id', 'version_number']).execute();

  // ── categories ──
  await db.schema
    .createTable('categories')
    .addColumn('id', 'varchar(300)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('update_date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('categories_name_uq').unique().on('categories').column('name').execute();

  // ── usage and reactions ──
  await db.schema
    .createTable('assistant_interactions')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('assistant_id', 'varchar(36)', (c) => c.notNull().references('assistants.id').onDelete('cascade'))
    .addColumn('user_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('project', 'varchar(200)')
    .addColumn('usage_count', 'integer', (c) => c.notNull())
    .addColumn('reaction', 'varchar(20)')
    .addColumn('reaction_at', 'varchar(40)')
    .addColumn('first_used_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('last_used_at', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('assistant_interactions_uq').unique().on('assistant_interactions').columns(['assistant_id', 'user_id']).execute();

  // ── per-user mappings (integration per tool; prompt-variable values) ──
  for (const table of ['assistant_user_mappings', 'assistant_prompt_variable_mappings']) {
    await db.schema
      .createTable(table)
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('assistant_id', 'varchar(36)', (c) => c.notNull().references('assistants.id').onDelete('cascade'))
      .addColumn('user_id', 'varchar(200)', (c) => c.notNull())
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex(`${table}_uq`).unique().on(table).columns(['assistant_id', 'user_id']).execute();
  }

  // ── project feature mappings (Teams bot) ──
  await db.schema
    .createTable('assistant_project_mappings')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('assistant_id', 'varchar(36)', (c) => c.notNull().references('assistants.id').onDelete('cascade'))
    .addColumn('project_name', 'varchar(200)', (c) => c.notNull())
    .addColumn('feature', 'varchar(50)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('updated_by', 'varchar(200)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('assistant_project_mappings_uq')
    .unique()
    .on('assistant_project_mappings')
    .columns(['assistant_id', 'project_name', 'feature'])
    .execute();

  // ── A2A tasks ──
  await db.schema
    .createTable('a2a_tasks')
    .addColumn('id', 'varchar(200)', (c) => c.primaryKey())
    .addColumn('assistant_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('context_id', 'varchar(200)')
    .addColumn('state', 'varchar(40)', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .addColumn('update_date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('a2a_tasks_owner_idx').on('a2a_tasks').columns(['user_id', 'update_date']).execute();

  // ── tool calls waiting for the user's decision ──
  await db.schema
    .createTable('assistant_tool_approvals')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('assistant_id', 'varchar(36)', (c) => c.notNull().references('assistants.id').onDelete('cascade'))
    .addColumn('conversation_id', 'varchar(100)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(200)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('date', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('assistant_tool_approvals_uq').unique().on('assistant_tool_approvals').columns(['assistant_id', 'conversation_id']).execute();

  // ── data: seed categories; version 1 and the marketplace columns of existing assistants ──
  const now = new Date().toISOString();
  for (const [id, name, description] of SEED_CATEGORIES) {
    await db.insertInto('categories').values({ id, name, description, date: now, update_date: now }).execute();
  }
  const rows = await db.selectFrom('assistants').selectAll().execute();
  for (const r of rows) {
    const data = parse(r.data);
    const config: Record<string, unknown> = {
      description: r.description ?? '',
      system_prompt: r.system_prompt ?? '',
      llm_model_type: r.llm_model_type ?? null,
      temperature: r.temperature ?? null,
      top_p: r.top_p ?? null,
    };
    for (const k of VERSIONED_FROM_DATA) config[k] = data[k] ?? (['context', 'toolkits', 'mcp_servers', 'assistant_ids', 'conversation_starters'].includes(k) ? [] : null);
    await db
      .updateTable('assistants')
      .set({ is_global: data.is_global === true ? 1 : 0, categories: JSON.stringify(Array.isArray(data.categories) ? data.categories : []) })
      .where('id', '=', r.id)
      .execute();
    await db
      .insertInto('assistant_versions')
      .values({
        id: crypto.randomUUID(),
        assistant_id: r.id,
        version_number: 1,
        config: JSON.stringify(config),
        created_by: JSON.stringify({ id: r.created_by_id, username: r.created_by_username, name: r.created_by_name }),
        change_notes: 'Initial version',
        created_date: r.date,
      })
      .execute();
  }
}

function parse(text: unknown): Record<string, unknown> {
  try {
    const v = JSON.parse(String(text ?? '{}')) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
