/**
 * The MCP domain: server config schemas (embedded by assistants and workflows), the catalog
 * (/v1/mcp-configs), the client layer (`ctx.mcp.openToolset`) and header propagation.
 * See docs/mcp.md.
 */
import type { DomainModule } from '../context.js';
import { mcpCatalogRoutes } from './routes.js';
import { setAllowedMcpCommands } from './schemas.js';

export const mcpModule: DomainModule = {
  name: 'mcp',
  init(ctx) {
    setAllowedMcpCommands(ctx.config.mcpAllowedCommands);
  },
  apiRoutes: (app, ctx) => mcpCatalogRoutes(app, ctx),
};

export * from './schemas.js';
export { extractPropagatedHeaders, isBlockedHeader, limitsFromConfig, type PropagationLimits } from './headers.js';
export { PlaceholderError, resolveConfig, resolveString } from './placeholders.js';
export { McpConfigResolutionError, resolveCatalogConfig, resolveServerConfig } from './resolve.js';
export { createMcpService, type McpService, type OpenToolsetOptions } from './service.js';
