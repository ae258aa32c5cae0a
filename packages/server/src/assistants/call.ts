/**
 * One assistant call: resolve the configuration (a version when asked), model, files, system
 * prompt (prompt variables rendered) and conversation, run the turn (turn/run-turn.ts) with the
 * assistant's tools — delegations to its sub-assistants and built-in subagents, each a nested
 * agent thought — persist it in the conversation, trace it. The same generator serves the
 * non-stream answer, the stream (its events become chunks at the edge), background tasks, A2A
 * and calls resumed after the user approved a paused tool call (approvals.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { UsageInput, UsageRecorder } from '../analytics/recorder.js';
import { ToolCallCollector } from '../analytics/collect.js';
import type { AuthUser } from '../api/auth.js';
import { ApiError, unprocessable } from '../api/errors.js';
import { abilities } from '../auth/access.js';
import { validateJsonSchema } from '../llm/json-schema.js';
import type { AgentTool, ToolResult } from '../llm/tool.js';
import type { ChatMessage, LlmModelInfo, LlmService, TokenUsage } from '../llm/types.js';
import type { Observation, Tracer } from '../trace/tracer.js';
import type { ConversationService } from '../conversations/service.js';
import type { FileService } from '../files/service.js';
import { filesPromptBlock, type AttachedFile } from '../files/service.js';
import { runTurn, type ToolsetOpener, type TurnTool, type TurnToolContext } from '../turn/run-turn.js';
import type { RunEvent, ThoughtRef } from '../turn/events.js';
import { ANSWER_AUTHOR, toolTitle, type Thought } from '../wire/thought.js';
import { thoughtOf, ThoughtCollector } from '../wire/run-events.js';
import { newRowId } from '../store/ids.js';
import { access } from './access.js';
import { approvalRule, interactiveRequest, pausedMessage, type ApprovalStore, type PausedTurn, type ToolCallPolicy } from './approvals.js';
import { BUILTIN_SUBAGENTS } from './catalogs.js';
import type { MappingService } from './mappings.js';
import { promptDate, renderPrompt } from './prompt-template.js';
import type { AssistantRecord } from './repo.js';
import type { ChatBody, ToolPermissions } from './schemas.js';
import { promptVariablesOf, type AssistantService } from './service.js';
import { subIdsOf } from './sub-assistants.js';
import type { UsageService } from './usage.js';

export const INTERRUPTED_TEXT = 'Agent has been interrupted by client';

export interface PreparedCall {
  /** The configuration that runs (a historical version when the body asked for one). */
  assistant: AssistantRecord;
  body: ChatBody;
  user: AuthUser;
  model: LlmModelInfo;
  conversationId: string;
  /** The id was made for this call (no conversation_id sent): the turn creates it, no lookup. */
  newConversation?: boolean;
  propagatedHeaders: Record<string, string> | null;
  requestId?: string;
  /** The `file_names` the call attaches (validated: known and readable by the caller). */
  files?: AttachedFile[];
  /** The system prompt with its variables rendered. */
  system?: string;
  /** The tool-call policy of this call (tool_permissions). */
  policy: ToolCallPolicy;
  /** An inline definition (POST /assistants/virtual/model): never stored, no usage counted. */
  virtual?: boolean;
  /** Not counted as a use of the assistant (A2A, resumed calls). */
  uncounted?: boolean;
  /** A call resumed after the user decided on its paused tool calls. */
  resume?: { paused: PausedTurn; approved: boolean };
  /** Tools besides the MCP servers' (knowledge-base search for the assistant's `context`). */
  tools?: AgentTool[];
}

export interface CallResult {
  generated: unknown;
  text: string;
  thoughts: Thought[];
  usage: TokenUsage;
  timeElapsed: number;
  success: boolean;
  /** Platform error code when the call failed (llm_* / stacktrace). */
  errorCode: string | null;
  errorStatus: number | null;
  errorMessage: string | null;
  interrupted: boolean;
  /** Milliseconds spent in the agent loop (model and tools), for Server-Timing. */
  llmMs?: number;
  /** The call paused for the user's approval of a tool call. */
  paused?: PausedTurn;
}

