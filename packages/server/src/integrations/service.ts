/**
 * Integrations: credential sets of a user (USER) or of a project (PROJECT), the reference's
 * "settings" (routers/user_settings.py, project_settings.py, settings.py). Values are sealed by the
 * keyring before they reach the store, masked in every answer, and never logged; other domains read
 * decrypted values through `resolve()` / `byId()` (toolkits, MCP, LLM providers, triggers).
 *
 * Rules (as the reference):
 * - USER integrations are their owner's: only the owner lists, changes and deletes them; a project
 *   named on one must be one of the owner's (or the owner is an admin).
 * - PROJECT integrations are managed by platform admins and the project's administrators; they are
 *   listed to those, and offered (`/available`) to every member of the project.
 * - Aliases are unique per (project, owner) for USER and per project for PROJECT; webhook ids are
 *   unique across the installation. Kinds with checks of their own (Scheduler, Webhook, LiteLLM, Git)
 *   are checked before anything is stored.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { AuthUser } from '../api/auth.js';
import { ApiError, conflict, forbidden } from '../api/errors.js';
import { pageOf, type Page } from '../api/pagination.js';
import type { AuditLog } from '../audit/audit.js';
import type { MembershipStore } from '../projects/memberships.js';
import { newRowId } from '../store/ids.js';
import { fromBool, fromJson, toBool, toJson } from '../store/json.js';
import { escapeLike, like } from '../store/like.js';
import type { Database } from '../store/schema.js';
import { Keyring, KeyringError } from './keyring.js';
import { MASKED_VALUE, TRIGGER_TYPES, isSecretKey, maskValues, stringValue, type CredentialValue } from './kinds.js';
import type { IntegrationsTable } from './tables.js';

export type SettingType = 'user' | 'project';

/** Aliases of integrations the platform keeps for itself (never listed), as the reference. */
const INTERNAL_PREFIX = '__internal__';

export const INVALID_SETTING_DATA_MSG =
  'Invalid setting data. Please provide a non-empty, unique alias for the setting and ensure all required fields are filled correctly. If the problem persists, contact support.';

export interface SettingInput {
  project_name?: string | null;
  alias: string;
  credential_type: string;
  credential_values: CredentialValue[];
  is_global?: boolean | null;
  oauth_state?: string | null;
}

/** Who a trigger runs as: the owner as they were at the integration's last save. */
export interface OwnerSnapshot {
  id: string;
  username: string;
  name: string;
  email: string;
  roles: string[];
  projects: string[];
  adminProjects: string[];
  isAdmin: boolean;
  isAuditor?: boolean;
  userType: string;
}

export interface Integration {
  id: string;
  userId: string;
  projectName: string;
  alias: string;
  credentialType: string;
  settingType: SettingType;
  isGlobal: boolean;
  isDefault: boolean;
  createdBy: { id: string; username: string; name: string };
  owner: OwnerSnapshot;
  /** Decrypted. Never put in a log line or an answer without maskValues. */
  values: CredentialValue[];
  webhookId: string | null;
  date: string;
  updateDate: string;
}

/** The wire shape of the reference's Settings. */
export interface SettingWire {
  id: string;
  date: string;
  update_date: string;
  user_id: string;
  created_by: { id: string; username: string; name: string };
  project_name: string;
  alias: string;
  default: boolean;
  credential_type: string;
  credential_values: CredentialValue[];
  setting_hash: string | null;
  setting_type: SettingType;
  is_global: boolean;
}

/** A check of one kind's values, run before a create or an update is stored (throws ApiError). */
export type KindValidator = (input: SettingInput & { project_name: string }, user: AuthUser) => Promise<void> | void;
/** Told after an integration of a kind was stored or deleted (the scheduler re-reads). */
export type ChangeListener = (change: { id: string; credentialType: string; deleted: boolean }) => void;

export interface IntegrationServiceDeps {
  db: Kysely<Database>;
  keyring: Keyring;
  memberships: MembershipStore;
  audit?: AuditLog;
}

