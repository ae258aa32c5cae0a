/**
 * Runs one state's node: an assistant (existing or inline) through the LLM layer, or a direct
 * MCP tool call. Streams thoughts through `emit`; returns the output text, usage and thoughts.
 */
import { randomUUID } from 'node:crypto';
import type { ChatMessage, LlmService, TokenUsage } from '../llm/types.js';
import { LlmError } from '../llm/types.js';
import { ApiError } from '../api/errors.js';
import type { AssistantConfig, StateConfig, ToolNodeConfig, WorkflowYaml } from './config-schema.js';
import type { AssistantLookup, ExecutionUser, ToolsetOpener } from './seams.js';
import { asText, jsonPointer, render, renderDeep, tryParseJson } from './template.js';
import { zeroUsage, type ThoughtRecord } from './model.js';

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
  /** Publishes a thought chunk (live). */
  emit(thought: Record<string, unknown>): void;
}

export interface NodeOutcome {
  output: string;
  usage: TokenUsage;
  thoughts: ThoughtRecord[];
  /** The user message sent (kept in the LLM history). */
  message?: string;
}

function thoughtWire(t: ThoughtRecord, inProgress: boolean, message: string): Record<string, unknown> {
  return {
    id: t.id,
    parent_id: t.parent_id,
    metadata: {},
    in_progress: inProgress,
    input_text: t.input_text,
    message,
    author_type: t.author_type,
    author_name: t.author_name,
    output_format: 'text',
    error: t.error,
    interrupted: false,
    aborted: false,
    children: [],
  };
}

export async function runNode(deps: NodeDeps, run: NodeRun): Promise<NodeOutcome> {
  if (run.state.tool_id) return runToolNode(deps, run, run.cfg.tools.find((t) => t.id === run.state.tool_id)!);
  return runAssistantNode(deps, run, run.cfg.assistants.find((a) => a.id === run.state.assistant_id)!);
}

function isNonRetryableStatus(status: number): boolean {
  return status === 400 || status === 401 || status === 403 || status === 404 || status === 422;
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
  if (run.item !== undefined && !/\{\{\s*task\s*\}\}/.test(run.state.task ?? '')) message = [task, asText(run.item)].filter(Boolean).join('\n\n');
  if (!message) {
    const last = run.history[run.history.length - 1];
    message = run.input && !(last && last.content === run.input) ? run.input : 'Proceed.';
  }
  const messages: ChatMessage[] = [...run.history, { role: 'user', content: message }];
  const outputSchema = run.state.output_schema ? (JSON.parse(run.state.output_schema) as Record<string, unknown>) : null;

  const enabled = servers.filter((s) => (s as { enabled?: boolean }).enabled !== false) as Array<Record<string, unknown>>;
  const toolset = enabled.length
    ? await deps.openToolset(enabled, { propagatedHeaders: run.propagatedHeaders, user: run.user, signal: run.signal }).catch((err: Error) => {
        throw new StateError(`Could not open MCP servers for assistant '${name}': ${err.message}`, true);
      })
    : null;
  const main: ThoughtRecord = { id: randomUUID(), parent_id: null, author_name: name, author_type: 'Agent', input_text: message, content: '', error: false };
  const thoughts: ThoughtRecord[] = [main];
  const tools = new Map<string, ThoughtRecord>();
  for (const w of toolset?.warnings ?? []) {
    thoughts.push({ id: randomUUID(), parent_id: main.id, author_name: w.source, author_type: 'System', input_text: '', content: w.message, error: true });
  }
  try {
    let usage = zeroUsage();
    for await (const ev of deps.llm.runAgent({
      model,
      system: render(system, run.vars) || undefined,
      messages,
      temperature,
      topP,
      tools: toolset?.tools,
      outputSchema,
      signal: run.signal,
      trace: run.trace,
    })) {
      if (ev.type === 'text-delta') {
        main.content += ev.text;
        run.emit(thoughtWire(main, true, ev.text));
      } else if (ev.type === 'tool-call') {
        const t: ThoughtRecord = { id: randomUUID(), parent_id: main.id, author_name: ev.toolName, author_type: 'Tool', input_text: asText(ev.input), content: '', error: false };
        tools.set(ev.toolCallId, t);
        thoughts.push(t);
        run.emit(thoughtWire(t, true, ''));
      } else if (ev.type === 'tool-result') {
        const t = tools.get(ev.toolCallId);
        if (t) {
          t.content = ev.output;
          t.error = ev.isError;
          run.emit(thoughtWire(t, false, ev.output));
        }
      } else if (ev.type === 'finish') {
        usage = ev.usage;
        const output = ev.object !== undefined && ev.object !== null ? JSON.stringify(ev.object) : ev.text;
        main.content = output;
        run.emit(thoughtWire(main, false, ''));
        return { output, usage, thoughts, message };
      } else if (ev.type === 'error') {
        const e = ev.error;
        if (e.code === 'llm_aborted' && run.signal.aborted) throw new StateError('aborted', false);
        throw new StateError(`${e.code}: ${e.message}`, !(e instanceof LlmError) || !(isNonRetryableStatus(e.status) || e.code === 'llm_auth_failed'));
      }
    }
    throw new StateError('The LLM stream ended without a result', true);
  } finally {
    await toolset?.close().catch(() => undefined);
  }
}

async function runToolNode(deps: NodeDeps, run: NodeRun, t: ToolNodeConfig): Promise<NodeOutcome> {
  if (!t.mcp_server) throw new StateError(`Tool '${t.id}' has no mcp_server: only MCP tools can be called directly on this platform`, false);
  const args = renderDeep({ ...(t.tool_args ?? {}), ...(run.state.tool_args ?? {}) }, run.vars) as Record<string, unknown>;
  const thought: ThoughtRecord = { id: randomUUID(), parent_id: null, author_name: t.tool, author_type: 'Tool', input_text: JSON.stringify(args), content: '', error: false };
  run.emit(thoughtWire(thought, true, ''));
  let toolset;
  try {
    toolset = await deps.openToolset([t.mcp_server], { propagatedHeaders: run.propagatedHeaders, user: run.user, signal: run.signal });
  } catch (err) {
    throw new StateError(`Could not open MCP server '${t.mcp_server.name}': ${(err as Error).message}`, true);
  }
  try {
    const tool = toolset.tools.find((x) => x.name === t.tool);
    if (!tool) {
      throw new StateError(`Tool '${t.tool}' was not found on MCP server '${t.mcp_server.name}' (available: ${toolset.tools.map((x) => x.name).join(', ') || 'none'})`, false);
    }
    const res = await tool.execute(args, { signal: run.signal, toolCallId: thought.id });
    thought.content = res.output;
    thought.error = res.isError;
    run.emit(thoughtWire(thought, false, res.output));
    if (res.isError) throw new StateError(`Tool '${t.tool}' failed: ${res.output}`, true);
    let output = res.output;
    if (t.tool_result_json_pointer) {
      const v = jsonPointer(tryParseJson(res.output), t.tool_result_json_pointer);
      if (v === undefined) throw new StateError(`tool_result_json_pointer '${t.tool_result_json_pointer}' matched nothing in the result of tool '${t.tool}'`, false);
      output = asText(v);
    }
    return { output, usage: zeroUsage(), thoughts: [thought] };
  } finally {
    await toolset.close().catch(() => undefined);
  }
}
