/**
 * Assistant CRUD with the reference's project scoping and entity ACL (403 on denial), list scopes
 * and filters, slugs, save-time validation (categories, sub-assistants, prompt variables, MCP
 * names), versions, and the response shapes of reference §3.2. Other domains (workflows) read
 * assistants through get().
 */
import type { Kysely } from 'kysely';
import type { AuthUser } from '../api/auth.js';
import { ApiError, badRequest } from '../api/errors.js';
import { abilities } from '../auth/access.js';
import type { CategoryService } from '../categories/service.js';
import type { LlmService } from '../llm/types.js';
import type { Database } from '../store/schema.js';
import { newRowId } from '../store/ids.js';
import { access } from './access.js';
import { changeSummary, deepDiff } from './diff.js';
import {
  accessDenied,
  assistantNotFound,
  operationError,
  requireAssistantAbility,
  requireProject,
  slugNotFound,
  slugTakenMessage,
} from './errors.js';
import { AssistantRepo, type AssistantRecord, type ListFilter, type ListScope, type SortField } from './repo.js';
import type { CreateAssistantBody, PromptVariable, UpdateAssistantBody } from './schemas.js';
import { SecretBox } from './secret-box.js';
import { subAssistantProblem, subIdsOf } from './sub-assistants.js';
import { configOf, mcpServerOut, sameJson, VersionRepo, versionNotFound, versionResponse, withConfig, type AssistantVersion } from './versions.js';

export { access } from './access.js';
export { assistantNotFound } from './errors.js';

/** Columns of the record; everything else of the body lives in `data` (some fields are not stored at all). */
const COLUMNS = new Set(['name', 'description', 'system_prompt', 'llm_model_type', 'project', 'shared', 'slug', 'temperature', 'top_p', 'is_global', 'categories']);
const NOT_STORED = new Set(['skip_integration_validation', 'guardrail_assignments', 'prompt_variables']);

export const MASK = '********';

/**
 * The reference's slug derivation: lower-case; runs of whitespace, `_` and `-` become one `-`;
 * any other character outside a-z0-9 is dropped; `-` trimmed. Empty → null (no slug).
 */
export function slugify(name: string): string | null {
  const s = name
    .toLowerCase()
    .replace(/[\s_-]+/g, '-')
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 280);
  return s || null;
}

const randomLetters = (n: number) => Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('');

export interface ListOptions {
  scope: Exclude<ListScope, 'templates'>;
  filters: Record<string, unknown>;
  page: number;
  perPage: number;
  sortBy?: SortField;
  sortOrder?: 'asc' | 'desc';
}

const FILTER_OPS: Record<string, '>=' | '<=' | '>' | '<' | '=' | '!='> = { '>=': '>=', '<=': '<=', '>': '>', '<': '<', '==': '=', '!=': '!=' };

export class AssistantService {
  readonly repo: AssistantRepo;
  readonly versions: VersionRepo;
  /** The attached skills' basic info in the detail answer (the skills domain sets it in modules.ts). */
  skillInfo: (ids: string[], user: AuthUser) => Promise<Array<{ id: string; name: string; description: string }>> = async () => [];

  constructor(
    db: Kysely<Database>,
    private readonly llm: LlmService,
    private readonly categories: CategoryService,
    readonly secrets: SecretBox,
    opts: { cacheRecords?: boolean } = {},
  ) {
    this.repo = new AssistantRepo(db, opts);
    this.versions = new VersionRepo(db);
    categories.registerUsage((id) => this.repo.categoryUsage(id));
  }

  /** The assistant if it exists (404 otherwise). */
  async getOr404(id: string): Promise<AssistantRecord> {
    const a = await this.repo.get(id);
    if (!a) throw assistantNotFound(id);
    return a;
  }

  /** The assistant if the user may read it; 404 when missing, 403 when not allowed. */
  async getReadable(id: string, user: AuthUser): Promise<AssistantRecord> {
    const a = await this.getOr404(id);
    requireAssistantAbility(user, access(a), 'read');
    return a;
  }

