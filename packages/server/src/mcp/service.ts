/**
 * The MCP client layer: opens the tools of an assistant's (or workflow node's) MCP servers
 * for one request as a `Toolset` (llm/tool.ts). Tool failures never throw: they come back
 * as `{isError: true}` results; servers that cannot be reached become `warnings`.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { AuthUser } from '../api/auth.js';
import type { Config } from '../config/config.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Database } from '../store/schema.js';
import type { AgentTool, ToolResult, Toolset } from '../llm/tool.js';
import { withCallHeaders } from './call-headers.js';
import { ConnectionPool, type McpConnection } from './connections.js';
import { PlaceholderError, resolveConfig } from './placeholders.js';
import { isAllowedCommand, setAllowedMcpCommands, type MCPServerConfig, type MCPServerDetails } from './schemas.js';
import { McpConfigResolutionError, resolveServerConfig } from './resolve.js';
import { toolResultText, truncateOutput } from './output.js';

export interface OpenToolsetOptions {
  /** Propagated X-* headers of this request (extractPropagatedHeaders), or null when not propagating. */
  propagatedHeaders: Record<string, string> | null;
  user: AuthUser;
  signal?: AbortSignal;
  requestId?: string;
}

export interface McpService {
  openToolset(servers: MCPServerDetails[], opts: OpenToolsetOptions): Promise<Toolset>;
  /** Pooled connections (for tests and diagnostics). */
  connections(): Promise<McpConnection[]>;
  close(): Promise<void>;
}

const MAX_NAME = 64;

function safeName(s: string): string {
  const n = s.replace(/[^A-Za-z0-9_-]/g, '_').replace(/^_+|_+$/g, '');
  return (n || 'tool').slice(0, MAX_NAME);
}

/** Model-safe, unique names: the tool's own name when free, else server-prefixed, else numbered. */
function uniqueName(tool: string, server: string, taken: Set<string>): string {
  const candidates = [safeName(tool), safeName(`${server}_${tool}`)];
  for (const c of candidates) if (!taken.has(c)) return c;
  const base = candidates[1].slice(0, MAX_NAME - 4);
  for (let i = 2; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}

/** Replaces propagated header values in a message (error texts may quote a resolved URL). */
function redact(message: string, headers: Record<string, string> | null): string {
  if (!headers) return message;
  let out = message;
  for (const v of Object.values(headers)) if (v.length >= 3) out = out.split(v).join('[redacted]');
  return out;
}

/** The error's message plus its cause (fetch's "fetch failed" hides ECONNREFUSED etc. there). */
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message && !err.message.includes(cause.message)) return `${err.message} (${cause.message})`;
  return err.message;
}

interface ListedTool {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  annotations?: { readOnlyHint?: boolean };
}

async function listAllTools(client: Client, timeoutMs: number, signal?: AbortSignal): Promise<ListedTool[]> {
  const out: ListedTool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : undefined, { timeout: timeoutMs, signal });
    out.push(...(page.tools as ListedTool[]));
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