export interface CallDeps {
  llm: LlmService;
  openToolset: ToolsetOpener;
  tracer: Tracer;
  conversations: ConversationService;
  files: FileService;
  assistants: AssistantService;
  mappings: MappingService;
  usage: UsageService;
  approvals: ApprovalStore;
  /** How deep delegations may nest (1 = an orchestrator's sub-assistants do not delegate further). */
  maxDelegationDepth: number;
  log?: { warn(obj: unknown, msg: string): void };
  /** Search tools for an assistant's `context` (knowledge/); throws "Assistant Error" (`missingStatus`, default 500) for a missing datasource. */
  contextTools?: (project: string, context: unknown, missingStatus?: 400 | 500) => Promise<AgentTool[]>;
  /** Usage accounting and the budget check (analytics/recorder.ts). */
  accounting?: UsageRecorder;
  /** Tools of the assistant's toolkits and attached skills (toolkits/ and skills/, wired in modules.ts). */
  assistantTools?: AssistantToolsProvider;
  /** The assistant with what its attached skills contribute merged in (skills/, wired in modules.ts). */
  contributions?: (a: AssistantRecord, user: AuthUser) => Promise<AssistantRecord>;
}

/** What a call's toolkit and skill tools are built for. */
export interface AssistantToolsContext {
  user: AuthUser;
  conversationId: string;
  propagatedHeaders: Record<string, string> | null;
  requestId?: string;
}
export type AssistantToolsProvider = (a: AssistantRecord, ctx: AssistantToolsContext) => Promise<AgentTool[]>;

export interface RunOptions {
  /** Whether to store the turn (background tasks skip it on shutdown). */
  saveWhen?: (r: CallResult) => boolean;
  /** The controller behind the signal, lent to the agent loop (see AgentRequest.controller). */
  controller?: AbortController;
}

/** What delegations of one call share. */
interface DelegationContext {
  user: AuthUser;
  propagatedHeaders: Record<string, string> | null;
  requestId?: string;
  trace: Observation;
  depth: number;
  subVersions: Record<string, number>;
  /** Tokens spent by delegations (added to the call's usage). */
  usage: TokenUsage;
  /** The call's conversation (the workspace of the sub-assistants' toolkit tools). */
  conversationId: string;
}

const ZERO: TokenUsage = { input_tokens: 0, output_tokens: 0, cached_tokens: 0, money_spent: 0 };
const addUsage = (a: TokenUsage, b: TokenUsage): TokenUsage => ({
  input_tokens: a.input_tokens + b.input_tokens,
  output_tokens: a.output_tokens + b.output_tokens,
  cached_tokens: a.cached_tokens + b.cached_tokens,
  money_spent: a.money_spent + b.money_spent,
});

/**
 * `transfer_to_<name>`: whitespace and `<|\/>` become `_`, other non-word characters go,
 * lower-cased; at most 64 characters (longer: cut, with a hash suffix).
 */
export function transferToolName(name: string): string {
  const n = name
    .replace(/[\s<|\\/>]+/g, '_')
    .replace(/[^\w]/g, '')
    .toLowerCase();
  const full = `transfer_to_${n}`;
  if (full.length <= 64) return full;
  return `${full.slice(0, 53)}_${createHash('sha256').update(full).digest('hex').slice(0, 10)}`;
}

const isDelegation = (t: AgentTool) => (t as TurnTool).thought?.kind === 'agent';

export function policyOf(a: AssistantRecord, body?: Pick<ChatBody, 'tool_permissions'>): ToolCallPolicy {
  const p = a.data.tool_permissions as ToolPermissions | null | undefined;
  const own = p?.tool_call_policy ?? 'auto_approve';
  const override = body?.tool_permissions?.tool_call_policy;
  return override && (p?.allow_override ?? true) ? override : own;
}

export class AssistantCalls {
  constructor(private readonly deps: CallDeps) {}

