/**
 * Onboarding CodeMie onto a real Keycloak through its admin REST API: the `codemie` client
 * scope and its claim mappers, the declared user-profile attributes, the realm roles, the SDK
 * (public) client, service (confidential) clients and human users. Every operation is
 * idempotent: it creates what is missing, updates what exists and reports which it did.
 */
import KcAdminClient, { NetworkError } from '@keycloak/keycloak-admin-client';
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import type ProtocolMapperRepresentation from '@keycloak/keycloak-admin-client/lib/defs/protocolMapperRepresentation.js';
import type UserRepresentation from '@keycloak/keycloak-admin-client/lib/defs/userRepresentation.js';
import type { UserProfileAttribute } from '@keycloak/keycloak-admin-client/lib/defs/userProfileMetadata.js';
import { CliError } from '../errors.js';

export const CODEMIE_SCOPE = 'codemie';
export const ROLES = ['developer', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/** User attributes carried into tokens as claims of the same name (multivalued). */
export const PROJECT_ATTRIBUTES = ['applications', 'applications_admin'] as const;
/** Client attribute marking what these commands created (for `list`). */
const KIND_ATTRIBUTE = 'codemie.kind';
/** Standard scopes a CodeMie client needs: sub, preferred_username/name, email, realm_access.roles. */
const STANDARD_SCOPES = ['basic', 'profile', 'email', 'roles'];

export interface Connection {
  url: string;
  realm: string;
  adminUser: string;
  adminPassword: string;
  createRealm?: boolean;
}

export type Outcome = 'created' | 'updated';

export interface Admin {
  kc: KcAdminClient;
  realm: string;
  url: string;
  /** Human-readable notes about what was created/reused, in order. */
  notes: string[];
}

/** Turns admin-client and fetch failures into one-line CLI errors. */
export function explain(err: unknown, conn: Pick<Connection, 'url' | 'realm' | 'adminUser'>): Error {
  if (err instanceof CliError) return err;
  if (err instanceof NetworkError) {
    const status = err.response.status;
    const detail = describeBody(err.responseData) || err.message;
    if (status === 401) return new CliError(`Keycloak at ${conn.url} rejected the request (401 Unauthorized): ${detail}`);
    if (status === 403)
      return new CliError(`Keycloak admin "${conn.adminUser}" lacks permission for this (403 Forbidden): ${detail}`);
    return new CliError(`Keycloak returned ${status} ${err.response.statusText}: ${detail}`);
  }
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return new CliError(`cannot reach Keycloak at ${conn.url}: ${cause?.code ?? cause?.message ?? err.message}`);
  }
  if (err instanceof Error && err.name === 'TimeoutError') return new CliError(`Keycloak at ${conn.url} did not answer in time`);
  return err instanceof Error ? err : new Error(String(err));
}

function describeBody(data: unknown): string {
  if (typeof data === 'string') return data.slice(0, 200);
  if (data && typeof data === 'object') {
    const d = data as Record<string, unknown>;
    const parts = [d.error, d.error_description ?? d.errorMessage].filter((v) => typeof v === 'string');
    return parts.join(': ');
  }
  return '';
}

/** Logs in to the master realm as the admin and selects (or creates) the target realm. */
export async function connect(conn: Connection): Promise<Admin> {
  let url: URL;
  try {
    url = new URL(conn.url);
  } catch {
    throw new CliError(`invalid Keycloak URL: ${conn.url}`);
  }
  const baseUrl = url.toString().replace(/\/+$/, '');
  const kc = new KcAdminClient({ baseUrl, realmName: 'master', timeout: 30_000 });
  try {
    await kc.auth({ grantType: 'password', clientId: 'admin-cli', username: conn.adminUser, password: conn.adminPassword });
  } catch (err) {
    if (err instanceof NetworkError && (err.response.status === 401 || err.response.status === 400)) {
      throw new CliError(
        `Keycloak at ${baseUrl} rejected the admin credentials for "${conn.adminUser}" in realm master ` +
          `(${err.response.status}: ${describeBody(err.responseData) || err.message}); check --admin-user/--admin-password`,
      );
    }
    if (err instanceof NetworkError && err.response.status === 404) {
      throw new CliError(`no Keycloak at ${baseUrl} (404 for the master realm token endpoint); check --url`);
    }
    throw explain(err, conn);
  }
  const admin: Admin = { kc, realm: conn.realm, url: baseUrl, notes: [] };
  const existing = await kc.realms.findOne({ realm: conn.realm });
  if (!existing) {
    if (!conn.createRealm) {
      throw new CliError(`realm "${conn.realm}" does not exist at ${baseUrl} (pass --create-realm to create it)`);
    }
    await kc.realms.create({ realm: conn.realm, enabled: true });
    admin.notes.push(`created realm ${conn.realm}`);
  }
  kc.setConfig({ realmName: conn.realm });
  return admin;
}

