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

/** Files prepared and stored together at most (their chunks are embedded in full batches). */
const GROUP_FILES = 200;

interface Prepared {
  file: FileRow;
  chunks: DatasourceChunksTable[];
  status: 'indexed' | 'skipped' | 'failed';
  error: string | null;
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
      // Files go in groups: their chunks are embedded in full batches and stored in one
      // transaction, and the progress counters are written once per group.
      for (let i = 0; i < pending.length;) {
        if (signal.aborted) return;
        const current = await store.get(ds.id);
        if (!current) return;
        const group: Prepared[] = [];
        let chunkCount = 0;
        while (i < pending.length && group.length < GROUP_FILES && (chunkCount < this.d.embedBatch || !group.length)) {
          const file = pending[i++];
          await this.d.beforeFile?.(current, file);
          if (signal.aborted) return;
          const prepared = await this.prepare(current, file);
          chunkCount += prepared.chunks.length;
          group.push(prepared);
        }
        await this.embedAndStore(current, group, signal);
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

  /** Extracts and chunks one file (no I/O besides reading it). */
  private async prepare(ds: DatasourceRow, file: FileRow): Promise<Prepared> {
    const options = fromJson<FileOptions>(file.options, {});
    const extractOptions: ExtractOptions = {
      csvSeparator: options.csv_separator,
      csvStartRow: options.csv_start_row,
      csvRowsPerDocument: options.csv_rows_per_document,
    };
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
        const error = docs.length ? 'The file has no text.' : `No text could be extracted from '.${extensionOf(file.name) || 'bin'}' files.`;
        return { file, chunks, status: 'skipped', error };
      }
      return { file, chunks, status: 'indexed', error: null };
    } catch (err) {
      if (!(err instanceof ExtractionError)) this.d.log.warn({ err, datasource: ds.id, file: file.name }, 'knowledge file failed');
      return { file, chunks: [], status: err instanceof ExtractionError ? 'skipped' : 'failed', error: (err as Error).message };
    }
  }

  /** Embeds the group's chunks (in batches) and stores them with the files' outcome, in one transaction. */
  private async embedAndStore(ds: DatasourceRow, group: Prepared[], signal: AbortSignal): Promise<void> {
    const all = group.flatMap((g) => g.chunks);
    let dims = ds.embedding_dims ? Number(ds.embedding_dims) : null;
    let embedWarning: string | null = null;
    if (all.length && ds.embeddings_model && this.d.llm.embeddings) {
      try {
        for (let i = 0; i < all.length; i += this.d.embedBatch) {
          if (signal.aborted) return;
          const batch = all.slice(i, i + this.d.embedBatch);
          const vectors = await this.d.llm.embeddings.embed(
            ds.embeddings_model,
            batch.map((c) => c.text),
            signal,
          );
          vectors.forEach((v, j) => {
            dims ??= v.length;
            if (v.length === dims) batch[j].embedding = toBlob(v);
          });
        }
      } catch (err) {
        if (signal.aborted) return;
        for (const c of all) c.embedding = null;
        embedWarning = `Embeddings are unavailable (${(err as Error).message}); the file is searchable by full text only.`;
        this.d.log.warn({ datasource: ds.id, err: (err as Error).message }, 'embedding failed; chunks stored without vectors');
      }
    }
    const ids = group.map((g) => g.file.id);
    await this.d.store.db.transaction().execute(async (tx) => {
      const still = new Set(
        (await tx.selectFrom('datasource_files').select(['id', 'status']).where('id', 'in', ids).execute())
          .filter((r) => r.status === 'pending')
          .map((r) => r.id),
      );
      const live = group.filter((g) => still.has(g.file.id)); // others were removed meanwhile
      if (!live.length) return;
      await tx
        .deleteFrom('datasource_chunks')
        .where(
          'file_id',
          'in',
          live.map((g) => g.file.id),
        )
        .execute();
      const rows = live.flatMap((g) => g.chunks);
      for (let i = 0; i < rows.length; i += 200)
        await tx
          .insertInto('datasource_chunks')
          .values(rows.slice(i, i + 200))
          .execute();
      for (const g of live) {
        await tx
          .updateTable('datasource_files')
          .set({ status: g.status, error: g.error ?? (g.chunks.length ? embedWarning : null), chunks: g.chunks.length })
          .where('id', '=', g.file.id)
          .execute();
      }
      if (dims && !ds.embedding_dims) await tx.updateTable('datasources').set({ embedding_dims: dims }).where('id', '=', ds.id).execute();
    });
    if (dims && !ds.embedding_dims) ds.embedding_dims = dims;
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
        : {
            completed: 1,
            error: 0,
            text: '',
            is_fetching: 0,
            is_queued: 0,
            complete_state: Number(ds.current_state),
            last_reindex_triggered_at: now,
            update_date: now,
          };
    const r = await this.d.store.db.updateTable('datasources').set(set).where('id', '=', dsId).where('generation', '=', generation).executeTakeFirst();
    this.d.search.forget(dsId);
    return Number(r.numUpdatedRows) > 0;
  }

  /** The queue gave up on the run: the datasource fails with the reason (never stays in progress). */
  async giveUp(dsId: string, reason: string): Promise<void> {
    await this.progress(dsId, { error: 1, completed: 0, is_fetching: 0, is_queued: 0, text: `Indexing could not be completed: ${reason}` });
  }
}