  /** The assistant if the user may change it (`action` names the operation in the 403 text). */
  async getWritable(id: string, user: AuthUser, action = 'update'): Promise<AssistantRecord> {
    const a = await this.getOr404(id);
    requireAssistantAbility(user, access(a), 'write', action);
    return a;
  }

  async create(body: CreateAssistantBody, user: AuthUser): Promise<AssistantRecord> {
    requireProject(user, body.project);
    this.checkModel(body.llm_model_type);
    const fail = (m: string) => operationError('save', m);
    const id = newRowId();
    let slug: string | null;
    if (body.slug) {
      if (await this.repo.slugTaken(body.project, body.slug)) throw fail(slugTakenMessage(body.slug));
      slug = body.slug;
    } else {
      slug = await this.derivedSlug(body.project, body.name);
    }
    const isGlobal = body.is_global === true;
    await this.validate(
      fail,
      { id, name: body.name, project: body.project },
      { categories: body.categories, categoriesRequired: isGlobal, subIds: body.assistant_ids, addedSubs: body.assistant_ids, mcp: body.mcp_servers },
      user,
    );
    const now = new Date().toISOString();
    const rec: AssistantRecord = {
      id,
      name: body.name,
      description: body.description ?? '',
      system_prompt: body.system_prompt ?? '',
      llm_model_type: body.llm_model_type ?? null,
      project: body.project,
      shared: body.shared,
      slug,
      temperature: body.temperature ?? null,
      top_p: body.top_p ?? null,
      data: { ...extraFields(body), prompt_variables: await this.sealPromptVariables(fail, body.prompt_variables, []) },
      created_by: { id: user.id, username: user.username, name: user.name },
      date: now,
      update_date: now,
      is_global: isGlobal,
      categories: body.categories,
      version_count: 1,
      unique_users_count: 0,
      unique_likes_count: 0,
      unique_dislikes_count: 0,
    };
    try {
      await this.repo.insert(rec);
    } catch (err) {
      // The unique (project, slug) index caught a concurrent create with the same slug.
      if (slug && (await this.repo.slugTaken(rec.project, slug, rec.id))) throw new ApiError(400, 'Slug conflict', slugTakenMessage(slug));
      throw err;
    }
    await this.versions.insert({
      assistant_id: rec.id,
      version_number: 1,
      config: configOf(rec),
      created_by: rec.created_by,
      change_notes: 'Initial version',
      created_date: now,
    });
    return rec;
  }

