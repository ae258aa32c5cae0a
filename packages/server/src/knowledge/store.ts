/** Kysely queries of the knowledge tables (only this domain reads them). */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from '../store/schema.js';
import type { DatasourceChunksTable, DatasourceFilesTable, DatasourcesTable } from './tables.js';

export type DatasourceRow = Selectable<DatasourcesTable>;
export type FileRow = Selectable<DatasourceFilesTable>;
export type ChunkRow = Selectable<DatasourceChunksTable>;

/** Who may see which rows in a list (reference visibility rule); null = everything (admins). */
export interface Visibility {
  userId: string;
  memberProjects: string[];
  adminProjects: string[];
}

export interface ListQuery {
  visibility: Visibility | null;
  name?: string;
  projects?: string[];
  indexTypes?: string[];
  createdBy?: string;
  dateFrom?: string;
  dateTo?: string;
  isShared?: boolean;
  status?: 'completed' | 'failed' | 'in_progress' | 'queued' | 'fetching';
  sortKey: 'date' | 'update_date';
  sortOrder: 'asc' | 'desc';
  offset: number;
  limit: number;
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export class KnowledgeStore {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: 'sqlite' | 'postgres',
  ) {}

  get(id: string): Promise<DatasourceRow | undefined> {
    return this.db.selectFrom('datasources').selectAll().where('id', '=', id).executeTakeFirst();
  }

  byName(project: string, name: string): Promise<DatasourceRow | undefined> {
    return this.db.selectFrom('datasources').selectAll().where('project_name', '=', project).where('name_key', '=', name.toLowerCase()).executeTakeFirst();
  }

  inProject(project: string): Promise<DatasourceRow[]> {
    return this.db.selectFrom('datasources').selectAll().where('project_name', '=', project).orderBy('date').execute();
  }

  byIds(ids: string[]): Promise<DatasourceRow[]> {
    if (!ids.length) return Promise.resolve([]);
    return this.db.selectFrom('datasources').selectAll().where('id', 'in', ids).execute();
  }

  /** Rows whose indexing has not ended (recovery after a restart). */
  unfinished(): Promise<Array<{ id: string }>> {
    return this.db.selectFrom('datasources').select('id').where('completed', '=', 0).where('error', '=', 0).orderBy('update_date').execute();
  }

  async list(q: ListQuery): Promise<{ rows: DatasourceRow[]; total: number }> {
    let base = this.db.selectFrom('datasources');
    if (q.visibility) {
      const v = q.visibility;
      base = base.where((eb) =>
        eb.or([
          eb('created_by_id', '=', v.userId),
          ...(v.adminProjects.length ? [eb('project_name', 'in', v.adminProjects)] : []),
          ...(v.memberProjects.length ? [eb.and([eb('project_name', 'in', v.memberProjects), eb('project_space_visible', '=', 1)])] : []),
        ]),
      );
    }
    if (q.name) {
      const pattern = `%${likeEscape(q.name.toLowerCase())}%`;
      base = base.where(sql<boolean>`name_key like ${pattern} escape '\\'`);
    }
    if (q.projects?.length) base = base.where('project_name', 'in', q.projects);
    if (q.indexTypes?.length) base = base.where('index_type', 'in', q.indexTypes);
    if (q.createdBy) {
      const pattern = `%${likeEscape(q.createdBy.toLowerCase())}%`;
      base = base.where(sql<boolean>`lower(created_by) like ${pattern} escape '\\'`);
    }
    if (q.dateFrom) base = base.where('date', '>=', q.dateFrom);
    if (q.dateTo) base = base.where('date', '<=', q.dateTo);
    if (q.isShared !== undefined) base = base.where('project_space_visible', '=', q.isShared ? 1 : 0);
    switch (q.status) {
      case 'completed':
        base = base.where('completed', '=', 1);
        break;
      case 'failed':
        base = base.where('completed', '=', 0).where('error', '=', 1);
        break;
      case 'in_progress':
        base = base.where('completed', '=', 0).where('error', '=', 0);
        break;
      case 'queued':
        base = base.where('is_queued', '=', 1);
        break;
      case 'fetching':
        base = base.where('is_fetching', '=', 1);
        break;
    }
    const [{ n }] = await base.select((eb) => eb.fn.countAll<number>().as('n')).execute();
    const rows = await base.selectAll().orderBy(q.sortKey, q.sortOrder).orderBy('id', q.sortOrder).offset(q.offset).limit(q.limit).execute();
    return { rows, total: Number(n) };
  }

  async creators(visibility: Visibility | null): Promise<string[]> {
    let base = this.db.selectFrom('datasources').select('created_by').distinct();
    if (visibility) base = base.where('created_by_id', '=', visibility.userId);
    return (await base.execute()).map((r) => r.created_by);
  }

  files(datasourceId: string): Promise<FileRow[]> {
    return this.db.selectFrom('datasource_files').selectAll().where('datasource_id', '=', datasourceId).orderBy('date').orderBy('id').execute();
  }

  chunkCount(datasourceId: string): Promise<number> {
    return this.db
      .selectFrom('datasource_chunks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('datasource_id', '=', datasourceId)
      .executeTakeFirstOrThrow()
      .then((r) => Number(r.n));
  }

  /** Chunks per source of a datasource (coverage lines of the search tool). */
  async sourceTotals(datasourceId: string, sources: string[]): Promise<Map<string, number>> {
    if (!sources.length) return new Map();
    const rows = await this.db
      .selectFrom('datasource_chunks')
      .select(['source', (eb) => eb.fn.countAll<number>().as('n')])
      .where('datasource_id', '=', datasourceId)
      .where('source', 'in', sources)
      .groupBy('source')
      .execute();
    return new Map(rows.map((r) => [r.source, Number(r.n)]));
  }

  /** Bytes of stored text and vectors (GET /v1/index/{id}/elasticsearch). */
  async storedBytes(datasourceId: string): Promise<number> {
    const len =
      this.dialect === 'postgres'
        ? sql<number>`coalesce(sum(octet_length(text) + coalesce(octet_length(embedding), 0)), 0)`
        : sql<number>`coalesce(sum(length(cast(text as blob)) + coalesce(length(embedding), 0)), 0)`;
    const r = await this.db.selectFrom('datasource_chunks').select(len.as('n')).where('datasource_id', '=', datasourceId).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async deleteDatasource(id: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('datasource_chunks').where('datasource_id', '=', id).execute();
      await tx.deleteFrom('datasource_files').where('datasource_id', '=', id).execute();
      await tx.deleteFrom('datasources').where('id', '=', id).execute();
    });
  }
}
