/**
 * Projects: creation with the reference's name rules and per-user limits, the paginated list with
 * counters, detail, update, deletion guarded by members and resources, ownership transfer,
 * membership (single, bulk, CSV) and the old admin "applications" views.
 *
 * Who may do what (the effective user comes from identity/effective-users.ts):
 * - see a project: platform admins and auditors (all), its members, its creator;
 * - manage it (update, delete, members, ownership): platform admins, its project admins, its creator.
 * A caller who cannot see a project gets 404 "Project not found" (its existence is not revealed);
 * one who can see it but not manage it gets 403 "Access denied".
 */
import type { Kysely } from 'kysely';
import type { AuthUser } from '../api/auth.js';
import { ApiError, badRequest, conflict } from '../api/errors.js';
import type { AuditLog } from '../audit/audit.js';
import type { Database } from '../store/schema.js';
import { fromBool } from '../store/json.js';
import { escapeLike, like } from '../store/like.js';
import type { MembershipStore } from './memberships.js';
import type { ProjectsTable } from './tables.js';
import type { BulkAssignmentWire, CsvValidationWire, ProjectCounters, ProjectDetailWire, ProjectListItemWire, ProjectWire } from './schemas.js';
import { parseCsvImport, type CsvRow } from './csv.js';

export const COUNTERS = ['assistants_count', 'workflows_count', 'integrations_count', 'datasources_count', 'skills_count'] as const;
export type CounterName = (typeof COUNTERS)[number];

/** How another domain tells how many of its entities each project holds (injected in modules.ts). */
export interface ProjectResourceCounter {
  counter: CounterName;
  count(projects: string[]): Promise<Map<string, number>>;
}

/** What the projects domain needs to know about users (implemented by identity). */
export interface ProjectUser {
  id: string;
  username: string;
  email: string;
  isActive: boolean;
}

export interface ProjectUsers {
  get(id: string): Promise<ProjectUser | undefined>;
  getMany(ids: string[]): Promise<Map<string, ProjectUser>>;
  /** Users by lower-case e-mail (deactivated ones included). */
  byEmails(emails: string[]): Promise<Map<string, ProjectUser>>;
  /** The caller's limit of shared projects (null: unlimited) and whether the account is active. */
  projectLimit(user: AuthUser): Promise<{ active: boolean; limit: number | null }>;
}

export interface ProjectRecord {
  name: string;
  displayName: string | null;
  description: string | null;
  projectType: 'shared' | 'personal';
  createdBy: string | null;
  cliAnalyticsEnabled: boolean | null;
  enforceMemberSpendLimits: boolean;
  createdAt: string;
  updatedAt: string;
}

