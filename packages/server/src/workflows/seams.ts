/**
 * What the workflow engine needs from other domains, as small interfaces so they can be
 * plugged in as those domains land (assistants, MCP) and swapped in tests.
 */
import type { Toolset } from '../llm/tool.js';
import type { McpServerConfig } from './config-schema.js';

/** An existing assistant, as a workflow state needs it. */
export interface ResolvedAssistant {
  id: string;
  name: string;
  system_prompt: string;
  llm_model_type?: string | null;
  temperature?: number | null;
  top_p?: number | null;
  mcp_servers?: unknown[];
}

export interface ExecutionUser {
  id: string;
  username: string;
  name: string;
}

/** Reads an existing assistant by id (the assistants domain's service plugs in here). */
export interface AssistantLookup {
  get(id: string, user: ExecutionUser): Promise<ResolvedAssistant | null>;
}

export interface OpenToolsetOptions {
  propagatedHeaders: Record<string, string> | null;
  user: ExecutionUser;
  signal: AbortSignal;
}

/** Opens MCP servers' tools for one state (the MCP domain's openToolset plugs in here). */
export type ToolsetOpener = (servers: Array<McpServerConfig | Record<string, unknown>>, opts: OpenToolsetOptions) => Promise<Toolset>;

export const noAssistants: AssistantLookup = {
  async get() {
    return null;
  },
};

export const noMcp: ToolsetOpener = async (servers) => {
  if (!servers.length) return { tools: [], warnings: [], async close() {} };
  throw new Error('MCP tools are not available on this server (the MCP module is not installed)');
};