/**
 * Declares `applications` and `applications_admin` in the realm's user profile (Keycloak 24+
 * drops undeclared attributes). They are multivalued and editable by admins only, so users
 * cannot add themselves to projects through the account console.
 */
export async function ensureUserProfile(a: Admin): Promise<void> {
  const profile = await a.kc.users.getProfile({ realm: a.realm });
  const attributes = profile.attributes ?? [];
  const missing = PROJECT_ATTRIBUTES.filter((name) => !attributes.some((attr) => attr.name === name));
  const wrong = attributes.filter(
    (attr) => PROJECT_ATTRIBUTES.includes(attr.name as (typeof PROJECT_ATTRIBUTES)[number]) && attr.multivalued !== true,
  );
  if (missing.length === 0 && wrong.length === 0) return;
  for (const attr of wrong) attr.multivalued = true;
  for (const name of missing) {
    const attr: UserProfileAttribute = {
      name,
      displayName: name === 'applications' ? 'CodeMie projects' : 'CodeMie projects (admin)',
      multivalued: true,
      permissions: { view: ['admin'], edit: ['admin'] },
      validations: {},
      annotations: {},
    };
    attributes.push(attr);
  }
  await a.kc.users.updateProfile({ ...profile, attributes, realm: a.realm });
  a.notes.push(`user profile: declared ${[...missing, ...wrong.map((w) => w.name)].join(', ')}`);
}

export async function ensureRealmRoles(a: Admin): Promise<void> {
  for (const name of ROLES) {
    const role = await a.kc.roles.findOneByName({ name });
    if (!role) {
      await a.kc.roles.create({ name, description: `CodeMie ${name}` });
      a.notes.push(`created realm role ${name}`);
    }
  }
}

function attributeMapper(attribute: string): ProtocolMapperRepresentation {
  return {
    name: attribute,
    protocol: 'openid-connect',
    protocolMapper: 'oidc-usermodel-attribute-mapper',
    config: {
      'user.attribute': attribute,
      'claim.name': attribute,
      'jsonType.label': 'String',
      multivalued: 'true',
      'aggregate.attrs': 'false',
      'access.token.claim': 'true',
      'id.token.claim': 'true',
      'userinfo.token.claim': 'true',
      'introspection.token.claim': 'true',
    },
  };
}

function realmRolesMapper(): ProtocolMapperRepresentation {
  return {
    name: 'realm roles',
    protocol: 'openid-connect',
    protocolMapper: 'oidc-usermodel-realm-role-mapper',
    config: {
      'claim.name': 'realm_access.roles',
      'jsonType.label': 'String',
      multivalued: 'true',
      'access.token.claim': 'true',
      'id.token.claim': 'false',
      'userinfo.token.claim': 'false',
      'introspection.token.claim': 'true',
    },
  };
}

function hasRealmRolesMapper(mappers: ProtocolMapperRepresentation[] | undefined): boolean {
  return (mappers ?? []).some(
    (m) => m.protocolMapper === 'oidc-usermodel-realm-role-mapper' && m.config?.['claim.name'] === 'realm_access.roles',
  );
}

/**
 * The `codemie` client scope: `applications` and `applications_admin` claims from the user
 * attributes. Realm roles reach `realm_access.roles` through Keycloak's standard `roles` scope;
 * if this realm's `roles` scope lacks that mapper, the `codemie` scope carries one.
 * Returns the scope id.
 */
