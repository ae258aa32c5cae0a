/**
 * The one store of project memberships (`project_members`) and the project rows they point to.
 * Low level on purpose: the identity domain uses it (bootstrap, `codemie idp`, token claims, the
 * authenticator) and the projects service builds on it; it knows nothing of either.
 *
 * Every membership change goes through `changed(userIds)`, so whoever caches memberships (the
 * authenticator's per-process cache) hears of it. Callers that write inside a transaction report
 * the change after the commit (see ProjectService).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { newRowId } from '../store/ids.js';
import { fromBool, toBool } from '../store/json.js';
import type { ProjectMembersTable } from './tables.js';

export interface Membership {
  project: string;
  isProjectAdmin: boolean;
  isDefault: boolean;
  /** When the membership was created (ISO). */
  date: string;
}

export type ChangeListener = (userIds: string[]) => void;

const toMembership = (r: Pick<ProjectMembersTable, 'project' | 'is_project_admin' | 'is_default' | 'created_at'>): Membership => ({
  project: r.project,
  isProjectAdmin: fromBool(r.is_project_admin),
  isDefault: fromBool(r.is_default),
  date: r.created_at,
});

export class MembershipStore {
  constructor(
    readonly db: Kysely<Database>,
    private readonly listeners: ChangeListener[] = [],
  ) {}

