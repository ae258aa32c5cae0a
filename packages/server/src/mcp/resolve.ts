/**
 * Which MCPServerConfig an MCPServerDetails stands for: its own `config`, else the legacy
 * `command` + `arguments`, else the catalog entry named by `mcp_config_id`.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { fromBool, fromJson } from '../store/json.js';
import { getCatalogEntry } from './catalog-store.js';
import { mcpServerConfigSchema, type MCPServerConfig, type MCPServerDetails } from './schemas.js';

export class McpConfigResolutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McpConfigResolutionError';
  }
}

/** The catalog entry's config, validated; throws McpConfigResolutionError when missing/inactive/invalid. */
export async function resolveCatalogConfig(db: Kysely<Database>, id: string): Promise<MCPServerConfig> {
  const row = await getCatalogEntry(db, id);
  if (!row) throw new McpConfigResolutionError(`MCP catalog entry '${id}' (mcp_config_id) does not exist`);
  if (!fromBool(row.is_active)) throw new McpConfigResolutionError(`MCP catalog entry '${row.name}' (${id}) is not active`);
  const parsed = mcpServerConfigSchema.safeParse(fromJson(row.config, null));
  if (!parsed.success) {
    throw new McpConfigResolutionError(
      `MCP catalog entry '${row.name}' (${id}) has an invalid config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

export async function resolveServerConfig(details: MCPServerDetails, db?: Kysely<Database>): Promise<MCPServerConfig> {
  if (details.config) return details.config;
  if (details.command) {
    const parsed = mcpServerConfigSchema.safeParse({
      command: details.command,
      args: (details.arguments ?? '').split(/\s+/).filter(Boolean),
    });
    if (!parsed.success) throw new McpConfigResolutionError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    return parsed.data;
  }
  if (details.mcp_config_id) {
    if (!db) throw new McpConfigResolutionError('MCP catalog references need the store');
    return resolveCatalogConfig(db, details.mcp_config_id);
  }
  throw new McpConfigResolutionError(`MCP server '${details.name}' has no config, command or mcp_config_id`);
}