export async function ensureCodemieScope(a: Admin): Promise<string> {
  await ensureUserProfile(a);
  await ensureRealmRoles(a);
  let scope = await a.kc.clientScopes.findOneByName({ name: CODEMIE_SCOPE });
  if (!scope) {
    await a.kc.clientScopes.create({
      name: CODEMIE_SCOPE,
      description: 'CodeMie claims: applications, applications_admin',
      protocol: 'openid-connect',
      attributes: { 'include.in.token.scope': 'true', 'display.on.consent.screen': 'false' },
    });
    scope = await a.kc.clientScopes.findOneByName({ name: CODEMIE_SCOPE });
    if (!scope?.id) throw new CliError(`could not create client scope ${CODEMIE_SCOPE}`);
    a.notes.push(`created client scope ${CODEMIE_SCOPE}`);
  }
  const id = scope.id!;
  const mappers = await a.kc.clientScopes.listProtocolMappers({ id });
  const wanted = PROJECT_ATTRIBUTES.map(attributeMapper);
  const rolesScope = await a.kc.clientScopes.findOneByName({ name: 'roles' });
  const rolesMappers = rolesScope?.id ? await a.kc.clientScopes.listProtocolMappers({ id: rolesScope.id }) : [];
  if (!hasRealmRolesMapper(rolesMappers)) wanted.push(realmRolesMapper());
  for (const mapper of wanted) {
    const current = mappers.find((m) => m.name === mapper.name);
    if (!current) {
      await a.kc.clientScopes.addProtocolMapper({ id }, mapper);
      a.notes.push(`scope ${CODEMIE_SCOPE}: added mapper ${mapper.name}`);
    } else if (
      current.protocolMapper !== mapper.protocolMapper ||
      Object.entries(mapper.config ?? {}).some(([k, v]) => current.config?.[k] !== v)
    ) {
      await a.kc.clientScopes.updateProtocolMapper({ id, mapperId: current.id! }, { ...mapper, id: current.id });
      a.notes.push(`scope ${CODEMIE_SCOPE}: updated mapper ${mapper.name}`);
    }
  }
  return id;
}

/** Attaches the standard scopes and `codemie` as default scopes of a client (missing ones only). */
async function ensureClientScopes(a: Admin, clientUuid: string, codemieScopeId: string): Promise<void> {
  const current = await a.kc.clients.listDefaultClientScopes({ id: clientUuid });
  const all = await a.kc.clientScopes.find();
  const wanted = [...STANDARD_SCOPES, CODEMIE_SCOPE];
  for (const name of wanted) {
    if (current.some((s) => s.name === name)) continue;
    const scopeId = name === CODEMIE_SCOPE ? codemieScopeId : all.find((s) => s.name === name)?.id;
    if (!scopeId) continue; // e.g. `basic` exists only on Keycloak 25+
    await a.kc.clients.addDefaultClientScope({ id: clientUuid, clientScopeId: scopeId });
  }
}

export async function findClient(a: Admin, clientId: string): Promise<ClientRepresentation | undefined> {
  const found = await a.kc.clients.find({ clientId, first: 0, max: 2 });
  return found.find((c) => c.clientId === clientId);
}

async function requireClient(a: Admin, clientId: string): Promise<ClientRepresentation & { id: string }> {
  const client = await findClient(a, clientId);
  if (!client?.id) throw new CliError(`client "${clientId}" not found in realm ${a.realm}`);
  return client as ClientRepresentation & { id: string };
}

async function upsertClient(a: Admin, rep: ClientRepresentation & { clientId: string }): Promise<{ id: string; outcome: Outcome }> {
  const existing = await findClient(a, rep.clientId);
  if (existing?.id) {
    const merged = { ...existing, ...rep, attributes: { ...(existing.attributes ?? {}), ...(rep.attributes ?? {}) } };
    await a.kc.clients.update({ id: existing.id }, merged);
    return { id: existing.id, outcome: 'updated' };
  }
  const { id } = await a.kc.clients.create(rep);
  return { id, outcome: 'created' };
}

export interface SdkClientOptions {
  clientId: string;
  standardFlow?: boolean;
  redirectUris?: string[];
}

export interface SdkClientResult {
  client_id: string;
  realm: string;
  outcome: Outcome;
  public: true;
  direct_access_grants: boolean;
  standard_flow: boolean;
  token_url: string;
}

