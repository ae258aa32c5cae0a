/**
 * The user-admin API (/v1/admin/users...) and "me" (/v1/user, /v1/user/data) over the one user
 * store: embedded-IdP users (realm CODEMIE_IDP_REALM) and users of trusted external issuers,
 * recorded on first sight (realm `~external`). Embedded users are managed here end to end
 * (IdentityAdmin: scrypt hashes, sessions revoked on password change and deactivation); external
 * users' profile and roles belong to their IdP, and creating them or setting their password goes
 * through Keycloak's admin API when it is configured (keycloak-admin.ts), else 409 naming the settings.
 *
 * Roles: admin (realm role CODEMIE_ADMIN_ROLE; "maintainer" in the reference, the same here),
 * auditor (CODEMIE_AUDITOR_ROLE: reads users and projects, writes nothing through it), project
 * admin (a project-admin membership or the `applications_admin` claim), user.
 */
import type { Kysely } from 'kysely';
import type { AuthUser } from '../api/auth.js';
import { ApiError, badRequest, conflict, forbidden } from '../api/errors.js';
import type { AuditLog } from '../audit/audit.js';
import type { Database } from '../store/schema.js';
import { newRowId } from '../store/ids.js';
import type { Membership, MembershipStore } from '../projects/memberships.js';
import type { ProjectService } from '../projects/service.js';
import { checkPassword, type IdentityAdmin } from './admin.js';
import { EXTERNAL_REALM, type IdentityRepo, type UserRecord } from './repo.js';
import { KEYCLOAK_ADMIN_SETTINGS, type KeycloakAdmin } from './keycloak-admin.js';
import { adminUsersFilters, type AdminUserListItem, type ProjectInfo, type UserDetail, type UserResponse } from './user-schemas.js';
import type { z } from 'zod';
import type { userCreateBody, userUpdateBody } from './user-schemas.js';

export interface UserAdminDeps {
  db: Kysely<Database>;
  repo: IdentityRepo;
  admin: IdentityAdmin;
  memberships: MembershipStore;
  projects: ProjectService;
  realm: string;
  /** Whether this server runs the embedded IdP (local users can be created). */
  embedded: boolean;
  adminRole: string;
  auditorRole: string;
  defaultProjectLimit: number;
  keycloak?: KeycloakAdmin;
  audit?: AuditLog;
}

const PROJECT_ADMIN_OR_ADMIN = 'This action requires administrator or project administrator privileges.';
const userNotFound = () => new ApiError(404, 'User not found');
const noAccess = () => new ApiError(404, 'User does not have access to this project');
const deny = (message: string) => new ApiError(403, message);

export class UserAdminService {
  private readonly realms: string[];

  constructor(private readonly d: UserAdminDeps) {
    this.realms = [d.realm, EXTERNAL_REALM];
  }

  private known(u: UserRecord | undefined): u is UserRecord {
    return !!u && this.realms.includes(u.realm);
  }

  // ── shapes ──

  private isAdmin(u: UserRecord): boolean {
    return u.roles.includes(this.d.adminRole);
  }

  private isAuditor(u: UserRecord): boolean {
    return u.roles.includes(this.d.auditorRole);
  }

  private limitOf(u: UserRecord): number | null {
    return this.isAdmin(u) ? null : (u.projectLimit ?? this.d.defaultProjectLimit);
  }

  /** Memberships as ProjectInfo, with display names; `only` keeps the projects a caller may see. */
  private async projectInfos(memberships: Membership[], only?: (project: string) => boolean): Promise<ProjectInfo[]> {
    const kept = only ? memberships.filter((m) => only(m.project)) : memberships;
    const rows = await this.d.projects.byNames(kept.map((m) => m.project));
    return kept.map((m) => ({
      name: m.project,
      display_name: rows.get(m.project)?.displayName ?? null,
      is_project_admin: m.isProjectAdmin,
      is_default: m.isDefault,
    }));
  }

  private async detailOf(u: UserRecord, only?: (project: string) => boolean): Promise<UserDetail> {
    return {
      id: u.id,
      username: u.username,
      email: u.email,
      name: u.name || null,
      picture: u.picture,
      user_type: u.userType,
      is_active: u.enabled && !u.deactivatedAt,
      is_admin: this.isAdmin(u),
      is_maintainer: this.isAdmin(u),
      is_auditor: this.isAuditor(u),
      auth_source: u.authSource,
      email_verified: true,
      last_login_at: u.lastLoginAt,
      projects: await this.projectInfos(await this.d.memberships.of(u.id), only),
      project_limit: this.limitOf(u),
      knowledge_bases: [],
      date: u.createdAt,
      update_date: u.updatedAt,
      deleted_at: u.deactivatedAt,
    };
  }

