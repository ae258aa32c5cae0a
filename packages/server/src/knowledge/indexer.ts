/**
 * Indexing as a run on the run queue (kind `knowledge-index`, run id = datasource id): removed
 * files lose their chunks, each pending file is extracted, chunked, embedded and stored in one
 * transaction (status indexed / skipped / failed with its reason), and the datasource's progress
 * counters are written after every file. Progress lives in the rows, so a run stopped by a
 * restart or taken over by another worker resumes with the files still pending; a change made
 * while it runs (an update adding files) bumps `generation`, and the run only completes the
 * generation it has seen.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { LlmService } from '../llm/types.js';
import { abortReason, type RunJob } from '../runs/queue.js';
import { fromJson, toJson } from '../store/json.js';
import { newRowId } from '../store/ids.js';
import { splitText } from './chunk.js';
import { extensionOf, extractDocuments, ExtractionError, type ExtractOptions } from './extract.js';
import type { ChunkSearch } from './search.js';
import { toBlob } from './search.js';
import type { DatasourceRow, FileRow, KnowledgeStore } from './store.js';
import type { DatasourceChunksTable } from './tables.js';
import type { FileOptions } from './service.js';

export interface IndexerDeps {
  store: KnowledgeStore;
  search: ChunkSearch;
  llm: LlmService;
  log: FastifyBaseLogger;
  dataDir: string;
  chunkChars: number;
  chunkOverlap: number;
  embedBatch: number;
  /** Test seam: called before each file is processed. */
  beforeFile?: (ds: DatasourceRow, file: FileRow) => Promise<void>;
}

export const noChunksMessage = (name: string) =>
  `No chunks were imported for datasource '${name}'. All files were skipped or failed to process. Please check your files and try again.`;

export class Indexer {
  constructor(private readonly d: IndexerDeps) {}

  private filePath(dsId: string, fileId: string) {
    return path.join(this.d.dataDir, 'knowledge', dsId, fileId);
  }

  async run(job: RunJob, signal: AbortSignal): Promise<void> {
    const { store } = this.d;
    for (let pass = 0; pass < 100; pass++) {
      const ds = await store.get(job.runId);
      if (!ds || ds.completed === 1 || ds.error === 1) return; // deleted, or nothing to do
      const generation = Number(ds.generation);
      await this.dropRemoved(ds);
      const pending = (await store.files(ds.id)).filter((f) => f.status === 'pending');
      if (pending.length && Number(ds.current_state) === 0 && Number(ds.current_chunks_state) === 0) {
        await this.progress(ds.id, { is_fetching: 1, is_queued: 0 });
      }
      await this.refresh(ds.id, { is_fetching: 0 });
      for (const file of pending) {
        if (signal.aborted) return;
        const current = await store.get(ds.id);
        if (!current) return;
        await this.d.beforeFile?.(current, file);
        if (signal.aborted) return;
        await this.indexFile(current, file, signal);
        if (abortReason(signal)) return;
        await this.refresh(ds.id, {});
      }
      if (signal.aborted) return;
      if (await this.finish(ds.id, generation)) return;
    }
  }