  /** Checks everything that must fail before a response starts (400/403/404/422). */
  async prepare(
    record: AssistantRecord,
    body: ChatBody,
    user: AuthUser,
    propagatedHeaders: Record<string, string> | null,
    requestId?: string,
    opts: { virtual?: boolean; uncounted?: boolean } = {},
  ): Promise<PreparedCall> {
    const hasHistory = Array.isArray(body.history) ? body.history.length > 0 : !!body.history;
    if (!body.text && !hasHistory) throw unprocessable('text: Field required', [{ loc: 'text', msg: 'Field required', type: 'missing' }]);
    const assistant = await this.withContributions(body.version ? await this.deps.assistants.atVersion(record, body.version) : record, user);
    const model = this.deps.llm.resolveModel(body.llm_model || assistant.llm_model_type);
    // A hard budget limit refuses the call before anything runs.
    await this.deps.accounting?.checkBudget({ user, project: assistant.project, model: model.base_name });
    if (body.output_schema) {
      const check = validateJsonSchema(body.output_schema);
      if (!check.ok) throw unprocessable('Wrong JSON schema for structured output', check.errors.join('; '));
    }
    const conversationId = body.conversation_id || newRowId();
    // Continuing someone else's conversation is refused before anything runs.
    if (body.conversation_id) await this.deps.conversations.assertCanContinue(conversationId, user);
    // Attached files: unknown → 400, not readable by the caller → 403; never dropped silently.
    const files = body.file_names?.length ? await this.deps.files.resolve(user, body.file_names) : [];
    const system = await this.systemPrompt(assistant, body.system_prompt, user, !opts.virtual);
    return {
      assistant,
      body: opts.virtual ? { ...body, save_history: false } : body,
      user,
      model,
      conversationId,
      newConversation: !body.conversation_id,
      propagatedHeaders,
      requestId,
      files,
      system,
      tools: await this.extraToolsOf(assistant, { user, conversationId, propagatedHeaders, requestId }),
      policy: policyOf(assistant, body),
      virtual: opts.virtual,
      uncounted: opts.uncounted,
    };
  }

  /** A paused call continued: the user allowed or denied its pending tool calls. */
  async prepareResume(record: AssistantRecord, paused: PausedTurn, approved: boolean, user: AuthUser, requestId?: string): Promise<PreparedCall> {
    const assistant = await this.withContributions(paused.version ? await this.deps.assistants.atVersion(record, paused.version) : record, user);
    await this.deps.conversations.assertCanContinue(paused.conversationId, user);
    await this.deps.accounting?.checkBudget({ user, project: record.project, model: paused.body.llm_model || assistant.llm_model_type });
    const body: ChatBody = {
      stream: false,
      propagate_headers: false,
      history: [],
      background_task: false,
      ...paused.body,
      save_history: paused.body.save_history ?? true,
      file_names: paused.body.file_names ?? [],
      sub_assistants_versions: paused.body.sub_assistants_versions ?? {},
      conversation_id: paused.conversationId,
    };
    return {
      assistant,
      body,
      user,
      model: this.deps.llm.resolveModel(paused.body.llm_model || assistant.llm_model_type),
      conversationId: paused.conversationId,
      newConversation: paused.newConversation,
      propagatedHeaders: paused.propagatedHeaders,
      requestId,
      system: await this.systemPrompt(assistant, paused.body.system_prompt, user, true),
      tools: await this.extraToolsOf(assistant, { user, conversationId: paused.conversationId, propagatedHeaders: paused.propagatedHeaders, requestId }),
      policy: paused.policy,
      uncounted: true,
      resume: { paused, approved },
    };
  }

