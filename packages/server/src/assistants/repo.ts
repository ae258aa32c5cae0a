/** Assistant rows ↔ records. The only place that touches the `assistants` table. */
import { sql, type Expression, type ExpressionBuilder, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { Database } from '../store/schema.js';
import type { AssistantsTable } from './tables.js';
import { fromBool, fromJson, toBool, toJson } from '../store/json.js';
import { compiledOnce } from '../store/compiled-query.js';
import { deepFreeze } from '../deep-freeze.js';
import { trackCache } from '../metrics/caches.js';

export interface AssistantRecord {
  id: string;
  name: string;
  description: string;
  system_prompt: string;
  llm_model_type: string | null;
  project: string;
  shared: boolean;
  slug: string | null;
  temperature: number | null;
  top_p: number | null;
  data: Record<string, unknown>;
  created_by: { id: string; username: string; name: string };
  date: string;
  update_date: string;
  /** Published to the marketplace. */
  is_global: boolean;
  categories: string[];
  version_count: number;
  unique_users_count: number;
  unique_likes_count: number;
  unique_dislikes_count: number;
}

function fromRow(r: Selectable<AssistantsTable>): AssistantRecord {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    system_prompt: r.system_prompt,
    llm_model_type: r.llm_model_type,
    project: r.project,
    shared: fromBool(r.shared),
    slug: r.slug,
    temperature: r.temperature,
    top_p: r.top_p,
    data: fromJson(r.data, {}),
    created_by: { id: r.created_by_id, username: r.created_by_username, name: r.created_by_name },
    date: r.date,
    update_date: r.update_date,
    is_global: fromBool(r.is_global),
    categories: fromJson<string[]>(r.categories, []),
    version_count: Number(r.version_count ?? 1),
    unique_users_count: Number(r.unique_users_count ?? 0),
    unique_likes_count: Number(r.unique_likes_count ?? 0),
    unique_dislikes_count: Number(r.unique_dislikes_count ?? 0),
  };
}

export const LIST_SCOPES = ['visible_to_user', 'created_by_user', 'marketplace', 'project_with_marketplace', 'all', 'templates'] as const;
export type ListScope = (typeof LIST_SCOPES)[number];
export const SORT_FIELDS = ['usage', 'likes', 'dislikes', 'name'] as const;
export type SortField = (typeof SORT_FIELDS)[number];

export interface ListViewer {
  id: string;
  projects: string[];
  adminProjects: string[];
  isAdmin: boolean;
  /** External users see only marketplace assistants of their own projects. */
  external: boolean;
}

export interface ListFilter {
  scope: Exclude<ListScope, 'templates'>;
  viewer: ListViewer;
  projects?: string[];
  /** Creator: display name, username or id (any of the listed). */
  createdBy?: string[];
  search?: string;
  shared?: boolean;
  isGlobal?: boolean;
  ids?: string[];
  slugs?: string[];
  /** Any of these category ids. */
  categories?: string[];
  createdDate?: Array<{ op: '>=' | '<=' | '>' | '<' | '=' | '!='; value: string }>;
  sortBy?: SortField;
  sortOrder?: 'asc' | 'desc';
}

type EB = ExpressionBuilder<Database, 'assistants'>;

const likeEscape = (s: string) => s.replace(/[%_\\]/g, (c) => `\\${c}`);

/** `column LIKE pattern` with `\` as the escape character on both databases; `lower` compares case-insensitively. */
function like(column: string, pattern: string, lower = false) {
  const col = lower ? sql`lower(${sql.ref(column)})` : sql.ref(column);
  return sql<SqlBool>`${col} like ${pattern} escape '\\'`;
}

/** The rows a regular user may read (reference §4.1): shared in a member project, a project they administer, or their own. */
function readableBy(eb: EB, v: ListViewer): Expression<SqlBool> {
  return eb.or([
    eb('created_by_id', '=', v.id),
    ...(v.projects.length ? [eb.and([eb('shared', '=', 1), eb('project', 'in', v.projects)])] : []),
    ...(v.adminProjects.length ? [eb('project', 'in', v.adminProjects)] : []),
  ]);
}

