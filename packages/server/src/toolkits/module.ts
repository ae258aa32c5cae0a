/**
 * The toolkits module: the built-in toolkits (file management in a per-conversation workspace,
 * SQL, OpenAPI, code execution), their catalog for assistants, the tools of an assistant's
 * `toolkits` in its calls, and the tools API. Credentials come from a CredentialLookup the
 * integrations domain provides (`useCredentials`); until then only inline credentials exist.
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import { toolRoutes } from './routes.js';
import { ToolkitService } from './service.js';

export function toolkitsModule(infra: Infra): Module<ToolkitService> {
  const c = infra.config;
  const service = new ToolkitService({
    dataDir: c.dataDir,
    timeoutMs: c.toolTimeoutMs,
    maxOutputChars: c.toolMaxOutputChars,
    blockedTools: c.httpBlockedTools,
    sql: { maxRows: c.sqlMaxRows, timeoutMs: c.sqlTimeoutMs, sqliteDirs: c.sqlSqliteDirs, deniedDirs: [c.dataDir] },
    openapi: { allowedHosts: c.openapiAllowedHosts, maxResponseBytes: c.openapiMaxResponseBytes, maxSpecBytes: c.openapiMaxSpecBytes },
    code: { python: c.codeExecPython, timeoutMs: c.codeExecTimeoutMs, memoryMb: c.codeExecMemoryMb },
    log: infra.log,
    countCall: (tool, outcome) => infra.metrics.toolkitToolCalls.inc({ tool, outcome }),
  });
  return { name: 'toolkits', services: service, routes: toolRoutes(service) };
}