  /** Runs a prepared call: yields its run events as they happen, returns the result (turn saved). */
  async *run(p: PreparedCall, signal: AbortSignal, opts: RunOptions = {}): AsyncGenerator<RunEvent, CallResult> {
    const started = performance.now();
    const { assistant, body, user } = p;
    const elapsed = () => Math.round(performance.now() - started) / 1000;
    const messages = p.resume ? p.resume.paused.messages : await this.messages(p);
    const trace = this.deps.tracer.startTrace({
      name: assistant.name,
      sessionId: p.conversationId,
      userId: user.username,
      tags: [
        `llm_model:${p.model.base_name}`,
        `agent_name:${assistant.name}`,
        `version:${body.version ?? assistant.version_count}`,
        ...langfuseTags(body.metadata),
      ],
      metadata: { assistant_id: assistant.id || null, request_uuid: p.requestId ?? null, ...(p.virtual ? { virtual: true } : {}) },
      input: body.text ?? '',
    });
    const answer: ThoughtRef = { id: randomUUID(), parentId: null, author: ANSWER_AUTHOR, kind: 'answer', input: '' };
    const collected = new ThoughtCollector();
    const toolCalls = new ToolCallCollector();
    if (p.resume) collected.thoughts.push(...p.resume.paused.thoughts);
    const delegation: DelegationContext = {
      user,
      propagatedHeaders: p.propagatedHeaders,
      requestId: p.requestId,
      trace,
      depth: 0,
      subVersions: body.sub_assistants_versions ?? {},
      usage: { ...ZERO },
      conversationId: p.conversationId,
    };
    if (!p.virtual && !p.uncounted && assistant.id) {
      this.deps.usage
        .recordUse(assistant, user)
        .catch((err: unknown) => this.deps.log?.warn({ err, assistantId: assistant.id }, 'could not record assistant usage'));
    }
    let result: CallResult;
    try {
      const turn = runTurn(this.deps, {
        model: p.model.base_name,
        system: p.system,
        messages,
        temperature: assistant.temperature,
        topP: assistant.top_p,
        outputSchema: body.output_schema ?? null,
        mcpServers: (assistant.data.mcp_servers as Array<Record<string, unknown>>) ?? [],
        tools: [...(await this.toolsFor(assistant, delegation)), ...(p.tools ?? [])],
        needsApproval: approvalRule(p.policy, isDelegation),
        decisions: p.resume?.paused.calls.map((c) => ({ ...c, approved: p.resume!.approved })),
        propagatedHeaders: p.propagatedHeaders,
        user,
        requestId: p.requestId,
        signal,
        controller: opts.controller,
        trace: { observation: trace },
        answer,
        toolAuthor: toolTitle,
      });
      for await (const ev of turn.events) {
        collected.add(ev);
        toolCalls.add(ev);
        yield ev;
      }
      const r = await turn.result;
      const thoughts = collected.thoughts;
      const usage = addUsage(addUsage(r.usage, delegation.usage), p.resume?.paused.usage ?? ZERO);
      if (r.ok && r.paused) {
        const paused: PausedTurn = {
          assistantId: assistant.id,
          conversationId: p.conversationId,
          newConversation: p.resume ? p.resume.paused.newConversation : !!p.newConversation,
          userId: user.id,
          version: body.version ?? null,
          body: {
            text: body.text,
            llm_model: body.llm_model,
            system_prompt: body.system_prompt,
            output_schema: body.output_schema,
            file_names: body.file_names,
            save_history: body.save_history,
            metadata: body.metadata,
            sub_assistants_versions: body.sub_assistants_versions,
            history_index: body.history_index,
          },
          propagatedHeaders: p.propagatedHeaders,
          messages: [...messages, ...r.paused.transcript],
          calls: r.paused.calls,
          thoughts,
          usage,
          userText: p.resume ? p.resume.paused.userText : messages.length ? (body.text ?? '') : '',
          policy: p.policy,
        };
        if (!p.virtual && assistant.id) await this.deps.approvals.save(paused);
        const text = pausedMessage(r.paused.calls);
        result = {
          generated: text,
          text,
          thoughts,
          usage,
          timeElapsed: elapsed(),
          success: true,
          errorCode: null,
          errorStatus: null,
          errorMessage: null,
          interrupted: false,
          llmMs: r.llmMs,
          paused,
        };
      } else if (r.ok) {
        const generated = r.object !== undefined ? r.object : r.text;
        thoughts.push(thoughtOf(answer, { inProgress: false, message: typeof generated === 'string' ? generated : JSON.stringify(generated) }));
        result = {
          generated,
          text: r.text,
          thoughts,
          usage,
          timeElapsed: elapsed(),
          success: true,
          errorCode: null,
          errorStatus: null,
          errorMessage: null,
          interrupted: false,
          llmMs: r.llmMs,
        };
      } else {
        // A lent controller is also aborted by the agent's own timeout: that is a failure, not an interruption.
        const interrupted = r.code === 'llm_aborted' || (signal.aborted && r.code !== 'llm_timeout');
        thoughts.push(thoughtOf(answer, { inProgress: false, message: r.text, error: !interrupted, interrupted }));
        result = {
          generated: interrupted ? r.text : `${errorSummary(r.code)} ${r.message}`.trim(),
          text: r.text,
          thoughts,
          usage,
          timeElapsed: elapsed(),
          success: false,
          errorCode: r.code,
          errorStatus: r.status,
          errorMessage: r.message,
          interrupted,
          llmMs: r.llmMs,
        };
      }
    } catch (err) {
      // Unexpected (not an LLM failure): the request fails as a whole.
      trace.end({ level: 'ERROR', statusMessage: (err as Error).message });
      throw err;
    }
    trace.end({
      output: result.generated,
      ...(result.success ? {} : { level: result.interrupted ? ('DEFAULT' as const) : ('ERROR' as const), statusMessage: result.errorCode ?? undefined }),
    });
    const userText = p.resume ? p.resume.paused.userText : messages.length ? (body.text ?? '') : '';
    const usageRows = this.usageRows(p, result, toolCalls);
    if (!result.paused && body.save_history && !p.virtual && (opts.saveWhen?.(result) ?? true)) await this.saveTurn(p, result, userText, usageRows);
    else await this.deps.accounting?.record(usageRows, undefined, { fresh: true });
    return result;
  }