function marketplaceCondition(eb: EB, v: ListViewer): Expression<SqlBool> {
  if (v.external && !v.isAdmin) return eb.and([eb('is_global', '=', 1), eb('project', 'in', v.projects.length ? v.projects : [''])]);
  return eb('is_global', '=', 1);
}

export class AssistantRepo {
  // Every assistant call starts with this lookup: compiled once (store/compiled-query.ts).
  private readonly byId = compiledOnce((id: string) => this.db.selectFrom('assistants').selectAll().where('id', '=', id), 1);

  /**
   * Records by id, when this process is the only writer of the table (SQLite: the embedded,
   * single-process mode; this class is the only code that writes `assistants`). Every assistant
   * call starts with this lookup. With PostgreSQL other API processes write too, so no cache.
   * Cached records are frozen: callers build changed copies, never edit one in place.
   */
  private readonly cache: Map<string, AssistantRecord> | null;
  /** Bumped by every write of an id: a read that overlapped a write does not fill the cache. */
  private writes = 0;
  private static readonly CACHE_MAX = 1000;

  constructor(
    private readonly db: Kysely<Database>,
    opts: { cacheRecords?: boolean } = {},
  ) {
    this.cache = opts.cacheRecords ? new Map() : null;
    if (this.cache) trackCache('assistant_records', this, (r) => r.cache?.size ?? 0, AssistantRepo.CACHE_MAX);
  }

  async insert(a: AssistantRecord): Promise<void> {
    await this.db.insertInto('assistants').values(this.toRow(a)).execute();
  }

  async update(a: AssistantRecord): Promise<void> {
    const { id, ...rest } = this.toRow(a);
    this.forget(id);
    try {
      await this.db.updateTable('assistants').set(rest).where('id', '=', id).execute();
    } finally {
      this.forget(id);
    }
  }

  /** Usage and reaction counters; `update_date` stays (reacting is not editing). */
  async setCounters(id: string, c: Partial<Pick<AssistantRecord, 'unique_users_count' | 'unique_likes_count' | 'unique_dislikes_count'>>): Promise<void> {
    if (!Object.keys(c).length) return;
    this.forget(id);
    try {
      await this.db.updateTable('assistants').set(c).where('id', '=', id).execute();
    } finally {
      this.forget(id);
    }
  }

  async delete(id: string): Promise<boolean> {
    this.forget(id);
    try {
      // Versions, interactions, mappings and paused calls go by foreign key; A2A tasks have none.
      await this.db.deleteFrom('a2a_tasks').where('assistant_id', '=', id).execute();
      const r = await this.db.deleteFrom('assistants').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    } finally {
      this.forget(id);
    }
  }