  async update(id: string, body: UpdateAssistantBody, user: AuthUser): Promise<AssistantRecord> {
    if (body.project !== undefined) requireProject(user, body.project);
    const a = await this.getWritable(id, user);
    if (body.llm_model_type) this.checkModel(body.llm_model_type);
    const fail = (m: string) => operationError('update', m);
    const project = body.project ?? a.project;
    let slug = a.slug;
    if (body.slug && body.slug !== a.slug) {
      if (await this.repo.slugTaken(project, body.slug, a.id)) throw fail(slugTakenMessage(body.slug));
      slug = body.slug;
    } else if (project !== a.project && slug && (await this.repo.slugTaken(project, slug, a.id))) {
      slug = await this.derivedSlug(project, body.name ?? a.name);
    }
    const isGlobal = body.is_global === undefined || body.is_global === null ? a.is_global : body.is_global;
    const categories = body.categories ?? a.categories;
    const subIds = body.assistant_ids ?? subIdsOf(a);
    const before = new Set(subIdsOf(a));
    await this.validate(
      fail,
      { id: a.id, name: body.name ?? a.name, project },
      {
        categories,
        // A published assistant keeps at least one category (reference: required = was_global).
        categoriesRequired: a.is_global || isGlobal,
        subIds,
        addedSubs: subIds.filter((s) => !before.has(s)),
        mcp: body.mcp_servers ?? ((a.data.mcp_servers as Array<{ name: string }>) ?? []),
      },
      user,
    );
    const promptVariables =
      body.prompt_variables === undefined ? a.data.prompt_variables : await this.sealPromptVariables(fail, body.prompt_variables, promptVariablesOf(a));
    const updated: AssistantRecord = {
      ...a,
      name: body.name ?? a.name,
      description: body.description === undefined ? a.description : (body.description ?? ''),
      system_prompt: body.system_prompt === undefined ? a.system_prompt : (body.system_prompt ?? ''),
      llm_model_type: body.llm_model_type === undefined ? a.llm_model_type : (body.llm_model_type ?? null),
      project,
      shared: body.shared ?? a.shared,
      slug,
      temperature: body.temperature === undefined ? a.temperature : (body.temperature ?? null),
      top_p: body.top_p === undefined ? a.top_p : (body.top_p ?? null),
      data: { ...a.data, ...extraFields(body), prompt_variables: promptVariables },
      is_global: isGlobal,
      categories,
      update_date: new Date().toISOString(),
    };
    // A new version exactly when a versioned field differs from the latest version.
    const latest = await this.versions.latest(a.id);
    const config = configOf(updated);
    if (!latest || !sameJson(latest.config, config)) {
      const n = (latest?.version_number ?? 0) + 1;
      await this.versions.insert({
        assistant_id: a.id,
        version_number: n,
        config,
        created_by: { id: user.id, username: user.username, name: user.name },
        change_notes: 'Configuration updated',
        created_date: updated.update_date,
      });
      updated.version_count = n;
    }
    await this.repo.update(updated);
    return updated;
  }

  async delete(id: string, user: AuthUser): Promise<void> {
    const a = await this.getOr404(id);
    requireAssistantAbility(user, access(a), 'delete');
    await this.repo.delete(id);
  }

  /** Writes a record as it is (publish, unpublish, rollback: the caller checked the rights). */
  async save(a: AssistantRecord): Promise<void> {
    await this.repo.update(a);
  }

  async list(user: AuthUser, o: ListOptions) {
    const f = o.filters;
    const strings = (v: unknown): string[] | undefined => {
      if (typeof v === 'string' && v) return [v];
      if (Array.isArray(v)) {
        const l = v.filter((x): x is string | number => (typeof x === 'string' && !!x) || typeof x === 'number').map(String);
        return l.length ? l : undefined;
      }
      return undefined;
    };
    const filter: ListFilter = {
      scope: o.scope,
      viewer: { id: user.id, projects: user.projects, adminProjects: user.adminProjects, isAdmin: user.isAdmin, external: user.userType === 'external' },
      projects: strings(f.project),
      createdBy: strings(f.created_by),
      search: typeof f.search === 'string' && f.search ? f.search : undefined,
      shared: typeof f.shared === 'boolean' ? f.shared : undefined,
      isGlobal: typeof f.is_global === 'boolean' ? f.is_global : undefined,
      ids: strings(f.id),
      slugs: strings(f.slug),
      categories: strings(f.categories),
      createdDate: createdDateFilter(f.created_date),
      sortBy: o.sortBy,
      sortOrder: o.sortOrder,
    };
    return this.repo.list(filter, o.page, o.perPage);
  }

  async creators(user: AuthUser, scope: Exclude<ListScope, 'templates'>) {
    return this.repo.creators({
      scope,
      viewer: { id: user.id, projects: user.projects, adminProjects: user.adminProjects, isAdmin: user.isAdmin, external: user.userType === 'external' },
    });
  }

  async bySlug(slug: string, project: string | undefined, user: AuthUser): Promise<AssistantRecord> {
    const all = await this.repo.bySlug(slug, project);
    const readable = all.find((a) => abilities(user, access(a)).includes('read'));
    if (readable) return readable;
    if (all.length) throw accessDenied('view');
    throw slugNotFound(slug, project);
  }

  // ── versions ──

  /** The record with version `n`'s configuration (404 "Version not found"). */
  async atVersion(a: AssistantRecord, n: number): Promise<AssistantRecord> {
    const v = await this.versions.get(a.id, n);
    if (!v) throw versionNotFound(a.id, n);
    return withConfig(a, v.config);
  }

