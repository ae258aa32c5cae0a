/** Store queries of the identity domain. Only identity/ code uses them. */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { fromBool, fromJson, toBool, toJson } from '../store/json.js';
import type { IdpClientsTable, IdpUsersTable } from './tables.js';
import { newRowId } from '../store/ids.js';
import type { MembershipStore } from '../projects/memberships.js';
import { escapeLike, like } from '../store/like.js';

/** Realm under which users of trusted external issuers are recorded (not a valid realm name, so never a real one). */
export const EXTERNAL_REALM = '~external';

export interface UserRecord {
  id: string;
  realm: string;
  username: string;
  email: string;
  name: string;
  roles: string[];
  /** Every project the user is a member of (administered ones included), by name. */
  projects: string[];
  /** The projects the user administers. */
  adminProjects: string[];
  userType: string;
  enabled: boolean;
  hasPassword: boolean;
  /** The client whose service account this is, if any. */
  serviceAccountClient: string | null;
  /** Stored project limit (null: the default; admins are unlimited). */
  projectLimit: number | null;
  picture: string | null;
  lastLoginAt: string | null;
  deactivatedAt: string | null;
  /** `local` (embedded IdP) or `keycloak` (recorded from a trusted issuer's token). */
  authSource: string;
  createdAt: string;
  updatedAt: string;
}

