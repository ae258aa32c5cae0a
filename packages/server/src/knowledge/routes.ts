/**
 * The datasource routes (reference routers/index.py, file knowledge bases): create / update with
 * multipart `files` and every other field in the query string, list, get, delete, search,
 * health, statistics, the assistants using one, plus GET /v1/embeddings_models and
 * GET /v1/assistants/context. Third-party source types answer 400 unless a plug-in provides them.
 */
import { z } from 'zod';
import { ApiError, badRequest } from '../api/errors.js';
import { defineRoute, type Route } from '../api/route.js';
import { parseFilters } from '../api/pagination.js';
import { messageSchema } from '../api/schemas.js';
import type { Config } from '../config/config.js';
import type { LlmService } from '../llm/types.js';
import { llmModelSchema } from '../llm/routes.js';
import type { AuthUser } from '../api/auth.js';
import type { FastifyRequest } from 'fastify';
import { assistantRefSchema, contextItemSchema, datasourceListSchema, datasourceSchema, healthSchema, statsSchema, toolInvokeSchema } from './responses.js';
import type { KnowledgeService } from './service.js';
import { stageUploads } from './uploads.js';
import type { ListQuery } from './store.js';
import { formatFileSize } from './uploads.js';

const TRUE = new Set(['true', '1', 'yes', 'on', 't', 'y']);
const FALSE = new Set(['false', '0', 'no', 'off', 'f', 'n']);
/** A boolean as pydantic reads one from a query string (any case). */
const pyBool = () =>
  z
    .string()
    .refine((v) => TRUE.has(v.toLowerCase()) || FALSE.has(v.toLowerCase()), 'Input should be a valid boolean, unable to interpret input')
    .transform((v) => TRUE.has(v.toLowerCase()));
const pyInt = () =>
  z
    .string()
    .regex(/^-?\d+$/, 'Input should be a valid integer, unable to parse string as an integer')
    .transform(Number);
const required = 'Field required';

const namePattern = /^[a-zA-Z0-9][\w-]*$/;
const createQuery = z.object({
  name: z
    .string({ error: required })
    .min(4, 'String should have at least 4 characters')
    .max(50, 'String should have at most 50 characters')
    .regex(namePattern, "String should match pattern '^[a-zA-Z0-9][\\w-]*$'"),
  project_name: z.string({ error: required }).min(1, 'String should have at least 1 character').max(200),
  description: z.string({ error: required }).min(1, 'String should have at least 1 character').max(500, 'String should have at most 500 characters'),
  project_space_visible: pyBool().default(false),
  guardrail_assignments: z.string().optional(),
  csv_separator: z.string().max(10).optional(),
  csv_start_row: pyInt().optional(),
  csv_rows_per_document: pyInt().default(1),
  embedding_model: z.string().max(200).optional(),
  embeddings_model: z.string().max(200).optional(),
  include_email_attachments: pyBool().default(true),
});

const updateQuery = z.object({
  name: z.string({ error: required }).min(1, 'String should have at least 1 character').max(500, 'String should have at most 500 characters'),
  project_name: z.string({ error: required }).min(1, 'String should have at least 1 character').max(200),
  uploaded_files: z.string().optional(),
  description: z.string().max(500, 'String should have at most 500 characters').optional(),
  project_space_visible: pyBool().optional(),
  new_project_name: z.string().max(200).optional(),
  guardrail_assignments: z.string().optional(),
  csv_separator: z.string().max(10).optional(),
  csv_start_row: pyInt().optional(),
  csv_rows_per_document: pyInt().default(1),
  include_email_attachments: pyBool().default(true),
  embedding_model: z.string().max(200).optional(),
});

const listQuery = z.object({
  filters: z.string().max(10_000).optional(),
  sort_key: z.enum(['date', 'update_date']).default('update_date'),
  sort_order: z.enum(['asc', 'desc']).default('desc'),
  page: z.coerce.number().int().min(0).default(0),
  per_page: z.coerce.number().int().min(1).max(1000).default(10),
  full_response: pyBool().default(false),
});

const idParams = z.object({ index_id: z.string().min(1).max(100) });
const searchParams = z.object({ datasource_id: z.string().min(1).max(100) });

