/**
 * The knowledge module: datasources (file knowledge bases), their indexing run, search, and the
 * search tools assistants and workflows get. Built before assistants (which take its tools);
 * the assistants using a datasource are looked up through a function the composition root sets.
 */
import multipart from '@fastify/multipart';
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import type { AuthUser } from '../api/auth.js';
import type { AgentTool } from '../llm/tool.js';
import { sendError, toApiError } from '../api/error-handler.js';
import { ApiError } from '../api/errors.js';
import { KnowledgeStore } from './store.js';
import { ChunkSearch } from './search.js';
import { INDEX_RUN_KIND, KnowledgeService } from './service.js';
import { Indexer, type IndexerDeps } from './indexer.js';
import { knowledgeRoutes, uploadRoutes, type DatasourceTypeProvider, type KnowledgeRouteDeps } from './routes.js';
import { contextTools, datasourceTools } from './tool.js';
import { MAX_FILES } from './uploads.js';

export interface KnowledgeServices {
  service: KnowledgeService;
  indexer: Indexer;
  /** Search tools for an assistant's `context` ("Assistant Error" with `missingStatus`, default 500, for names with no datasource). */
  contextTools(project: string, context: unknown, missingStatus?: 400 | 500): Promise<AgentTool[]>;
  /** Search tools for a workflow assistant's `datasource_ids`. */
  datasourceTools(ids: string[], user: AuthUser): Promise<AgentTool[]>;
  /** Plug-in point for other source types (Git, Jira, Confluence, ...). */
  registerType(provider: DatasourceTypeProvider): void;
  /** Set by the composition root: the assistants whose context names a datasource. */
  setAssistantsUsing(fn: KnowledgeRouteDeps['assistantsUsing']): void;
}

export interface KnowledgeModuleOptions {
  /** Test seam (restart recovery tests): runs before each file is indexed. */
  beforeFile?: IndexerDeps['beforeFile'];
}

/** Loads sqlite-vec into the SQLite connection; false when it cannot (vectors are then searched in memory). */
async function loadSqliteVec(infra: Infra): Promise<boolean> {
  const handle = infra.store.sqlite;
  if (!handle) return false;
  try {
    const vec = await import('sqlite-vec');
    vec.load(handle);
    return true;
  } catch (err) {
    infra.log.warn({ err: (err as Error).message }, 'sqlite-vec did not load; knowledge-base vectors are searched in memory');
    return false;
  }
}

export function knowledgeModule(infra: Infra, opts: KnowledgeModuleOptions = {}): Module<KnowledgeServices> {
  const store = new KnowledgeStore(infra.store.db, infra.store.dialect);
  // sqlite-vec is loaded in init (before any search); until then the in-memory path is used.
  let search = new ChunkSearch(store, false);
  const providers = new Map<string, DatasourceTypeProvider>();
  const deps = {
    store,
    get search() {
      return search;
    },
    llm: infra.llm,
    runs: infra.runs,
    log: infra.log,
    dataDir: infra.config.dataDir,
    topK: infra.config.kbSearchTopK,
  };
  const service = new KnowledgeService(deps);
  const indexer = new Indexer({
    store,
    get search() {
      return search;
    },
    llm: infra.llm,
    log: infra.log,
    dataDir: infra.config.dataDir,
    chunkChars: infra.config.kbChunkChars,
    chunkOverlap: infra.config.kbChunkOverlap,
    embedBatch: infra.config.kbEmbedBatch,
    beforeFile: opts.beforeFile,
  });
  let assistantsUsing: KnowledgeRouteDeps['assistantsUsing'] = async () => [];
  const routeDeps: KnowledgeRouteDeps = {
    svc: service,
    llm: infra.llm,
    config: infra.config,
    providers,
    assistantsUsing: (p, n, t) => assistantsUsing(p, n, t),
  };
  return {
    name: 'knowledge',
    services: {
      service,
      indexer,
      contextTools: (project, context, missingStatus) => contextTools(service, project, context, missingStatus),
      datasourceTools: (ids, user) => datasourceTools(service, ids, user),
      registerType: (p) => void providers.set(p.type, p),
      setAssistantsUsing: (fn) => void (assistantsUsing = fn),
    },
    routes: knowledgeRoutes(routeDeps),
    scopes: [
      {
        async setup(app) {
          await app.register(multipart, { throwFileSizeLimit: false, limits: { fileSize: infra.config.filesMaxBytes, files: MAX_FILES + 1 } });
          // The reference names query-string fields `query.<name>` in its 422 messages (Fastify says `querystring`).
          app.setErrorHandler((err, req, reply) => {
            const e = toApiError(err);
            if (e.status === 422 && e.message.includes('querystring.')) {
              const details = Array.isArray(e.details)
                ? e.details.map((x: { loc?: unknown }) => (typeof x.loc === 'string' ? { ...x, loc: x.loc.replace(/^querystring\./, 'query.') } : x))
                : e.details;
              return sendError(reply, new ApiError(422, e.message.replace(/querystring\./g, 'query.'), details, e.help, e.headers));
            }
            if (e.status >= 500) req.log.error({ err }, 'request failed');
            if (reply.sent || reply.raw.headersSent) return;
            return sendError(reply, e);
          });
        },
        routes: uploadRoutes(routeDeps),
      },
    ],
    async init() {
      search = new ChunkSearch(store, await loadSqliteVec(infra));
      infra.runs.register(
        INDEX_RUN_KIND,
        (job, signal) => indexer.run(job, signal),
        (job, reason) => indexer.giveUp(job.runId, reason),
      );
    },
    async started() {
      // Indexing interrupted by a restart (or a dead worker) continues; the queue dedupes by id.
      for (const { id } of await store.unfinished()) await infra.runs.enqueue(INDEX_RUN_KIND, id, null);
      // The local embeddings model is fetched in the background when it is the default and missing.
      const ready = infra.llm.embeddings?.prepareLocal();
      ready?.then(
        (file) => infra.log.info({ file }, 'local embeddings model ready'),
        (err: Error) => infra.log.warn(`${err.message} (knowledge bases use full-text search until it is available)`),
      );
    },
  };
}
