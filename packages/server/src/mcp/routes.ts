/** /v1/mcp-configs: the MCP server catalog (reference §5.3). Reads for everyone, writes for admins. */
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { AuthUser } from '../api/auth.js';
import { notFound, forbidden } from '../api/errors.js';
import { defineRoute, type Route } from '../api/route.js';
import { boolQuery, intQuery, messageSchema } from '../api/schemas.js';
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

const listQuery = z.object({
  page: intQuery({ min: 0 }).default(0),
  per_page: intQuery({ min: 1, max: 100 }).default(20),
  category: z.string().optional(),
  search: z.string().optional(),
  is_public: boolQuery(),
  active_only: boolQuery(true),
});

const idParams = z.object({ id: z.string().min(1) });

function canView(user: AuthUser, row: McpConfigRow): boolean {
  return user.isAdmin || row.is_public === 1 || row.is_system === 1 || row.user_id === user.id;
}

const listResponse = z.object({ total: z.number().int(), configs: z.array(mcpConfigResponseSchema), page: z.number().int(), per_page: z.number().int() });

export function mcpCatalogRoutes(db: Kysely<Database>, log: { info(o: object, msg: string): void }): Route[] {
  const tags = ['mcp'];
  return [
    defineRoute({
      method: 'GET',
      path: '/mcp-configs',
      tags,
      summary: 'List MCP server configurations of the catalog',
      query: listQuery,
      responses: { 200: listResponse },
      async handler({ query: q, user }) {
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
    }),
    defineRoute({
      method: 'GET',
      path: '/mcp-configs/:id',
      tags,
      summary: 'One MCP server configuration',
      params: idParams,
      responses: { 200: mcpConfigResponseSchema },
      errors: [403, 404],
      async handler({ params, user }) {
        const row = await getCatalogEntry(db, params.id);
        if (!row) throw notFound('MCP config', params.id);
        if (!canView(user, row)) throw forbidden('You do not have permission to view this MCP configuration.');
        return toResponse(row);
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/mcp-configs',
      access: 'admin',
      tags,
      summary: 'Add an MCP server configuration to the catalog (admin)',
      body: mcpConfigCreateSchema,
      responses: { 201: mcpConfigResponseSchema },
      async handler({ body, user }) {
        const row = await insertCatalogEntry(db, body, user);
        log.info({ mcpConfigId: row.id, name: row.name }, 'mcp catalog entry created');
        return toResponse(row);
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/mcp-configs/:id',
      access: 'admin',
      tags,
      summary: 'Update an MCP server configuration (admin)',
      params: idParams,
      body: mcpConfigUpdateSchema,
      responses: { 200: mcpConfigResponseSchema },
      errors: [404],
      async handler({ params, body }) {
        const existing = await getCatalogEntry(db, params.id);
        if (!existing) throw notFound('MCP config', params.id);
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
        await updateCatalogEntry(db, params.id, patch);
        return toResponse((await getCatalogEntry(db, params.id))!);
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/mcp-configs/:id',
      access: 'admin',
      tags,
      summary: 'Delete an MCP server configuration (admin)',
      params: idParams,
      responses: { 200: messageSchema },
      errors: [404],
      async handler({ params }) {
        if (!(await deleteCatalogEntry(db, params.id))) throw notFound('MCP config', params.id);
        log.info({ mcpConfigId: params.id }, 'mcp catalog entry deleted');
        return { message: 'MCP configuration deleted successfully' };
      },
    }),
  ];
}
