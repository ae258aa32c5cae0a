/**
 * Retrieval over one datasource: full-text (SQLite FTS5 BM25 / PostgreSQL ts_rank_cd, Porter
 * stemming, any query word may match), nearest neighbours by cosine similarity of the chunks'
 * embeddings (sqlite-vec's vec_distance_cosine on SQLite when it loads, else exact search in
 * memory over the datasource's vectors), and hybrid ranking of the two by reciprocal rank fusion
 * (k = 60). The text handed to the model follows the reference's search_kb output.
 */
import { sql } from 'kysely';
import type { KnowledgeStore, DatasourceRow } from './store.js';
import { fromJson } from '../store/json.js';
import { trackCache } from '../metrics/caches.js';

export type SearchMode = 'fulltext' | 'vector' | 'hybrid';

export interface Hit {
  id: string;
  source: string;
  chunk_num: number;
  text: string;
  metadata: Record<string, unknown>;
}

export const RRF_K = 60;
/** The reference's limit of parts for which a whole document may be retrieved. */
export const FULL_RETRIEVAL_LIMIT = 20;

/** English stop words (PostgreSQL's `english` configuration drops them itself; FTS5 does not). */
const STOP_WORDS = new Set(
  'a about above after again against all am an and any are as at be because been before being below between both but by can could did do does doing down during each few for from further had has have having he her here hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or other our ours out over own same she should so some such than that the their theirs them then there these they this those through to too under until up very was we were what when where which while who whom why will with would you your yours'.split(
    ' ',
  ),
);

/** Query words as full-text terms (letters and digits only: nothing of FTS5's or tsquery's syntax gets through). */
export function queryTerms(query: string): string[] {
  const words = (query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => !STOP_WORDS.has(w));
  return [...new Set(words)].slice(0, 64);
}

export function toBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function fromBlob(b: Buffer | Uint8Array): Float32Array {
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Float32Array(copy.buffer);
}

interface VectorCache {
  key: string;
  ids: string[];
  dims: number;
  mat: Float32Array;
  norms: Float32Array;
}

/** Datasources whose vectors are kept in memory at once (PostgreSQL without pgvector). */
const VECTOR_CACHE_MAX = 16;

export class ChunkSearch {
  private readonly cache = new Map<string, VectorCache>();

  constructor(
    private readonly store: KnowledgeStore,
    /** sqlite-vec is loaded into the SQLite connection. */
    private readonly sqliteVec: boolean,
  ) {
    trackCache('datasource_vectors', this, (c) => c.cache.size, VECTOR_CACHE_MAX);
  }

  async fulltext(dsId: string, query: string, limit: number): Promise<string[]> {
    const terms = queryTerms(query);
    if (!terms.length) return [];
    const db = this.store.db;
    if (this.store.dialect === 'sqlite') {
      const match = terms.map((t) => `"${t}"`).join(' OR ');
      const r = await sql<{ id: string }>`select c.id as id from datasource_chunks_fts f join datasource_chunks c on c.rowid = f.rowid
        where datasource_chunks_fts match ${match} and c.datasource_id = ${dsId} order by bm25(datasource_chunks_fts) limit ${limit}`.execute(db);
      return r.rows.map((x) => x.id);
    }
    const tsq = terms.join(' | ');
    const r = await sql<{ id: string }>`select id from datasource_chunks, to_tsquery('english', ${tsq}) q
      where datasource_id = ${dsId} and tsv @@ q order by ts_rank_cd(tsv, q) desc, id limit ${limit}`.execute(db);
    return r.rows.map((x) => x.id);
  }

  async vector(dsId: string, qv: Float32Array, limit: number, version: string): Promise<string[]> {
    if (this.sqliteVec) {
      const r = await sql<{ id: string }>`select id from datasource_chunks where datasource_id = ${dsId} and embedding is not null
        and length(embedding) = ${qv.byteLength} order by vec_distance_cosine(embedding, ${toBlob(qv)}) limit ${limit}`.execute(this.store.db);
      return r.rows.map((x) => x.id);
    }
    const c = await this.vectors(dsId, version, qv.length);
    if (!c.ids.length) return [];
    let qn = 0;
    for (let d = 0; d < c.dims; d++) qn += qv[d] * qv[d];
    qn = Math.sqrt(qn) || 1;
    const scores = new Float32Array(c.ids.length);
    for (let i = 0; i < c.ids.length; i++) {
      let dot = 0;
      const off = i * c.dims;
      for (let d = 0; d < c.dims; d++) dot += c.mat[off + d] * qv[d];
      scores[i] = dot / (c.norms[i] * qn);
    }
    // The best `limit` by insertion into a short sorted list (no sort of every score).
    const top: number[] = [];
    for (let i = 0; i < scores.length; i++) {
      if (top.length === limit && scores[i] <= scores[top[limit - 1]]) continue;
      let j = top.length < limit ? top.length : limit - 1;
      while (j > 0 && scores[top[j - 1]] < scores[i]) {
        top[j] = top[j - 1];
        j--;
      }
      top[j] = i;
    }
    return top.map((i) => c.ids[i]);
  }