  /** Runs a prepared call to its end, ignoring its events (non-stream answers, background tasks). */
  async complete(p: PreparedCall, signal: AbortSignal, opts: RunOptions = {}): Promise<CallResult> {
    const gen = this.run(p, signal, opts);
    for (;;) {
      const step = await gen.next();
      if (step.done) return step.value;
    }
  }

  /**
   * The assistant's tools besides its MCP servers: a delegation tool per readable sub-assistant
   * (all of them when the assistant is published) and per enabled built-in subagent.
   * (Toolkits and knowledge-base search join here.)
   */
  /**
   * Knowledge-base search tools for the assistant's `context`. A missing datasource fails the call:
   * 500 "Assistant Error" for a saved assistant whose datasource went away (as the reference), but
   * 400 for a definition in the request (the virtual assistant): there the caller named it.
   */
  private async contextToolsOf(a: AssistantRecord): Promise<AgentTool[] | undefined> {
    const context = a.data.context;
    if (!this.deps.contextTools || !Array.isArray(context) || !context.length) return undefined;
    return this.deps.contextTools(a.project, context, a.id ? 500 : 400);
  }

  /** The configuration as it runs: with what its attached skills add (MCP servers, built-in subagents). */
  private async withContributions(a: AssistantRecord, user: AuthUser): Promise<AssistantRecord> {
    return this.deps.contributions ? this.deps.contributions(a, user) : a;
  }

  /** Knowledge-base search, toolkit and skill tools of the assistant. */
  private async extraToolsOf(a: AssistantRecord, ctx: AssistantToolsContext): Promise<AgentTool[] | undefined> {
    const context = await this.contextToolsOf(a);
    const own = this.deps.assistantTools ? await this.deps.assistantTools(a, ctx) : [];
    return context || own.length ? [...(context ?? []), ...own] : undefined;
  }

