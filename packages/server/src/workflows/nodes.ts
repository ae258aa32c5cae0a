/**
 * Runs one state's node: an assistant (existing or inline) through the LLM layer, or a direct
 * MCP tool call. Streams thoughts through `emit`; returns the output text, usage and thoughts.
 */
import { randomUUID } from 'node:crypto';
import type { ChatMessage, LlmService, TokenUsage } from '../llm/types.js';
import { ApiError } from '../api/errors.js';
import type { AuthUser } from '../api/auth.js';
import type { AgentTool } from '../llm/tool.js';
import type { RunEvent, ThoughtRef } from '../turn/events.js';
import { runTurn, ToolsetError, type ToolsetOpener } from '../turn/run-turn.js';
import type { AssistantConfig, StateConfig, ToolNodeConfig, WorkflowYaml } from './config-schema.js';
import { executionAuthUser, type AssistantLookup, type ExecutionUser } from './seams.js';
import { asText, jsonPointer, render, renderDeep, tryParseJson } from './template.js';
import { zeroUsage, type ThoughtRecord } from './model.js';
import { outputSchemaText } from './validate.js';
import { customNodeOf, runTransform } from './transform.js';

/** A failure of a state; `retryable` false for 401/403/404-class errors and configuration errors. */
export class StateError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'StateError';
  }
}

export interface NodeDeps {
  llm: LlmService;
  assistants: AssistantLookup;
  openToolset: ToolsetOpener;
  /** Knowledge-base search tools for an assistant's `datasource_ids` (knowledge/). */
  datasourceTools?: (ids: string[], user: AuthUser) => Promise<AgentTool[]>;
}

export interface NodeRun {
  cfg: WorkflowYaml;
  state: StateConfig;
  /** Variables for templates (context store + task). */
  vars: Record<string, unknown>;
  history: ChatMessage[];
  input: string;
  item?: unknown;
  user: ExecutionUser;
  propagatedHeaders: Record<string, string> | null;
  signal: AbortSignal;
  trace: Record<string, unknown>;
  /** Publishes a run event of this state (live). */
  emit(ev: RunEvent): void;
}

export interface NodeOutcome {
  output: string;
  usage: TokenUsage;
  thoughts: ThoughtRecord[];
  /** The user message sent (kept in the LLM history). */
  message?: string;
  /** The model that ran the state (usage accounting). */
  model?: string;
}

export async function runNode(deps: NodeDeps, run: NodeRun): Promise<NodeOutcome> {
  if (run.state.custom_node_id) return runCustomNode(run);
  if (run.state.tool_id)
    return runToolNode(
      deps,
      run,
      run.cfg.tools.find((t) => t.id === run.state.tool_id)!,
    );
  return runAssistantNode(
    deps,
    run,
    run.cfg.assistants.find((a) => a.id === run.state.assistant_id)!,
  );
}

function isNonRetryableStatus(status: number): boolean {
  return status === 400 || status === 401 || status === 403 || status === 404 || status === 422;
}

/** The stored thoughts of a state, from its run events: the agent's, its tool calls' and notices. */
class ThoughtRecords {
  readonly list: ThoughtRecord[] = [];
  private readonly byId = new Map<string, ThoughtRecord>();

  add(ev: RunEvent): void {
    if (ev.type !== 'thought-start' && ev.type !== 'thought-end' && ev.type !== 'text-delta') return;
    let r = this.byId.get(ev.thought.id);
    if (!r) {
      const t = ev.thought;
      r = {
        id: t.id,
        parent_id: t.parentId,
        author_name: t.author,
        author_type: t.kind === 'agent' ? 'Agent' : t.kind === 'system' ? 'System' : 'Tool',
        input_text: t.input,
        content: '',
        error: false,
      };
      this.byId.set(t.id, r);
      this.list.push(r);
    }
    if (ev.type === 'text-delta') r.content += ev.text;
    else if (ev.type === 'thought-end') {
      r.content = ev.output;
      r.error = ev.error;
    }
  }
}