const snapshotOf = (u: AuthUser): OwnerSnapshot => ({
  id: u.id,
  username: u.username,
  name: u.name,
  email: u.email,
  roles: [...u.roles],
  projects: [...u.projects],
  adminProjects: [...u.adminProjects],
  isAdmin: u.isAdmin,
  isAuditor: u.isAuditor,
  userType: u.userType,
});

const createdByOf = (u: AuthUser) => ({ id: u.id, username: u.username, name: u.name });

const now = () => new Date().toISOString();

function createError(verb: 'create' | 'update', e: unknown): ApiError {
  return new ApiError(
    422,
    `Cannot ${verb} specified setting`,
    `An error occurred while trying to ${verb} the setting: ${(e as Error).message}`,
    INVALID_SETTING_DATA_MSG,
  );
}

class InvalidSetting extends Error {}

export class IntegrationService {
  private readonly validators = new Map<string, KindValidator>();
  private readonly listeners: ChangeListener[] = [];

  constructor(private readonly deps: IntegrationServiceDeps) {}

  get keyring(): Keyring {
    return this.deps.keyring;
  }

  /** Adds the check of a kind's values (triggers add Scheduler and Webhook). */
  useValidator(type: string, v: KindValidator): void {
    this.validators.set(type, v);
  }

  onChange(l: ChangeListener): void {
    this.listeners.push(l);
  }

  private changed(id: string, credentialType: string, deleted: boolean): void {
    for (const l of this.listeners) l({ id, credentialType, deleted });
  }

  // ── reading (other domains) ──

  private decode(r: Selectable<IntegrationsTable>): Integration {
    let values: CredentialValue[];
    try {
      values = fromJson<CredentialValue[]>(this.deps.keyring.open(r.credentials), []);
    } catch (err) {
      if (err instanceof KeyringError) {
        throw new ApiError(
          500,
          'Cannot read stored credentials',
          `Integration '${r.alias}' cannot be decrypted: ${err.message}.`,
          'Set CODEMIE_SECRET_KEY to the key the credentials were saved with (old keys go in CODEMIE_SECRET_KEY_PREVIOUS).',
        );
      }
      throw err;
    }
    return {
      id: r.id,
      userId: r.user_id,
      projectName: r.project_name,
      alias: r.alias,
      credentialType: r.credential_type,
      settingType: r.setting_type as SettingType,
      isGlobal: fromBool(r.is_global),
      isDefault: fromBool(r.is_default),
      createdBy: fromJson(r.created_by, { id: r.user_id, username: '', name: '' }),
      owner: fromJson<OwnerSnapshot>(r.owner, {
        id: r.user_id,
        username: r.user_id,
        name: '',
        email: '',
        roles: [],
        projects: [],
        adminProjects: [],
        isAdmin: false,
        userType: 'regular',
      }),
      values,
      webhookId: r.webhook_id,
      date: r.date,
      updateDate: r.update_date,
    };
  }

  /** An integration by id, decrypted (no access check: the caller decides who may use it). */
  async byId(id: string): Promise<Integration | undefined> {
    const r = await this.deps.db.selectFrom('integrations').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? this.decode(r) : undefined;
  }

  /** Who an integration belongs to, without decrypting it (assistants' per-user tool mappings). */
  async ref(id: string): Promise<{ id: string; setting_type: SettingType; user_id: string; project_name: string } | undefined> {
    const r = await this.deps.db.selectFrom('integrations').select(['id', 'setting_type', 'user_id', 'project_name']).where('id', '=', id).executeTakeFirst();
    return r && { id: r.id, setting_type: r.setting_type as SettingType, user_id: r.user_id, project_name: r.project_name };
  }

  async byWebhookId(webhookId: string): Promise<Integration | undefined> {
    const r = await this.deps.db.selectFrom('integrations').selectAll().where('webhook_id', '=', webhookId).executeTakeFirst();
    return r ? this.decode(r) : undefined;
  }

  async allOfType(type: string): Promise<Integration[]> {
    const rows = await this.deps.db.selectFrom('integrations').selectAll().where('credential_type', '=', type).execute();
    return rows.map((r) => this.decode(r));
  }

