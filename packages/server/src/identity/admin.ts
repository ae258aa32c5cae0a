/**
 * Management of the embedded IdP's users and clients: used by bootstrap, the
 * `codemie idp ...` CLI and test helpers. Secrets are hashed before they are stored and
 * returned only once, to the caller that created them.
 */
import { badRequest, conflict, notFound } from '../api/errors.js';
import { generatePassword, generateSecret, hashSecret } from './secrets.js';
import type { ClientRecord, IdentityRepo, UserRecord } from './repo.js';

export interface UserInput {
  username: string;
  password?: string;
  email?: string;
  name?: string;
  roles?: string[];
  projects?: string[];
  adminProjects?: string[];
  userType?: 'regular' | 'external';
  /** Stored project limit (null/absent: the default). */
  projectLimit?: number | null;
  /** Shortest accepted password (the admin API asks 12, like the reference; the CLI 8). */
  minPasswordLength?: number;
}

export interface ClientInput {
  clientId: string;
  /** Public clients have no secret (password grant from SDKs); confidential ones get one. */
  publicClient: boolean;
  /** Password grant allowed (default: on for public clients, off for confidential ones). */
  directAccessGrants?: boolean;
  /** Confidential only: roles and projects of the client's service account. */
  roles?: string[];
  projects?: string[];
  adminProjects?: string[];
}

const USERNAME = /^[A-Za-z0-9._@-]{1,255}$/;
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,255}$/;

/** Records an identity change in the audit log (never with passwords or secrets). */
export type AdminAuditHook = (event: string, details: { username?: string; clientId?: string; [k: string]: unknown }) => void;

export class IdentityAdmin {
  constructor(
    private readonly repo: IdentityRepo,
    readonly realm: string,
    private readonly scryptN: number,
    private readonly audit: AdminAuditHook = () => undefined,
  ) {}

  async addUser(input: UserInput): Promise<{ user: UserRecord; generatedPassword?: string }> {
    if (!USERNAME.test(input.username)) throw badRequest('Invalid username', 'Use letters, digits and . _ @ - (at most 255).');
    if (input.username.toLowerCase().startsWith('service-account-')) {
      throw badRequest('Invalid username', "Names starting with 'service-account-' are reserved for client service accounts.");
    }
    if (await this.repo.userByUsername(this.realm, input.username)) {
      throw conflict('User already exists', `A user named '${input.username.toLowerCase()}' already exists in realm '${this.realm}'.`);
    }
    const generatedPassword = input.password ? undefined : generatePassword();
    const password = input.password ?? generatedPassword!;
    checkPassword(password, input.minPasswordLength);
    const passwordHash = await hashSecret(password, this.scryptN);
    // The user and its memberships are written together.
    const user = await this.repo.db.transaction().execute((trx) =>
      this.repo.on(trx).insertUser({
        realm: this.realm,
        username: input.username,
        email: input.email,
        name: input.name,
        passwordHash,
        roles: input.roles ?? ['developer'],
        projects: input.projects ?? [],
        adminProjects: input.adminProjects ?? [],
        userType: input.userType,
        projectLimit: input.projectLimit,
      }),
    );
    this.audit('user.created', { username: user.username, roles: user.roles, projects: user.projects });
    this.changed(user.id);
    return { user, generatedPassword };
  }

  /** Tells the authenticator's cache that what it knows about a user is stale. */
  private changed(userId: string): void {
    this.repo.memberships?.changed([userId]);
  }

  listUsers(): Promise<UserRecord[]> {
    return this.repo.listUsers(this.realm);
  }

  async getUser(username: string): Promise<UserRecord> {
    const u = await this.repo.userByUsername(this.realm, username);
    if (!u) throw notFound('User', undefined, `No user named '${username}' in realm '${this.realm}'.`);
    return u;
  }

  /** Sets (or generates) a password; existing sessions of the user are revoked. */
  async setPassword(username: string, password?: string): Promise<{ user: UserRecord; generatedPassword?: string }> {
    const user = await this.getUser(username);
    if (user.serviceAccountClient) throw badRequest('Service accounts have no password', 'Rotate the client secret instead.');
    const generatedPassword = password ? undefined : generatePassword();
    const pw = password ?? generatedPassword!;
    checkPassword(pw);
    await this.repo.updateUser(user.id, { passwordHash: await hashSecret(pw, this.scryptN) });
    await this.repo.revokeUserSessions(user.id);
    this.audit('user.password_changed', { username });
    this.changed(user.id);
    return { user: await this.getUser(username), generatedPassword };
  }