const toRecord = (r: ProjectsTable): ProjectRecord => ({
  name: r.name,
  displayName: r.display_name,
  description: r.description,
  projectType: r.project_type === 'personal' ? 'personal' : 'shared',
  createdBy: r.created_by,
  cliAnalyticsEnabled: r.cli_analytics_enabled === null ? null : fromBool(r.cli_analytics_enabled),
  enforceMemberSpendLimits: fromBool(r.enforce_member_spend_limits),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const RESERVED = ['admin', 'system', 'root', 'api', 'null', 'undefined', 'default', 'test', 'demo'];
const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const ERR = {
  notFound: () => new ApiError(404, 'Project not found'),
  accessDenied: (project: string) =>
    new ApiError(
      403,
      'Access denied',
      `You do not have permission to manage the project '${project}'.`,
      'Ask a platform administrator or an administrator of this project.',
    ),
  duplicate: (name: string) => conflict(`Project '${name}' already exists. Please choose a different name.`),
  personalMembership: () => new ApiError(403, 'Cannot modify membership of a personal project'),
  invalidUserId: () => badRequest('Invalid user_id format', 'user_id must be a valid UUID'),
  userNotFound: (id: string) => new ApiError(404, 'User not found', `No user found with ID '${id}'`, 'Verify the user ID and try again'),
};

/** Python's repr of a list of strings: ['a', 'b']. */
export const pyList = (items: string[]) => `[${items.map((s) => `'${s}'`).join(', ')}]`;

export interface CreateInput {
  name: string;
  display_name?: string | null;
  description?: string | null;
  cost_center_id?: string | null;
  cli_analytics_enabled?: boolean | null;
}

export interface UpdateInput {
  name?: string | null;
  display_name?: string | null;
  clear_display_name: boolean;
  description?: string | null;
  clear_description: boolean;
  cost_center_id?: string | null;
  clear_cost_center: boolean;
  enforce_member_spend_limits?: boolean | null;
  chargeback_enabled?: boolean | null;
  chargeback_attribution?: string | null;
  cli_analytics_enabled?: boolean | null;
}

export interface ListQuery {
  search?: string;
  page: number;
  per_page: number;
  include_counters: boolean;
  has_assigned_budgets: boolean;
  budget_category?: string;
  sort_by?: 'name' | 'created_at';
  sort_order: 'asc' | 'desc';
}

export interface ProjectServiceDeps {
  db: Kysely<Database>;
  memberships: MembershipStore;
  users: ProjectUsers;
  counters: ProjectResourceCounter[];
  audit?: AuditLog;
}

export class ProjectService {
  private readonly db: Kysely<Database>;
  readonly memberships: MembershipStore;

  constructor(private readonly deps: ProjectServiceDeps) {
    this.db = deps.db;
    this.memberships = deps.memberships;
  }

  // ── rules ──

  static validateName(name: string): string {
    if (name.length < 3) throw badRequest('Project name must be at least 3 characters');
    if (name.length > 100) throw badRequest('Project name cannot exceed 100 characters');
    if (!NAME_PATTERN.test(name)) {
      throw badRequest(
        'Invalid project name. Must be 3-100 lowercase alphanumeric characters (underscore/hyphen allowed), cannot contain uppercase letters, ' +
          'cannot start with special character, and cannot use reserved names (admin, system, root, api, null, undefined, default, test, demo)',
      );
    }
    if (RESERVED.includes(name.toLowerCase())) throw badRequest(`Project name '${name}' is reserved and cannot be used`);
    return name;
  }

  static validateDescription(description: string): string {
    if (!description.trim()) throw badRequest('Project description is required');
    if (description.length > 500) throw badRequest('Project description cannot exceed 500 characters');
    return description;
  }

  static validateDisplayName(displayName: string): string {
    const stripped = displayName.trim();
    if (stripped.length > 150) throw badRequest('Project display name cannot exceed 150 characters');
    return stripped;
  }

  canSee(user: AuthUser, p: ProjectRecord): boolean {
    return user.isAdmin || user.isAuditor === true || this.isMember(user, p.name) || (!!p.createdBy && p.createdBy === user.id);
  }

  canManage(user: AuthUser, p: ProjectRecord): boolean {
    return user.isAdmin || user.adminProjects.includes(p.name) || (!!p.createdBy && p.createdBy === user.id);
  }

  private isMember(user: AuthUser, project: string): boolean {
    return user.projects.includes(project) || user.adminProjects.includes(project);
  }

  /** The project, if the caller may see it (404 otherwise). */
  async visible(user: AuthUser, name: string): Promise<ProjectRecord> {
    const p = await this.get(name);
    if (!p || !this.canSee(user, p)) throw ERR.notFound();
    return p;
  }

  /** The project, if the caller may manage it (404 when it may not see it, 403 when it only sees it). */
  async manageable(user: AuthUser, name: string): Promise<ProjectRecord> {
    const p = await this.visible(user, name);
    if (!this.canManage(user, p)) throw ERR.accessDenied(p.name);
    return p;
  }

  async get(name: string): Promise<ProjectRecord | undefined> {
    const r = await this.db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
    return r && toRecord(r);
  }

  async getCaseInsensitive(name: string): Promise<ProjectRecord | undefined> {
    const r = await this.db.selectFrom('projects').selectAll().where('name_lower', '=', name.toLowerCase()).executeTakeFirst();
    return r && toRecord(r);
  }

  async byNames(names: string[]): Promise<Map<string, ProjectRecord>> {
    const out = new Map<string, ProjectRecord>();
    if (!names.length) return out;
    const rows = await this.db.selectFrom('projects').selectAll().where('name', 'in', names).execute();
    for (const r of rows) out.set(r.name, toRecord(r));
    return out;
  }

  // ── wire ──

  toWire(p: ProjectRecord): ProjectWire {
    return {
      name: p.name,
      display_name: p.displayName,
      description: p.description,
      project_type: p.projectType,
      created_by: p.createdBy ?? '',
      created_at: p.createdAt,
      cost_center_id: null,
      cost_center_name: null,
      enforce_member_spend_limits: p.enforceMemberSpendLimits,
      chargeback_enabled: false,
      chargeback_attribution: 'project',
      cli_analytics_enabled: p.cliAnalyticsEnabled,
    };
  }

  // ── create / list / detail ──

  async create(user: AuthUser, input: CreateInput): Promise<ProjectRecord> {
    const name = ProjectService.validateName(input.name);
    const description = input.description == null ? null : ProjectService.validateDescription(input.description);
    const displayName = input.display_name == null ? null : ProjectService.validateDisplayName(input.display_name);
    if (!user.isAdmin) await this.enforceLimit(user);
    if (input.cost_center_id) throw costCenterNotFound(input.cost_center_id);
    const existing = await this.getCaseInsensitive(name);
    if (existing) throw ERR.duplicate(existing.name);
    const now = new Date().toISOString();
    const row: ProjectsTable = {
      name,
      name_lower: name.toLowerCase(),
      display_name: displayName,
      description,
      project_type: 'shared',
      created_by: user.id,
      cli_analytics_enabled: input.cli_analytics_enabled == null ? null : input.cli_analytics_enabled ? 1 : 0,
      enforce_member_spend_limits: 0,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx.insertInto('projects').values(row).execute();
        await this.memberships.on(trx).add(user.id, name, true);
      });
    } catch (err) {
      const after = await this.getCaseInsensitive(name);
      if (after) throw ERR.duplicate(after.name);
      throw err;
    }
    this.memberships.changed([user.id]);
    this.event('project.created', user, { project: name });
    return toRecord(row);
  }

  private async enforceLimit(user: AuthUser): Promise<void> {
    const { active, limit } = await this.deps.users.projectLimit(user);
    if (!active) throw new ApiError(401, 'Account is deactivated');
    if (limit === null) return;
    const { n } = await this.db
      .selectFrom('projects')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('created_by', '=', user.id)
      .where('project_type', '=', 'shared')
      .executeTakeFirstOrThrow();
    const count = Number(n);
    if (count < limit) return;
    if (count > limit) {
      throw new ApiError(403, `Project creation limit reached (${count}/${limit}). Delete ${count - limit} or more projects to create new ones.`);
    }
    throw new ApiError(403, `Project creation limit reached (${count}/${limit}). Contact administrator to increase your limit.`);
  }

  async list(user: AuthUser, q: ListQuery): Promise<{ data: ProjectListItemWire[]; total: number }> {
    if (q.has_assigned_budgets || q.budget_category) {
      throw badRequest('Project budget filtering requires budget enforcement provider configuration');
    }
    let query = this.db.selectFrom('projects');
    if (!user.isAdmin && !user.isAuditor) {
      const mine = [...new Set([...user.projects, ...user.adminProjects])];
      query = query.where((eb) => eb.or([eb('created_by', '=', user.id), ...(mine.length ? [eb('name', 'in', mine)] : [])]));
    }
    const search = q.search?.trim();
    const lower = search?.toLowerCase();
    if (lower) {
      const pattern = `%${escapeLike(lower)}%`;
      query = query.where((eb) =>
        eb.or([
          like(eb.fn('lower', [eb.fn.coalesce('display_name', 'name')]), pattern),
          like(eb.ref('name_lower'), pattern),
          like(eb.fn('lower', ['description']), pattern),
        ]),
      );
    }
    const { n } = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    let page = query.selectAll();
    if (q.sort_by) {
      page = page.orderBy(q.sort_by === 'name' ? 'name' : 'created_at', q.sort_order).orderBy('name', 'asc');
    } else {
      if (lower) {
        page = page.orderBy((eb) =>
          eb
            .case()
            .when(eb.or([eb(eb.fn('lower', [eb.fn.coalesce('display_name', 'name')]), '=', lower), eb('name_lower', '=', lower)]))
            .then(0)
            .else(1)
            .end(),
        );
      }
      page = page.orderBy('created_at', 'desc').orderBy('name', 'asc');
    }
    const rows = (
      await page
        .limit(q.per_page)
        .offset(q.page * q.per_page)
        .execute()
    ).map(toRecord);
    const names = rows.map((r) => r.name);
    const [counts, counters] = await Promise.all([this.memberships.counts(names), q.include_counters ? this.counters(names) : undefined]);
    return {
      total: Number(n),
      data: rows.map((p) => {
        const c = counts.get(p.name) ?? { users: 0, admins: 0 };
        const wire = this.toWire(p);
        return {
          ...wire,
          created_by: p.createdBy,
          user_count: c.users,
          admin_count: c.admins,
          counters: counters?.get(p.name) ?? null,
          spending: null,
          budgets: null,
        };
      }),
    };
  }

  /** The five counters per project, from the domains that own the entities. */
  async counters(projects: string[]): Promise<Map<string, ProjectCounters>> {
    const out = new Map<string, ProjectCounters>();
    for (const p of projects) out.set(p, { assistants_count: 0, workflows_count: 0, integrations_count: 0, datasources_count: 0, skills_count: 0 });
    if (!projects.length) return out;
    const results = await Promise.all(this.deps.counters.map(async (c) => [c.counter, await c.count(projects)] as const));
    for (const [counter, counts] of results) {
      for (const [project, n] of counts) {
        const row = out.get(project);
        if (row) row[counter] += n;
      }
    }
    return out;
  }

  async detail(user: AuthUser, name: string): Promise<ProjectDetailWire> {
    const p = await this.visible(user, name);
    const members = await this.memberships.members(p.name);
    const { created_by, created_at, ...wire } = this.toWire(p);
    return {
      ...wire,
      created_by: p.createdBy ?? created_by,
      created_at,
      user_count: members.length,
      admin_count: members.filter((m) => m.isProjectAdmin).length,
      members: members.map((m) => ({ user_id: m.userId, is_project_admin: m.isProjectAdmin, date: m.date })),
      spending: null,
      spending_widget: null,
    };
  }

  // ── update / delete / ownership ──

  async update(user: AuthUser, name: string, input: UpdateInput): Promise<ProjectRecord> {
    const p = await this.manageable(user, name);
    const set: Partial<ProjectsTable> = {};
    let newName: string | undefined;
    if (input.name != null) {
      newName = ProjectService.validateName(input.name);
      const existing = await this.getCaseInsensitive(newName);
      if (existing && existing.name.toLowerCase() !== p.name.toLowerCase()) throw ERR.duplicate(existing.name);
      if ((await this.memberships.members(p.name)).length) throw conflict('Project name cannot be changed while users are assigned to it');
      await this.refuseIfResources(p.name, 'renamed');
      set.name = newName;
      set.name_lower = newName.toLowerCase();
    }
    if (input.description != null) set.description = ProjectService.validateDescription(input.description);
    else if (input.clear_description) set.description = null;
    if (input.display_name != null) set.display_name = ProjectService.validateDisplayName(input.display_name) || null;
    else if (input.clear_display_name) set.display_name = null;
    if (input.cost_center_id) throw costCenterNotFound(input.cost_center_id);
    if (input.chargeback_enabled != null || input.chargeback_attribution != null) {
      throw new ApiError(403, 'Feature not available', 'Project chargeback configuration is not enabled for this customer.');
    }
    if (input.enforce_member_spend_limits != null) set.enforce_member_spend_limits = input.enforce_member_spend_limits ? 1 : 0;
    if (input.cli_analytics_enabled != null) set.cli_analytics_enabled = input.cli_analytics_enabled ? 1 : 0;
    set.updated_at = new Date().toISOString();
    await this.db.updateTable('projects').set(set).where('name', '=', p.name).execute();
    this.event('project.updated', user, { project: p.name, ...(newName && newName !== p.name ? { renamed_to: newName } : {}) });
    return (await this.get(newName ?? p.name))!;
  }

  private async refuseIfResources(project: string, action: 'deleted' | 'renamed'): Promise<void> {
    const counts = (await this.counters([project])).get(project)!;
    const nonZero = Object.entries(counts).filter(([, v]) => v > 0);
    if (nonZero.length) {
      throw conflict(
        `Project '${project}' cannot be ${action} because it has assigned resources. Remove all assistants, workflows, skills, datasources, and integrations first.`,
        `{${nonZero.map(([k, v]) => `'${k}': ${v}`).join(', ')}}`,
      );
    }
  }

  async remove(user: AuthUser, name: string): Promise<void> {
    const p = await this.manageable(user, name);
    if (p.projectType === 'personal') throw new ApiError(403, 'Cannot delete a personal project');
    const others = (await this.memberships.members(p.name)).filter((m) => m.userId !== p.createdBy);
    if (others.length) {
      throw conflict(`Project '${name}' cannot be deleted because it has assigned users. Remove all users first.`, `Assigned users: ${others.length}`);
    }
    await this.refuseIfResources(p.name, 'deleted');
    // Unlike the reference, the creator's membership goes with the project (no orphan row).
    const affected = await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('projects').where('name', '=', p.name).execute();
      return this.memberships.on(trx).removeProject(p.name);
    });
    this.memberships.changed(affected);
    this.event('project.deleted', user, { project: p.name });
  }

  async transferOwnership(user: AuthUser, name: string, userId: string): Promise<ProjectRecord> {
    const p = await this.manageable(user, name);
    if (p.projectType === 'personal') throw new ApiError(403, 'Cannot transfer ownership of a personal project');
    const target = await this.deps.users.get(userId);
    if (!target || !target.isActive) throw ERR.userNotFound(userId);
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('projects').set({ created_by: target.id, updated_at: new Date().toISOString() }).where('name', '=', p.name).execute();
      await this.memberships.on(trx).upsert(target.id, p.name, true);
    });
    this.memberships.changed([target.id]);
    this.event('project.ownership_transferred', user, { project: p.name, from: p.createdBy, to: target.id });
    return (await this.get(p.name))!;
  }

  // ── membership ──

  /** A user id of the request: known users pass; unknown ones must at least look like a UUID (400), else 404. */
  private async user(id: string) {
    const u = await this.deps.users.get(id);
    if (u) return u;
    if (!UUID.test(id)) throw ERR.invalidUserId();
    throw ERR.userNotFound(id);
  }

  private async membershipTarget(user: AuthUser, name: string): Promise<ProjectRecord> {
    const p = await this.manageable(user, name);
    if (p.projectType === 'personal') throw ERR.personalMembership();
    return p;
  }

  async assign(user: AuthUser, name: string, userId: string, isProjectAdmin: boolean) {
    const p = await this.membershipTarget(user, name);
    const target = await this.user(userId);
    if (!(await this.memberships.add(target.id, p.name, isProjectAdmin))) {
      throw new ApiError(
        409,
        'User already assigned to project',
        `User '${userId}' is already a member of project '${p.name}'`,
        "Use PUT endpoint to update user's role instead",
      );
    }
    this.memberships.changed([target.id]);
    this.event('user.project_assigned', user, { project: p.name, target: target.id, is_project_admin: isProjectAdmin });
    return { message: 'User assigned to project successfully', user_id: target.id, project_name: p.name, is_project_admin: isProjectAdmin };
  }

  async updateAssignment(user: AuthUser, name: string, userId: string, isProjectAdmin: boolean) {
    const p = await this.membershipTarget(user, name);
    const target = await this.user(userId);
    if (!(await this.memberships.setAdmin(target.id, p.name, isProjectAdmin))) {
      throw new ApiError(
        404,
        'User is not assigned to this project',
        `User '${userId}' is not a member of project '${p.name}'`,
        'Use POST endpoint to assign the user first',
      );
    }
    this.memberships.changed([target.id]);
    this.event('user.project_role_updated', user, { project: p.name, target: target.id, is_project_admin: isProjectAdmin });
    return { message: 'User role updated successfully', user_id: target.id, project_name: p.name, is_project_admin: isProjectAdmin };
  }

  private async creatorGuard(p: ProjectRecord, userIds: string[]): Promise<void> {
    if (!p.createdBy || !userIds.includes(p.createdBy)) return;
    const creator = await this.deps.users.get(p.createdBy);
    throw new ApiError(
      400,
      'Cannot remove the project creator from the project',
      `User '${creator?.username ?? p.createdBy}' is the creator of project '${p.name}' and cannot be unassigned`,
      'The project creator must always remain a member of the project',
    );
  }

  async unassign(user: AuthUser, name: string, userId: string) {
    const p = await this.membershipTarget(user, name);
    await this.creatorGuard(p, [userId]);
    const target = await this.user(userId);
    if (!(await this.memberships.remove(target.id, p.name))) {
      throw new ApiError(
        404,
        'User is not assigned to this project',
        `User '${userId}' is not a member of project '${p.name}'`,
        'Verify the user is assigned to this project',
      );
    }
    this.memberships.changed([target.id]);
    this.event('user.project_removed', user, { project: p.name, target: target.id });
    return { message: 'User removed from project successfully', user_id: target.id, project_name: p.name, is_project_admin: null };
  }

  private async usersOf(ids: string[]) {
    const dups = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))].sort();
    if (dups.length)
      throw badRequest('Duplicate user IDs in request', `Duplicate user_ids: ${pyList(dups)}`, 'Each user_id must appear only once in the request');
    const found = await this.deps.users.getMany(ids);
    const missing = ids.filter((id) => !found.has(id));
    if (missing.some((id) => !UUID.test(id))) throw ERR.invalidUserId();
    if (missing.length) throw new ApiError(404, 'One or more users not found', `Users not found: ${pyList(missing)}`, 'Verify all user IDs and try again');
    return found;
  }

  /** All-or-nothing upsert of memberships, in request order. */
  async bulkAssign(
    user: AuthUser,
    name: string,
    items: Array<{ user_id: string; is_project_admin: boolean }>,
    message?: (n: number) => string,
  ): Promise<BulkAssignmentWire> {
    const p = await this.membershipTarget(user, name);
    await this.usersOf(items.map((i) => i.user_id));
    const results = await this.db.transaction().execute(async (trx) => {
      const ms = this.memberships.on(trx);
      const out: BulkAssignmentWire['results'] = [];
      for (const i of items)
        out.push({ user_id: i.user_id, action: await ms.upsert(i.user_id, p.name, i.is_project_admin), is_project_admin: i.is_project_admin });
      return out;
    });
    this.memberships.changed(items.map((i) => i.user_id));
    this.event('user.project_bulk_assigned', user, { project: p.name, count: items.length });
    return {
      message: (message ?? ((n) => `Bulk assignment completed: ${n} users processed`))(items.length),
      project_name: p.name,
      total: items.length,
      results,
    };
  }

  async bulkRemove(user: AuthUser, name: string, userIds: string[]): Promise<BulkAssignmentWire> {
    const p = await this.membershipTarget(user, name);
    await this.creatorGuard(p, userIds);
    await this.usersOf(userIds);
    const members = new Set((await this.memberships.members(p.name)).map((m) => m.userId));
    const notMembers = userIds.filter((id) => !members.has(id));
    if (notMembers.length) {
      throw new ApiError(
        404,
        'One or more users are not assigned to this project',
        `Users not assigned: ${pyList(notMembers)}`,
        'Verify all users are members of this project',
      );
    }
    await this.db.transaction().execute(async (trx) => {
      const ms = this.memberships.on(trx);
      for (const id of userIds) await ms.remove(id, p.name);
    });
    this.memberships.changed(userIds);
    this.event('user.project_bulk_removed', user, { project: p.name, count: userIds.length });
    return {
      message: `Bulk removal completed: ${userIds.length} users removed`,
      project_name: p.name,
      total: userIds.length,
      results: userIds.map((id) => ({ user_id: id, action: 'removed' as const, is_project_admin: null })),
    };
  }

  // ── CSV ──

  private async csvRows(bytes: Buffer): Promise<CsvRow[]> {
    const rows = parseCsvImport(bytes);
    const pending = rows.filter((r) => !r.error);
    const found = await this.deps.users.byEmails([...new Set(pending.map((r) => r.email).filter(Boolean))]);
    for (const r of pending) {
      const u = r.email ? found.get(r.email) : undefined;
      if (u) r.userId = u.id;
      else r.error = `User not found for email: '${r.email}'`;
    }
    return rows;
  }

  async validateCsv(user: AuthUser, name: string, bytes: Buffer): Promise<CsvValidationWire> {
    await this.manageable(user, name);
    const rows = await this.csvRows(bytes);
    return { users: rows.map((r) => ({ email: r.email, role: r.role, error: r.error ?? null })) };
  }

  async importCsv(user: AuthUser, name: string, bytes: Buffer): Promise<BulkAssignmentWire> {
    const p = await this.manageable(user, name);
    const rows = await this.csvRows(bytes);
    const errors = rows.map((r, i) => ({ row: i + 1, reason: r.error })).filter((e) => e.reason);
    if (errors.length) throw new ApiError(422, 'CSV validation failed', { validation_errors: errors });
    return this.bulkAssign(
      user,
      p.name,
      rows.map((r) => ({ user_id: r.userId!, is_project_admin: r.role === 'project_admin' })),
      (n) => `CSV import completed: ${n} users processed`,
    );
  }

  // ── the admin "applications" views (routers/admin.py) ──

  async applications(search: string | undefined, limit: number | undefined): Promise<ProjectRecord[]> {
    let q = this.db.selectFrom('projects').selectAll();
    const s = search?.trim().toLowerCase();
    if (s) {
      const pattern = `%${escapeLike(s)}%`;
      q = q
        .where((eb) => eb.or([like(eb.fn('lower', [eb.fn.coalesce('display_name', 'name')]), pattern), like(eb.ref('name_lower'), pattern)]))
        .orderBy((eb) =>
          eb
            .case()
            .when(eb.or([eb(eb.fn('lower', [eb.fn.coalesce('display_name', 'name')]), '=', s), eb('name_lower', '=', s)]))
            .then(0)
            .else(1)
            .end(),
        );
    }
    const rows = await q
      .orderBy('name')
      .limit(limit ?? 10_000)
      .execute();
    return rows.map(toRecord);
  }

  async createApplication(user: AuthUser, name: string): Promise<string> {
    const existing = await this.getCaseInsensitive(name);
    if (existing) throw conflict(`Application '${existing.name}' already exists. Please choose a different name.`);
    const now = new Date().toISOString();
    try {
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
        .execute();
    } catch (err) {
      const after = await this.getCaseInsensitive(name);
      if (after) throw conflict(`Application '${after.name}' already exists. Please choose a different name.`);
      throw err;
    }
    this.event('project.created', user, { project: name, via: 'admin/application' });
    return name;
  }

  // ── for the user-admin API ──

  /** Creates the project row when missing (admin grants, as the reference's get_or_create); returns the stored name. */
  async ensure(name: string): Promise<ProjectRecord> {
    await this.memberships.ensureProjects([name]);
    return (await this.getCaseInsensitive(name))!;
  }

  private event(event: string, user: AuthUser, details: Record<string, unknown>): void {
    this.deps.audit?.record({ event, outcome: 'success', userId: user.id, username: user.username, details });
  }
}

function costCenterNotFound(id: string): ApiError {
  return new ApiError(404, 'Cost center not found', `No cost center with ID '${id}' exists: cost centers are not configured on this server.`, null);
}
