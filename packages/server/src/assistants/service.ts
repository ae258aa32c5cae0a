/**
 * Assistant CRUD with the reference's project scoping and entity ACL (403 on denial), and the
 * response shapes of reference §3.2. Other domains (workflows) read assistants through get().
 */
import { randomUUID } from 'node:crypto';
import type { AuthUser } from '../api/auth.js';
import { badRequest, notFound } from '../api/errors.js';
import { abilities, requireAbility, requireProjectAccess } from '../auth/access.js';
import type { LlmService } from '../llm/types.js';
import { AssistantRepo, type AssistantRecord, type ListFilter } from './repo.js';
import type { CreateAssistantBody, UpdateAssistantBody } from './schemas.js';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { newRowId } from '../store/ids.js';

/** Columns of the record; everything else of the body lives in `data`. */
const COLUMNS = new Set(['name', 'description', 'system_prompt', 'llm_model_type', 'project', 'shared', 'slug', 'temperature', 'top_p']);

export function slugify(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return s || 'assistant';
}

export function assistantNotFound(id: string) {
  return notFound('Assistant', id, `No assistant found with the id '${id}'.`);
}

export class AssistantService {
  readonly repo: AssistantRepo;

  constructor(
    db: Kysely<Database>,
    private readonly llm: LlmService,
    opts: { cacheRecords?: boolean } = {},
  ) {
    this.repo = new AssistantRepo(db, opts);
  }

  /** The assistant if the user may read it; 404 when missing, 403 when not allowed. */
  async getReadable(id: string, user: AuthUser): Promise<AssistantRecord> {
    const a = await this.repo.get(id);
    if (!a) throw assistantNotFound(id);
    requireAbility(user, access(a), 'read');
    return a;
  }

  async create(body: CreateAssistantBody, user: AuthUser): Promise<AssistantRecord> {
    requireProjectAccess(user, body.project);
    this.checkModel(body.llm_model_type);
    const slug = await this.uniqueSlug(body.project, body.slug ?? null, body.name);
    const now = new Date().toISOString();
    const rec: AssistantRecord = {
      id: newRowId(),
      name: body.name,
      description: body.description ?? '',
      system_prompt: body.system_prompt ?? '',
      llm_model_type: body.llm_model_type ?? null,
      project: body.project,
      shared: body.shared,
      slug,
      temperature: body.temperature ?? null,
      top_p: body.top_p ?? null,
      data: extraFields(body),
      created_by: { id: user.id, username: user.username, name: user.name },
      date: now,
      update_date: now,
    };
    await this.repo.insert(rec);
    return rec;
  }

  async update(id: string, body: UpdateAssistantBody, user: AuthUser): Promise<AssistantRecord> {
    const a = await this.repo.get(id);
    if (!a) throw assistantNotFound(id);
    requireAbility(user, access(a), 'write');
    if (body.project !== undefined && body.project !== a.project) requireProjectAccess(user, body.project);
    if (body.llm_model_type) this.checkModel(body.llm_model_type);
    const project = body.project ?? a.project;
    let slug = a.slug;
    if (body.slug && body.slug !== a.slug) {
      if (await this.repo.slugTaken(project, body.slug, a.id)) throw slugConflict(body.slug, project);
      slug = body.slug;
    } else if (project !== a.project && (await this.repo.slugTaken(project, a.slug, a.id))) {
      slug = await this.uniqueSlug(project, null, body.name ?? a.name);
    }
    const history = Array.isArray(a.data.system_prompt_history) ? (a.data.system_prompt_history as unknown[]) : [];
    const promptChanged = body.system_prompt !== undefined && body.system_prompt !== null && body.system_prompt !== a.system_prompt;
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
      data: {
        ...a.data,
        ...extraFields(body),
        ...(promptChanged ? { system_prompt_history: [...history, { system_prompt: a.system_prompt, date: a.update_date, created_by: a.created_by }] } : {}),
      },
      update_date: new Date().toISOString(),
    };
    await this.repo.update(updated);
    return updated;
  }

  async delete(id: string, user: AuthUser): Promise<void> {
    const a = await this.repo.get(id);
    if (!a) throw assistantNotFound(id);
    requireAbility(user, access(a), 'delete');
    await this.repo.delete(id);
  }

  async list(user: AuthUser, scope: string, filters: Record<string, unknown>, page: number, perPage: number) {
    const f: ListFilter = {
      project: typeof filters.project === 'string' ? filters.project : undefined,
      createdBy: typeof filters.created_by === 'string' ? filters.created_by : undefined,
      search: typeof filters.search === 'string' ? filters.search : typeof filters.name === 'string' ? filters.name : undefined,
      shared: typeof filters.shared === 'boolean' ? filters.shared : undefined,
      slug: typeof filters.slug === 'string' ? filters.slug : undefined,
      ids: typeof filters.id === 'string' ? [filters.id] : Array.isArray(filters.id) ? filters.id.map(String) : undefined,
    };
    if (scope === 'created_by_user') f.createdBy = user.id;
    if (!user.isAdmin || scope !== 'all') {
      f.visibleTo = user.isAdmin && scope === 'visible_to_user' ? null : { userId: user.id, memberOf: user.projects, adminOf: user.adminProjects };
    }
    return this.repo.list(f, page, perPage);
  }

  async bySlug(slug: string, project: string | undefined, user: AuthUser): Promise<AssistantRecord> {
    const all = await this.repo.bySlug(slug, project);
    const readable = all.find((a) => abilities(user, access(a)).includes('read'));
    if (readable) return readable;
    if (all.length) requireAbility(user, access(all[0]), 'read');
    throw notFound('Assistant', undefined, `No assistant found with the slug '${slug}'.`);
  }

  private checkModel(name: string | null | undefined): void {
    if (name) this.llm.resolveModel(name); // 400 naming the available models
  }

  private async uniqueSlug(project: string, explicit: string | null, name: string): Promise<string> {
    if (explicit) {
      if (await this.repo.slugTaken(project, explicit)) throw slugConflict(explicit, project);
      return explicit;
    }
    const base = slugify(name);
    if (!(await this.repo.slugTaken(project, base))) return base;
    for (let i = 2; i < 1000; i++) {
      const s = `${base}-${i}`;
      if (!(await this.repo.slugTaken(project, s))) return s;
    }
    return `${base}-${randomUUID().slice(0, 8)}`;
  }
}

