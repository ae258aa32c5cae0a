/**
 * Datasources (knowledge bases): create from uploaded files, update (metadata, add / remove /
 * replace files), list, get, delete, direct search, and what assistants and workflows need
 * (context lists, search tools). Indexing itself is a run on the run queue (indexer.ts).
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { AuthUser } from '../api/auth.js';
import { ApiError, badRequest } from '../api/errors.js';
import { pageOf } from '../api/pagination.js';
import { canAccessProject } from '../auth/access.js';
import type { LlmService } from '../llm/types.js';
import type { RunQueue } from '../runs/queue.js';
import { fromJson, toJson } from '../store/json.js';
import { newRowId } from '../store/ids.js';
import { ACCESS_HELP, CHECK_PERMISSIONS, kbAbilities, requireKb, visibilityOf } from './access.js';
import type { DatasourceListWire, DatasourceWire } from './responses.js';
import { ChunkSearch, datasourceVersion, formatResults, fuse, type SearchMode } from './search.js';
import type { DatasourceRow, FileRow, KnowledgeStore, ListQuery } from './store.js';
import type { StagedFile } from './uploads.js';

export const FILE_INDEX_TYPE = 'knowledge_base_file';
export const INDEX_RUN_KIND = 'knowledge-index';

export const INDEX_NOT_FOUND_HELP =
  'Please verify the index name and project name. If you believe this index should exist, check your project configuration or contact support.';
export const INDEX_EXISTS_HELP = 'Please choose a different name for your index or use the existing index.';

export const datasourceNotFound = (id: string) =>
  new ApiError(
    404,
    `Cannot find datasource by given id: ${id}`,
    `The datasource with id ${id} could not be found in the system. Please make sure that you provide correct datasource ID`,
    null,
  );

const exists = (name: string, project: string) =>
  new ApiError(409, 'Index already exists', `An index with the name '${name}' already exists in the project '${project}'.`, INDEX_EXISTS_HELP);

export const startedMessage = (name: string) => `Indexing of ${name} has started in the background`;

export interface FileOptions {
  csv_separator?: string | null;
  csv_start_row?: number | null;
  csv_rows_per_document?: number | null;
  include_email_attachments?: boolean;
}

export interface CreateInput extends FileOptions {
  name: string;
  project_name: string;
  description: string;
  project_space_visible: boolean;
  embedding_model?: string | null;
  guardrail_assignments?: unknown[] | null;
}

export interface UpdateInput extends FileOptions {
  name: string;
  project_name: string;
  description?: string | null;
  project_space_visible?: boolean | null;
  new_project_name?: string | null;
  uploaded_files?: string[] | null;
  guardrail_assignments?: unknown[] | null;
}

export interface KnowledgeDeps {
  store: KnowledgeStore;
  search: ChunkSearch;
  llm: LlmService;
  runs: RunQueue;
  log: FastifyBaseLogger;
  dataDir: string;
  topK: number;
}

const parseList = (s: string): string[] => fromJson<string[]>(s, []);
const userRef = (u: AuthUser) => ({ id: u.id, username: u.username, name: u.name });

/** Which of the assistant's context types a datasource is (reference: index_type prefix). */
export function contextTypeOf(indexType: string): 'knowledge_base' | 'code' | 'provider' {
  if (['code', 'summary', 'chunk-summary', 'svn'].includes(indexType)) return 'code';
  if (indexType === 'provider') return 'provider';
  return 'knowledge_base';
}

export class KnowledgeService {
  constructor(private readonly d: KnowledgeDeps) {}

  get store(): KnowledgeStore {
    return this.d.store;
  }

  filesDir(dsId: string): string {
    return path.join(this.d.dataDir, 'knowledge', dsId);
  }

  stagingRoot(): string {
    return path.join(this.d.dataDir, 'knowledge', '.staging');
  }