async function runAssistantNode(deps: NodeDeps, run: NodeRun, a: AssistantConfig): Promise<NodeOutcome> {
  let name = a.name ?? a.id;
  let system = a.system_prompt ?? '';
  let modelName = a.model ?? null;
  let temperature = a.temperature ?? null;
  let topP: number | null = null;
  let servers: unknown[] = a.mcp_servers ?? [];
  if (a.assistant_id) {
    const existing = await deps.assistants.get(a.assistant_id, run.user);
    if (!existing) throw new StateError(`Assistant '${a.assistant_id}' (workflow assistant '${a.id}') was not found`, false);
    name = a.name ?? existing.name;
    system = a.system_prompt ?? existing.system_prompt;
    modelName = a.model ?? existing.llm_model_type ?? null;
    temperature = a.temperature ?? existing.temperature ?? null;
    topP = existing.top_p ?? null;
    servers = [...(existing.mcp_servers ?? []), ...servers];
  }
  let model: string;
  try {
    model = deps.llm.resolveModel(modelName).base_name;
  } catch (err) {
    throw new StateError(err instanceof ApiError ? `${err.message}: ${asText(err.details)}` : (err as Error).message, false);
  }
  const task = render(run.state.task ?? '', run.vars);
  let message = task;
  // A map item (or, further down a multi-stage map, the previous stage's output) is the task input.
  if (run.item !== undefined && !/\{\{\s*task\s*\}\}/.test(run.state.task ?? '')) message = [task, run.input].filter(Boolean).join('\n\n');
  if (!message) {
    const last = run.history[run.history.length - 1];
    message = run.input && !(last && last.content === run.input) ? run.input : 'Proceed.';
  }
  const messages: ChatMessage[] = [...run.history, { role: 'user', content: message }];
  const outputSchema = run.state.output_schema ? (JSON.parse(outputSchemaText(run.state.output_schema)) as Record<string, unknown>) : null;

  let tools: AgentTool[] | undefined;
  if (a.datasource_ids?.length) {
    if (!deps.datasourceTools) throw new StateError(`Assistant '${a.id}' has datasource_ids, but knowledge bases are not available`, false);
    try {
      tools = await deps.datasourceTools(a.datasource_ids, executionAuthUser(run.user));
    } catch (err) {
      throw new StateError(`Assistant '${a.id}': ${(err as Error).message}`, false);
    }
  }
  const agent: ThoughtRef = { id: randomUUID(), parentId: null, author: name, kind: 'agent', input: message };
  const records = new ThoughtRecords();
  records.add({ type: 'thought-start', thought: agent });
  const turn = runTurn(deps, {
    model,
    system: render(system, run.vars) || undefined,
    messages,
    temperature,
    topP,
    outputSchema,
    mcpServers: servers as Array<Record<string, unknown>>,
    tools,
    propagatedHeaders: run.propagatedHeaders,
    user: executionAuthUser(run.user),
    signal: run.signal,
    trace: run.trace,
    answer: agent,
  });
  try {
    for await (const ev of turn.events) {
      records.add(ev);
      run.emit(ev);
    }
  } catch (err) {
    if (err instanceof ToolsetError) throw new StateError(`Could not open MCP servers for assistant '${name}': ${err.message}`, true);
    throw err;
  }
  const r = await turn.result;
  if (r.ok) {
    const output = r.object !== undefined && r.object !== null ? JSON.stringify(r.object) : r.text;
    const end: RunEvent = { type: 'thought-end', thought: agent, output, error: false };
    records.add(end);
    run.emit(end);
    return { output, usage: r.usage, thoughts: records.list, message, model };
  }
  if (r.code === 'llm_aborted' && run.signal.aborted) throw new StateError('aborted', false);
  throw new StateError(`${r.code}: ${r.message}`, !(isNonRetryableStatus(r.status) || r.code === 'llm_auth_failed'));
}