  async setProjects(username: string, projects: string[] | undefined, adminProjects: string[] | undefined): Promise<UserRecord> {
    const user = await this.getUser(username);
    if (!this.repo.memberships) throw new Error('IdentityAdmin: no membership store configured');
    await this.repo.db.transaction().execute((trx) => this.repo.on(trx).memberships!.setProjects(user.id, projects, adminProjects));
    this.audit('user.projects_changed', { username, projects, adminProjects });
    this.changed(user.id);
    return this.getUser(username);
  }

  async setRoles(username: string, roles: string[]): Promise<UserRecord> {
    const user = await this.getUser(username);
    await this.repo.updateUser(user.id, { roles });
    this.audit('user.roles_changed', { username, roles });
    this.changed(user.id);
    return this.getUser(username);
  }

  async setEnabled(username: string, enabled: boolean): Promise<UserRecord> {
    const user = await this.getUser(username);
    await this.repo.updateUser(user.id, { enabled });
    if (!enabled) await this.repo.revokeUserSessions(user.id);
    this.audit(enabled ? 'user.enabled' : 'user.disabled', { username });
    this.changed(user.id);
    return this.getUser(username);
  }

  async removeUser(username: string): Promise<void> {
    const user = await this.getUser(username);
    if (user.serviceAccountClient) {
      throw badRequest('Cannot remove a service account', `Remove the client '${user.serviceAccountClient}' instead.`);
    }
    await this.repo.deleteUser(user.id);
    this.audit('user.removed', { username });
    this.changed(user.id);
  }

  async addClient(input: ClientInput): Promise<{ client: ClientRecord; secret?: string; serviceAccount?: UserRecord }> {
    if (!CLIENT_ID.test(input.clientId)) throw badRequest('Invalid client id', 'Use letters, digits and . _ : - (at most 255).');
    if (await this.repo.clientById(this.realm, input.clientId)) {
      throw conflict('Client already exists', `A client '${input.clientId}' already exists in realm '${this.realm}'.`);
    }
    const secret = input.publicClient ? undefined : generateSecret();
    const secretHash = secret ? await hashSecret(secret, this.scryptN) : null;
    const { client, serviceAccount } = await this.repo.db.transaction().execute(async (trx) => {
      const repo = this.repo.on(trx);
      const client = await repo.insertClient({
        realm: this.realm,
        clientId: input.clientId,
        publicClient: input.publicClient,
        secretHash,
        directAccessGrants: input.directAccessGrants ?? input.publicClient,
        serviceAccounts: !input.publicClient,
      });
      const serviceAccount = input.publicClient
        ? undefined
        : await repo.insertUser({
            realm: this.realm,
            username: `service-account-${input.clientId}`,
            roles: input.roles ?? ['developer'],
            projects: input.projects ?? [],
            adminProjects: input.adminProjects ?? [],
            serviceAccountClient: input.clientId,
          });
      return { client, serviceAccount };
    });
    this.audit('client.created', { clientId: client.clientId, public: !secret });
    return { client, secret, serviceAccount };
  }

  listClients(): Promise<ClientRecord[]> {
    return this.repo.listClients(this.realm);
  }

  async getClient(clientId: string): Promise<ClientRecord> {
    const c = await this.repo.clientById(this.realm, clientId);
    if (!c) throw notFound('Client', undefined, `No client '${clientId}' in realm '${this.realm}'.`);
    return c.client;
  }

  async removeClient(clientId: string): Promise<void> {
    await this.getClient(clientId);
    const account = await this.repo.userByUsername(this.realm, `service-account-${clientId}`);
    await this.repo.deleteClient(this.realm, clientId);
    this.audit('client.removed', { clientId });
    if (account) this.changed(account.id);
  }

  /** New secret for a confidential client; the old one stops working at once. */
  async rotateClientSecret(clientId: string): Promise<{ client: ClientRecord; secret: string }> {
    const client = await this.getClient(clientId);
    if (client.publicClient) throw badRequest('Public clients have no secret', `Client '${clientId}' is public.`);
    const secret = generateSecret();
    await this.repo.setClientSecret(client.id, await hashSecret(secret, this.scryptN));
    this.audit('client.secret_rotated', { clientId });
    return { client, secret };
  }
}

export function checkPassword(pw: string, min = 8): void {
  if (pw.length < min) throw badRequest('Password too short', `Passwords need at least ${min} characters.`);
  if (pw.length > 1024) throw badRequest('Password too long', 'Passwords may have at most 1024 characters.');
}