function parseGuardrails(raw: string | undefined): unknown[] | null {
  if (raw === undefined || raw === '') return null;
  const bad = () =>
    badRequest('Invalid guardrail_assignments parameter', 'Failed to parse guardrail_assignments.', 'Ensure guardrail_assignments is a valid JSON array.');
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw bad();
  }
  if (!Array.isArray(v) || !v.every((x) => x && typeof x === 'object' && typeof (x as { guardrail_id?: unknown }).guardrail_id === 'string')) throw bad();
  return v;
}

function parseKeep(raw: string | undefined): string[] | null {
  if (raw === undefined) return null;
  const bad = () =>
    badRequest('Invalid uploaded_files parameter', 'Failed to parse uploaded_files.', 'Ensure uploaded_files is a valid JSON array of file name strings.');
  try {
    const v = JSON.parse(raw) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  } catch {
    /* below */
  }
  throw bad();
}

const STATUSES = ['completed', 'failed', 'in_progress', 'queued', 'fetching'] as const;
const asList = (v: unknown): string[] | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  const list = (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string' && x !== '');
  return list.length ? list : undefined;
};

function listFilters(raw: string | undefined): Omit<ListQuery, 'visibility' | 'sortKey' | 'sortOrder' | 'offset' | 'limit'> {
  const f = parseFilters(raw, 'Filters must be a valid encoded JSON object.');
  const out: Omit<ListQuery, 'visibility' | 'sortKey' | 'sortOrder' | 'offset' | 'limit'> = {};
  if (typeof f.name === 'string' && f.name) out.name = f.name;
  out.projects = asList(f.project);
  out.indexTypes = asList(f.index_type);
  if (typeof f.created_by === 'string' && f.created_by) out.createdBy = f.created_by;
  if (f.date_range && typeof f.date_range === 'object') {
    const d = f.date_range as { start_date?: string; end_date?: string };
    out.dateFrom = typeof d.start_date === 'string' && d.start_date ? d.start_date : '2024-01-01';
    if (typeof d.end_date === 'string' && d.end_date) out.dateTo = /T/.test(d.end_date) ? d.end_date : `${d.end_date}T23:59:59.999Z`;
  }
  if (typeof f.is_shared === 'boolean') out.isShared = f.is_shared;
  if (f.status !== undefined && f.status !== null && f.status !== '') {
    const s = String(f.status).toLowerCase();
    if (!(STATUSES as readonly string[]).includes(s)) {
      throw badRequest(
        'Invalid filters',
        `Unknown status '${String(f.status)}'. Use one of: ${STATUSES.join(', ')}.`,
        'Please check the filters and ensure they are in the correct format. ',
      );
    }
    out.status = s as ListQuery['status'];
  }
  return out;
}

/** A source type served by a plug-in (Git, Jira, Confluence, ...): its create / update handlers. */
export interface DatasourceTypeProvider {
  type: string;
  create?(input: { user: AuthUser; req: FastifyRequest; body: unknown; query: unknown }): Promise<unknown>;
  update?(input: { user: AuthUser; req: FastifyRequest; body: unknown; query: unknown }): Promise<unknown>;
}

export function unsupportedType(type: string): ApiError {
  return badRequest(
    'Unsupported datasource type',
    `Datasource type '${type}' is not supported by this server. Supported types: file.`,
    `Upload files with POST /v1/index/knowledge_base/file, or enable a datasource plug-in that provides '${type}'.`,
  );
}

export interface KnowledgeRouteDeps {
  svc: KnowledgeService;
  llm: LlmService;
  config: Config;
  providers: Map<string, DatasourceTypeProvider>;
  assistantsUsing(project: string, name: string, contextType: string): Promise<Array<z.infer<typeof assistantRefSchema>>>;
}