export function createMcpService(deps: { config: Config; log: FastifyBaseLogger; metrics?: Metrics; db?: Kysely<Database> }): McpService {
  const { config, log, metrics, db } = deps;
  setAllowedMcpCommands(config.mcpAllowedCommands);
  const pool = new ConnectionPool({ log, connectTimeoutMs: config.mcpConnectTimeoutMs, idleTimeoutMs: config.mcpIdleTimeoutMs });

  async function openServer(
    details: MCPServerDetails,
    opts: OpenToolsetOptions,
  ): Promise<{ conn: McpConnection; config: MCPServerConfig; tools: ListedTool[] }> {
    const base = await resolveServerConfig(details, db);
    if (base.command && !isAllowedCommand(base.command)) {
      throw new McpConfigResolutionError(
        `MCP server '${details.name}': command '${base.command}' is not in the allowed MCP commands (CODEMIE_MCP_ALLOWED_COMMANDS)`,
      );
    }
    const resolved = resolveConfig(base, { headers: opts.propagatedHeaders, user: opts.user });
    const conn = await pool.acquire(resolved, details.name);
    try {
      const allTools = await withCallHeaders(opts.propagatedHeaders, () => listAllTools(conn.client, config.mcpConnectTimeoutMs, opts.signal));
      const allow = details.tools ?? base.tools ?? null;
      const tools = allow ? allTools.filter((t) => allow.includes(t.name)) : allTools;
      return { conn, config: resolved, tools };
    } catch (err) {
      await pool.discard(conn);
      throw err;
    }
  }

  function makeTool(exposedName: string, tool: ListedTool, details: MCPServerDetails, conn: McpConnection, opts: OpenToolsetOptions): AgentTool {
    const server = details.name;
    return {
      name: exposedName,
      description: (tool.description ?? '').trim() || `Tool '${tool.name}' of MCP server '${server}'`,
      inputSchema: tool.inputSchema && typeof tool.inputSchema === 'object' ? tool.inputSchema : { type: 'object', properties: {} },
      readOnly: tool.annotations?.readOnlyHint === true,
      mcpServer: server,
      async execute(args, ctx): Promise<ToolResult> {
        const started = Date.now();
        const signals = [ctx.signal, opts.signal].filter((s): s is AbortSignal => !!s);
        const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
        const headers = opts.propagatedHeaders;
        const params: { name: string; arguments: Record<string, unknown>; _meta?: Record<string, unknown> } = {
          name: tool.name,
          arguments: args ?? {},
        };
        if (conn.kind === 'stdio' && headers) params._meta = { headers: { ...headers } };
        const logFields = {
          mcpServer: server,
          tool: tool.name,
          requestId: opts.requestId,
          propagatedHeaders: headers ? Object.keys(headers) : [],
        };
        try {
          if (conn.closed) throw new Error('the connection to the server was closed');
          const result = await withCallHeaders(headers, () => conn.client.callTool(params, undefined, { timeout: config.mcpToolTimeoutMs, signal }));
          const text = truncateOutput(toolResultText(result), config.mcpMaxOutputChars);
          const isError = result.isError === true;
          metrics?.mcpToolCalls.inc({ server, outcome: isError ? 'tool_error' : 'ok' });
          log.debug({ ...logFields, ms: Date.now() - started, isError }, 'mcp tool call');
          return { output: isError ? `MCP tool '${tool.name}' returned an error: ${text}` : text, isError };
        } catch (err) {
          // Loaded already: the call went through a client (connections.ts loads the SDK lazily).
          const { ErrorCode, McpError } = await import('@modelcontextprotocol/sdk/types.js');
          let message: string;
          let outcome: string;
          if (signal?.aborted) {
            outcome = 'cancelled';
            message = `MCP tool '${tool.name}' on server '${server}' was cancelled`;
          } else if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) {
            outcome = 'timeout';
            message = `MCP tool '${tool.name}' on server '${server}' timed out after ${config.mcpToolTimeoutMs} ms`;
          } else {
            outcome = 'error';
            message = `MCP tool '${tool.name}' on server '${server}' failed: ${redact(errorText(err), headers)}`;
            if (!(err instanceof McpError) || err.code === ErrorCode.ConnectionClosed) await pool.discard(conn);
          }
          metrics?.mcpToolCalls.inc({ server, outcome });
          log.warn({ ...logFields, ms: Date.now() - started, outcome, err: redact(errorText(err), headers) }, 'mcp tool call failed');
          return { output: message, isError: true };
        }
      },
    };
  }

  return {
    async openToolset(servers, opts) {
      const enabled = servers.filter((s) => s.enabled !== false);
      const opened = await Promise.all(
        enabled.map(async (details) => {
          try {
            return { details, ...(await openServer(details, opts)) };
          } catch (err) {
            const reason =
              err instanceof PlaceholderError || err instanceof McpConfigResolutionError
                ? `MCP server '${details.name}' skipped: ${err.message}`
                : `could not connect to or list tools of MCP server '${details.name}': ${redact(errorText(err), opts.propagatedHeaders)}`;
            log.warn({ mcpServer: details.name, requestId: opts.requestId, err: reason }, 'mcp server unavailable');
            return { details, error: reason };
          }
        }),
      );
      const tools: AgentTool[] = [];
      const warnings: Toolset['warnings'] = [];
      const taken = new Set<string>();
      const held: McpConnection[] = [];
      for (const o of opened) {
        if ('error' in o) {
          warnings.push({ source: `mcp:${o.details.name}`, message: o.error ?? 'unavailable' });
          continue;
        }
        held.push(o.conn);
        for (const t of o.tools) {
          const name = uniqueName(t.name, o.details.name, taken);
          taken.add(name);
          tools.push(makeTool(name, t, o.details, o.conn, opts));
        }
      }
      let closed = false;
      return {
        tools,
        warnings,
        async close() {
          if (closed) return;
          closed = true;
          await Promise.all(held.map((c) => pool.release(c)));
        },
      };
    },
    connections: () => pool.connections(),
    close: () => pool.close(),
  };
}
