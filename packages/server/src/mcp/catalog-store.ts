/** Store queries of the MCP catalog (mcp_configs). Only this domain touches the table. */
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../store/schema.js';
import { fromBool, fromJson, toBool, toJson } from '../store/json.js';
import type { McpConfigsTable } from './tables.js';
import { maskConfig } from './masking.js';
import type { MCPConfigResponse, MCPServerConfig } from './schemas.js';
import { newRowId } from '../store/ids.js';

export type McpConfigRow = Selectable<McpConfigsTable>;

export interface CatalogEntryInput {
  name: string;
  description?: string | null;
  server_home_url?: string | null;
  source_url?: string | null;
  logo_url?: string | null;
  categories: string[];
  config: MCPServerConfig;
  required_env_vars: { name: string; description?: string | null; required: boolean }[];
  is_public: boolean;
}

export function toResponse(row: McpConfigRow): MCPConfigResponse {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    server_home_url: row.server_home_url,
    source_url: row.source_url,
    logo_url: row.logo_url,
    categories: fromJson<string[]>(row.categories, []),
    config: maskConfig(fromJson<Record<string, unknown> | null>(row.config, null)),
    required_env_vars: fromJson(row.required_env_vars, []),
    user_id: row.user_id,
    is_public: fromBool(row.is_public),
    is_system: fromBool(row.is_system),
    created_by: fromJson(row.created_by, null),
    usage_count: row.usage_count,
    is_active: fromBool(row.is_active),
    warnings: [],
    date: row.date,
    update_date: row.update_date,
  };
}

export async function insertCatalogEntry(
  db: Kysely<Database>,
  input: CatalogEntryInput,
  user: { id: string; username: string; name: string },
): Promise<McpConfigRow> {
  const now = new Date().toISOString();
  const row: McpConfigRow = {
    id: newRowId(),
    name: input.name,
    description: input.description ?? null,
    server_home_url: input.server_home_url ?? null,
    source_url: input.source_url ?? null,
    logo_url: input.logo_url ?? null,
    categories: toJson(input.categories),
    config: toJson(input.config),
    required_env_vars: toJson(input.required_env_vars),
    user_id: user.id,
    created_by: toJson({ id: user.id, username: user.username, name: user.name }),
    is_public: toBool(input.is_public),
    is_system: 0,
    is_active: 1,
    usage_count: 0,
    date: now,
    update_date: now,
  };
  await db.insertInto('mcp_configs').values(row).execute();
  return row;
}

export async function getCatalogEntry(db: Kysely<Database>, id: string): Promise<McpConfigRow | undefined> {
  return db.selectFrom('mcp_configs').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateCatalogEntry(
  db: Kysely<Database>,
  id: string,
  patch: Partial<Omit<McpConfigRow, 'id' | 'date' | 'user_id' | 'created_by'>>,
): Promise<void> {
  await db
    .updateTable('mcp_configs')
    .set({ ...patch, update_date: new Date().toISOString() })
    .where('id', '=', id)
    .execute();
}

export async function deleteCatalogEntry(db: Kysely<Database>, id: string): Promise<boolean> {
  const r = await db.deleteFrom('mcp_configs').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export interface CatalogQuery {
  page: number;
  perPage: number;
  search?: string;
  category?: string;
  isPublic?: boolean;
  activeOnly: boolean;
  /** null = admin (sees everything); else public, system and own entries. */
  viewerId: string | null;
}

/** Filtered page of entries. Category filtering is done on the decoded JSON (portable across dialects). */
export async function listCatalogEntries(db: Kysely<Database>, q: CatalogQuery): Promise<{ total: number; rows: McpConfigRow[] }> {
  let query = db.selectFrom('mcp_configs').selectAll();
  if (q.activeOnly) query = query.where('is_active', '=', 1);
  if (q.isPublic !== undefined) query = query.where('is_public', '=', toBool(q.isPublic));
  if (q.viewerId !== null) {
    const viewer = q.viewerId;
    query = query.where((eb) => eb.or([eb('is_public', '=', 1), eb('is_system', '=', 1), eb('user_id', '=', viewer)]));
  }
  if (q.search) {
    const term = `%${q.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([
        eb(eb.fn('lower', ['name']), 'like', eb.val(term)),
        eb(eb.fn('lower', [eb.fn.coalesce('description', eb.val(''))]), 'like', eb.val(term)),
      ]),
    );
  }
  let rows = await query.orderBy('name').orderBy('id').execute();
  if (q.category) {
    const cat = q.category.toLowerCase();
    rows = rows.filter((r) => fromJson<string[]>(r.categories, []).some((c) => c.toLowerCase() === cat));
  }
  const start = q.page * q.perPage;
  return { total: rows.length, rows: rows.slice(start, start + q.perPage) };
}