/** A custom node (transform_node): data mapping without an LLM call; its output is the mapped object. */
function runCustomNode(run: NodeRun): NodeOutcome {
  const node = customNodeOf(run.cfg, run.state)!;
  const { task: _task, user_input, ...context } = run.vars;
  const ref: ThoughtRef = { id: randomUUID(), parentId: null, author: node.name ?? node.id, kind: 'tool', input: run.input };
  const thought: ThoughtRecord = {
    id: ref.id,
    parent_id: null,
    author_name: ref.author,
    author_type: 'Tool',
    input_text: run.input,
    content: '',
    error: false,
  };
  run.emit({ type: 'thought-start', thought: ref });
  let output: string;
  try {
    output = JSON.stringify(runTransform(node.config, { context, history: run.history, userInput: String(user_input ?? ''), input: run.input }));
  } catch (err) {
    thought.error = true;
    thought.content = (err as Error).message;
    run.emit({ type: 'thought-end', thought: ref, output: thought.content, error: true });
    throw new StateError(`Custom node '${node.id}': ${(err as Error).message}`, false);
  }
  thought.content = output;
  run.emit({ type: 'thought-end', thought: ref, output, error: false });
  return { output, usage: zeroUsage(), thoughts: [thought] };
}

async function runToolNode(deps: NodeDeps, run: NodeRun, t: ToolNodeConfig): Promise<NodeOutcome> {
  if (!t.mcp_server) throw new StateError(`Tool '${t.id}' has no mcp_server: only MCP tools can be called directly on this platform`, false);
  const args = renderDeep({ ...(t.tool_args ?? {}), ...(run.state.tool_args ?? {}) }, run.vars) as Record<string, unknown>;
  const ref: ThoughtRef = {
    id: randomUUID(),
    parentId: null,
    author: t.tool,
    kind: 'tool',
    input: JSON.stringify(args),
    metadata: { tool_name: t.tool, mcp_server: t.mcp_server.name },
  };
  const thought: ThoughtRecord = { id: ref.id, parent_id: null, author_name: t.tool, author_type: 'Tool', input_text: ref.input, content: '', error: false };
  run.emit({ type: 'thought-start', thought: ref });
  let toolset;
  try {
    toolset = await deps.openToolset([t.mcp_server as unknown as Record<string, unknown>], {
      propagatedHeaders: run.propagatedHeaders,
      user: executionAuthUser(run.user),
      signal: run.signal,
    });
  } catch (err) {
    throw new StateError(`Could not open MCP server '${t.mcp_server.name}': ${(err as Error).message}`, true);
  }
  try {
    const tool = toolset.tools.find((x) => x.name === t.tool);
    if (!tool) {
      throw new StateError(
        `Tool '${t.tool}' was not found on MCP server '${t.mcp_server.name}' (available: ${toolset.tools.map((x) => x.name).join(', ') || 'none'})`,
        false,
      );
    }
    const res = await tool.execute(args, { signal: run.signal, toolCallId: thought.id });
    thought.content = res.output;
    thought.error = res.isError;
    run.emit({ type: 'thought-end', thought: ref, output: res.output, error: res.isError });
    if (res.isError) throw new StateError(`Tool '${t.tool}' failed: ${res.output}`, true);
    let output = res.output;
    if (t.tool_result_json_pointer) {
      const v = jsonPointer(tryParseJson(res.output), t.tool_result_json_pointer);
      if (v === undefined)
        throw new StateError(`tool_result_json_pointer '${t.tool_result_json_pointer}' matched nothing in the result of tool '${t.tool}'`, false);
      output = asText(v);
    }
    return { output, usage: zeroUsage(), thoughts: [thought] };
  } finally {
    await toolset.close().catch(() => undefined);
  }
}