export async function createSdkClient(a: Admin, opts: SdkClientOptions): Promise<SdkClientResult> {
  const scopeId = await ensureCodemieScope(a);
  const standardFlow = opts.standardFlow === true;
  const { id, outcome } = await upsertClient(a, {
    clientId: opts.clientId,
    name: 'CodeMie SDK / CLI',
    description: 'Public client for the CodeMie SDK and CLI (password grant)',
    protocol: 'openid-connect',
    enabled: true,
    publicClient: true,
    directAccessGrantsEnabled: true,
    standardFlowEnabled: standardFlow,
    implicitFlowEnabled: false,
    serviceAccountsEnabled: false,
    redirectUris: standardFlow ? (opts.redirectUris?.length ? opts.redirectUris : ['http://localhost:*', 'http://127.0.0.1:*']) : [],
    attributes: { [KIND_ATTRIBUTE]: 'sdk', ...(standardFlow ? { 'pkce.code.challenge.method': 'S256' } : {}) },
  });
  await ensureClientScopes(a, id, scopeId);
  return {
    client_id: opts.clientId,
    realm: a.realm,
    outcome,
    public: true,
    direct_access_grants: true,
    standard_flow: standardFlow,
    token_url: tokenUrl(a),
  };
}

export function tokenUrl(a: Admin): string {
  return `${a.url}/realms/${encodeURIComponent(a.realm)}/protocol/openid-connect/token`;
}

export interface Identity {
  projects: string[];
  adminProjects: string[];
  role: Role;
  email?: string;
  firstName?: string;
  lastName?: string;
}

/** Replaces the CodeMie attributes (keeping any others) and sets the managed realm role. */
async function applyIdentity(a: Admin, user: UserRepresentation & { id: string }, identity: Identity, defaults: { email: string; firstName: string; lastName: string }): Promise<void> {
  const attributes: Record<string, string[]> = { ...((user.attributes as Record<string, string[]> | undefined) ?? {}) };
  attributes.applications = unique(identity.projects);
  attributes.applications_admin = unique(identity.adminProjects);
  if (attributes.applications_admin.length === 0) delete attributes.applications_admin;
  await a.kc.users.update(
    { id: user.id },
    {
      username: user.username,
      enabled: true,
      email: identity.email ?? user.email ?? defaults.email,
      emailVerified: true,
      firstName: identity.firstName ?? user.firstName ?? defaults.firstName,
      lastName: identity.lastName ?? user.lastName ?? defaults.lastName,
      requiredActions: [],
      attributes,
    },
  );
  // Verify the attributes were stored (an undeclared attribute is silently dropped).
  const stored = await a.kc.users.findOne({ id: user.id });
  const got = (stored?.attributes as Record<string, string[]> | undefined)?.applications ?? [];
  if (unique(identity.projects).some((p) => !got.includes(p))) {
    throw new CliError(
      `Keycloak did not store the "applications" attribute of ${user.username}; check the realm's user profile`,
    );
  }
  await setRole(a, user.id, identity.role);
}

async function setRole(a: Admin, userId: string, role: Role): Promise<void> {
  const current = await a.kc.users.listRealmRoleMappings({ id: userId });
  const drop = current.filter((r) => r.name !== role && ROLES.includes(r.name as Role));
  if (drop.length) await a.kc.users.delRealmRoleMappings({ id: userId, roles: drop.map((r) => ({ id: r.id!, name: r.name! })) });
  if (!current.some((r) => r.name === role)) {
    const rep = await a.kc.roles.findOneByName({ name: role });
    if (!rep?.id) throw new CliError(`realm role ${role} is missing in realm ${a.realm}`);
    await a.kc.users.addRealmRoleMappings({ id: userId, roles: [{ id: rep.id, name: role }] });
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values.map((v) => v.trim()).filter(Boolean))];
}

export interface ServiceClientOptions extends Identity {
  clientId: string;
}

export interface ServiceClientResult {
  client_id: string;
  realm: string;
  outcome: Outcome;
  /** Only when the client was created (shown once); `rotate-secret` issues a new one. */
  client_secret?: string;
  service_account: string;
  projects: string[];
  admin_projects: string[];
  role: Role;
  token_url: string;
}

