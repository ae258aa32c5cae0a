/** The MCP server catalog (/v1/mcp-configs). */
export interface McpConfigsTable {
  id: string;
  name: string;
  description: string | null;
  server_home_url: string | null;
  source_url: string | null;
  logo_url: string | null;
  /** JSON array of strings (≤ 3). */
  categories: string;
  /** JSON MCPServerConfig. */
  config: string;
  /** JSON [{name, description, required}]. */
  required_env_vars: string;
  user_id: string;
  /** JSON {id, username, name}. */
  created_by: string | null;
  is_public: number;
  is_system: number;
  is_active: number;
  usage_count: number;
  date: string;
  update_date: string;
}

declare module '../store/schema.js' {
  interface Database {
    mcp_configs: McpConfigsTable;
  }
}