  async listVersions(id: string, user: AuthUser, page: number, perPage: number) {
    const a = await this.getReadable(id, user);
    const versions = await this.versions.list(a.id, page, perPage);
    return { versions: versions.map(versionResponse), total_versions: a.version_count, assistant_name: a.name, assistant_id: a.id };
  }

  async getVersion(id: string, n: number, user: AuthUser) {
    const a = await this.getReadable(id, user);
    const v = await this.versions.get(a.id, n);
    if (!v) throw versionNotFound(a.id, n);
    return versionResponse(v);
  }

  async compareVersions(id: string, n1: number, n2: number, user: AuthUser) {
    const a = await this.getReadable(id, user);
    const [v1, v2] = await Promise.all([this.versions.get(a.id, n1), this.versions.get(a.id, n2)]);
    if (!v1) throw versionNotFound(a.id, n1);
    if (!v2) throw versionNotFound(a.id, n2);
    const differences = deepDiff(comparable(v1), comparable(v2));
    return { assistant_id: a.id, version1: versionResponse(v1), version2: versionResponse(v2), differences, change_summary: changeSummary(differences, n1, n2) };
  }

  async rollback(id: string, n: number, user: AuthUser): Promise<string> {
    const a = await this.getWritable(id, user);
    if (n === a.version_count) throw badRequest('Cannot rollback to current version', `Version ${n} is already the current version`, 'Please select a different version to rollback to');
    if (n < 1 || n > a.version_count) {
      throw badRequest('Invalid version number', `Version ${n} does not exist. Valid range: 1 to ${a.version_count}`, 'Please verify the version number');
    }
    const v = await this.versions.get(a.id, n);
    if (!v) throw versionNotFound(a.id, n);
    const next = a.version_count + 1;
    const now = new Date().toISOString();
    await this.versions.insert({
      assistant_id: a.id,
      version_number: next,
      config: v.config,
      created_by: { id: user.id, username: user.username, name: user.name },
      change_notes: `Rolled back to version ${n}`,
      created_date: now,
    });
    await this.repo.update({ ...withConfig(a, v.config), version_count: next, update_date: now });
    return `Rolled back to version ${n}. Created new version ${next}`;
  }

  // ── responses ──

  /** The detail answer: nested assistants, category objects, system prompt history from versions. */
  async detail(a: AssistantRecord, user: AuthUser) {
    const base = assistantResponse(a, user);
    const subIds = subIdsOf(a);
    const [subs, categories, versions] = await Promise.all([
      this.repo.getMany(subIds),
      this.categories.byIds(a.categories),
      this.versions.all(a.id),
    ]);
    const nested = subs
      .filter((s) => a.is_global || abilities(user, access(s)).includes('read'))
      .sort((x, y) => y.update_date.localeCompare(x.update_date))
      .map((s) => assistantResponse(s, user));
    const skillIds = (a.data.skill_ids as string[] | undefined) ?? [];
    return {
      ...base,
      skills: skillIds.length ? await this.skillInfo(skillIds, user) : [],
      nested_assistants: nested,
      categories: categories.map((c) => ({ id: c.id, name: c.name, description: c.description, date: c.date, update_date: c.update_date })),
      system_prompt_history: promptHistory(a, versions),
    };
  }

  private checkModel(name: string | null | undefined): void {
    if (name) this.llm.resolveModel(name); // 400 naming the available models
  }

  /** Derived from the name; `_` + 15 random letters when taken in the project (reference §4.5). */
  private async derivedSlug(project: string, name: string): Promise<string | null> {
    const base = slugify(name);
    if (!base) return null;
    if (!(await this.repo.slugTaken(project, base))) return base;
    for (let i = 0; i < 5; i++) {
      const s = `${base}_${randomLetters(15)}`;
      if (!(await this.repo.slugTaken(project, s))) return s;
    }
    return `${base}_${newRowId().replace(/-/g, '')}`;
  }

