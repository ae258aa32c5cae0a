/** /v1/mcp-configs: the MCP server catalog (reference §5.3). Reads for everyone, writes for admins. */
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { currentUser, type AuthUser } from '../api/auth.js';
import { forbidden, notFound } from '../api/errors.js';
import { fromJson, toBool, toJson } from '../store/json.js';
import { unmaskConfig } from './masking.js';
import { mcpConfigCreateSchema, mcpConfigResponseSchema, mcpConfigUpdateSchema } from './schemas.js';
import {
  deleteCatalogEntry,
  updateCatalogEntry,
  getCatalogEntry,
  insertCatalogEntry,
  listCatalogEntries,
  toResponse,
  type McpConfigRow,
} from './catalog-store.js';

const boolQuery = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
  .transform((v) => v === true || v === 'true' || v === '1');

const listQuery = z.object({
  page: z.coerce.number().int().min(0).default(0),
  per_page: z.coerce.number().int().min(1).max(100).default(20),
  category: z.string().optional(),
  search: z.string().optional(),
  is_public: boolQuery.optional(),
  active_only: boolQuery.default(true),
});

const idParams = z.object({ id: z.string().min(1) });

const ADMIN_ONLY = 'This action requires administrator or maintainer privileges.';

function requireAdmin(user: AuthUser): void {
  if (!user.isAdmin) throw forbidden(ADMIN_ONLY);
}

function canView(user: AuthUser, row: McpConfigRow): boolean {
  return user.isAdmin || row.is_public === 1 || row.is_system === 1 || row.user_id === user.id;
}

export async function mcpCatalogRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const db = ctx.store.db;
  const tags = ['mcp'];

  app.get(
    '/mcp-configs',
    {
      schema: {
        tags,
        summary: 'List MCP server configurations of the catalog',
        querystring: listQuery,
        response: {
          200: z.object({ total: z.number().int(), configs: z.array(mcpConfigResponseSchema), page: z.number().int(), per_page: z.number().int() }),
        },
      },
    },
    async (req) => {
      const user = currentUser(req);
      const q = req.query as z.infer<typeof listQuery>;
      const { total, rows } = await listCatalogEntries(db, {
        page: q.page,
        perPage: q.per_page,
        search: q.search?.trim() || undefined,
        category: q.category?.trim() || undefined,
        isPublic: q.is_public,
        activeOnly: q.active_only,
        viewerId: user.isAdmin ? null : user.id,
      });
      return { total, configs: rows.map(toResponse), page: q.page, per_page: q.per_page };
    },
  );

  app.get(
    '/mcp-configs/:id',
    { schema: { tags, summary: 'One MCP server configuration', params: idParams, response: { 200: mcpConfigResponseSchema } } },
    async (req) => {
      const user = currentUser(req);
      const { id } = req.params as z.infer<typeof idParams>;
      const row = await getCatalogEntry(db, id);
      if (!row) throw notFound('MCP config', id);
      if (!canView(user, row)) throw forbidden('You do not have permission to view this MCP configuration.');
      return toResponse(row);
    },
  );

  app.post(
    '/mcp-configs',
    {
      schema: {
        tags,
        summary: 'Add an MCP server configuration to the catalog (admin)',
        body: mcpConfigCreateSchema,
        response: { 201: mcpConfigResponseSchema },
      },
    },
    async (req, reply) => {
      const user = currentUser(req);
      requireAdmin(user);
      const body = req.body as z.output<typeof mcpConfigCreateSchema>;
      const row = await insertCatalogEntry(db, body, user);
      req.log.info({ mcpConfigId: row.id, name: row.name }, 'mcp catalog entry created');
      return reply.code(201).send(toResponse(row));
    },
  );

  app.put(
    '/mcp-configs/:id',
    {
      schema: {
        tags,
        summary: 'Update an MCP server configuration (admin)',
        params: idParams,
        body: mcpConfigUpdateSchema,
        response: { 200: mcpConfigResponseSchema },
      },
    },
    async (req) => {
      const user = currentUser(req);
      requireAdmin(user);
      const { id } = req.params as z.infer<typeof idParams>;
      const body = req.body as z.output<typeof mcpConfigUpdateSchema>;
      const existing = await getCatalogEntry(db, id);
      if (!existing) throw notFound('MCP config', id);
      const patch: Partial<McpConfigRow> = {};
      if (body.name != null) patch.name = body.name;
      if (body.description !== undefined) patch.description = body.description;
      if (body.server_home_url !== undefined) patch.server_home_url = body.server_home_url;
      if (body.source_url !== undefined) patch.source_url = body.source_url;
      if (body.logo_url !== undefined) patch.logo_url = body.logo_url;
      if (body.categories != null) patch.categories = toJson(body.categories);
      if (body.config != null) patch.config = toJson(unmaskConfig(body.config, fromJson(existing.config, null)));
      if (body.required_env_vars != null) patch.required_env_vars = toJson(body.required_env_vars);
      if (body.is_public != null) patch.is_public = toBool(body.is_public);
      if (body.is_active != null) patch.is_active = toBool(body.is_active);
      await updateCatalogEntry(db, id, patch);
      return toResponse((await getCatalogEntry(db, id))!);
    },
  );

  app.delete(
    '/mcp-configs/:id',
    {
      schema: {
        tags,
        summary: 'Delete an MCP server configuration (admin)',
        params: idParams,
        response: { 200: z.object({ message: z.string() }) },
      },
    },
    async (req) => {
      const user = currentUser(req);
      requireAdmin(user);
      const { id } = req.params as z.infer<typeof idParams>;
      if (!(await deleteCatalogEntry(db, id))) throw notFound('MCP config', id);
      req.log.info({ mcpConfigId: id }, 'mcp catalog entry deleted');
      return { message: 'MCP configuration deleted successfully' };
    },
  );
}