  /** A stored sub-assistant's own toolkit and skill tools (built-in subagents have none of their own). */
  private async subAssistantTools(sub: AssistantRecord, ctx: DelegationContext): Promise<AgentTool[]> {
    if (!sub.id || !this.deps.assistantTools) return [];
    return this.deps.assistantTools(sub, {
      user: ctx.user,
      conversationId: ctx.conversationId,
      propagatedHeaders: ctx.propagatedHeaders,
      requestId: ctx.requestId,
    });
  }

  private async toolsFor(a: AssistantRecord, ctx: DelegationContext): Promise<TurnTool[]> {
    const tools: TurnTool[] = [];
    if (ctx.depth >= this.deps.maxDelegationDepth) return tools;
    const names = new Set<string>();
    const unique = (n: string) => {
      let name = n;
      for (let i = 2; names.has(name); i++) name = `${n.slice(0, 60)}_${i}`;
      names.add(name);
      return name;
    };
    const ids = subIdsOf(a);
    const subs = (await this.deps.assistants.repo.getMany(ids)).filter((s) => a.is_global || abilities(ctx.user, access(s)).includes('read'));
    subs.sort((x, y) => ids.indexOf(x.id) - ids.indexOf(y.id));
    for (const found of subs) {
      const pinned = ctx.subVersions[found.id];
      const sub = pinned ? await this.deps.assistants.atVersion(found, pinned).catch(() => found) : found;
      tools.push(
        this.delegationTool(
          unique(transferToolName(sub.name)),
          sub.description ? `Sub-assistant: ${sub.description}` : `Hand off task to ${sub.name}`,
          sub.name,
          sub,
          ctx,
        ),
      );
    }
    for (const id of (a.data.enabled_builtin_subagents as string[]) ?? []) {
      const b = BUILTIN_SUBAGENTS.find((x) => x.id === id);
      if (!b) continue;
      const clone: AssistantRecord = {
        ...a,
        id: '',
        name: b.display_name,
        system_prompt: b.system_prompt,
        data: { ...a.data, assistant_ids: [], enabled_builtin_subagents: [], prompt_variables: [] },
      };
      tools.push(this.delegationTool(unique(transferToolName(`__builtin__${b.id}`)), b.display_name, b.display_name, clone, ctx));
    }
    return tools;
  }

  private delegationTool(name: string, description: string, author: string, sub: AssistantRecord, ctx: DelegationContext): TurnTool {
    const inputSchema = {
      type: 'object',
      properties: { task: { type: 'string', description: `The task for ${author}, with everything it needs to know` } },
      required: ['task'],
    };
    const runIt = (args: Record<string, unknown>, tctx: TurnToolContext | null, signal: AbortSignal) =>
      this.delegate(sub, String(args.task ?? ''), ctx, tctx, signal);
    return {
      name,
      description,
      inputSchema,
      thought: { author, kind: 'agent' },
      execute: (args, c) => runIt(args, null, c.signal),
      runInTurn: (args, tctx) => runIt(args, tctx, tctx.signal),
    };
  }

  /** Runs a sub-assistant on `task` as a nested turn; its events are children of the delegation's thought. */
  private async delegate(sub: AssistantRecord, task: string, ctx: DelegationContext, tctx: TurnToolContext | null, signal: AbortSignal): Promise<ToolResult> {
    let model: LlmModelInfo;
    try {
      model = this.deps.llm.resolveModel(sub.llm_model_type);
    } catch (err) {
      return { output: `${sub.name} cannot run: ${err instanceof ApiError ? String(err.details ?? err.message) : String(err)}`, isError: true };
    }
    const span = ctx.trace.child(sub.name, { type: 'agent', input: task, metadata: { assistant_id: sub.id || null } });
    const nested: DelegationContext = { ...ctx, depth: ctx.depth + 1, trace: span };
    const answer: ThoughtRef = tctx?.thought ?? { id: randomUUID(), parentId: null, author: sub.name, kind: 'agent', input: task };
    const turn = runTurn(this.deps, {
      model: model.base_name,
      system: await this.systemPrompt(sub, null, ctx.user, !!sub.id),
      messages: [{ role: 'user', content: task }],
      temperature: sub.temperature,
      topP: sub.top_p,
      mcpServers: (sub.data.mcp_servers as Array<Record<string, unknown>>) ?? [],
      tools: [...(await this.toolsFor(sub, nested)), ...(await this.subAssistantTools(sub, ctx))],
      needsApproval: approvalRule(policyOf(sub), isDelegation),
      propagatedHeaders: ctx.propagatedHeaders,
      user: ctx.user,
      requestId: ctx.requestId,
      signal,
      trace: { observation: span },
      answer,
      toolAuthor: toolTitle,
    });
    for await (const ev of turn.events) tctx?.emit(ev);
    const r = await turn.result;
    ctx.usage = addUsage(ctx.usage, r.usage);
    span.end({ output: r.text, ...(r.ok ? {} : { level: 'ERROR' as const, statusMessage: r.code }) });
    if (!r.ok) return { output: `${sub.name} failed: ${r.message}`, isError: true };
    if (r.paused) {
      const names = [...new Set(r.paused.calls.map((c) => `'${c.name}'`))].join(', ');
      return {
        output: `${sub.name} needs the user's approval to call ${names}; tools that need approval cannot run inside a delegation. Ask the user to call ${sub.name} directly.`,
        isError: true,
      };
    }
    return { output: r.text, isError: false };
  }