  /**
   * The credential a user may use in a project, decrypted: by id (their own USER integration, or a
   * PROJECT one of a project they belong to), or by alias (their USER integration in that project
   * first, then the project's, as the reference's get_by_alias). Undefined when there is none.
   */
  async resolve(q: {
    user: Pick<AuthUser, 'id' | 'projects' | 'isAdmin'>;
    project: string;
    id?: string;
    alias?: string;
    type?: string;
  }): Promise<Integration | undefined> {
    const visible = (i: Integration) =>
      (!q.type || i.credentialType === q.type) &&
      ((i.settingType === 'user' && i.userId === q.user.id) || (i.settingType === 'project' && (q.user.isAdmin || q.user.projects.includes(i.projectName))));
    if (q.id) {
      const i = await this.byId(q.id);
      return i && visible(i) ? i : undefined;
    }
    if (!q.alias) return undefined;
    const rows = await this.deps.db
      .selectFrom('integrations')
      .selectAll()
      .where('alias', '=', q.alias)
      .where('project_name', '=', q.project)
      .$if(!!q.type, (b) => b.where('credential_type', '=', q.type!))
      .execute();
    const all = rows.map((r) => this.decode(r)).filter(visible);
    return all.find((i) => i.settingType === 'user') ?? all.find((i) => i.settingType === 'project');
  }

  /** The values as a key → value object. */
  static valuesObject(i: Integration): Record<string, unknown> {
    return Object.fromEntries(i.values.map((v) => [v.key, v.value]));
  }

  // ── the API ──

  toWire(i: Integration): SettingWire {
    return {
      id: i.id,
      date: i.date,
      update_date: i.updateDate,
      user_id: i.userId,
      created_by: i.createdBy,
      project_name: i.projectName,
      alias: i.alias,
      default: i.isDefault,
      credential_type: i.credentialType,
      credential_values: maskValues(i.credentialType, i.values),
      setting_hash: null,
      setting_type: i.settingType,
      is_global: i.isGlobal,
    };
  }

