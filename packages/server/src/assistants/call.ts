/**
 * One assistant call: resolve model, files and conversation, run the turn (turn/run-turn.ts),
 * persist it in the conversation, trace it. The same generator serves the non-stream answer, the
 * stream (its events become chunks at the edge) and background tasks.
 */
import { randomUUID } from 'node:crypto';
import type { AuthUser } from '../api/auth.js';
import { ApiError, unprocessable } from '../api/errors.js';
import { validateJsonSchema } from '../llm/json-schema.js';
import type { ChatMessage, LlmModelInfo, LlmService, TokenUsage } from '../llm/types.js';
import type { AgentTool } from '../llm/tool.js';
import type { Tracer } from '../trace/tracer.js';
import type { ConversationService } from '../conversations/service.js';
import type { FileService } from '../files/service.js';
import { filesPromptBlock, type AttachedFile } from '../files/service.js';
import { runTurn, type ToolsetOpener } from '../turn/run-turn.js';
import type { RunEvent, ThoughtRef } from '../turn/events.js';
import { ANSWER_AUTHOR, toolTitle, type Thought } from '../wire/thought.js';
import { thoughtOf, ThoughtCollector } from '../wire/run-events.js';
import { newRowId } from '../store/ids.js';
import type { AssistantRecord } from './repo.js';
import type { ChatBody } from './schemas.js';

export const INTERRUPTED_TEXT = 'Agent has been interrupted by client';

export interface PreparedCall {
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
}

export interface CallDeps {
  llm: LlmService;
  openToolset: ToolsetOpener;
  tracer: Tracer;
  conversations: ConversationService;
  files: FileService;
  /** Search tools for an assistant's `context` (knowledge/); throws the 500 "Assistant Error" for a missing datasource. */
  contextTools?: (project: string, context: unknown) => Promise<AgentTool[]>;
}

export interface RunOptions {
  /** Whether to store the turn (background tasks skip it on shutdown). */
  saveWhen?: (r: CallResult) => boolean;
  /** The controller behind the signal, lent to the agent loop (see AgentRequest.controller). */
  controller?: AbortController;
}

export class AssistantCalls {
  constructor(private readonly deps: CallDeps) {}

  /** Checks everything that must fail before a response starts (400/403/422). */
  async prepare(
    assistant: AssistantRecord,
    body: ChatBody,
    user: AuthUser,
    propagatedHeaders: Record<string, string> | null,
    requestId?: string,
  ): Promise<PreparedCall> {
    const hasHistory = Array.isArray(body.history) ? body.history.length > 0 : !!body.history;
    if (!body.text && !hasHistory) throw unprocessable('text: Field required', [{ loc: 'text', msg: 'Field required', type: 'missing' }]);
    const model = this.deps.llm.resolveModel(body.llm_model || assistant.llm_model_type);
    if (body.output_schema) {
      const check = validateJsonSchema(body.output_schema);
      if (!check.ok) throw unprocessable('Wrong JSON schema for structured output', check.errors.join('; '));
    }
    const conversationId = body.conversation_id || newRowId();
    // Continuing someone else's conversation is refused before anything runs.
    if (body.conversation_id) await this.deps.conversations.assertCanContinue(conversationId, user);
    // Attached files: unknown → 400, not readable by the caller → 403; never dropped silently.
    const files = body.file_names?.length ? await this.deps.files.resolve(user, body.file_names) : [];
    const context = assistant.data.context;
    const tools = this.deps.contextTools && Array.isArray(context) && context.length ? await this.deps.contextTools(assistant.project, context) : undefined;
    return { assistant, body, user, model, conversationId, newConversation: !body.conversation_id, propagatedHeaders, requestId, files, tools };
  }

  /** Runs a prepared call: yields its run events as they happen, returns the result (turn saved). */
  async *run(p: PreparedCall, signal: AbortSignal, opts: RunOptions = {}): AsyncGenerator<RunEvent, CallResult> {
    const started = performance.now();
    const { assistant, body, user } = p;
    const elapsed = () => Math.round(performance.now() - started) / 1000;
    const messages = await this.messages(p);
    const trace = this.deps.tracer.startTrace({
      name: assistant.name,
      sessionId: p.conversationId,
      userId: user.username,
      tags: [`llm_model:${p.model.base_name}`, `agent_name:${assistant.name}`, ...langfuseTags(body.metadata)],
      metadata: { assistant_id: assistant.id, request_uuid: p.requestId ?? null },
      input: body.text ?? '',
    });
    const answer: ThoughtRef = { id: randomUUID(), parentId: null, author: ANSWER_AUTHOR, kind: 'answer', input: '' };
    const collected = new ThoughtCollector();
    let result: CallResult;
    try {
      const turn = runTurn(this.deps, {
        model: p.model.base_name,
        system: body.system_prompt || assistant.system_prompt || undefined,
        messages,
        temperature: assistant.temperature,
        topP: assistant.top_p,
        outputSchema: body.output_schema ?? null,
        mcpServers: (assistant.data.mcp_servers as Array<Record<string, unknown>>) ?? [],
        tools: p.tools,
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
        yield ev;
      }
      const r = await turn.result;
      const thoughts = collected.thoughts;
      if (r.ok) {
        const generated = r.object !== undefined ? r.object : r.text;
        thoughts.push(thoughtOf(answer, { inProgress: false, message: typeof generated === 'string' ? generated : JSON.stringify(generated) }));
        result = {
          generated,
          text: r.text,
          thoughts,
          usage: r.usage,
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
          usage: r.usage,
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
    if (body.save_history && (opts.saveWhen?.(result) ?? true)) await this.saveTurn(p, result, messages.length ? (body.text ?? '') : '');
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

  /** History (the request's, else the stored conversation's) and the user message with attached files' text. */
  private async messages(p: PreparedCall): Promise<ChatMessage[]> {
    const { body } = p;
    let history = bodyHistory(body);
    // Stored turns (the latest variant of each); regenerating turn `history_index`: only the turns before it.
    if (!history.length && body.conversation_id) history = await this.deps.conversations.chatHistory(p.conversationId, body.history_index);
    const block = filesPromptBlock(p.files ?? []);
    const userContent = `${body.text ?? ''}${block}`.trim();
    return [...history, ...(userContent ? [{ role: 'user' as const, content: userContent }] : [])];
  }

  private async saveTurn(p: PreparedCall, r: CallResult, userText: string): Promise<void> {
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
    await this.deps.conversations.appendTurn(p.conversationId, p.user, init, (historyIndex) => [
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
    ]);
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
      ? toolErrors.map((t) => ({ tool_name: t.metadata.tool_name ?? t.author_name, error_code: 'tool_error', message: t.message }))
      : null,
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
