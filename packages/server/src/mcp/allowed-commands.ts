/** Default stdio allow-list (the reference's mcp-commands-config.yaml plus `node`); config.ts and the schemas share it. */
export const DEFAULT_ALLOWED_COMMANDS: readonly string[] = [
  'npx',
  'uvx',
  'node',
  'mcp-server-filesystem',
  'mcp-server-memory',
  'mcp-server-sequential-thinking',
  'mcp-server-postgres',
  'mcp-server-puppeteer',
  'mcp-mermaid',
  'github-mcp-server',
];