export async function createServiceClient(a: Admin, opts: ServiceClientOptions): Promise<ServiceClientResult> {
  const scopeId = await ensureCodemieScope(a);
  const { id, outcome } = await upsertClient(a, {
    clientId: opts.clientId,
    name: `CodeMie service ${opts.clientId}`,
    description: 'Confidential CodeMie client (client_credentials grant)',
    protocol: 'openid-connect',
    enabled: true,
    publicClient: false,
    clientAuthenticatorType: 'client-secret',
    serviceAccountsEnabled: true,
    standardFlowEnabled: false,
    implicitFlowEnabled: false,
    directAccessGrantsEnabled: false,
    attributes: { [KIND_ATTRIBUTE]: 'service' },
  });
  await ensureClientScopes(a, id, scopeId);
  const sa = await a.kc.clients.getServiceAccountUser({ id });
  if (!sa?.id) throw new CliError(`client ${opts.clientId} has no service-account user`);
  await applyIdentity(a, sa as UserRepresentation & { id: string }, opts, {
    email: `${opts.clientId}@service.codemie.invalid`.toLowerCase(),
    firstName: opts.clientId,
    lastName: 'Service',
  });
  const result: ServiceClientResult = {
    client_id: opts.clientId,
    realm: a.realm,
    outcome,
    service_account: sa.username ?? `service-account-${opts.clientId}`,
    projects: unique(opts.projects),
    admin_projects: unique(opts.adminProjects),
    role: opts.role,
    token_url: tokenUrl(a),
  };
  if (outcome === 'created') {
    const secret = await a.kc.clients.getClientSecret({ id });
    result.client_secret = secret.value;
  }
  return result;
}

export interface UserOptions extends Identity {
  username: string;
  password?: string;
}

export interface UserResult {
  username: string;
  realm: string;
  outcome: Outcome;
  password_set: boolean;
  projects: string[];
  admin_projects: string[];
  role: Role;
}

export async function createUser(a: Admin, opts: UserOptions): Promise<UserResult> {
  await ensureCodemieScope(a);
  const username = opts.username.toLowerCase();
  const found = (await a.kc.users.find({ username, exact: true })).find((u) => u.username === username);
  let outcome: Outcome = 'updated';
  let id = found?.id;
  if (!id) {
    if (!opts.password) throw new CliError(`--password is required to create user ${username}`);
    ({ id } = await a.kc.users.create({ username, enabled: true }));
    outcome = 'created';
  }
  const user = await a.kc.users.findOne({ id: id! });
  await applyIdentity(a, { ...(user ?? { username }), id: id! }, opts, {
    email: `${username}@users.codemie.invalid`,
    firstName: username,
    lastName: 'User',
  });
  if (opts.password) {
    await a.kc.users.resetPassword({ id: id!, credential: { type: 'password', value: opts.password, temporary: false } });
  }
  return {
    username,
    realm: a.realm,
    outcome,
    password_set: Boolean(opts.password),
    projects: unique(opts.projects),
    admin_projects: unique(opts.adminProjects),
    role: opts.role,
  };
}

export interface ListedClient {
  client_id: string;
  kind: string;
  enabled: boolean;
  service_account?: string;
  projects?: string[];
  admin_projects?: string[];
  roles?: string[];
}

export async function listClients(a: Admin): Promise<ListedClient[]> {
  const clients = await a.kc.clients.find({ first: 0, max: 1000 });
  const ours = clients.filter((c) => c.attributes?.[KIND_ATTRIBUTE]);
  const out: ListedClient[] = [];
  for (const c of ours) {
    const row: ListedClient = { client_id: c.clientId!, kind: String(c.attributes![KIND_ATTRIBUTE]), enabled: c.enabled !== false };
    if (c.serviceAccountsEnabled && c.id) {
      const sa = await a.kc.clients.getServiceAccountUser({ id: c.id });
      if (sa?.id) {
        const attrs = (sa.attributes as Record<string, string[]> | undefined) ?? {};
        row.service_account = sa.username;
        row.projects = attrs.applications ?? [];
        row.admin_projects = attrs.applications_admin ?? [];
        row.roles = (await a.kc.users.listRealmRoleMappings({ id: sa.id }))
          .map((r) => r.name!)
          .filter((n) => ROLES.includes(n as Role));
      }
    }
    out.push(row);
  }
  return out.sort((x, y) => x.client_id.localeCompare(y.client_id));
}

export async function deleteClient(a: Admin, clientId: string): Promise<void> {
  const client = await requireClient(a, clientId);
  await a.kc.clients.del({ id: client.id });
}

export async function rotateSecret(a: Admin, clientId: string): Promise<string> {
  const client = await requireClient(a, clientId);
  if (client.publicClient) throw new CliError(`client "${clientId}" is public and has no secret`);
  const secret = await a.kc.clients.generateNewClientSecret({ id: client.id });
  if (!secret.value) throw new CliError(`Keycloak returned no secret for ${clientId}`);
  return secret.value;
}