  async get(id: string): Promise<AssistantRecord | undefined> {
    const hit = this.cache?.get(id);
    if (hit) return hit;
    const before = this.writes;
    const r = (await this.byId.run(this.db, [id])).rows[0];
    if (!r) return undefined;
    const record = fromRow(r);
    if (this.cache && this.writes === before) {
      if (this.cache.size >= AssistantRepo.CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(id, deepFreeze(record));
    }
    return record;
  }

  /** The records with these ids that exist (any order). */
  async getMany(ids: string[]): Promise<AssistantRecord[]> {
    if (!ids.length) return [];
    return (
      await this.db
        .selectFrom('assistants')
        .selectAll()
        .where('id', 'in', [...new Set(ids)])
        .execute()
    ).map(fromRow);
  }

  /** Assistants whose sub-assistants include `id`. */
  async parentsOf(id: string): Promise<AssistantRecord[]> {
    const rows = await this.db
      .selectFrom('assistants')
      .selectAll()
      .where(like('data', `%${likeEscape(id)}%`))
      .execute();
    return rows.map(fromRow).filter((a) => Array.isArray(a.data.assistant_ids) && (a.data.assistant_ids as unknown[]).includes(id));
  }

  private forget(id: string): void {
    this.writes++;
    this.cache?.delete(id);
  }

  async bySlug(slug: string, project?: string): Promise<AssistantRecord[]> {
    let q = this.db.selectFrom('assistants').selectAll().where('slug', '=', slug);
    if (project) q = q.where('project', '=', project);
    return (await q.orderBy('date').execute()).map(fromRow);
  }

  async slugTaken(project: string, slug: string, exceptId?: string): Promise<boolean> {
    let q = this.db.selectFrom('assistants').select('id').where('project', '=', project).where('slug', '=', slug);
    if (exceptId) q = q.where('id', '!=', exceptId);
    return !!(await q.executeTakeFirst());
  }

  /** How many assistants use a category, published and not. */
  async categoryUsage(categoryId: string): Promise<{ marketplace: number; project: number }> {
    const rows = await this.db
      .selectFrom('assistants')
      .select(['is_global', (eb) => eb.fn.countAll<number>().as('n')])
      .where(like('categories', `%"${likeEscape(categoryId)}"%`))
      .groupBy('is_global')
      .execute();
    let marketplace = 0;
    let project = 0;
    for (const r of rows) {
      if (fromBool(r.is_global)) marketplace += Number(r.n);
      else project += Number(r.n);
    }
    return { marketplace, project };
  }

  /** Distinct creators of the assistants a scope shows. */
  async creators(f: Pick<ListFilter, 'scope' | 'viewer'>): Promise<Array<{ id: string; username: string; name: string }>> {
    const rows = await this.db
      .selectFrom('assistants')
      .select(['created_by_id', 'created_by_username', 'created_by_name'])
      .where((eb) => this.scopeCondition(eb, { ...f }))
      .distinct()
      .orderBy('created_by_name')
      .execute();
    return rows.filter((r) => r.created_by_name).map((r) => ({ id: r.created_by_id, username: r.created_by_username, name: r.created_by_name }));
  }

  private scopeCondition(eb: EB, f: ListFilter): Expression<SqlBool> {
    const v = f.viewer;
    const readable = v.isAdmin ? eb.lit(true) : readableBy(eb, v);
    switch (f.scope) {
      case 'visible_to_user':
        return eb.and([eb('is_global', '=', 0), readable]);
      case 'created_by_user':
        return eb('created_by_id', '=', v.id);
      case 'marketplace':
        return marketplaceCondition(eb, v);
      case 'all':
        return v.isAdmin ? eb.lit(true) : eb.or([readableBy(eb, v), eb('is_global', '=', 1)]);
      case 'project_with_marketplace': {
        const own = [eb('is_global', '=', 0), readable];
        if (f.projects?.length) own.push(eb('project', 'in', f.projects));
        return eb.or([eb.and(own), marketplaceCondition(eb, v)]);
      }
    }
  }

  async list(f: ListFilter, page: number, perPage: number): Promise<{ rows: AssistantRecord[]; total: number }> {
    let q = this.db.selectFrom('assistants').where((eb) => this.scopeCondition(eb, f));
    const pattern = f.search ? `%${likeEscape(f.search.toLowerCase())}%` : null;
    if (f.scope === 'project_with_marketplace') {
      // Only `project` (in the scope condition) and `search` on the name apply (reference §4.2).
      if (pattern) q = q.where(like('name', pattern, true));
    } else {
      if (f.projects?.length) q = q.where('project', 'in', f.projects);
      if (f.createdBy?.length) {
        const c = f.createdBy;
        q = q.where((eb) => eb.or([eb('created_by_name', 'in', c), eb('created_by_username', 'in', c), eb('created_by_id', 'in', c)]));
      }
      if (f.shared !== undefined) q = q.where('shared', '=', toBool(f.shared));
      if (f.isGlobal !== undefined) q = q.where('is_global', '=', toBool(f.isGlobal));
      if (f.slugs?.length) q = q.where('slug', 'in', f.slugs);
      if (f.ids?.length) q = q.where('id', 'in', f.ids);
      if (f.categories?.length) {
        const cats = f.categories;
        q = q.where((eb) => eb.or(cats.map((c) => like('categories', `%"${likeEscape(c)}"%`))));
      }
      for (const d of f.createdDate ?? []) q = q.where('date', d.op === '=' ? '=' : d.op === '!=' ? '<>' : d.op, d.value);
      if (pattern) q = q.where((eb) => eb.or([like('name', pattern, true), like('description', pattern, true), like('id', pattern, true)]));
    }
    const [{ n }] = await q.select((eb) => eb.fn.countAll<number>().as('n')).execute();
    let sorted = q.selectAll();
    if (pattern) {
      sorted = sorted.orderBy(sql`case when ${like('name', pattern, true)} then 0 when ${like('description', pattern, true)} then 1 else 2 end`);
    }
    if (f.sortBy) {
      const dir = f.sortOrder ?? 'desc';
      if (f.sortBy === 'name') sorted = sorted.orderBy(sql`lower(name)`, dir).orderBy('name', dir);
      else
        sorted = sorted.orderBy(
          { usage: 'unique_users_count', likes: 'unique_likes_count', dislikes: 'unique_dislikes_count' }[f.sortBy] as 'unique_users_count',
          dir,
        );
    } else if (f.scope === 'marketplace') {
      sorted = sorted.orderBy('unique_users_count', 'desc');
    } else if (f.scope === 'project_with_marketplace') {
      sorted = sorted.orderBy('is_global', 'asc').orderBy(sql`is_global * unique_users_count`, 'desc');
    }
    const rows = await sorted
      .orderBy('update_date', 'desc')
      .orderBy('id')
      .limit(perPage)
      .offset(page * perPage)
      .execute();
    return { rows: rows.map(fromRow), total: Number(n) };
  }

  private toRow(a: AssistantRecord) {
    return {
      id: a.id,
      name: a.name,
      description: a.description,
      system_prompt: a.system_prompt,
      llm_model_type: a.llm_model_type,
      project: a.project,
      shared: toBool(a.shared),
      slug: a.slug,
      temperature: a.temperature,
      top_p: a.top_p,
      data: toJson(a.data),
      created_by_id: a.created_by.id,
      created_by_username: a.created_by.username,
      created_by_name: a.created_by.name,
      date: a.date,
      update_date: a.update_date,
      is_global: toBool(a.is_global),
      categories: toJson(a.categories),
      version_count: a.version_count,
      unique_users_count: a.unique_users_count,
      unique_likes_count: a.unique_likes_count,
      unique_dislikes_count: a.unique_dislikes_count,
    };
  }

  /** Assistants with skills attached (`data.skill_ids`), those naming `skillId` when given (the skills domain). */
  async withSkills(skillId?: string): Promise<AssistantRecord[]> {
    const rows = await this.db
      .selectFrom('assistants')
      .selectAll()
      .where('data', 'like', skillId ? `%${skillId.replace(/[%_\\]/g, '')}%` : '%"skill_ids":["%')
      .execute();
    return rows.map(fromRow).filter((a) => {
      const ids = a.data.skill_ids;
      return Array.isArray(ids) && (skillId ? ids.includes(skillId) : ids.length > 0);
    });
  }

  /** Assistants per project (the projects domain's counters and its delete guard). */
  async countByProject(projects: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!projects.length) return out;
    const rows = await this.db
      .selectFrom('assistants')
      .select((eb) => ['project', eb.fn.countAll<number>().as('n')])
      .where('project', 'in', projects)
      .groupBy('project')
      .execute();
    for (const r of rows) out.set(r.project, Number(r.n));
    return out;
  }
}