  /** Chunks and bytes of files an update removed (or replaced). */
  private async dropRemoved(ds: DatasourceRow): Promise<void> {
    const removed = (await this.d.store.files(ds.id)).filter((f) => f.status === 'removed');
    if (!removed.length) return;
    const ids = removed.map((f) => f.id);
    await this.d.store.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('datasource_chunks').where('file_id', 'in', ids).execute();
      await tx.deleteFrom('datasource_files').where('id', 'in', ids).execute();
    });
    await Promise.all(ids.map((id) => rm(this.filePath(ds.id, id), { force: true })));
    this.d.search.forget(ds.id);
  }

  private async indexFile(ds: DatasourceRow, file: FileRow, signal: AbortSignal): Promise<void> {
    const options = fromJson<FileOptions>(file.options, {});
    const extractOptions: ExtractOptions = {
      csvSeparator: options.csv_separator,
      csvStartRow: options.csv_start_row,
      csvRowsPerDocument: options.csv_rows_per_document,
    };
    let status: 'indexed' | 'skipped' | 'failed' = 'indexed';
    let error: string | null = null;
    const chunks: DatasourceChunksTable[] = [];
    try {
      const bytes = await readFile(this.filePath(ds.id, file.id));
      const docs = await extractDocuments(file.name, bytes, extractOptions);
      let n = 0;
      for (const doc of docs) {
        for (const text of splitText(doc.text, this.d.chunkChars, this.d.chunkOverlap)) {
          n++;
          chunks.push({
            id: newRowId(),
            datasource_id: ds.id,
            file_id: file.id,
            source: file.name,
            chunk_num: n,
            text,
            metadata: toJson({ ...doc.metadata, source: file.name, chunk_num: n }),
            embedding: null,
          });
        }
      }
      if (!chunks.length) {
        status = 'skipped';
        error = docs.length ? 'The file has no text.' : `No text could be extracted from '.${extensionOf(file.name) || 'bin'}' files.`;
      }
    } catch (err) {
      status = err instanceof ExtractionError ? 'skipped' : 'failed';
      error = (err as Error).message;
      chunks.length = 0;
      if (!(err instanceof ExtractionError)) this.d.log.warn({ err, datasource: ds.id, file: file.name }, 'knowledge file failed');
    }
    let dims = ds.embedding_dims ? Number(ds.embedding_dims) : null;
    let embedWarning: string | null = null;
    if (chunks.length && ds.embeddings_model && this.d.llm.embeddings) {
      try {
        for (let i = 0; i < chunks.length; i += this.d.embedBatch) {
          if (signal.aborted) return;
          const batch = chunks.slice(i, i + this.d.embedBatch);
          const vectors = await this.d.llm.embeddings.embed(ds.embeddings_model, batch.map((c) => c.text), signal);
          vectors.forEach((v, j) => {
            dims ??= v.length;
            if (v.length === dims) batch[j].embedding = toBlob(v);
          });
        }
      } catch (err) {
        if (signal.aborted) return;
        for (const c of chunks) c.embedding = null;
        embedWarning = `Embeddings are unavailable (${(err as Error).message}); '${file.name}' is searchable by full text only.`;
        this.d.log.warn({ datasource: ds.id, file: file.name, err: (err as Error).message }, 'embedding failed; chunks stored without vectors');
      }
    }
    await this.d.store.db.transaction().execute(async (tx) => {
      const still = await tx.selectFrom('datasource_files').select('status').where('id', '=', file.id).executeTakeFirst();
      if (!still || still.status !== 'pending') return; // removed meanwhile
      await tx.deleteFrom('datasource_chunks').where('file_id', '=', file.id).execute();
      for (let i = 0; i < chunks.length; i += 200) await tx.insertInto('datasource_chunks').values(chunks.slice(i, i + 200)).execute();
      await tx.updateTable('datasource_files').set({ status, error: error ?? embedWarning, chunks: chunks.length }).where('id', '=', file.id).execute();
      if (dims && !ds.embedding_dims) await tx.updateTable('datasources').set({ embedding_dims: dims }).where('id', '=', ds.id).execute();
    });
  }

  /** Counters recomputed from the files and chunks (never drift across resumes). */
  private async refresh(dsId: string, extra: Record<string, number>): Promise<void> {
    const files = (await this.d.store.files(dsId)).filter((f) => f.status !== 'removed');
    const done = files.filter((f) => f.status === 'indexed');
    const skipped = files.filter((f) => f.status === 'skipped').length;
    const failed = files.filter((f) => f.status === 'failed');
    const chunks = await this.d.store.chunkCount(dsId);
    const totalBytes = files.reduce((n, f) => n + Number(f.size), 0);
    const warnings = files.filter((f) => f.status === 'indexed' && f.error).map((f) => f.error!);
    const info: Record<string, unknown> = {
      documents_count_key: done.length,
      total_documents: files.length,
      skipped_documents: skipped,
      ...(failed.length ? { failed_documents: failed.length } : {}),
      total_size_kb: Math.round((totalBytes / 1024) * 100) / 100,
      average_file_size_bytes: files.length ? Math.round(totalBytes / files.length) : 0,
      unique_extensions: [...new Set(files.map((f) => extensionOf(f.name)).filter(Boolean))].sort(),
      failed_files: files.filter((f) => f.status === 'failed' || f.status === 'skipped').map((f) => ({ name: f.name, status: f.status, error: f.error })),
      ...(warnings.length ? { embedding_warning: warnings[0] } : {}),
    };
    await this.progress(dsId, {
      ...extra,
      current_state: done.length,
      complete_state: files.length,
      current_chunks_state: chunks,
      processed_files: toJson(done.map((f) => f.name)),
      processing_info: toJson(info),
    });
  }

  private async progress(dsId: string, set: Record<string, unknown>): Promise<void> {
    await this.d.store.db
      .updateTable('datasources')
      .set({ ...set, update_date: new Date().toISOString() })
      .where('id', '=', dsId)
      .execute();
  }

  /** Completes (or fails, when nothing was imported) the generation seen; false when newer work arrived. */
  private async finish(dsId: string, generation: number): Promise<boolean> {
    const ds = await this.d.store.get(dsId);
    if (!ds) return true;
    const chunks = Number(ds.current_chunks_state);
    const now = new Date().toISOString();
    const set =
      chunks === 0
        ? { error: 1, completed: 0, text: noChunksMessage(ds.repo_name), is_fetching: 0, is_queued: 0, update_date: now }
        : { completed: 1, error: 0, text: '', is_fetching: 0, is_queued: 0, complete_state: Number(ds.current_state), last_reindex_triggered_at: now, update_date: now };
    const r = await this.d.store.db.updateTable('datasources').set(set).where('id', '=', dsId).where('generation', '=', generation).executeTakeFirst();
    this.d.search.forget(dsId);
    return Number(r.numUpdatedRows) > 0;
  }

  /** The queue gave up on the run: the datasource fails with the reason (never stays in progress). */
  async giveUp(dsId: string, reason: string): Promise<void> {
    await this.progress(dsId, { error: 1, completed: 0, is_fetching: 0, is_queued: 0, text: `Indexing could not be completed: ${reason}` });
  }
}