  private async validate(
    fail: (m: string) => ApiError,
    parent: { id: string; name: string; project: string },
    v: { categories: string[]; categoriesRequired: boolean; subIds: string[]; addedSubs: string[]; mcp: Array<{ name: string }> },
    user: AuthUser,
  ): Promise<void> {
    const categories = await this.categories.problem(v.categories, v.categoriesRequired);
    if (categories) throw fail(categories);
    const names = v.mcp.map((s) => s.name);
    const dupNames = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))].sort();
    if (dupNames.length) throw fail(`Duplicate MCP server names detected: ${dupNames.join(', ')}`);
    const subs = await subAssistantProblem(this.repo, parent, v.subIds, v.addedSubs, user);
    if (subs) throw fail(subs);
  }

  /**
   * Prompt variables as stored: keys unique; sensitive defaults sealed. A sensitive value sent
   * back masked keeps the stored one.
   */
  private async sealPromptVariables(fail: (m: string) => ApiError, vars: PromptVariable[], stored: PromptVariable[]): Promise<PromptVariable[]> {
    const keys = vars.map((v) => v.key);
    const dups = [...new Set(keys.filter((k, i) => keys.indexOf(k) !== i))];
    if (dups.length) throw fail(`Duplicate prompt variable keys detected: ${dups.join(', ')}`);
    const old = new Map(stored.map((v) => [v.key, v]));
    return Promise.all(
      vars.map(async (v) => {
        if (!v.is_sensitive) return { ...v, description: v.description ?? null };
        const prev = old.get(v.key);
        const value = v.default_value === MASK && prev ? prev.default_value : await this.secrets.seal(v.default_value);
        return { ...v, description: v.description ?? null, default_value: value };
      }),
    );
  }
}

export function promptVariablesOf(a: Pick<AssistantRecord, 'data'>): PromptVariable[] {
  return Array.isArray(a.data.prompt_variables) ? (a.data.prompt_variables as PromptVariable[]) : [];
}

function createdDateFilter(v: unknown): ListFilter['createdDate'] {
  if (v === undefined || v === null || v === '') return undefined;
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const out: NonNullable<ListFilter['createdDate']> = [];
    for (const [op, value] of Object.entries(v as Record<string, unknown>)) {
      const o = FILTER_OPS[op];
      if (!o) throw badRequest('Invalid filters', `Unsupported operator '${op}' in created_date; use one of >=, <=, >, <, ==, !=.`, 'Please check the filters and ensure they are in the correct format. ');
      out.push({ op: o, value: String(value) });
    }
    return out;
  }
  return [{ op: '=', value: String(v) }];
}

/** Versions compared without the UI-only `settings_config` flags of toolkits and tools. */
function comparable(v: AssistantVersion): Record<string, unknown> {
  const c: Record<string, unknown> = { ...v.config };
  if (Array.isArray(c.toolkits)) {
    c.toolkits = (c.toolkits as Array<Record<string, unknown>>).map(({ settings_config: _s, ...tk }) => ({
      ...tk,
      ...(Array.isArray(tk.tools) ? { tools: (tk.tools as Array<Record<string, unknown>>).map(({ settings_config: _t, ...t }) => t) } : {}),
    }));
  }
  return c;
}

/** Superseded system prompts, newest first (reference: rebuilt from versions). */
function promptHistory(a: AssistantRecord, versions: AssistantVersion[]) {
  const out: Array<{ system_prompt: string; date: string; created_by: { id: string; username: string; name: string } | null }> = [];
  let previous = a.system_prompt;
  for (const v of versions) {
    if (v.version_number === a.version_count) continue;
    const p = String(v.config.system_prompt ?? '');
    if (p !== previous) out.push({ system_prompt: p, date: v.created_date, created_by: v.created_by });
    previous = p;
  }
  return out;
}

function extraFields(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!COLUMNS.has(k) && !NOT_STORED.has(k) && v !== undefined) out[k] = v;
  return out;
}