  /** The same store on a transaction (or another connection); listeners are shared. */
  on(db: Kysely<Database>): MembershipStore {
    return new MembershipStore(db, this.listeners);
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /** Tells the listeners that these users' memberships (or flags) changed. */
  changed(userIds: string[]): void {
    if (!userIds.length) return;
    for (const l of this.listeners) l(userIds);
  }

  // ── reads ──

  /** Memberships of one user, by project name. */
  async of(userId: string): Promise<Membership[]> {
    const rows = await this.db
      .selectFrom('project_members')
      .select(['project', 'is_project_admin', 'is_default', 'created_at'])
      .where('user_id', '=', userId)
      .orderBy('project')
      .execute();
    return rows.map(toMembership);
  }

  /** Memberships of several users (each list by project name). */
  async ofUsers(userIds: string[]): Promise<Map<string, Membership[]>> {
    const out = new Map<string, Membership[]>(userIds.map((id) => [id, []]));
    if (!userIds.length) return out;
    for (let i = 0; i < userIds.length; i += 500) {
      const rows = await this.db
        .selectFrom('project_members')
        .select(['user_id', 'project', 'is_project_admin', 'is_default', 'created_at'])
        .where('user_id', 'in', userIds.slice(i, i + 500))
        .orderBy('project')
        .execute();
      for (const r of rows) out.get(r.user_id)?.push(toMembership(r));
    }
    return out;
  }

  async get(userId: string, project: string): Promise<Membership | undefined> {
    const r = await this.db
      .selectFrom('project_members')
      .select(['project', 'is_project_admin', 'is_default', 'created_at'])
      .where('user_id', '=', userId)
      .where('project', '=', project)
      .executeTakeFirst();
    return r && toMembership(r);
  }

  /** Members of a project, oldest first. */
  async members(project: string): Promise<Array<{ userId: string; isProjectAdmin: boolean; date: string }>> {
    const rows = await this.db
      .selectFrom('project_members')
      .select(['user_id', 'is_project_admin', 'created_at'])
      .where('project', '=', project)
      .orderBy('created_at')
      .orderBy('user_id')
      .execute();
    return rows.map((r) => ({ userId: r.user_id, isProjectAdmin: fromBool(r.is_project_admin), date: r.created_at }));
  }

  /** user_count and admin_count per project. */
  async counts(projects: string[]): Promise<Map<string, { users: number; admins: number }>> {
    const out = new Map<string, { users: number; admins: number }>(projects.map((p) => [p, { users: 0, admins: 0 }]));
    if (!projects.length) return out;
    const rows = await this.db
      .selectFrom('project_members')
      .select((eb) => ['project', eb.fn.countAll<number>().as('users'), eb.fn.sum<number>('is_project_admin').as('admins')])
      .where('project', 'in', projects)
      .groupBy('project')
      .execute();
    for (const r of rows) out.set(r.project, { users: Number(r.users), admins: Number(r.admins ?? 0) });
    return out;
  }

  // ── project rows ──

  /** Creates the rows of projects that do not exist yet (no name validation; case-insensitive). */
  async ensureProjects(names: string[]): Promise<void> {
    const now = new Date().toISOString();
    for (const name of new Set(names.filter((n) => n.trim() !== ''))) {
      await this.db
        .insertInto('projects')
        .values({
          name,
          name_lower: name.toLowerCase(),
          display_name: null,
          description: null,
          project_type: 'shared',
          created_by: null,
          cli_analytics_enabled: null,
          enforce_member_spend_limits: 0,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
  }

  /** The stored spelling of a project name (names are unique case-insensitively). */
  async canonicalName(name: string): Promise<string | undefined> {
    const r = await this.db.selectFrom('projects').select('name').where('name_lower', '=', name.toLowerCase()).executeTakeFirst();
    return r?.name;
  }

  // ── writes (no change notification: callers report with changed() once committed) ──

  async add(userId: string, project: string, isProjectAdmin: boolean): Promise<boolean> {
    const now = new Date().toISOString();
    const res = await this.db
      .insertInto('project_members')
      .values({ id: newRowId(), project, user_id: userId, is_project_admin: toBool(isProjectAdmin), is_default: 0, created_at: now, updated_at: now })
      .onConflict((oc) => oc.columns(['user_id', 'project']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Inserts or sets the admin flag; returns whether the row existed. */
  async upsert(userId: string, project: string, isProjectAdmin: boolean): Promise<'assigned' | 'updated'> {
    if (await this.setAdmin(userId, project, isProjectAdmin)) return 'updated';
    await this.add(userId, project, isProjectAdmin);
    return 'assigned';
  }

  async setAdmin(userId: string, project: string, isProjectAdmin: boolean): Promise<boolean> {
    const res = await this.db
      .updateTable('project_members')
      .set({ is_project_admin: toBool(isProjectAdmin), updated_at: new Date().toISOString() })
      .where('user_id', '=', userId)
      .where('project', '=', project)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async remove(userId: string, project: string): Promise<boolean> {
    const res = await this.db.deleteFrom('project_members').where('user_id', '=', userId).where('project', '=', project).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** Makes `project` the user's only default project (or clears the default when null). */
  async setDefault(userId: string, project: string | null): Promise<void> {
    const now = new Date().toISOString();
    await this.db.updateTable('project_members').set({ is_default: 0, updated_at: now }).where('user_id', '=', userId).where('is_default', '=', 1).execute();
    if (project !== null) {
      await this.db
        .updateTable('project_members')
        .set({ is_default: 1, updated_at: now })
        .where('user_id', '=', userId)
        .where('project', '=', project)
        .execute();
    }
  }

  async clearDefault(userId: string, project: string): Promise<void> {
    await this.db
      .updateTable('project_members')
      .set({ is_default: 0, updated_at: new Date().toISOString() })
      .where('user_id', '=', userId)
      .where('project', '=', project)
      .execute();
  }

  /** Every membership of a user goes (the user was removed). */
  async removeUser(userId: string): Promise<void> {
    await this.db.deleteFrom('project_members').where('user_id', '=', userId).execute();
  }

  /** Every membership of a project goes (the project was deleted); returns the users affected. */
  async removeProject(project: string): Promise<string[]> {
    const rows = await this.db.selectFrom('project_members').select('user_id').where('project', '=', project).execute();
    await this.db.deleteFrom('project_members').where('project', '=', project).execute();
    return rows.map((r) => r.user_id);
  }

  /**
   * Replaces a user's memberships, as `codemie idp user set-projects` does: `projects` (when given)
   * is the full list of projects, `adminProjects` (when given) those administered; an omitted list
   * keeps what is stored. Missing project rows are created. Returns the user's memberships.
   */
  async setProjects(userId: string, projects: string[] | undefined, adminProjects: string[] | undefined): Promise<Membership[]> {
    const current = await this.of(userId);
    const admins = new Set(adminProjects ?? current.filter((m) => m.isProjectAdmin).map((m) => m.project));
    const all = new Set([...(projects ?? current.map((m) => m.project)), ...admins]);
    await this.ensureProjects([...all]);
    // Use the stored spelling of each project.
    const canonical = new Map<string, string>();
    for (const p of all) canonical.set(p, (await this.canonicalName(p)) ?? p);
    const wanted = new Map<string, boolean>();
    for (const p of all) wanted.set(canonical.get(p)!, admins.has(p));
    for (const m of current) if (!wanted.has(m.project)) await this.remove(userId, m.project);
    for (const [p, admin] of wanted) {
      const had = current.find((m) => m.project === p);
      if (!had) await this.add(userId, p, admin);
      else if (had.isProjectAdmin !== admin) await this.setAdmin(userId, p, admin);
    }
    return this.of(userId);
  }
}