  /**
   * The system prompt (the call's override, else the assistant's) with `{{ variables }}`:
   * current_user and date, the assistant's prompt-variable defaults, the user's own values.
   */
  private async systemPrompt(a: AssistantRecord, override: string | null | undefined, user: AuthUser, withUserValues: boolean): Promise<string | undefined> {
    const template = override || a.system_prompt || '';
    if (!template.includes('{{')) return template || undefined;
    const vars: Record<string, string> = { current_user: user.name || user.username, date: promptDate() };
    for (const v of promptVariablesOf(a)) vars[v.key] = await this.deps.assistants.secrets.open(v.default_value);
    if (withUserValues && a.id) Object.assign(vars, await this.deps.mappings.promptVariableValues(a.id, user.id));
    return renderPrompt(template, vars) || undefined;
  }

  /** History (the request's, else the stored conversation's) and the user message with attached files' text. */
  private async messages(p: PreparedCall): Promise<ChatMessage[]> {
    const { body } = p;
    let history = bodyHistory(body);
    // Stored turns (the latest variant of each); regenerating turn `history_index`: only the turns before it.
    if (!history.length && body.conversation_id && !p.virtual) history = await this.deps.conversations.chatHistory(p.conversationId, body.history_index);
    const block = filesPromptBlock(p.files ?? []);
    const userContent = `${body.text ?? ''}${block}`.trim();
    return [...history, ...(userContent ? [{ role: 'user' as const, content: userContent }] : [])];
  }

  /**
   * The call's usage rows: its tool calls, and (when it did not pause) the call itself with the
   * tokens and cost of the whole call, earlier segments and delegations included.
   */
  private usageRows(p: PreparedCall, r: CallResult, tools: ToolCallCollector): UsageInput[] {
    if (!this.deps.accounting) return [];
    const key = randomUUID();
    const base = {
      user: p.user,
      project: p.assistant.project,
      assistantId: p.assistant.id || null,
      assistantName: p.assistant.name,
      conversationId: p.conversationId,
      model: p.model.base_name,
    };
    const rows = tools.rows(key, base);
    if (!r.paused) {
      rows.push({
        ...base,
        key: `assistant:${key}`,
        kind: 'assistant',
        usage: r.usage,
        latencyMs: r.timeElapsed * 1000,
        status: r.interrupted ? 'interrupted' : r.success ? 'success' : 'error',
        errorClass: r.errorCode,
      });
    }
    return rows;
  }