type CreatedBy = { id: string; user_id: string; username: string; name: string };

/** The detail shape of reference §3.2 (snake_case, every key present). */
export function assistantResponse(a: AssistantRecord, user: AuthUser) {
  const d = a.data;
  const createdBy: CreatedBy = { id: a.created_by.id, user_id: a.created_by.id, username: a.created_by.username, name: a.created_by.name };
  return {
    id: a.id,
    date: a.date,
    update_date: a.update_date,
    created_date: a.date,
    updated_date: a.update_date,
    name: a.name,
    description: a.description,
    system_prompt: a.system_prompt,
    system_prompt_history: [] as unknown[],
    created_by: createdBy,
    creator: a.created_by.username,
    project: a.project,
    icon_url: (d.icon_url as string) ?? null,
    llm_model_type: a.llm_model_type,
    enable_image_generation: d.enable_image_generation === true,
    image_generation_model: (d.image_generation_model as string) ?? null,
    toolkits: (d.toolkits as unknown[]) ?? [],
    conversation_starters: (d.conversation_starters as string[]) ?? [],
    shared: a.shared,
    is_react: (d.is_react as boolean) ?? true,
    is_global: a.is_global,
    agent_mode: (d.agent_mode as string) ?? 'general',
    plan_prompt: (d.plan_prompt as string) ?? null,
    slug: a.slug,
    temperature: a.temperature,
    top_p: a.top_p,
    tools_tokens_size_limit: (d.tools_tokens_size_limit as number) ?? null,
    smart_tool_selection_enabled: d.smart_tool_selection_enabled === true,
    hedging_config: (d.hedging_config as Record<string, unknown>) ?? null,
    interactive_features: (d.interactive_features as Record<string, unknown>) ?? null,
    context: (d.context as unknown[]) ?? [],
    user_abilities: abilities(user, access(a)),
    mcp_servers: ((d.mcp_servers as Array<Record<string, unknown>>) ?? []).map(mcpServerOut),
    assistant_ids: subIdsOf(a),
    enabled_builtin_subagents: (d.enabled_builtin_subagents as string[]) ?? [],
    skill_ids: (d.skill_ids as string[]) ?? [],
    skills: [] as unknown[],
    nested_assistants: [] as unknown[],
    bedrock: null,
    bedrock_agentcore_runtime: null,
    type: 'codemie',
    agent_card: null,
    prompt_variables: promptVariablesOf(a).map((v) => ({
      key: v.key,
      description: v.description ?? null,
      default_value: v.is_sensitive ? MASK : v.default_value,
      is_sensitive: v.is_sensitive,
    })),
    tool_permissions: (d.tool_permissions as Record<string, unknown>) ?? null,
    categories: a.categories as Array<string | { id: string; name: string; description: string | null; date: string; update_date: string }>,
    custom_metadata: (d.custom_metadata as Record<string, unknown>) ?? null,
    origin: 'unknown',
    unique_users_count: a.unique_users_count,
    unique_likes_count: a.unique_likes_count,
    unique_dislikes_count: a.unique_dislikes_count,
    version_count: a.version_count,
    version: null,
    display_name: null,
    guardrail_assignments: [] as unknown[],
  };
}

/** AssistantListResponse (minimal_response=true). */
export function assistantListItem(a: AssistantRecord, user: AuthUser) {
  return {
    id: a.id,
    name: a.name,
    slug: a.slug,
    project: a.project,
    type: 'codemie',
    description: a.description,
    icon_url: (a.data.icon_url as string) ?? null,
    created_by: { id: a.created_by.id, user_id: a.created_by.id, username: a.created_by.username, name: a.created_by.name },
    user_abilities: abilities(user, access(a)),
    unique_users_count: a.unique_users_count,
    unique_likes_count: a.unique_likes_count,
    unique_dislikes_count: a.unique_dislikes_count,
    categories: a.categories,
    is_global: a.is_global,
    shared: a.shared,
    origin: 'unknown',
  };
}