/** Routes that read multipart bodies (registered in the module's own scope, with its multipart plugin). */
export function uploadRoutes(d: KnowledgeRouteDeps): Route[] {
  const tags = ['datasources'];
  const max = d.config.filesMaxBytes;
  const fileFields = { files: { type: 'binary' as const, array: true, required: true, description: '1–10 files; .zip archives are expanded' } };
  return [
    defineRoute({
      method: 'POST',
      path: '/index/knowledge_base/file',
      tags,
      summary: 'Create a knowledge base from uploaded files (multipart `files`; every other field in the query string); indexing runs in the background',
      query: createQuery,
      multipart: { fields: fileFields },
      responses: { 200: messageSchema },
      errors: [400, 403, 409],
      async handler({ req, user, query }) {
        const guardrails = parseGuardrails(query.guardrail_assignments);
        await d.svc.checkCreate(user, query.project_name, query.name);
        const staged = await stageUploads(req, {
          stagingRoot: d.svc.stagingRoot(),
          maxBytes: max,
          required: true,
          sizeText: formatFileSize(max),
          imageCheck: true,
        });
        try {
          const message = await d.svc.create(
            user,
            {
              name: query.name,
              project_name: query.project_name,
              description: query.description,
              project_space_visible: query.project_space_visible,
              embedding_model: query.embedding_model ?? query.embeddings_model ?? null,
              guardrail_assignments: guardrails,
              csv_separator: query.csv_separator ?? null,
              csv_start_row: query.csv_start_row ?? null,
              csv_rows_per_document: query.csv_rows_per_document,
              include_email_attachments: query.include_email_attachments,
            },
            staged.files,
          );
          return { message };
        } finally {
          await staged.cleanup();
        }
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/index/knowledge_base/file',
      tags,
      summary: 'Update a file knowledge base: description / sharing, add files (multipart `files`), keep only `uploaded_files`; re-indexes what changed',
      query: updateQuery,
      multipart: { fields: { files: { ...fileFields.files, required: false } } },
      responses: { 200: messageSchema },
      errors: [400, 403, 404, 409],
      async handler({ req, user, query }) {
        const keep = parseKeep(query.uploaded_files);
        const guardrails = parseGuardrails(query.guardrail_assignments);
        const staged = await stageUploads(req, {
          stagingRoot: d.svc.stagingRoot(),
          maxBytes: max,
          required: false,
          sizeText: `${max} bytes`,
          imageCheck: false,
        });
        try {
          const message = await d.svc.update(
            user,
            {
              name: query.name,
              project_name: query.project_name,
              description: query.description ?? null,
              project_space_visible: query.project_space_visible ?? null,
              new_project_name: query.new_project_name ?? null,
              uploaded_files: keep,
              guardrail_assignments: guardrails,
              csv_separator: query.csv_separator ?? null,
              csv_start_row: query.csv_start_row ?? null,
              csv_rows_per_document: query.csv_rows_per_document,
              include_email_attachments: query.include_email_attachments,
            },
            staged.files,
          );
          return { message };
        } finally {
          await staged.cleanup();
        }
      },
    }),
  ];
}

const pluginBody = z.unknown();
const typeParams = z.object({ type: z.string().min(1).max(100) });

export function knowledgeRoutes(d: KnowledgeRouteDeps): Route[] {
  const tags = ['datasources'];
  const plugin = (type: string, kind: 'create' | 'update') => async (input: { user: AuthUser; req: FastifyRequest; body: unknown; query: unknown }) => {
    const p = d.providers.get(type)?.[kind];
    if (!p) throw unsupportedType(type);
    return (await p(input)) as { message: string };
  };
  const pluginRoute = (method: 'POST' | 'PUT', path: string, type: (params: Record<string, string>) => string): Route =>
    defineRoute({
      method,
      path,
      tags,
      summary: `Datasource types other than files: served by plug-ins (400 "Unsupported datasource type" without one)`,
      params: z.object(Object.fromEntries([...path.matchAll(/:(\w+)/g)].map((m) => [m[1], z.string().min(1).max(200)]))),
      body: pluginBody.optional(),
      responses: { 200: messageSchema },
      errors: [400],
      handler: ({ params, user, req, body, query }) =>
        plugin(type(params as Record<string, string>), method === 'POST' ? 'create' : 'update')({ user, req, body, query }),
    });
  return [
    defineRoute({
      method: 'GET',
      path: '/index',
      tags,
      summary: 'Datasources the caller can see (filters: name, project, index_type, created_by, date_range, is_shared, status)',
      query: listQuery,
      responses: { 200: datasourceListSchema },
      errors: [400],
      handler: ({ user, query }) =>
        d.svc.list(
          user,
          { ...listFilters(query.filters), sortKey: query.sort_key, sortOrder: query.sort_order, offset: query.page * query.per_page, limit: query.per_page },
          query.full_response,
          query.page,
          query.per_page,
        ),
    }),
    defineRoute({
      method: 'GET',
      path: '/index/users',
      tags,
      summary: 'Creators of the datasources the caller can see',
      responses: { 200: z.array(z.object({ id: z.string(), username: z.string(), name: z.string() })) },
      handler: ({ user }) => d.svc.users(user),
    }),
    defineRoute({
      method: 'POST',
      path: '/index/health',
      tags,
      summary: 'Connection check of a datasource type (`implemented: false` for types without one, files included)',
      body: z.object({ project_name: z.string(), index_type: z.string() }).passthrough(),
      responses: { 200: healthSchema },
      handler: () => ({ implemented: false, documents_count: null, error: null }),
    }),
    defineRoute({
      method: 'GET',
      path: '/index/:index_id',
      tags,
      summary: 'One datasource with its indexing progress and per-file outcome',
      params: idParams,
      responses: { 200: datasourceSchema },
      errors: [403, 404],
      handler: ({ user, params }) => d.svc.get(user, params.index_id),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/index/:index_id',
      tags,
      summary: 'Delete a datasource, its files and chunks (assistants using it then fail with "Assistant Error" until re-saved)',
      params: idParams,
      responses: { 200: messageSchema },
      errors: [403, 404],
      handler: async ({ user, params }) => ({ message: await d.svc.delete(user, params.index_id) }),
    }),
    defineRoute({
      method: 'GET',
      path: '/index/:index_id/assistants',
      tags,
      summary: 'Assistants of the datasource’s project whose context names it',
      params: idParams,
      responses: { 200: z.array(assistantRefSchema) },
      errors: [403, 404],
      async handler({ user, params }) {
        const row = await d.svc.getRow(user, params.index_id);
        const { contextTypeOf } = await import('./service.js');
        return d.assistantsUsing(row.project_name, row.repo_name, contextTypeOf(row.index_type));
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/index/:index_id/elasticsearch',
      tags,
      summary: 'Size of the datasource’s search index (chunk text and vectors)',
      params: idParams,
      responses: { 200: statsSchema },
      errors: [400, 403, 404],
      handler: ({ user, params }) => d.svc.stats(user, params.index_id),
    }),
    defineRoute({
      method: 'POST',
      path: '/index/:datasource_id/search',
      tags,
      summary: 'Search a datasource: the text the search tool gives a model',
      params: searchParams,
      body: z.object({ query: z.string({ error: required }).max(20_000) }).passthrough(),
      responses: { 200: toolInvokeSchema },
      errors: [403, 404],
      handler: ({ user, params, body }) => d.svc.directSearch(user, params.datasource_id, body.query),
    }),
    defineRoute({
      method: 'GET',
      path: '/embeddings_models',
      tags: ['llm'],
      summary: 'Embeddings models available for knowledge bases (send base_name as embedding_model)',
      query: z.object({ include_all: pyBool().default(false) }),
      responses: { 200: z.array(llmModelSchema) },
      handler: ({ query }) =>
        (d.llm.embeddings?.list() ?? [])
          .filter((m) => m.enabled && (query.include_all || !m.forbidden_for_web))
          .map((m) => {
            const { provider, ...rest } = m;
            return ['azure_openai', 'aws_bedrock'].includes(provider) ? m : rest;
          }),
    }),
    pluginRoute('POST', '/index/knowledge_base/:type', (p) => p.type),
    pluginRoute('PUT', '/index/knowledge_base/:type', (p) => p.type),
    pluginRoute('PUT', '/index/knowledge_base/google/reindex', () => 'google'),
    pluginRoute('POST', '/application/:app_name/index', () => 'code'),
    pluginRoute('PUT', '/application/:app_name/index/:repo_name', () => 'code'),
    pluginRoute('POST', '/application/:app_name/index/svn', () => 'svn'),
    pluginRoute('PUT', '/application/:app_name/index/svn/:repo_name', () => 'svn'),
    pluginRoute('POST', '/index/provider', () => 'provider'),
    pluginRoute('PUT', '/index/provider/:index_info_id', () => 'provider'),
    pluginRoute('PUT', '/index/provider/:index_info_id/reindex', () => 'provider'),
    pluginRoute('POST', '/index/provider/datasources/import', () => 'provider'),
    defineRoute({
      method: 'GET',
      path: '/index/jira/fields',
      tags,
      summary: 'Jira fields (a plug-in type)',
      responses: { 200: z.array(z.record(z.string(), z.unknown())) },
      errors: [400],
      handler: () => {
        throw unsupportedType('jira');
      },
    }),
  ];
}

export { typeParams };