  /** 403 unless the caller is in the project; 409 when the name is taken there. Before any upload is read. */
  async checkCreate(user: AuthUser, project: string, name: string): Promise<void> {
    if (!canAccessProject(user, project))
      throw new ApiError(403, 'Access denied', `You do not have permission to access the project '${project}'.`, CHECK_PERMISSIONS);
    if (await this.d.store.byName(project, name)) throw exists(name, project);
  }

  /** The KB's embeddings model: the one asked for, else the default; unknown names fall back (the reference's rule), logged. */
  private embeddingModel(asked: string | null | undefined): string | null {
    const emb = this.d.llm.embeddings;
    if (!emb) return null;
    try {
      return emb.resolve(asked)?.base_name ?? null;
    } catch {
      this.d.log.warn({ asked }, 'unknown embeddings model asked for a knowledge base; the default is used');
      return emb.resolve(null)?.base_name ?? null;
    }
  }

  async create(user: AuthUser, input: CreateInput, staged: StagedFile[]): Promise<string> {
    await this.checkCreate(user, input.project_name, input.name);
    const id = newRowId();
    const now = new Date().toISOString();
    const row: DatasourceRow = {
      id,
      project_name: input.project_name,
      repo_name: input.name,
      name_key: input.name.toLowerCase(),
      index_type: FILE_INDEX_TYPE,
      description: input.description,
      embeddings_model: this.embeddingModel(input.embedding_model),
      embedding_dims: null,
      created_by_id: user.id,
      created_by: toJson(userRef(user)),
      updated_by: null,
      project_space_visible: input.project_space_visible ? 1 : 0,
      date: now,
      update_date: now,
      current_state: 0,
      complete_state: 0,
      current_chunks_state: 0,
      processed_files: '[]',
      uploaded_files: toJson(staged.map((f) => f.name)),
      error: 0,
      completed: 0,
      is_fetching: 0,
      is_queued: 0,
      text: '',
      processing_info: '{}',
      settings: '{}',
      guardrail_assignments: input.guardrail_assignments ? toJson(input.guardrail_assignments) : null,
      setting_id: null,
      last_reindex_triggered_at: null,
      generation: 1,
    };
    const files = await this.moveIn(id, user, staged, fileOptions(input));
    try {
      await this.d.store.db.transaction().execute(async (tx) => {
        await tx.insertInto('datasources').values(row).execute();
        for (let i = 0; i < files.length; i += 500)
          await tx
            .insertInto('datasource_files')
            .values(files.slice(i, i + 500))
            .execute();
      });
    } catch (err) {
      await rm(this.filesDir(id), { recursive: true, force: true });
      if (await this.d.store.byName(input.project_name, input.name)) throw exists(input.name, input.project_name);
      throw err;
    }
    await this.d.runs.enqueue(INDEX_RUN_KIND, id, null);
    return startedMessage(input.name);
  }

  /** Moves staged uploads into the datasource's folder; their rows (status pending). */
  private async moveIn(dsId: string, user: AuthUser, staged: StagedFile[], options: FileOptions): Promise<FileRow[]> {
    const dir = this.filesDir(dsId);
    await mkdir(dir, { recursive: true });
    const base = Date.now();
    const rows: FileRow[] = [];
    for (const f of staged) {
      const id = newRowId();
      // One millisecond apart: files are listed (and indexed) in upload order.
      const now = new Date(base + rows.length).toISOString();
      await rename(f.file, path.join(dir, id));
      rows.push({
        id,
        datasource_id: dsId,
        name: f.name,
        mime_type: f.mime,
        size: f.size,
        owner_id: user.id,
        status: 'pending',
        error: null,
        chunks: 0,
        options: toJson(options),
        date: now,
      });
    }
    return rows;
  }