  /** The datasource's vectors in memory (PostgreSQL without pgvector), reloaded when it changed. */
  private async vectors(dsId: string, version: string, dims: number): Promise<VectorCache> {
    const hit = this.cache.get(dsId);
    if (hit && hit.key === version && hit.dims === dims) {
      this.cache.delete(dsId);
      this.cache.set(dsId, hit); // most recently used last
      return hit;
    }
    const rows = await this.store.db
      .selectFrom('datasource_chunks')
      .select(['id', 'embedding'])
      .where('datasource_id', '=', dsId)
      .where('embedding', 'is not', null)
      .execute();
    const usable = rows.filter((r) => r.embedding && r.embedding.byteLength === dims * 4);
    const mat = new Float32Array(usable.length * dims);
    const norms = new Float32Array(usable.length);
    usable.forEach((r, i) => {
      const v = fromBlob(r.embedding!);
      mat.set(v, i * dims);
      let n = 0;
      for (let d = 0; d < dims; d++) n += v[d] * v[d];
      norms[i] = Math.sqrt(n) || 1;
    });
    const c = { key: version, ids: usable.map((r) => r.id), dims, mat, norms };
    this.cache.set(dsId, c);
    while (this.cache.size > VECTOR_CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    return c;
  }

  forget(dsId: string): void {
    this.cache.delete(dsId);
  }

  async hits(ids: string[]): Promise<Hit[]> {
    if (!ids.length) return [];
    const rows = await this.store.db.selectFrom('datasource_chunks').select(['id', 'source', 'chunk_num', 'text', 'metadata']).where('id', 'in', ids).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids
      .map((id) => byId.get(id))
      .filter((r): r is NonNullable<typeof r> => !!r)
      .map((r) => ({ id: r.id, source: r.source, chunk_num: Number(r.chunk_num), text: r.text, metadata: fromJson<Record<string, unknown>>(r.metadata, {}) }));
  }
}

/** Reciprocal rank fusion of ranked id lists. */
export function fuse(lists: string[][], limit: number, k = RRF_K): string[] {
  const score = new Map<string, number>();
  for (const list of lists) list.forEach((id, rank) => score.set(id, (score.get(id) ?? 0) + 1 / (k + rank + 1)));
  return [...score.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, limit)
    .map(([id]) => id);
}

export function datasourceVersion(ds: Pick<DatasourceRow, 'update_date' | 'current_chunks_state' | 'generation'>): string {
  return `${ds.generation}:${ds.current_chunks_state}:${ds.update_date}`;
}

const COVERAGE = '**Coverage:** ';
const INCOMPLETE =
  '###NOTICE###\nSome parts of the documents listed above are not included in this result. To obtain a missing part, call this tool again with a narrower query naming the section or topic you need. Do not supply the missing content from your own knowledge.';
const OVER_LIMIT =
  '###NOTICE###\nSome documents above exceed the full-retrieval limit, so no single result can include all of their parts. A narrower query returns the parts most relevant to it, but repeated queries are not guaranteed to reconstruct such a document in full. Do not supply missing content from your own knowledge.';
const UNVERIFIED =
  '###NOTICE###\nCoverage of the documents listed above could not be verified, so parts may be missing. To obtain a specific section, call this tool again with a narrower query naming it. Do not supply missing content from your own knowledge.';

/**
 * The tool's output, as the reference's search_kb formats it: the routed sources (a Python list;
 * `[]` since routing is off), one coverage line per source, notices, then each chunk as a
 * `###SOURCE DOCUMENT###` block naming `<file>-<chunk number>`.
 */
export function formatResults(hits: Hit[], totals: Map<string, number>, routed: string[] = []): string {
  const shown = new Map<string, number>();
  for (const h of hits) shown.set(h.source, (shown.get(h.source) ?? 0) + 1);
  const lines: string[] = [];
  const flags = new Set<string>();
  for (const [source, count] of shown) {
    const total = totals.get(source);
    if (!total) {
      lines.push(`${COVERAGE}${source}: ${count} parts included, total not verified`);
      flags.add('unverified');
    } else if (total > FULL_RETRIEVAL_LIMIT) {
      lines.push(`${COVERAGE}${source}: ${count} of ${total} parts included (document exceeds the ${FULL_RETRIEVAL_LIMIT}-part full-retrieval limit)`);
      if (count < total) flags.add('over_limit');
    } else {
      lines.push(`${COVERAGE}${source}: ${count} of ${total} parts included`);
      if (count < total) flags.add('incomplete');
    }
  }
  if (flags.has('incomplete')) lines.push(INCOMPLETE);
  if (flags.has('over_limit')) lines.push(OVER_LIMIT);
  if (flags.size === 1 && flags.has('unverified')) lines.push(UNVERIFIED);
  const prefix = `[${routed.map((s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(', ')}]\n`;
  const body = hits.map((h) => `\n###SOURCE DOCUMENT###\n**Source:**${h.source}-${h.chunk_num}\n**File Content:** \n${h.text}\n`).join('\n');
  const head = lines.length ? prefix + lines.join('\n') : prefix.replace(/\n$/, '');
  return [head, body].filter(Boolean).join('\n');
}