  /** `GET /v1/user`: the effective caller, with display names and default flags of its projects. */
  async me(user: AuthUser): Promise<UserResponse> {
    const names = [...new Set([...user.projects, ...user.adminProjects])];
    const [rows, stored, row] = await Promise.all([this.d.projects.byNames(names), this.d.memberships.of(user.id), this.d.repo.userRowById(user.id)]);
    const defaults = new Set(stored.filter((m) => m.isDefault).map((m) => m.project));
    return {
      user_id: user.id,
      name: user.name,
      username: user.username,
      email: user.email,
      roles: user.roles,
      projects: names.map((name) => ({
        name,
        display_name: rows.get(name)?.displayName ?? null,
        is_project_admin: user.adminProjects.includes(name),
        is_default: defaults.has(name),
      })),
      project_limit: user.isAdmin ? null : (row?.projectLimit ?? this.d.defaultProjectLimit),
      picture: row?.picture ?? '',
      knowledge_bases: [],
      user_type: user.userType,
      applications: user.projects,
      applications_admin: user.adminProjects,
      is_admin: user.isAdmin,
      is_maintainer: user.isMaintainer ?? user.isAdmin,
      is_auditor: user.isAuditor ?? false,
    };
  }

  // ── list / detail ──

  private sees(caller: AuthUser): 'all' | 'project-admin' | 'none' {
    if (caller.isAdmin || caller.isAuditor) return 'all';
    return caller.adminProjects.length ? 'project-admin' : 'none';
  }