  async update(user: AuthUser, input: UpdateInput, staged: StagedFile[]): Promise<string> {
    const ds = await this.d.store.byName(input.project_name, input.name);
    if (!ds || !ds.index_type.startsWith('knowledge_base')) {
      throw new ApiError(
        404,
        'Index not found',
        `The index with name '${input.name}' in project '${input.project_name}' could not be found.`,
        INDEX_NOT_FOUND_HELP,
      );
    }
    if (!kbAbilities(user, ds).includes('write')) {
      throw new ApiError(403, 'Access denied', `You don't have permission to update the index '${input.name}'.`, CHECK_PERMISSIONS);
    }
    const newProject = input.new_project_name && input.new_project_name !== ds.project_name ? input.new_project_name : null;
    if (newProject) {
      if (!canAccessProject(user, newProject))
        throw new ApiError(403, 'Access denied', `You don't have permission for the project '${newProject}'.`, CHECK_PERMISSIONS);
      if (await this.d.store.byName(newProject, ds.repo_name)) throw exists(ds.repo_name, newProject);
    }
    const stored = parseList(ds.uploaded_files);
    const keep = input.uploaded_files ?? stored;
    const keepSet = new Set(keep);
    const newNames = new Set(staged.map((f) => f.name));
    const removed = stored.filter((n) => !keepSet.has(n) || newNames.has(n));
    const changes = removed.length > 0 || staged.length > 0;
    const now = new Date().toISOString();
    const meta = {
      ...(input.description ? { description: input.description } : {}),
      ...(input.project_space_visible !== undefined && input.project_space_visible !== null
        ? { project_space_visible: input.project_space_visible ? 1 : 0 }
        : {}),
      ...(newProject ? { project_name: newProject } : {}),
      ...(input.guardrail_assignments ? { guardrail_assignments: toJson(input.guardrail_assignments) } : {}),
      updated_by: toJson(userRef(user)),
      update_date: now,
    };
    if (!changes) {
      await this.d.store.db.updateTable('datasources').set(meta).where('id', '=', ds.id).execute();
      return 'Edit successful';
    }
    const files = await this.moveIn(ds.id, user, staged, fileOptions(input));
    const finalNames = [...stored.filter((n) => keepSet.has(n) && !newNames.has(n)), ...staged.map((f) => f.name)];
    await this.d.store.db.transaction().execute(async (tx) => {
      if (removed.length) {
        await tx
          .updateTable('datasource_files')
          .set({ status: 'removed' })
          .where('datasource_id', '=', ds.id)
          .where('name', 'in', removed)
          .where('status', '!=', 'removed')
          .execute();
      }
      for (let i = 0; i < files.length; i += 500)
        await tx
          .insertInto('datasource_files')
          .values(files.slice(i, i + 500))
          .execute();
      await tx
        .updateTable('datasources')
        .set((eb) => ({
          ...meta,
          uploaded_files: toJson(finalNames),
          completed: 0,
          error: 0,
          text: '',
          generation: eb('generation', '+', 1),
        }))
        .where('id', '=', ds.id)
        .execute();
    });
    await this.d.runs.enqueue(INDEX_RUN_KIND, ds.id, null);
    return startedMessage(ds.repo_name);
  }

  async getRow(user: AuthUser, id: string, ability: 'read' | 'write' | 'delete' = 'read', verb?: string): Promise<DatasourceRow> {
    const row = await this.d.store.get(id);
    if (!row) throw datasourceNotFound(id);
    requireKb(user, row, ability, verb);
    return row;
  }

  async get(user: AuthUser, id: string): Promise<DatasourceWire> {
    const row = await this.getRow(user, id);
    return this.detail(row, user, await this.d.store.files(row.id));
  }

  async list(user: AuthUser, q: Omit<ListQuery, 'visibility'>, full: boolean, page: number, perPage: number) {
    const { rows, total } = await this.d.store.list({ ...q, visibility: visibilityOf(user) });
    const data = full ? await Promise.all(rows.map(async (r) => this.detail(r, user, await this.d.store.files(r.id)))) : rows.map((r) => listItem(r, user));
    return pageOf<DatasourceWire | DatasourceListWire>(data, total, page, perPage);
  }

