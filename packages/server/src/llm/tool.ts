/**
 * The contract between the agent loop (llm/) and whatever provides tools (MCP servers,
 * workflow tool nodes, built-ins). A tool never throws for a tool-level failure: it
 * returns `isError: true` so the model can see the error and the caller can show it as
 * an error thought instead of failing the whole request.
 */
export interface ToolResult {
  /** Text handed back to the model (already size-limited by the provider of the tool). */
  output: string;
  isError: boolean;
}

export interface ToolCallContext {
  signal: AbortSignal;
  /** Id of this call in the model's tool-calling protocol. */
  toolCallId: string;
}

export interface AgentTool {
  /** Name exposed to the model (unique within one call; [A-Za-z0-9_-], ≤ 64 chars). */
  name: string;
  description: string;
  /** JSON Schema (object) of the arguments. */
  inputSchema: Record<string, unknown>;
  /** The tool only reads (MCP `readOnlyHint`): an `approve_for_me` assistant runs it without asking. */
  readOnly?: boolean;
  /** The MCP server the tool belongs to (usage analytics). */
  mcpServer?: string;
  execute(args: Record<string, unknown>, ctx: ToolCallContext): Promise<ToolResult>;
}

/** A set of tools opened for one request; close() releases per-request resources. */
export interface Toolset {
  tools: AgentTool[];
  /** Problems met while opening (e.g. an MCP server down): shown as error thoughts, not fatal. */
  warnings: { source: string; message: string }[];
  close(): Promise<void>;
}