function slugConflict(slug: string, project: string) {
  return badRequest(
    'Slug conflict',
    `The slug '${slug}' is already used by another assistant in project '${project}'.`,
    'Choose another slug or omit it to generate one.',
  );
}

export function access(a: AssistantRecord) {
  return { createdBy: a.created_by.id, project: a.project, shared: a.shared, isGlobal: a.data.is_global === true };
}

function extraFields(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!COLUMNS.has(k) && v !== undefined) out[k] = v;
  return out;
}

/** The detail shape of reference §3.2 (snake_case). */
export function assistantResponse(a: AssistantRecord, user: AuthUser) {
  const d = a.data;
  return {
    id: a.id,
    date: a.date,
    update_date: a.update_date,
    created_date: a.date,
    updated_date: a.update_date,
    name: a.name,
    description: a.description,
    system_prompt: a.system_prompt,
    system_prompt_history: (d.system_prompt_history as unknown[]) ?? [],
    created_by: { id: a.created_by.id, user_id: a.created_by.id, username: a.created_by.username, name: a.created_by.name },
    creator: a.created_by.username,
    project: a.project,
    icon_url: (d.icon_url as string) ?? null,
    llm_model_type: a.llm_model_type,
    toolkits: (d.toolkits as unknown[]) ?? [],
    conversation_starters: (d.conversation_starters as string[]) ?? [],
    shared: a.shared,
    is_react: (d.is_react as boolean) ?? true,
    is_global: (d.is_global as boolean) ?? false,
    agent_mode: 'general',
    plan_prompt: null,
    slug: a.slug,
    temperature: a.temperature,
    top_p: a.top_p,
    tools_tokens_size_limit: null,
    smart_tool_selection_enabled: false,
    context: (d.context as unknown[]) ?? [],
    user_abilities: abilities(user, access(a)),
    mcp_servers: (d.mcp_servers as unknown[]) ?? [],
    assistant_ids: (d.assistant_ids as string[]) ?? [],
    enabled_builtin_subagents: [],
    skill_ids: [],
    skills: [],
    nested_assistants: [],
    type: 'codemie',
    prompt_variables: [],
    categories: (d.categories as string[]) ?? [],
    custom_metadata: (d.custom_metadata as Record<string, unknown>) ?? null,
    origin: null,
    unique_users_count: 0,
    unique_likes_count: 0,
    unique_dislikes_count: 0,
    version_count: 1,
    guardrail_assignments: [],
  };
}

/** AssistantListResponse (minimal_response=true). */
export function assistantListItem(a: AssistantRecord, user: AuthUser) {
  const full = assistantResponse(a, user);
  return {
    id: full.id,
    name: full.name,
    slug: full.slug,
    project: full.project,
    type: full.type,
    description: full.description,
    icon_url: full.icon_url,
    created_by: full.created_by,
    user_abilities: full.user_abilities,
    unique_users_count: 0,
    unique_likes_count: 0,
    unique_dislikes_count: 0,
    categories: full.categories,
    is_global: full.is_global,
    shared: full.shared,
    origin: null,
  };
}