  async users(user: AuthUser) {
    const seen = new Map<string, { id: string; username: string; name: string }>();
    for (const raw of await this.d.store.creators(visibilityOf(user))) {
      const u = fromJson<{ id: string; username: string; name: string } | null>(raw, null);
      if (u && !seen.has(u.id)) seen.set(u.id, { id: u.id, username: u.username ?? '', name: u.name ?? '' });
    }
    return [...seen.values()];
  }

  async delete(user: AuthUser, id: string): Promise<string> {
    const row = await this.getRow(user, id, 'delete');
    await this.d.runs.abort(row.id).catch(() => false);
    await this.d.store.deleteDatasource(row.id);
    this.d.search.forget(row.id);
    await rm(this.filesDir(row.id), { recursive: true, force: true });
    return `'Index ${row.repo_name} was deleted successfully`;
  }

  async stats(user: AuthUser, id: string) {
    const row = await this.getRow(user, id);
    if (row.index_type.startsWith('platform')) {
      throw badRequest(
        'Platform datasources are not supported',
        `Elasticsearch statistics are not available for platform datasources (type: ${row.index_type}). This feature is only supported for regular datasources.`,
        'Platform datasources use a different indexing mechanism that does not provide Elasticsearch statistics.',
      );
    }
    if ((await this.d.store.chunkCount(row.id)) === 0) {
      throw new ApiError(
        404,
        'Elasticsearch statistics not available',
        `Unable to retrieve Elasticsearch statistics for index '${row.id}'. The index may not exist in Elasticsearch yet.`,
        'Ensure the datasource has been indexed successfully. If the datasource was recently created, wait for indexing to complete.',
      );
    }
    return { index_name: indexName(row), size_in_bytes: await this.d.store.storedBytes(row.id) };
  }

  /** Ranked chunks of a datasource for a query (the search tool, the direct route, the bench). */
  async rank(row: DatasourceRow, query: string, topK: number, mode: SearchMode = 'hybrid') {
    const pool = topK * 3;
    const text = mode === 'vector' ? [] : await this.d.search.fulltext(row.id, query, pool);
    let vec: string[] = [];
    const emb = this.d.llm.embeddings;
    if (mode !== 'fulltext' && row.embedding_dims && row.embeddings_model && emb) {
      try {
        const [qv] = await emb.embed(row.embeddings_model, [query]);
        if (qv && qv.length === row.embedding_dims) vec = await this.d.search.vector(row.id, qv, pool, datasourceVersion(row));
      } catch (err) {
        this.d.log.warn({ err: (err as Error).message, datasource: row.id }, 'query embedding failed; full-text results only');
      }
    }
    const ids = mode === 'fulltext' ? text.slice(0, topK) : mode === 'vector' ? vec.slice(0, topK) : fuse([text, vec], topK);
    return this.d.search.hits(ids);
  }

  /** The search tool's text for a query (also POST /v1/index/{id}/search). */
  async searchText(row: DatasourceRow, query: string): Promise<string> {
    const hits = await this.rank(row, query, this.d.topK);
    const totals = await this.d.store.sourceTotals(row.id, [...new Set(hits.map((h) => h.source))]);
    return formatResults(hits, totals);
  }

  async directSearch(user: AuthUser, id: string, query: string) {
    const row = await this.d.store.get(id);
    if (!row) throw datasourceNotFound(id);
    requireKb(user, row, 'read', 'search');
    try {
      return { output: await this.searchText(row, query), error: null, metadata: null };
    } catch (err) {
      this.d.log.error({ err, datasource: id }, 'datasource search failed');
      return { output: null, error: `An error occurred while search over datasource: ${(err as Error).message}`, metadata: null };
    }
  }