  async list(caller: AuthUser, q: { page: number; per_page: number; search?: string; filters?: string }) {
    const scope = this.sees(caller);
    if (scope === 'none') throw forbidden(PROJECT_ADMIN_OR_ADMIN);
    const help = 'Example: filters={"projects":["proj1"],"is_active":true}';
    let raw: unknown = {};
    if (q.filters) {
      try {
        raw = JSON.parse(q.filters);
      } catch {
        raw = undefined;
      }
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw badRequest('Invalid filters', 'filters must be a valid JSON object', help);
    }
    const parsed = adminUsersFilters.safeParse(raw);
    if (!parsed.success) {
      throw badRequest('Invalid filters', `filters: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'filters'}: ${i.message}`).join('; ')}`, help);
    }
    const f = parsed.data;
    const mine = new Set([...caller.projects, ...caller.adminProjects]);
    if (f.platform_role === 'admin' && scope !== 'all' && !(f.projects ?? []).some((p) => mine.has(p))) {
      throw deny('Access denied: only admins can filter by admin role');
    }
    let ids: string[] | undefined;
    if (f.projects?.length) {
      const members = await Promise.all(f.projects.map((p) => this.d.memberships.members(p)));
      ids = [...new Set(members.flat().map((m) => m.userId))];
    }
    // No budgets exist on this server: a budget filter matches nobody.
    if (f.budgets?.length) ids = [];
    const role = f.platform_role;
    const { rows, total } = await this.d.repo.searchUsers({
      realms: this.realms,
      search: q.search?.trim() || undefined,
      ids,
      activeOnly: f.is_active !== false,
      isActive: f.is_active,
      userType: f.user_type,
      withRoles: [...(role === 'admin' || role === 'platform_admin' ? [this.d.adminRole] : []), ...(f.is_auditor === true ? [this.d.auditorRole] : [])],
      withoutRoles: [...(role === 'user' ? [this.d.adminRole] : []), ...(f.is_auditor === false ? [this.d.auditorRole] : [])],
      limit: q.per_page,
      offset: q.page * q.per_page,
    });
    const only = scope === 'all' ? undefined : (p: string) => mine.has(p);
    const byUser = await this.d.memberships.ofUsers(rows.map((u) => u.id));
    const data: AdminUserListItem[] = [];
    for (const u of rows) {
      data.push({
        id: u.id,
        username: u.username,
        email: u.email,
        name: u.name || null,
        user_type: u.userType,
        is_active: u.enabled && !u.deactivatedAt,
        is_admin: this.isAdmin(u),
        is_maintainer: this.isAdmin(u),
        is_auditor: this.isAuditor(u),
        auth_source: u.authSource,
        last_login_at: u.lastLoginAt,
        projects: await this.projectInfos(byUser.get(u.id) ?? [], only),
        budget_assignments: [],
        date: u.createdAt,
      });
    }
    return { data, total };
  }

  private async target(id: string): Promise<UserRecord> {
    const u = await this.d.repo.userRowById(id);
    if (!this.known(u)) throw userNotFound();
    return u;
  }

  async detail(caller: AuthUser, id: string): Promise<UserDetail> {
    const scope = this.sees(caller);
    if (scope === 'none')
      throw forbidden(PROJECT_ADMIN_OR_ADMIN, 'Access denied', 'If you believe you should have access, please contact your system administrator.');
    const u = await this.target(id);
    if (scope === 'all') return this.detailOf(u);
    const theirs = await this.d.memberships.of(u.id);
    if (!theirs.some((m) => caller.adminProjects.includes(m.project))) {
      throw new ApiError(
        403,
        'User not found in your projects',
        'You can only view details for users who are members of projects you administer.',
        "Contact an administrator if you need access to this user's information.",
      );
    }
    const mine = new Set([...caller.projects, ...caller.adminProjects]);
    return this.detailOf(u, (p) => mine.has(p));
  }

  // ── create / update / deactivate / password ──

  private rolesFor(isAdmin: boolean, isAuditor: boolean, base: string[] = ['developer']): string[] {
    const roles = base.filter((r) => r !== this.d.adminRole && r !== this.d.auditorRole);
    if (isAdmin) roles.unshift(this.d.adminRole);
    if (isAuditor) roles.push(this.d.auditorRole);
    return roles;
  }

  async create(caller: AuthUser, body: z.output<typeof userCreateBody>): Promise<UserDetail> {
    const isAdmin = body.is_admin || body.is_maintainer;
    if (await this.d.repo.taken(this.realms, 'email', body.email)) throw conflict('Email already registered');
    if (await this.d.repo.taken(this.realms, 'username', body.username)) throw conflict('Username already taken');
    let user: UserRecord;
    if (this.d.embedded) {
      ({ user } = await this.d.admin.addUser({
        username: body.username,
        password: body.password,
        email: body.email,
        name: body.name ?? body.username,
        roles: this.rolesFor(isAdmin, body.is_auditor),
        minPasswordLength: 12,
      }));
    } else if (this.d.keycloak) {
      const roles = this.rolesFor(isAdmin, body.is_auditor, []);
      const id = await this.d.keycloak.createUser({ username: body.username, email: body.email, password: body.password, name: body.name, realmRoles: roles });
      const now = new Date().toISOString();
      await this.d.db
        .insertInto('idp_users')
        .values({
          id,
          realm: EXTERNAL_REALM,
          username: body.username.toLowerCase(),
          email: body.email.toLowerCase(),
          name: body.name ?? body.username,
          password_hash: null,
          roles: JSON.stringify(roles),
          projects: '[]',
          admin_projects: '[]',
          user_type: 'regular',
          enabled: 1,
          service_account_client: null,
          project_limit: null,
          picture: null,
          last_login_at: null,
          deactivated_at: null,
          auth_source: 'keycloak',
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
      user = (await this.d.repo.userRowById(id))!;
    } else {
      throw conflict(
        'User creation is not available',
        `This server uses an external identity provider (CODEMIE_IDP=external): create users there, or set ${KEYCLOAK_ADMIN_SETTINGS} to create them in Keycloak through this API.`,
      );
    }
    this.event('user.created', caller, { target: user.id, username: user.username, is_admin: isAdmin, is_auditor: body.is_auditor });
    return this.detailOf(user);
  }

  private async activeAdmins(): Promise<string[]> {
    return this.d.repo.activeWithRole(this.realms, this.d.adminRole);
  }

  async update(caller: AuthUser, id: string, body: z.output<typeof userUpdateBody>, present: Set<string>): Promise<UserDetail> {
    const u = await this.target(id);
    if (present.has('is_active') && body.is_active != null) {
      if (body.is_active) await this.reactivate(caller, u);
      else await this.deactivate(caller, u.id);
      return this.detailOf((await this.d.repo.userRowById(u.id))!);
    }
    const external = u.realm === EXTERNAL_REALM;
    const roleChange = [body.is_admin, body.is_maintainer, body.is_auditor].some((v) => v != null);
    if (present.has('username') && body.username != null) {
      throw badRequest('Username cannot be changed', 'Username is an immutable identifier and cannot be modified');
    }
    if (present.has('email') && body.email != null && external) {
      throw badRequest(
        'Email cannot be changed in IDP mode',
        `Email is managed by identity provider (${u.authSource}). Only local auth mode allows email changes.`,
      );
    }
    let userType: string | undefined;
    if (body.user_type != null) {
      userType = body.user_type.trim().toLowerCase();
      if (!['regular', 'external'].includes(userType)) throw badRequest('Invalid user_type', "user_type must be either 'regular' or 'external'");
    }
    if (roleChange && external) {
      throw badRequest(
        'Roles are managed by the identity provider',
        `The roles of '${u.username}' come from the tokens of its identity provider; change them there.`,
      );
    }
    const wasAdmin = this.isAdmin(u);
    const wantAdmin = body.is_admin != null || body.is_maintainer != null ? !!(body.is_admin || body.is_maintainer) : wasAdmin;
    if (wasAdmin && !wantAdmin) {
      if (u.id === caller.id) throw deny('Cannot revoke own admin status');
      const admins = await this.activeAdmins();
      if (admins.filter((a) => a !== u.id).length === 0) throw deny('Cannot revoke last admin - system must have at least one admin');
    }
    const patch: Parameters<IdentityRepo['updateUser']>[1] = {};
    if (present.has('project_limit')) {
      if (u.id === caller.id && wasAdmin) {
        throw deny('Super admins cannot modify their own project limit (always unlimited)');
      }
      const limit = body.project_limit ?? null;
      if (limit !== null && limit < 0) throw badRequest('Invalid project_limit: must be non-negative integer or NULL');
      if (limit === null && !wantAdmin) throw badRequest('Only admins can have unlimited project_limit (NULL)');
      patch.projectLimit = limit;
    }
    if (body.name != null) patch.name = body.name;
    if (body.picture != null) patch.picture = body.picture;
    if (body.email != null) {
      if (await this.d.repo.taken(this.realms, 'email', body.email, u.id)) throw conflict('Email already registered');
      patch.email = body.email;
    }
    if (userType) patch.userType = userType;
    if (roleChange) {
      const wantAuditor = body.is_auditor != null ? body.is_auditor : this.isAuditor(u);
      patch.roles = this.rolesFor(wantAdmin, wantAuditor, u.roles);
      // Promotion: unlimited; demotion: back to the default unless a limit was given.
      if (wantAdmin !== wasAdmin && !present.has('project_limit')) patch.projectLimit = null;
    }
    if (!Object.keys(patch).length) {
      throw badRequest(
        'No fields to update',
        'At least one field must be provided for update operation',
        'Provide one or more fields: name, picture, email, user_type, is_admin, is_maintainer, is_auditor, project_limit',
      );
    }
    await this.d.repo.updateUser(u.id, patch);
    this.d.memberships.changed([u.id]);
    this.event('user.updated', caller, { target: u.id, fields: Object.keys(patch) });
    return this.detailOf((await this.d.repo.userRowById(u.id))!);
  }

  async deactivate(caller: AuthUser, id: string): Promise<void> {
    const u = await this.target(id);
    if (this.isAdmin(u) && u.enabled && !u.deactivatedAt) {
      const admins = await this.activeAdmins();
      if (admins.filter((a) => a !== u.id).length === 0) {
        throw deny('Cannot deactivate last admin - system must have at least one admin');
      }
    }
    if (u.deactivatedAt && !u.enabled) return; // idempotent
    await this.d.repo.updateUser(u.id, { enabled: false, deactivatedAt: new Date().toISOString() });
    await this.d.repo.revokeUserSessions(u.id);
    this.d.memberships.changed([u.id]);
    this.event('user.deactivated', caller, { target: u.id, username: u.username });
  }

  private async reactivate(caller: AuthUser, u: UserRecord): Promise<void> {
    if (u.enabled && !u.deactivatedAt) return;
    await this.d.repo.updateUser(u.id, { enabled: true, deactivatedAt: null });
    this.d.memberships.changed([u.id]);
    this.event('user.reactivated', caller, { target: u.id, username: u.username });
  }

  async setPassword(caller: AuthUser, id: string, password: string): Promise<void> {
    const u = await this.target(id);
    if (password.length < 12) throw badRequest('Password must be at least 12 characters');
    if (u.realm === EXTERNAL_REALM) {
      if (!this.d.keycloak) {
        throw conflict(
          'Password change is not available',
          `The password of '${u.username}' is kept by its identity provider: change it there, or set ${KEYCLOAK_ADMIN_SETTINGS} to change it in Keycloak through this API.`,
        );
      }
      await this.d.keycloak.setPassword(u.id, password);
    } else {
      if (u.serviceAccountClient) throw badRequest('Service accounts have no password', 'Rotate the client secret instead.');
      checkPassword(password, 12);
      await this.d.admin.setPassword(u.username, password);
    }
    this.event('user.password_changed', caller, { target: u.id, username: u.username });
  }

  // ── a user's projects ──

  async projectsOf(id: string) {
    const u = await this.target(id);
    const ms = await this.d.memberships.of(u.id);
    return { projects: ms.map((m) => ({ project_name: m.project, is_project_admin: m.isProjectAdmin, is_default: m.isDefault, date: m.date })) };
  }

  private async membershipOf(u: UserRecord, projectName: string): Promise<{ project: string; membership?: Membership }> {
    const p = await this.d.projects.getCaseInsensitive(projectName);
    const project = p?.name ?? projectName;
    if (p?.projectType === 'personal') throw new ApiError(403, 'Cannot modify membership of a personal project');
    return { project, membership: await this.d.memberships.get(u.id, project) };
  }

  async grant(caller: AuthUser, id: string, projectName: string, isProjectAdmin: boolean): Promise<void> {
    const u = await this.target(id);
    const { membership } = await this.membershipOf(u, projectName);
    if (membership) throw conflict('User already has access to this project');
    // Like the reference, a grant creates the project when it does not exist yet.
    const p = await this.d.projects.ensure(projectName);
    if (!(await this.d.memberships.add(u.id, p.name, isProjectAdmin))) throw conflict('User already has access to this project');
    this.d.memberships.changed([u.id]);
    this.event('user.project_assigned', caller, { target: u.id, project: p.name, is_project_admin: isProjectAdmin });
  }

  async updateGrant(caller: AuthUser, id: string, projectName: string, isProjectAdmin: boolean): Promise<void> {
    const u = await this.target(id);
    const { project, membership } = await this.membershipOf(u, projectName);
    if (!membership) throw noAccess();
    await this.d.memberships.setAdmin(u.id, project, isProjectAdmin);
    this.d.memberships.changed([u.id]);
    this.event('user.project_role_updated', caller, { target: u.id, project, is_project_admin: isProjectAdmin });
  }

  async revoke(caller: AuthUser, id: string, projectName: string): Promise<void> {
    const u = await this.target(id);
    const { project, membership } = await this.membershipOf(u, projectName);
    if (!membership) throw noAccess();
    await this.d.memberships.remove(u.id, project);
    this.d.memberships.changed([u.id]);
    this.event('user.project_removed', caller, { target: u.id, project });
  }

  async setDefault(caller: AuthUser, id: string, projectName: string, on: boolean): Promise<void> {
    const u = await this.target(id);
    const p = await this.d.projects.getCaseInsensitive(projectName);
    const project = p?.name ?? projectName;
    const membership = await this.d.memberships.get(u.id, project);
    if (!membership) throw noAccess();
    if (on) await this.d.db.transaction().execute((trx) => this.d.memberships.on(trx).setDefault(u.id, project));
    else await this.d.memberships.clearDefault(u.id, project);
    this.event(on ? 'user.default_project_set' : 'user.default_project_cleared', caller, { target: u.id, project });
  }

  // ── /v1/user/data ──

  async userData(user: AuthUser, sidebarView?: 'flat' | 'folders') {
    const now = new Date().toISOString();
    if (sidebarView) {
      await this.d.db
        .insertInto('user_data')
        .values({ id: newRowId(), user_id: user.id, sidebar_view: sidebarView, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ sidebar_view: sidebarView, updated_at: now }))
        .execute();
    } else {
      await this.d.db
        .insertInto('user_data')
        .values({ id: newRowId(), user_id: user.id, sidebar_view: 'flat', created_at: now, updated_at: now })
        .onConflict((oc) => oc.column('user_id').doNothing())
        .execute();
    }
    const r = await this.d.db.selectFrom('user_data').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
    return {
      id: r.id,
      date: r.created_at,
      update_date: r.updated_at,
      user_id: r.user_id,
      sidebar_view: r.sidebar_view === 'folders' ? ('folders' as const) : ('flat' as const),
    };
  }

  private event(event: string, user: AuthUser, details: Record<string, unknown>): void {
    this.d.audit?.record({ event, outcome: 'success', userId: user.id, username: user.username, details });
  }
}