  private async saveTurn(p: PreparedCall, r: CallResult, userText: string, usageRows: UsageInput[] = []): Promise<void> {
    const at = Date.now();
    const now = new Date(at).toISOString();
    // The question is dated when it was asked, the answer when it was given.
    const asked = new Date(at - Math.round(r.timeElapsed * 1000)).toISOString();
    const init = {
      assistantId: p.assistant.id,
      project: p.assistant.project,
      firstText: userText,
      llmModel: p.model.base_name,
      isNew: p.newConversation,
      historyIndex: p.body.history_index,
    };
    await this.deps.conversations.appendTurn(
      p.conversationId,
      p.user,
      init,
      (historyIndex) => [
        { role: 'User', message: userText, historyIndex, date: asked, fileNames: p.body.file_names, assistantId: p.assistant.id },
        {
          role: 'Assistant',
          message: r.interrupted ? r.text || INTERRUPTED_TEXT : typeof r.generated === 'string' ? r.generated : JSON.stringify(r.generated),
          historyIndex,
          date: now,
          responseTime: r.timeElapsed,
          inputTokens: r.usage.input_tokens,
          outputTokens: r.usage.output_tokens,
          cacheReadInputTokens: r.usage.cached_tokens,
          moneySpent: r.usage.money_spent,
          assistantId: p.assistant.id,
          thoughts: r.thoughts,
          status: r.interrupted ? 'interrupted' : r.success ? 'success' : 'error',
          ...(r.interrupted ? { messageRaw: INTERRUPTED_TEXT } : {}),
        },
      ],
      usageRows.length ? (trx) => this.deps.accounting!.record(usageRows, trx, { fresh: true }) : undefined,
    );
  }
}

function bodyHistory(body: ChatBody): ChatMessage[] {
  if (typeof body.history === 'string') return body.history ? [{ role: 'user', content: body.history }] : [];
  return body.history
    .filter((h): h is NonNullable<typeof h> => !!h && typeof h.message === 'string')
    .map((h) => ({ role: String(h.role).toLowerCase() === 'assistant' || String(h.role) === 'AI' ? 'assistant' : 'user', content: h.message as string }));
}

function errorSummary(code: string): string {
  switch (code) {
    case 'llm_rate_limited':
      return 'The language model is rate limited.';
    case 'llm_timeout':
      return 'The language model did not answer in time.';
    case 'llm_unavailable':
      return 'The language model is unavailable.';
    case 'llm_context_length_exceeded':
      return 'The conversation is too long for the model.';
    default:
      return 'The assistant could not complete the request.';
  }
}

function langfuseTags(metadata: Record<string, unknown> | null | undefined): string[] {
  const t = metadata?.langfuse_tags;
  return Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string') : [];
}

/** The non-stream response (camelCase top level, every key present). */
export function callResponse(r: CallResult) {
  const toolErrors = r.thoughts.filter((t) => t.error && t.author_type === 'Tool');
  return {
    generated: r.generated,
    timeElapsed: r.timeElapsed,
    // Filled (the contract), but as the total token count: the official Python SDK declares
    // `tokens_used: int | None` and would reject an object. The breakdown and cost are in `usage`.
    tokensUsed: r.usage.input_tokens + r.usage.output_tokens,
    usage: r.usage,
    thoughts: r.thoughts,
    taskId: null,
    success: r.success,
    agentError: r.success ? null : { error_code: r.errorCode, message: r.errorMessage, details: null, stacktrace: null },
    toolErrors: toolErrors.length
      ? toolErrors.map((t) => ({
          tool_name: t.metadata.tool_name ?? t.author_name,
          error_code: 'tool_execution_failed',
          message: t.message,
          timestamp: new Date().toISOString(),
          tool_call_id: typeof t.metadata.tool_call_id === 'string' ? t.metadata.tool_call_id : null,
        }))
      : null,
    interactiveRequest: r.paused ? interactiveRequest(r.paused) : null,
  };
}

/** A failed non-stream call becomes an HTTP error (502/503/504 from the LLM layer). */
export function callError(r: CallResult): ApiError {
  return new ApiError(
    r.errorStatus && r.errorStatus >= 400 ? r.errorStatus : 502,
    'Assistant Error',
    `${r.errorCode}: ${r.errorMessage}`,
    'We apologize for the inconvenience. Please try again later; if the problem persists, contact your administrator.',
  );
}