  /** GET /v1/assistants/context: what the caller may attach in a project (rows without errors). */
  async contextFor(user: AuthUser, project: string) {
    const rows = (await this.d.store.inProject(project)).filter((r) => r.error === 0 && kbAbilities(user, r).includes('read'));
    return rows.map((r) => ({ name: r.repo_name, context_type: contextTypeOf(r.index_type), id: r.id }));
  }

  detail(row: DatasourceRow, user: AuthUser, files: FileRow[]): DatasourceWire {
    const processed = parseList(row.processed_files).sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
    const shownProcessed = processed.length > 1000 ? [...processed.slice(0, 999), 'and more files...'] : processed;
    const info = fromJson<Record<string, unknown>>(row.processing_info, {});
    return {
      ...listItem(row, user),
      description: row.description,
      embeddings_model: row.embeddings_model,
      summarization_model: this.d.llm.listModels().find((m) => m.default)?.base_name ?? null,
      prompt: null,
      branch: null,
      files_filter: '',
      google_doc_link: '',
      docs_generation: false,
      vcs_type: 'git',
      processed_files: shownProcessed,
      uploaded_files: parseList(row.uploaded_files),
      processing_info: { ...info, filtered_documents: null },
      tokens_usage: null,
      updated_by: fromJson(row.updated_by, null),
      confluence: null,
      azure_devops_wiki: null,
      azure_devops_work_item: null,
      provider_fields: null,
      bedrock: null,
      guardrail_assignments: fromJson<unknown[] | null>(row.guardrail_assignments, null) ?? [],
      last_reindex_date: null,
      last_reindex_triggered_at: row.last_reindex_triggered_at,
      timezone: 'UTC',
      lifecycle_state: 'ACTIVE',
      file_statuses: files
        .filter((f) => f.status !== 'removed')
        .map((f) => ({
          name: f.name,
          status: f.status as 'pending' | 'indexed' | 'skipped' | 'failed',
          error: f.error,
          chunks: Number(f.chunks),
          size: Number(f.size),
        })),
    };
  }
}

function fileOptions(i: FileOptions): FileOptions {
  return {
    csv_separator: i.csv_separator ?? null,
    csv_start_row: i.csv_start_row ?? null,
    csv_rows_per_document: i.csv_rows_per_document ?? 1,
    include_email_attachments: i.include_email_attachments ?? true,
  };
}

/** The reference's vector index name: `<project>-<name>` lower-cased, other characters → `_`. */
export function indexName(row: Pick<DatasourceRow, 'project_name' | 'repo_name'>): string {
  return `${row.project_name}-${row.repo_name}`.toLowerCase().replace(/[^a-z0-9_.-]/g, '_');
}

export function listItem(row: DatasourceRow, user: AuthUser): DatasourceListWire {
  const createdBy = fromJson<{ id: string; username?: string; name?: string }>(row.created_by, { id: row.created_by_id });
  return {
    id: row.id,
    project_name: row.project_name,
    display_name: null,
    repo_name: row.repo_name,
    index_type: row.index_type,
    created_by: { id: createdBy.id, username: createdBy.username ?? '', name: createdBy.name ?? '' },
    project_space_visible: row.project_space_visible === 1,
    link: null,
    date: row.date,
    update_date: row.update_date,
    setting_id: row.setting_id,
    text: row.text,
    full_name: `${row.id}-${row.project_name}-${row.repo_name}-${row.index_type}`,
    current_state: Number(row.current_state),
    complete_state: Number(row.complete_state),
    current__chunks_state: Number(row.current_chunks_state),
    error: row.error === 1,
    completed: row.completed === 1,
    is_fetching: row.is_fetching === 1,
    is_queued: row.is_queued === 1,
    user_abilities: kbAbilities(user, row),
    jira: null,
    xray: null,
    sharepoint: null,
    aice_datasource_id: null,
    cron_expression: null,
  };
}

export { ACCESS_HELP };
