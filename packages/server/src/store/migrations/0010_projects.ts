/**
 * Projects and memberships as stored entities (until now projects were only names in token claims
 * and in `idp_users.projects/admin_projects`), plus what the user-admin API keeps about users.
 *
 * Data: every project named by an existing embedded user becomes a `projects` row (no name
 * validation, as the reference does for projects it creates on the fly) and every such user a
 * `project_members` row (a project in both lists is one membership with the admin flag). The old
 * JSON columns stay but are no longer read.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('projects')
    .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
    // Names are unique case-insensitively.
    .addColumn('name_lower', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'varchar(150)')
    .addColumn('description', 'text')
    .addColumn('project_type', 'varchar(20)', (c) => c.notNull())
    .addColumn('created_by', 'varchar(255)')
    .addColumn('cli_analytics_enabled', 'integer')
    .addColumn('enforce_member_spend_limits', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('projects_created_by_idx').on('projects').column('created_by').execute();

  await db.schema
    .createTable('project_members')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('project', 'varchar(255)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('is_project_admin', 'integer', (c) => c.notNull())
    .addColumn('is_default', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
    .addUniqueConstraint('project_members_user_project', ['user_id', 'project'])
    .execute();
  await db.schema.createIndex('project_members_project_idx').on('project_members').column('project').execute();

  // What the user-admin API keeps about a user besides the IdP's own fields. External users
  // (tokens of a trusted issuer) are recorded in the same table under a realm of their own.
  await db.schema.alterTable('idp_users').addColumn('project_limit', 'integer').execute();
  await db.schema.alterTable('idp_users').addColumn('picture', 'varchar(2000)').execute();
  await db.schema.alterTable('idp_users').addColumn('last_login_at', 'varchar(40)').execute();
  await db.schema.alterTable('idp_users').addColumn('deactivated_at', 'varchar(40)').execute();
  await db.schema
    .alterTable('idp_users')
    .addColumn('auth_source', 'varchar(20)', (c) => c.notNull().defaultTo('local'))
    .execute();

  await db.schema
    .createTable('user_data')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('user_id', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('sidebar_view', 'varchar(20)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('dynamic_config')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('key', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('value_type', 'varchar(10)', (c) => c.notNull())
    .addColumn('description', 'varchar(500)')
    .addColumn('updated_by', 'varchar(255)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
    .execute();

  // Existing memberships (embedded users' JSON lists) → rows.
  const users = await db.selectFrom('idp_users').select(['id', 'projects', 'admin_projects']).execute();
  const now = new Date().toISOString();
  const projects = new Map<string, string>(); // lower → name as first seen
  for (const u of users as Array<{ id: string; projects: string; admin_projects: string }>) {
    const member = parseList(u.projects);
    const admin = new Set(parseList(u.admin_projects));
    const all = [...new Set([...member, ...admin])];
    for (const p of all) {
      const key = p.toLowerCase();
      const name = projects.get(key) ?? p;
      projects.set(key, name);
      await db
        .insertInto('project_members')
        .values({
          id: randomUUID(),
          project: name,
          user_id: u.id,
          is_project_admin: admin.has(p) ? 1 : 0,
          is_default: 0,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc: any) => oc.columns(['user_id', 'project']).doNothing())
        .execute();
    }
  }
  for (const [lower, name] of projects) {
    await db
      .insertInto('projects')
      .values({
        name,
        name_lower: lower,
        display_name: null,
        description: null,
        project_type: 'shared',
        created_by: null,
        cli_analytics_enabled: null,
        enforce_member_spend_limits: 0,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc: any) => oc.column('name_lower').doNothing())
      .execute();
  }
}

function parseList(text: string | null): string[] {
  try {
    const v = JSON.parse(text ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => x.trim()) : [];
  } catch {
    return [];
  }
}
