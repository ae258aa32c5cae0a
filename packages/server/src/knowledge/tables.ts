/**
 * Knowledge bases ("datasources", the reference's IndexInfo): one row per datasource, its
 * uploaded files (bytes under CODEMIE_DATA_DIR/knowledge/<datasource id>/<file id>) and the
 * chunks they were split into, with their embeddings. Full-text search: an FTS5 table on SQLite,
 * a tsvector column on PostgreSQL (migration 0070).
 */
export interface DatasourcesTable {
  id: string;
  project_name: string;
  repo_name: string;
  /** lower(repo_name): names are unique per project, case-insensitively. */
  name_key: string;
  index_type: string;
  description: string;
  embeddings_model: string | null;
  /** Vector size of the chunks' embeddings (null: no vectors). */
  embedding_dims: number | null;
  created_by_id: string;
  /** JSON {id, username, name} */
  created_by: string;
  updated_by: string | null;
  project_space_visible: number;
  date: string;
  update_date: string;
  current_state: number;
  complete_state: number;
  current_chunks_state: number;
  /** JSON string[] */
  processed_files: string;
  /** JSON string[] */
  uploaded_files: string;
  error: number;
  completed: number;
  is_fetching: number;
  is_queued: number;
  text: string;
  /** JSON object */
  processing_info: string;
  /** JSON: csv options and the like of this datasource's files */
  settings: string;
  guardrail_assignments: string | null;
  setting_id: string | null;
  last_reindex_triggered_at: string | null;
  /** Bumped by every change of the work to do; a run completes only the generation it saw. */
  generation: number;
}

export type FileStatus = 'pending' | 'indexed' | 'skipped' | 'failed' | 'removed';

export interface DatasourceFilesTable {
  id: string;
  datasource_id: string;
  name: string;
  mime_type: string;
  size: number;
  owner_id: string;
  status: string;
  error: string | null;
  chunks: number;
  /** JSON: extraction options (csv separator, ...) given with this upload */
  options: string;
  date: string;
}

export interface DatasourceChunksTable {
  id: string;
  datasource_id: string;
  file_id: string;
  source: string;
  chunk_num: number;
  text: string;
  /** JSON metadata: source, chunk_num, page, total_pages, row, ... */
  metadata: string;
  /** float32 little-endian vector (null: not embedded) */
  embedding: Buffer | null;
}

export interface KnowledgeTables {
  datasources: DatasourcesTable;
  datasource_files: DatasourceFilesTable;
  datasource_chunks: DatasourceChunksTable;
}

declare module '../store/schema.js' {
  interface Database extends KnowledgeTables {}
}
