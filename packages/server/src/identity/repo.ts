/** Store queries of the identity domain. Only identity/ code uses them. */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { fromBool, fromJson, toBool, toJson } from '../store/json.js';
import type { IdpClientsTable, IdpUsersTable } from './tables.js';
import { newRowId } from '../store/ids.js';

export interface UserRecord {
  id: string;
  realm: string;
  username: string;
  email: string;
  name: string;
  roles: string[];
  projects: string[];
  adminProjects: string[];
  userType: string;
  enabled: boolean;
  hasPassword: boolean;
  /** The client whose service account this is, if any. */
  serviceAccountClient: string | null;
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
  username: string;
  email?: string;
  name?: string;
  passwordHash?: string | null;
  roles?: string[];
  projects?: string[];
  adminProjects?: string[];
  userType?: string;
  serviceAccountClient?: string | null;
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
  passwordHash: string;
  roles: string[];
  projects: string[];
  adminProjects: string[];
  enabled: boolean;
}>;

const toUser = (r: IdpUsersTable): UserRecord => ({
  id: r.id,
  realm: r.realm,
  username: r.username,
  email: r.email,
  name: r.name,
  roles: fromJson<string[]>(r.roles, []),
  projects: fromJson<string[]>(r.projects, []),
  adminProjects: fromJson<string[]>(r.admin_projects, []),
  userType: r.user_type,
  enabled: fromBool(r.enabled),
  hasPassword: !!r.password_hash,
  serviceAccountClient: r.service_account_client,
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
  constructor(readonly db: Kysely<Database>) {}

  // ── users ──
  async insertUser(u: NewUser): Promise<UserRecord> {
    const now = new Date().toISOString();
    const row: IdpUsersTable = {
      id: newRowId(),
      realm: u.realm,
      username: u.username.toLowerCase(),
      email: (u.email ?? '').toLowerCase(),
      name: u.name ?? u.username,
      password_hash: u.passwordHash ?? null,
      roles: toJson(u.roles ?? []),
      projects: toJson(u.projects ?? []),
      admin_projects: toJson(u.adminProjects ?? []),
      user_type: u.userType ?? 'regular',
      enabled: 1,
      service_account_client: u.serviceAccountClient ?? null,
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto('idp_users').values(row).execute();
    return toUser(row);
  }

  async userByUsername(realm: string, username: string): Promise<UserRecord | undefined> {
    const r = await this.db
      .selectFrom('idp_users')
      .selectAll()
      .where('realm', '=', realm)
      .where('username', '=', username.toLowerCase())
      .executeTakeFirst();
    return r && toUser(r);
  }

  async userById(id: string): Promise<UserRecord | undefined> {
    const r = await this.db.selectFrom('idp_users').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toUser(r);
  }

  /** The login lookup: username first, then a unique e-mail match. */
  async userForLogin(realm: string, login: string): Promise<{ user: UserRecord; passwordHash: string | null } | undefined> {
    const byName = await this.db
      .selectFrom('idp_users')
      .selectAll()
      .where('realm', '=', realm)
      .where('username', '=', login.toLowerCase())
      .executeTakeFirst();
    if (byName) return { user: toUser(byName), passwordHash: byName.password_hash };
    if (!login.includes('@')) return undefined;
    const byEmail = await this.db
      .selectFrom('idp_users')
      .selectAll()
      .where('realm', '=', realm)
      .where('email', '=', login.toLowerCase())
      .limit(2)
      .execute();
    return byEmail.length === 1 ? { user: toUser(byEmail[0]), passwordHash: byEmail[0].password_hash } : undefined;
  }

  async listUsers(realm: string): Promise<UserRecord[]> {
    const rows = await this.db.selectFrom('idp_users').selectAll().where('realm', '=', realm).orderBy('username').execute();
    return rows.map(toUser);
  }

  async updateUser(id: string, patch: UserPatch): Promise<void> {
    const set: Partial<IdpUsersTable> = { updated_at: new Date().toISOString() };
    if (patch.email !== undefined) set.email = patch.email.toLowerCase();
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.passwordHash !== undefined) set.password_hash = patch.passwordHash;
    if (patch.roles) set.roles = toJson(patch.roles);
    if (patch.projects) set.projects = toJson(patch.projects);
    if (patch.adminProjects) set.admin_projects = toJson(patch.adminProjects);
    if (patch.enabled !== undefined) set.enabled = toBool(patch.enabled);
    await this.db.updateTable('idp_users').set(set).where('id', '=', id).execute();
  }

  async deleteUser(id: string): Promise<void> {
    await this.db.deleteFrom('idp_refresh_tokens').where('user_id', '=', id).execute();
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
    const r = await this.db
      .selectFrom('idp_clients')
      .selectAll()
      .where('realm', '=', realm)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return r && { client: toClient(r), secretHash: r.secret_hash };
  }

  async listClients(realm: string): Promise<ClientRecord[]> {
    const rows = await this.db.selectFrom('idp_clients').selectAll().where('realm', '=', realm).orderBy('client_id').execute();
    return rows.map(toClient);
  }

  async setClientSecret(id: string, secretHash: string): Promise<void> {
    await this.db
      .updateTable('idp_clients')
      .set({ secret_hash: secretHash, updated_at: new Date().toISOString() })
      .where('id', '=', id)
      .execute();
  }

  async deleteClient(realm: string, clientId: string): Promise<void> {
    await this.db.deleteFrom('idp_refresh_tokens').where('realm', '=', realm).where('client_id', '=', clientId).execute();
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
    const res = await this.db
      .updateTable('idp_refresh_tokens')
      .set({ revoked: 1 })
      .where('id', '=', id)
      .where('revoked', '=', 0)
      .executeTakeFirst();
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
