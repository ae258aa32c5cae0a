/** Assistant rows ↔ records. The only place that touches the `assistants` table. */
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../store/schema.js';
import type { AssistantsTable } from './tables.js';
import { fromBool, fromJson, toBool, toJson } from '../store/json.js';
import { compiledOnce } from '../store/compiled-query.js';
import { deepFreeze } from '../deep-freeze.js';

export interface AssistantRecord {
  id: string;
  name: string;
  description: string;
  system_prompt: string;
  llm_model_type: string | null;
  project: string;
  shared: boolean;
  slug: string;
  temperature: number | null;
  top_p: number | null;
  data: Record<string, unknown>;
  created_by: { id: string; username: string; name: string };
  date: string;
  update_date: string;
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
  };
}

export interface ListFilter {
  /** Visible to: admin sees all; otherwise own, or shared in one of these projects, or project-admin of these. */
  visibleTo?: { userId: string; memberOf: string[]; adminOf: string[] } | null;
  project?: string;
  createdBy?: string;
  search?: string;
  shared?: boolean;
  slug?: string;
  ids?: string[];
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

  async delete(id: string): Promise<boolean> {
    this.forget(id);
    try {
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

  async list(f: ListFilter, page: number, perPage: number): Promise<{ rows: AssistantRecord[]; total: number }> {
    let q = this.db.selectFrom('assistants');
    if (f.visibleTo) {
      const v = f.visibleTo;
      q = q.where((eb) =>
        eb.or([
          eb('created_by_id', '=', v.userId),
          ...(v.memberOf.length ? [eb.and([eb('shared', '=', 1), eb('project', 'in', v.memberOf)])] : []),
          ...(v.adminOf.length ? [eb('project', 'in', v.adminOf)] : []),
        ]),
      );
    }
    if (f.project) q = q.where('project', '=', f.project);
    if (f.createdBy) q = q.where((eb) => eb.or([eb('created_by_id', '=', f.createdBy!), eb('created_by_username', '=', f.createdBy!)]));
    if (f.shared !== undefined) q = q.where('shared', '=', toBool(f.shared));
    if (f.slug) q = q.where('slug', '=', f.slug);
    if (f.ids?.length) q = q.where('id', 'in', f.ids);
    if (f.search) {
      const like = `%${f.search.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
      q = q.where((eb) => eb.or([eb(eb.fn('lower', ['name']), 'like', like), eb(eb.fn('lower', ['description']), 'like', like)]));
    }
    const [{ n }] = await q.select((eb) => eb.fn.countAll<number>().as('n')).execute();
    const rows = await q.selectAll().orderBy('date', 'desc').orderBy('id').limit(perPage).offset(page * perPage).execute();
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
    };
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