export interface ClientRecord {
  id: string;
  realm: string;
  clientId: string;
  publicClient: boolean;
  directAccessGrants: boolean;
  serviceAccounts: boolean;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface NewUser {
  realm: string;
  /** Given for users recorded from an external token (their `sub`); generated otherwise. */
  id?: string;
  username: string;
  email?: string;
  name?: string;
  passwordHash?: string | null;
  roles?: string[];
  projects?: string[];
  adminProjects?: string[];
  userType?: string;
  serviceAccountClient?: string | null;
  projectLimit?: number | null;
  authSource?: string;
}

export interface NewClient {
  realm: string;
  clientId: string;
  publicClient: boolean;
  secretHash: string | null;
  directAccessGrants: boolean;
  serviceAccounts: boolean;
}

export type UserPatch = Partial<{
  email: string;
  name: string;
  username: string;
  passwordHash: string;
  roles: string[];
  userType: string;
  enabled: boolean;
  projectLimit: number | null;
  picture: string | null;
  lastLoginAt: string;
  deactivatedAt: string | null;
}>;

export interface UserSearch {
  realms: string[];
  /** Substring of username, e-mail or name (case-insensitive). */
  search?: string;
  /** Only these ids (a project filter resolved to its members). */
  ids?: string[];
  /** false: deactivated users too. */
  activeOnly?: boolean;
  isActive?: boolean;
  userType?: string;
  /** Realm roles the user must hold (all), or must not hold. */
  withRoles?: string[];
  withoutRoles?: string[];
  limit: number;
  offset: number;
}

const toUser = (r: IdpUsersTable): UserRecord => ({
  id: r.id,
  realm: r.realm,
  username: r.username,
  email: r.email,
  name: r.name,
  roles: fromJson<string[]>(r.roles, []),
  projects: [],
  adminProjects: [],
  userType: r.user_type,
  enabled: fromBool(r.enabled),
  hasPassword: !!r.password_hash,
  serviceAccountClient: r.service_account_client,
  projectLimit: r.project_limit ?? null,
  picture: r.picture ?? null,
  lastLoginAt: r.last_login_at ?? null,
  deactivatedAt: r.deactivated_at ?? null,
  authSource: r.auth_source ?? 'local',
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toClient = (r: IdpClientsTable): ClientRecord => ({
  id: r.id,
  realm: r.realm,
  clientId: r.client_id,
  publicClient: fromBool(r.public_client),
  directAccessGrants: fromBool(r.direct_access_grants),
  serviceAccounts: fromBool(r.service_accounts),
  enabled: fromBool(r.enabled),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class IdentityRepo {
  constructor(
    readonly db: Kysely<Database>,
    /** Where memberships live (projects/memberships.ts); without it users carry no projects. */
    readonly memberships?: MembershipStore,
  ) {}

  /** The same repo on a transaction. */
  on(db: Kysely<Database>): IdentityRepo {
    return new IdentityRepo(db, this.memberships?.on(db));
  }

  /** Fills `projects` / `adminProjects` from the membership store. */
  async withProjects<T extends UserRecord | undefined>(users: T[]): Promise<T[]> {
    const present = users.filter((u): u is NonNullable<T> => !!u);
    if (!this.memberships || !present.length) return users;
    const byUser = await this.memberships.ofUsers(present.map((u) => u.id));
    for (const u of present) {
      const ms = byUser.get(u.id) ?? [];
      u.projects = ms.map((m) => m.project);
      u.adminProjects = ms.filter((m) => m.isProjectAdmin).map((m) => m.project);
    }
    return users;
  }

  private async one(r: IdpUsersTable | undefined): Promise<UserRecord | undefined> {
    return r ? (await this.withProjects([toUser(r)]))[0] : undefined;
  }

  // ── users ──
  async insertUser(u: NewUser): Promise<UserRecord> {
    const now = new Date().toISOString();
    const row: IdpUsersTable = {
      id: u.id ?? newRowId(),
      realm: u.realm,
      username: u.username.toLowerCase(),
      email: (u.email ?? '').toLowerCase(),
      name: u.name ?? u.username,
      password_hash: u.passwordHash ?? null,
      roles: toJson(u.roles ?? []),
      projects: '[]',
      admin_projects: '[]',
      user_type: u.userType ?? 'regular',
      enabled: 1,
      service_account_client: u.serviceAccountClient ?? null,
      project_limit: u.projectLimit ?? null,
      picture: null,
      last_login_at: null,
      deactivated_at: null,
      auth_source: u.authSource ?? 'local',
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto('idp_users').values(row).execute();
    if (this.memberships && (u.projects?.length || u.adminProjects?.length)) {
      await this.memberships.setProjects(row.id, u.projects ?? [], u.adminProjects ?? []);
    }
    return (await this.one(row))!;
  }

  async userByUsername(realm: string, username: string): Promise<UserRecord | undefined> {
    const r = await this.db.selectFrom('idp_users').selectAll().where('realm', '=', realm).where('username', '=', username.toLowerCase()).executeTakeFirst();
    return this.one(r);
  }

  async userById(id: string): Promise<UserRecord | undefined> {
    const r = await this.db.selectFrom('idp_users').selectAll().where('id', '=', id).executeTakeFirst();
    return this.one(r);
  }

  /** A user row without its memberships (the authenticator reads those itself). */
  async userRowById(id: string): Promise<UserRecord | undefined> {
    const r = await this.db.selectFrom('idp_users').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toUser(r);
  }

  /** User rows by id (without memberships). */
  async usersByIds(ids: string[]): Promise<UserRecord[]> {
    if (!ids.length) return [];
    const out: UserRecord[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db
        .selectFrom('idp_users')
        .selectAll()
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
      out.push(...rows.map(toUser));
    }
    return out;
  }

  /** Users of these realms whose e-mail is one of `emails` (lower-case), deactivated ones included. */
  async usersByEmails(realms: string[], emails: string[]): Promise<UserRecord[]> {
    if (!emails.length) return [];
    const rows = await this.db.selectFrom('idp_users').selectAll().where('realm', 'in', realms).where('email', 'in', emails).execute();
    return rows.map(toUser);
  }

  /** Case-insensitive e-mail or username taken in one of these realms (by someone other than `exceptId`). */
  async taken(realms: string[], field: 'email' | 'username', value: string, exceptId?: string): Promise<boolean> {
    let q = this.db.selectFrom('idp_users').select('id').where('realm', 'in', realms).where(field, '=', value.toLowerCase());
    if (exceptId) q = q.where('id', '!=', exceptId);
    return !!(await q.executeTakeFirst());
  }

  /** The login lookup: username first, then a unique e-mail match. */
  async userForLogin(realm: string, login: string): Promise<{ user: UserRecord; passwordHash: string | null } | undefined> {
    const byName = await this.db.selectFrom('idp_users').selectAll().where('realm', '=', realm).where('username', '=', login.toLowerCase()).executeTakeFirst();
    if (byName) return { user: (await this.one(byName))!, passwordHash: byName.password_hash };
    if (!login.includes('@')) return undefined;
    const byEmail = await this.db.selectFrom('idp_users').selectAll().where('realm', '=', realm).where('email', '=', login.toLowerCase()).limit(2).execute();
    return byEmail.length === 1 ? { user: (await this.one(byEmail[0]))!, passwordHash: byEmail[0].password_hash } : undefined;
  }

  async listUsers(realm: string): Promise<UserRecord[]> {
    const rows = await this.db.selectFrom('idp_users').selectAll().where('realm', '=', realm).orderBy('username').execute();
    return this.withProjects(rows.map(toUser));
  }

  /** A page of users for the admin API, by username; `total` counts every match. */
  async searchUsers(f: UserSearch): Promise<{ rows: UserRecord[]; total: number }> {
    let q = this.db.selectFrom('idp_users').where('realm', 'in', f.realms);
    if (f.activeOnly) q = q.where('deactivated_at', 'is', null);
    if (f.isActive !== undefined) q = q.where('enabled', '=', toBool(f.isActive));
    if (f.userType) q = q.where('user_type', '=', f.userType);
    if (f.ids) q = f.ids.length ? q.where('id', 'in', f.ids) : q.where('id', '=', '');
    if (f.search) {
      const pattern = `%${escapeLike(f.search.toLowerCase())}%`;
      q = q.where((eb) =>
        eb.or([like(eb.fn('lower', ['username']), pattern), like(eb.fn('lower', ['email']), pattern), like(eb.fn('lower', ['name']), pattern)]),
      );
    }
    for (const role of f.withRoles ?? []) q = q.where((eb) => like(eb.ref('roles'), `%${escapeLike(JSON.stringify(role))}%`));
    for (const role of f.withoutRoles ?? []) q = q.where((eb) => like(eb.ref('roles'), `%${escapeLike(JSON.stringify(role))}%`, true));
    const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await q.selectAll().orderBy('username').orderBy('id').limit(f.limit).offset(f.offset).execute();
    return { rows: await this.withProjects(rows.map(toUser)), total: Number(total.n) };
  }

  /** Ids of active users holding a realm role (the "last admin" checks). */
  async activeWithRole(realms: string[], role: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('idp_users')
      .select('id')
      .where('realm', 'in', realms)
      .where('enabled', '=', 1)
      .where('deactivated_at', 'is', null)
      .where((eb) => like(eb.ref('roles'), `%${escapeLike(JSON.stringify(role))}%`))
      .execute();
    return rows.map((r) => r.id);
  }

  async updateUser(id: string, patch: UserPatch): Promise<void> {
    const set: Partial<IdpUsersTable> = { updated_at: new Date().toISOString() };
    if (patch.email !== undefined) set.email = patch.email.toLowerCase();
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.username !== undefined) set.username = patch.username.toLowerCase();
    if (patch.passwordHash !== undefined) set.password_hash = patch.passwordHash;
    if (patch.roles) set.roles = toJson(patch.roles);
    if (patch.userType !== undefined) set.user_type = patch.userType;
    if (patch.enabled !== undefined) set.enabled = toBool(patch.enabled);
    if (patch.projectLimit !== undefined) set.project_limit = patch.projectLimit;
    if (patch.picture !== undefined) set.picture = patch.picture;
    if (patch.lastLoginAt !== undefined) set.last_login_at = patch.lastLoginAt;
    if (patch.deactivatedAt !== undefined) set.deactivated_at = patch.deactivatedAt;
    await this.db.updateTable('idp_users').set(set).where('id', '=', id).execute();
  }

  async deleteUser(id: string): Promise<void> {
    await this.db.deleteFrom('idp_refresh_tokens').where('user_id', '=', id).execute();
    await this.memberships?.removeUser(id);
    await this.db.deleteFrom('idp_users').where('id', '=', id).execute();
  }

  // ── clients ──
  async insertClient(c: NewClient): Promise<ClientRecord> {
    const now = new Date().toISOString();
    const row: IdpClientsTable = {
      id: newRowId(),
      realm: c.realm,
      client_id: c.clientId,
      public_client: toBool(c.publicClient),
      secret_hash: c.secretHash,
      direct_access_grants: toBool(c.directAccessGrants),
      service_accounts: toBool(c.serviceAccounts),
      enabled: 1,
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto('idp_clients').values(row).execute();
    return toClient(row);
  }

  async clientById(realm: string, clientId: string): Promise<{ client: ClientRecord; secretHash: string | null } | undefined> {
    const r = await this.db.selectFrom('idp_clients').selectAll().where('realm', '=', realm).where('client_id', '=', clientId).executeTakeFirst();
    return r && { client: toClient(r), secretHash: r.secret_hash };
  }

  async listClients(realm: string): Promise<ClientRecord[]> {
    const rows = await this.db.selectFrom('idp_clients').selectAll().where('realm', '=', realm).orderBy('client_id').execute();
    return rows.map(toClient);
  }

  async setClientSecret(id: string, secretHash: string): Promise<void> {
    await this.db.updateTable('idp_clients').set({ secret_hash: secretHash, updated_at: new Date().toISOString() }).where('id', '=', id).execute();
  }

  async deleteClient(realm: string, clientId: string): Promise<void> {
    await this.db.deleteFrom('idp_refresh_tokens').where('realm', '=', realm).where('client_id', '=', clientId).execute();
    const accounts = await this.db.selectFrom('idp_users').select('id').where('realm', '=', realm).where('service_account_client', '=', clientId).execute();
    for (const a of accounts) await this.memberships?.removeUser(a.id);
    await this.db.deleteFrom('idp_users').where('realm', '=', realm).where('service_account_client', '=', clientId).execute();
    await this.db.deleteFrom('idp_clients').where('realm', '=', realm).where('client_id', '=', clientId).execute();
  }

  // ── refresh tokens ──
  async insertRefreshToken(t: {
    realm: string;
    sessionId: string;
    tokenHash: string;
    userId: string;
    clientId: string;
    scope: string;
    expiresAt: string;
  }): Promise<void> {
    await this.db
      .insertInto('idp_refresh_tokens')
      .values({
        id: newRowId(),
        realm: t.realm,
        session_id: t.sessionId,
        token_hash: t.tokenHash,
        user_id: t.userId,
        client_id: t.clientId,
        scope: t.scope,
        expires_at: t.expiresAt,
        revoked: 0,
        created_at: new Date().toISOString(),
      })
      .execute();
  }

  async refreshTokenByHash(hash: string) {
    return this.db.selectFrom('idp_refresh_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  }

  /** Marks one token used; false when it already was (a replay or a concurrent refresh). */
  async consumeRefreshToken(id: string): Promise<boolean> {
    const res = await this.db.updateTable('idp_refresh_tokens').set({ revoked: 1 }).where('id', '=', id).where('revoked', '=', 0).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async revokeSession(sessionId: string): Promise<void> {
    await this.db.updateTable('idp_refresh_tokens').set({ revoked: 1 }).where('session_id', '=', sessionId).execute();
  }

  async revokeUserSessions(userId: string): Promise<void> {
    await this.db.updateTable('idp_refresh_tokens').set({ revoked: 1 }).where('user_id', '=', userId).execute();
  }

  /** Housekeeping: drops refresh tokens that expired before `before`. */
  async purgeRefreshTokens(before: string): Promise<void> {
    await this.db.deleteFrom('idp_refresh_tokens').where('expires_at', '<', before).execute();
  }
}
