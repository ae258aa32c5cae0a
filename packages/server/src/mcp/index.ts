/**
 * The MCP domain: server config schemas (embedded by assistants and workflows), the catalog
 * (/v1/mcp-configs), the client layer (`ctx.mcp.openToolset`) and header propagation.
 * See docs/mcp.md.
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import { mcpCatalogRoutes } from './routes.js';

export function mcpModule(infra: Infra): Module<null> {
  return { name: 'mcp', services: null, routes: mcpCatalogRoutes(infra.store.db, infra.log) };
}

export * from './schemas.js';
export { extractPropagatedHeaders, isBlockedHeader, limitsFromConfig, type PropagationLimits } from './headers.js';
export { PlaceholderError, resolveConfig, resolveString } from './placeholders.js';
export { McpConfigResolutionError, resolveCatalogConfig, resolveServerConfig } from './resolve.js';
export { createMcpService, type McpService, type OpenToolsetOptions } from './service.js';
