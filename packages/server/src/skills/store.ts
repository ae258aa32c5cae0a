/** Skill rows ↔ records; the only place that touches the skills tables. */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from '../store/schema.js';
import { fromJson, toJson } from '../store/json.js';
import type { SkillEventsTable, SkillsTable } from './tables.js';

export type Visibility = 'private' | 'project' | 'public';

export interface CompanionFile {
  path: string;
  mime_type: string;
  encoding: 'text' | 'base64';
  size_bytes: number;
  content: string;
}

export interface SkillRecord {
  id: string;
  name: string;
  description: string;
  content: string;
  project: string;
  visibility: Visibility;
  created_by: { id: string; username: string; name: string };
  categories: string[];
  toolkits: Array<Record<string, unknown>>;
  mcp_servers: Array<Record<string, unknown>>;
  companion_files: CompanionFile[];
  enabled_builtin_subagents: string[];
  unique_likes_count: number;
  unique_dislikes_count: number;
  created_date: string;
  updated_date: string | null;
}

function fromRow(r: Selectable<SkillsTable>): SkillRecord {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    content: r.content,
    project: r.project,
    visibility: r.visibility as Visibility,
    created_by: fromJson(r.created_by, { id: r.created_by_id, username: '', name: '' }),
    categories: fromJson<string[]>(r.categories, []),
    toolkits: fromJson(r.toolkits, []),
    mcp_servers: fromJson(r.mcp_servers, []),
    companion_files: fromJson(r.companion_files, []),
    enabled_builtin_subagents: fromJson(r.enabled_builtin_subagents, []),
    unique_likes_count: Number(r.unique_likes_count ?? 0),
    unique_dislikes_count: Number(r.unique_dislikes_count ?? 0),
    created_date: r.created_date,
    updated_date: r.updated_date,
  };
}

function toRow(s: SkillRecord): SkillsTable {
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    content: s.content,
    project: s.project,
    visibility: s.visibility,
    created_by_id: s.created_by.id,
    created_by: toJson(s.created_by),
    categories: toJson(s.categories),
    toolkits: toJson(s.toolkits),
    mcp_servers: toJson(s.mcp_servers),
    companion_files: toJson(s.companion_files),
    enabled_builtin_subagents: toJson(s.enabled_builtin_subagents),
    unique_likes_count: s.unique_likes_count,
    unique_dislikes_count: s.unique_dislikes_count,
    created_date: s.created_date,
    updated_date: s.updated_date,
  };
}

/** Who may see which skills (the reference's visibility rules). */
export interface Viewer {
  id: string;
  isAdmin: boolean;
  projects: string[];
  adminProjects: string[];
}

export type SkillEventRow = Selectable<SkillEventsTable>;

export class SkillStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(s: SkillRecord): Promise<void> {
    await this.db.insertInto('skills').values(toRow(s)).execute();
  }

  async update(s: SkillRecord): Promise<void> {
    const { id, ...rest } = toRow(s);
    await this.db.updateTable('skills').set(rest).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('skill_reactions').where('skill_id', '=', id).execute();
    await this.db.deleteFrom('skills').where('id', '=', id).execute();
  }

  async get(id: string): Promise<SkillRecord | undefined> {
    const r = await this.db.selectFrom('skills').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? fromRow(r) : undefined;
  }

  async getMany(ids: string[]): Promise<SkillRecord[]> {
    if (!ids.length) return [];
    const rows = await this.db.selectFrom('skills').selectAll().where('id', 'in', ids).execute();
    return rows.map(fromRow);
  }

  async byNameAuthorProject(name: string, authorId: string, project: string, exceptId?: string): Promise<SkillRecord | undefined> {
    let q = this.db
      .selectFrom('skills')
      .selectAll()
      .where(sql<string>`lower(name)`, '=', name.toLowerCase())
      .where('created_by_id', '=', authorId)
      .where('project', '=', project);
    if (exceptId) q = q.where('id', '!=', exceptId);
    const r = await q.executeTakeFirst();
    return r ? fromRow(r) : undefined;
  }

  /** Every skill the viewer may read (own, managed project, project-visible in a member project, public). */
  async accessible(v: Viewer): Promise<SkillRecord[]> {
    let q = this.db.selectFrom('skills').selectAll();
    if (!v.isAdmin) {
      const member = [...new Set([...v.projects, ...v.adminProjects])];
      q = q.where((eb) =>
        eb.or([
          eb('created_by_id', '=', v.id),
          eb('visibility', '=', 'public'),
          ...(v.adminProjects.length ? [eb('project', 'in', v.adminProjects)] : []),
          ...(member.length ? [eb.and([eb('visibility', '=', 'project'), eb('project', 'in', member)])] : []),
        ]),
      );
    }
    const rows = await q.orderBy('created_date', 'desc').orderBy('id').execute();
    return rows.map(fromRow);
  }

  // ── reactions ──

  async reaction(skillId: string, userId: string): Promise<{ reaction: string; reaction_at: string } | undefined> {
    return this.db
      .selectFrom('skill_reactions')
      .select(['reaction', 'reaction_at'])
      .where('skill_id', '=', skillId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
  }

  async setReaction(skillId: string, userId: string, reaction: string | null, at: string): Promise<void> {
    await this.db.deleteFrom('skill_reactions').where('skill_id', '=', skillId).where('user_id', '=', userId).execute();
    if (reaction) await this.db.insertInto('skill_reactions').values({ skill_id: skillId, user_id: userId, reaction, reaction_at: at }).execute();
    const counts = await this.db
      .selectFrom('skill_reactions')
      .select(['reaction', (eb) => eb.fn.countAll<string | number>().as('n')])
      .where('skill_id', '=', skillId)
      .groupBy('reaction')
      .execute();
    const n = (r: string) => Number(counts.find((c) => c.reaction === r)?.n ?? 0);
    await this.db
      .updateTable('skills')
      .set({ unique_likes_count: n('like'), unique_dislikes_count: n('dislike') })
      .where('id', '=', skillId)
      .execute();
  }

  // ── events ──

  async insertEvent(e: SkillEventsTable): Promise<void> {
    await this.db.insertInto('skill_events').values(e).execute();
  }

  /** Events of the given commands, newest first, with the total. */
  async events(f: { commands: string[]; userId?: string | null; from?: string; to?: string; slug?: string }, limit: number, offset: number) {
    let q = this.db.selectFrom('skill_events').where('command', 'in', f.commands);
    if (f.userId) q = q.where('user_id', '=', f.userId);
    if (f.from) q = q.where('created_at', '>=', f.from);
    if (f.to) q = q.where('created_at', '<=', f.to);
    if (f.slug) q = q.where('skill_slug', '=', f.slug);
    const total = await q.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
    const rows = await q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute();
    return { rows, total: Number(total.n) };
  }

  /** Counts per (slug, command, agent, source) of the given commands. */
  async eventCounts(f: { commands: string[]; from?: string; to?: string; slug?: string }) {
    let q = this.db.selectFrom('skill_events').where('command', 'in', f.commands).where('skill_slug', 'is not', null);
    if (f.from) q = q.where('created_at', '>=', f.from);
    if (f.to) q = q.where('created_at', '<=', f.to);
    if (f.slug) q = q.where('skill_slug', '=', f.slug);
    const rows = await q
      .select(['skill_slug', 'command', 'agent', 'source', (eb) => eb.fn.countAll<string | number>().as('n')])
      .groupBy(['skill_slug', 'command', 'agent', 'source'])
      .execute();
    return rows.map((r) => ({ slug: r.skill_slug as string, command: r.command, agent: r.agent, source: r.source, n: Number(r.n) }));
  }
}