  async list(user: AuthUser, type: SettingType, page: number, perPage: number, filters: Record<string, unknown>): Promise<Page<SettingWire>> {
    let q = this.deps.db.selectFrom('integrations').where('setting_type', '=', type);
    if (type === 'project') {
      if (!user.isAdmin) q = user.adminProjects.length ? q.where('project_name', 'in', user.adminProjects) : q.where(sql<boolean>`1 = 0`);
    } else {
      q = q.where('user_id', '=', user.id).where(like(sql.ref('alias'), `${escapeLike(INTERNAL_PREFIX)}%`, true));
    }
    const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined || v === null || v === '' ? [] : [String(v)]);
    const types = list(filters.credential_type);
    if (types.length) q = q.where('credential_type', 'in', types);
    const projects = list(filters.project_name ?? filters.project);
    if (projects.length) q = q.where('project_name', 'in', projects);
    const search = typeof filters.search === 'string' ? filters.search : typeof filters.alias === 'string' ? filters.alias : '';
    if (search) q = q.where(like(sql`lower(alias)`, `%${escapeLike(search.toLowerCase())}%`));
    const createdBy = typeof filters.created_by === 'string' ? filters.created_by : '';
    if (createdBy) q = q.where('user_id', '=', createdBy);
    const { n } = await q.select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await q
      .selectAll()
      .orderBy('date', 'desc')
      .orderBy('id', 'desc')
      .offset(page * perPage)
      .limit(perPage)
      .execute();
    return pageOf(
      rows.map((r) => this.toWire(this.decode(r))),
      Number(n),
      page,
      perPage,
    );
  }

  /** `/settings/user/available`: the caller's USER integrations and the PROJECT ones they may pick. */
  async available(user: AuthUser, scope: string | undefined): Promise<SettingWire[]> {
    const own = await this.deps.db
      .selectFrom('integrations')
      .selectAll()
      .where('setting_type', '=', 'user')
      .where('user_id', '=', user.id)
      .where(like(sql.ref('alias'), `${escapeLike(INTERNAL_PREFIX)}%`, true))
      .orderBy('date', 'desc')
      .execute();
    let pq = this.deps.db.selectFrom('integrations').selectAll().where('setting_type', '=', 'project');
    if (!(scope === 'marketplace' || user.isAdmin || user.isMaintainer)) {
      pq = user.projects.length ? pq.where('project_name', 'in', user.projects) : pq.where(sql<boolean>`1 = 0`);
    }
    const proj = await pq.orderBy('date', 'desc').execute();
    return [...own, ...proj].map((r) => this.toWire(this.decode(r)));
  }

  async creators(user: AuthUser): Promise<Array<{ id: string; username: string; name: string }>> {
    let q = this.deps.db.selectFrom('integrations').select('created_by').where('setting_type', '=', 'project');
    if (!user.isAdmin) q = user.adminProjects.length ? q.where('project_name', 'in', user.adminProjects) : q.where(sql<boolean>`1 = 0`);
    const seen = new Map<string, { id: string; username: string; name: string }>();
    for (const r of await q.execute()) {
      const c = fromJson<{ id: string; username: string; name: string } | null>(r.created_by, null);
      if (c?.name && !seen.has(c.id)) seen.set(c.id, c);
    }
    return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  private checkProjectAdmin(user: AuthUser, project: string): void {
    if (user.isAdmin || user.isMaintainer || user.adminProjects.includes(project)) return;
    throw forbidden(
      `You do not have sufficient permissions to access the project '${project}'.`,
      'Access denied',
      'This action requires application admin privileges. If you believe you should have access, please contact your system administrator or the project owner.',
    );
  }

  private checkProjectAccess(user: AuthUser, project: string): void {
    if (user.isAdmin || user.isMaintainer || user.projects.includes(project) || user.adminProjects.includes(project)) return;
    throw forbidden(`You do not have access to the project '${project}'.`, 'Access denied', 'Ask the project administrator to add you to the project.');
  }

  private async validate(user: AuthUser, type: SettingType, input: SettingInput): Promise<string> {
    const project = (input.project_name ?? '').trim();
    if (type === 'project') {
      if (!project) throw new ApiError(422, 'Cannot create specified setting', 'project_name: Field required', INVALID_SETTING_DATA_MSG);
      if (input.credential_type === 'LiteLLM' && !(user.isAdmin || user.isMaintainer)) {
        throw forbidden(
          'LiteLLM integrations can only be created by admin users.',
          'Access denied',
          'Please contact your system administrator to configure LiteLLM integrations.',
        );
      }
    }
    const v = this.validators.get(input.credential_type);
    if (v) await v({ ...input, project_name: project }, user);
    if (type === 'project') this.checkProjectAdmin(user, project);
    else if (project) this.checkProjectAccess(user, project);
    return project;
  }

  private async assertUnique(type: SettingType, project: string, alias: string, userId: string, webhookId: string | null, exceptId?: string): Promise<void> {
    if (!alias.trim()) throw new InvalidSetting('Alias is required');
    let q = this.deps.db.selectFrom('integrations').select('id').where('project_name', '=', project).where('alias', '=', alias);
    if (type === 'user') q = q.where('user_id', '=', userId);
    const same = await q.execute();
    if (same.some((r) => r.id !== exceptId)) throw new InvalidSetting(`There are more than one settings with the alias named ${alias}`);
    if (webhookId !== null) {
      const w = await this.deps.db.selectFrom('integrations').select('id').where('webhook_id', '=', webhookId).executeTakeFirst();
      if (w && w.id !== exceptId) throw new InvalidSetting(`Webhook '${webhookId}' is not unique and already used. Please choose another webhook id.`);
    }
  }

  private webhookIdOf(input: SettingInput): string | null {
    if (input.credential_type !== 'Webhook') return null;
    const id = stringValue(input.credential_values, 'webhook_id')?.trim();
    if (!id) throw new InvalidSetting('Webhook ID must be provided.');
    return id;
  }

  /** Blank secrets are dropped (the reference treats them as deleted). */
  private static prepare(type: string, values: CredentialValue[]): CredentialValue[] {
    return values.filter((v) => !(isSecretKey(type, v.key) && (v.value === null || v.value === undefined || String(v.value).trim() === '')));
  }

  async create(user: AuthUser, type: SettingType, input: SettingInput): Promise<Integration> {
    const project = await this.validate(user, type, input);
    const values = IntegrationService.prepare(input.credential_type, input.credential_values);
    let webhookId: string | null;
    try {
      webhookId = this.webhookIdOf(input);
      await this.assertUnique(type, project, input.alias, user.id, webhookId);
    } catch (e) {
      if (e instanceof InvalidSetting) throw createError('create', e);
      throw e;
    }
    if (values.some((v) => v.value === MASKED_VALUE)) throw createError('create', new Error('a masked value cannot be saved as a new credential'));
    const at = now();
    const row: IntegrationsTable = {
      id: newRowId(),
      user_id: user.id,
      project_name: project,
      alias: input.alias,
      credential_type: input.credential_type,
      setting_type: type,
      is_global: toBool(input.is_global ?? false),
      is_default: 0,
      created_by: toJson(createdByOf(user)),
      owner: toJson(snapshotOf(user)),
      credentials: this.deps.keyring.seal(toJson(values)),
      webhook_id: webhookId,
      date: at,
      update_date: at,
    };
    try {
      await this.deps.db.insertInto('integrations').values(row).execute();
    } catch (e) {
      // Two concurrent saves of one webhook id: the unique index decides.
      if (/unique|duplicate/i.test((e as Error).message))
        throw createError('create', new Error(`Webhook '${webhookId}' is not unique and already used. Please choose another webhook id.`));
      throw e;
    }
    this.deps.audit?.record({
      event: 'secret.created',
      outcome: 'success',
      userId: user.id,
      username: user.username,
      details: { integration: row.id, type: row.credential_type, scope: type },
    });
    this.changed(row.id, row.credential_type, false);
    return this.decode(row);
  }

  private async loadFor(user: AuthUser, type: SettingType, id: string, action: 'write' | 'delete'): Promise<Integration> {
    const r = await this.deps.db.selectFrom('integrations').selectAll().where('id', '=', id).where('setting_type', '=', type).executeTakeFirst();
    if (!r) {
      throw new ApiError(
        404,
        'Credential not found',
        `The credential with ID '${id}' could not be found in the system.`,
        'Please verify the credential ID and ensure it exists. If you believe this is an error, check your project settings or contact support.',
      );
    }
    if (
      type === 'user' ? r.user_id !== user.id : !(user.isAdmin || user.isMaintainer || user.adminProjects.includes(r.project_name) || r.user_id === user.id)
    ) {
      if (type === 'project') this.checkProjectAdmin(user, r.project_name);
      throw forbidden(`You do not have permission to ${action} this setting.`, 'Access denied');
    }
    return this.decode(r);
  }

  async update(user: AuthUser, type: SettingType, id: string, input: SettingInput): Promise<Integration> {
    const existing = await this.loadFor(user, type, id, 'write');
    const project = await this.validateUpdate(user, type, input, existing);
    const prepared = IntegrationService.prepare(input.credential_type, input.credential_values);
    const old = new Map(existing.values.map((v) => [v.key, v.value]));
    // Keys not sent are removed; a masked value keeps what is stored.
    const values: CredentialValue[] = [];
    for (const v of prepared) {
      if (v.value === MASKED_VALUE) {
        if (old.has(v.key)) values.push({ key: v.key, value: old.get(v.key) });
      } else values.push(v);
    }
    let webhookId: string | null;
    try {
      webhookId = this.webhookIdOf({ ...input, credential_values: values });
      await this.assertUnique(type, project, input.alias, existing.userId, webhookId, id);
    } catch (e) {
      if (e instanceof InvalidSetting) throw createError('update', e);
      throw e;
    }
    await this.deps.db
      .updateTable('integrations')
      .set({
        project_name: project,
        alias: input.alias,
        credential_type: input.credential_type,
        is_global: toBool(input.is_global ?? false),
        credentials: this.deps.keyring.seal(toJson(values)),
        webhook_id: webhookId,
        // The owner's identity is refreshed when the owner saves it.
        ...(existing.userId === user.id ? { owner: toJson(snapshotOf(user)) } : {}),
        update_date: now(),
      })
      .where('id', '=', id)
      .execute();
    this.deps.audit?.record({
      event: 'secret.updated',
      outcome: 'success',
      userId: user.id,
      username: user.username,
      details: { integration: id, type: input.credential_type, scope: type },
    });
    this.changed(id, input.credential_type, false);
    return (await this.byId(id))!;
  }

  /** Validation of an update: the merged values (masked ones replaced by the stored ones) are checked. */
  private async validateUpdate(user: AuthUser, type: SettingType, input: SettingInput, existing: Integration): Promise<string> {
    const old = new Map(existing.values.map((v) => [v.key, v.value]));
    const merged = input.credential_values.map((v) => (v.value === MASKED_VALUE && old.has(v.key) ? { key: v.key, value: old.get(v.key) } : v));
    return this.validate(user, type, { ...input, project_name: input.project_name || existing.projectName, credential_values: merged });
  }

  async remove(user: AuthUser, type: SettingType, id: string): Promise<void> {
    const existing = await this.loadFor(user, type, id, 'delete');
    if (type === 'project') this.checkProjectAdmin(user, existing.projectName);
    await this.deps.db.deleteFrom('integrations').where('id', '=', id).execute();
    this.deps.audit?.record({
      event: 'secret.deleted',
      outcome: 'success',
      userId: user.id,
      username: user.username,
      details: { integration: id, type: existing.credentialType, scope: type },
    });
    this.changed(id, existing.credentialType, true);
  }

  /** The stored values of `setting_id` under the given ones (masked values replaced), for a test. */
  async valuesForTest(user: AuthUser, settingId: string | null | undefined, given: CredentialValue[]): Promise<CredentialValue[]> {
    if (!settingId) return given;
    const i = await this.byId(settingId);
    if (!i || !(i.userId === user.id || (i.settingType === 'project' && (user.isAdmin || user.projects.includes(i.projectName))))) {
      throw new ApiError(404, 'Credential not found', `The credential with ID '${settingId}' could not be found in the system.`);
    }
    const old = new Map(i.values.map((v) => [v.key, v.value]));
    if (!given.length) return i.values;
    return given.map((v) => (v.value === MASKED_VALUE && old.has(v.key) ? { key: v.key, value: old.get(v.key) } : v));
  }

  // ── transfer (admins) ──

  async transfer(
    user: AuthUser,
    req: {
      source_project_name: string;
      target_project_name: string;
      mode: 'move' | 'copy';
      type_of_integration?: { user_integrations?: boolean; project_integrations?: boolean } | null;
      list?: string[] | null;
    },
  ) {
    const { source_project_name: source, target_project_name: target, mode } = req;
    if (source === target) throw new ApiError(422, 'Invalid transfer request', 'Source and target projects must be different.');
    for (const [label, name] of [
      ['Source', source],
      ['Target', target],
    ] as const) {
      if (!(await this.deps.memberships.canonicalName(name))) throw new ApiError(404, 'Project not found', `${label} project '${name}' does not exist.`);
    }
    const scopes = req.type_of_integration
      ? { user: !!req.type_of_integration.user_integrations, project: !!req.type_of_integration.project_integrations }
      : { user: true, project: true };
    if (!scopes.user && !scopes.project)
      throw new ApiError(422, 'Invalid transfer request', 'At least one of user_integrations and project_integrations must be true.');
    if (req.list && req.list.length === 0) throw new ApiError(422, 'Invalid transfer request', 'The list of integrations must not be empty.');
    let rows = await this.deps.db.selectFrom('integrations').selectAll().where('project_name', '=', source).orderBy('date').execute();
    rows = rows.filter((r) => (r.setting_type === 'user' ? scopes.user : scopes.project));
    if (req.list) {
      const unknown = req.list.filter((a) => !rows.some((r) => r.alias === a));
      if (unknown.length)
        throw new ApiError(
          422,
          'Invalid transfer request',
          `Unknown integrations in project '${source}' (or not of the requested type): ${unknown.join(', ')}.`,
        );
      if (mode === 'copy') {
        const triggers = rows.filter((r) => req.list!.includes(r.alias) && TRIGGER_TYPES.has(r.credential_type)).map((r) => r.alias);
        if (triggers.length)
          throw new ApiError(422, 'Invalid transfer request', `Webhook and scheduler integrations cannot be copied: ${triggers.join(', ')}.`);
      }
      rows = rows.filter((r) => req.list!.includes(r.alias));
    }
    const item = (r: Selectable<IntegrationsTable>) => ({ id: r.id, alias: r.alias, credential_type: r.credential_type });
    const skipped = mode === 'copy' ? rows.filter((r) => TRIGGER_TYPES.has(r.credential_type)) : [];
    const moving = rows.filter((r) => !skipped.includes(r));
    const base = { source_project_name: source, target_project_name: target, mode, skipped_count: skipped.length, skipped: skipped.map(item) };
    if (!moving.length) return { message: `No transferable integrations found in project '${source}'.`, ...base, transferred_count: 0, transferred: [] };
    const colliding: string[] = [];
    for (const r of moving) {
      let q = this.deps.db.selectFrom('integrations').select('id').where('project_name', '=', target).where('alias', '=', r.alias);
      if (r.setting_type === 'user') q = q.where('user_id', '=', r.user_id);
      if (await q.executeTakeFirst()) colliding.push(r.alias);
    }
    if (colliding.length) {
      throw new ApiError(
        409,
        'Alias conflict in target project',
        `Target project '${target}' already has integrations with these aliases: ${colliding.join(', ')}.`,
        `Rename or remove the conflicting integrations in target project '${target}', or rename them in the source project, then retry. A conflicting integration may be project-scoped or owned by another user.`,
      );
    }
    const transferred: Array<{ id: string; alias: string; credential_type: string }> = [];
    await this.deps.db.transaction().execute(async (trx) => {
      for (const r of moving) {
        if (mode === 'move') {
          const res = await trx
            .updateTable('integrations')
            .set({ project_name: target, update_date: now() })
            .where('id', '=', r.id)
            .where('project_name', '=', source)
            .executeTakeFirst();
          if (Number(res.numUpdatedRows) !== 1)
            throw conflict('Integration changed during transfer', `Integration '${r.alias}' no longer exists. No changes were applied.`);
          transferred.push(item(r));
        } else {
          const id = newRowId();
          const at = now();
          await trx
            .insertInto('integrations')
            .values({
              ...r,
              id,
              project_name: target,
              credentials: this.deps.keyring.seal(this.deps.keyring.open(r.credentials)),
              webhook_id: null,
              date: at,
              update_date: at,
            })
            .execute();
          transferred.push({ id, alias: r.alias, credential_type: r.credential_type });
        }
      }
    });
    this.deps.audit?.record({
      event: 'secret.transferred',
      outcome: 'success',
      userId: user.id,
      username: user.username,
      details: { source, target, mode, count: transferred.length },
    });
    for (const r of moving) this.changed(r.id, r.credential_type, false);
    return {
      message: `Transferred ${transferred.length} integration(s) from '${source}' to '${target}'.`,
      ...base,
      transferred_count: transferred.length,
      transferred,
    };
  }

  // ── key rotation ──

  /**
   * Re-encrypts every value sealed under an earlier key (CODEMIE_SECRET_KEY_PREVIOUS) with the
   * current one. `unreadable`: values sealed by a key this process does not have (left as they are).
   */
  async rotateKeys(): Promise<{ rotated: number; unreadable: number }> {
    const rows = await this.deps.db.selectFrom('integrations').select(['id', 'credentials']).execute();
    let rotated = 0;
    let unreadable = 0;
    for (const r of rows) {
      if (!this.deps.keyring.isStale(r.credentials)) continue;
      let sealed: string;
      try {
        sealed = this.deps.keyring.reseal(r.credentials);
      } catch {
        unreadable++;
        continue;
      }
      await this.deps.db.updateTable('integrations').set({ credentials: sealed }).where('id', '=', r.id).where('credentials', '=', r.credentials).execute();
      rotated++;
    }
    return { rotated, unreadable };
  }
}
