/**
 * One assistant call: resolve model and tools, run the agent loop, turn its events into the
 * reference's thoughts/stream chunks, persist the turn in the conversation, trace it.
 * Used by the HTTP route (stream and non-stream) and by background tasks alike.
 */
import type { AuthUser } from '../api/auth.js';
import { ApiError, unprocessable } from '../api/errors.js';
import type { AppContext } from '../context.js';
import { validateJsonSchema } from '../llm/json-schema.js';
import type { ChatMessage, LlmModelInfo, TokenUsage } from '../llm/types.js';
import type { Toolset } from '../llm/tool.js';
import type { MCPServerDetails } from '../mcp/schemas.js';
import type { ConversationService } from '../conversations/service.js';
import type { AssistantRecord } from './repo.js';
import type { ChatBody } from './schemas.js';
import { fileService } from '../files/module.js';
import { filesPromptBlock, type AttachedFile } from '../files/service.js';
import { ANSWER_AUTHOR, chunk, thought, toolTitle, type StreamChunk, type Thought } from './thoughts.js';
import { newRowId } from '../store/ids.js';

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

const ZERO_USAGE: TokenUsage = { input_tokens: 0, output_tokens: 0, cached_tokens: 0, money_spent: 0 };

/** Checks everything that must fail before a response starts (400/403/422). */
export async function prepareCall(
  ctx: AppContext,
  conversations: ConversationService,
  assistant: AssistantRecord,
  body: ChatBody,
  user: AuthUser,
  propagatedHeaders: Record<string, string> | null,
  requestId?: string,
): Promise<PreparedCall> {
  const hasHistory = Array.isArray(body.history) ? body.history.length > 0 : !!body.history;
  if (!body.text && !hasHistory) throw unprocessable('text: Field required', [{ loc: 'text', msg: 'Field required', type: 'missing' }]);
  const model = ctx.llm.resolveModel(body.llm_model || assistant.llm_model_type);
  if (body.output_schema) {
    const check = validateJsonSchema(body.output_schema);
    if (!check.ok) throw unprocessable('Wrong JSON schema for structured output', check.errors.join('; '));
  }
  const conversationId = body.conversation_id || newRowId();
  // Continuing someone else's conversation is refused before anything runs.
  if (body.conversation_id) await conversations.assertCanContinue(conversationId, user);
  // Attached files: unknown → 400, not readable by the caller → 403; never dropped silently.
  const files = body.file_names?.length ? await fileService(ctx).resolve(user, body.file_names) : [];
  return { assistant, body, user, model, conversationId, newConversation: !body.conversation_id, propagatedHeaders, requestId, files };
}

function bodyHistory(body: ChatBody): ChatMessage[] {
  if (typeof body.history === 'string') return body.history ? [{ role: 'user', content: body.history }] : [];
  return body.history
    .filter((h): h is NonNullable<typeof h> => !!h && typeof h.message === 'string')
    .map((h) => ({ role: String(h.role).toLowerCase() === 'assistant' || String(h.role) === 'AI' ? 'assistant' : 'user', content: h.message as string }));
}

/** Runs a prepared call to the end. `emit` receives stream chunks as they happen (stream mode). */
export async function runCall(
  ctx: AppContext,
  conversations: ConversationService,
  p: PreparedCall,
  signal: AbortSignal,
  emit?: (c: StreamChunk) => Promise<void> | void,
  /** saveWhen: whether to store the turn; controller: the one behind `signal`, lent to the agent loop (see AgentRequest.controller). */
  opts: { saveWhen?: (r: CallResult) => boolean; controller?: AbortController } = {},
): Promise<CallResult> {
  const started = performance.now();
  const { assistant, body, user } = p;
  const elapsed = () => Math.round(performance.now() - started) / 1000;

  // History: the request's, else the stored conversation's.
  let history = bodyHistory(body);
  if (!history.length && body.conversation_id) {
    const stored = await conversations.history(p.conversationId);
    history = stored.filter((m) => m.status !== 'interrupted' || m.message).map((m) => ({ role: m.role === 'User' ? 'user' : 'assistant', content: m.message }));
  }
  // Text files' content is appended to the user message (or sent as one when there is no text).
  const block = filesPromptBlock(p.files ?? []);
  const userContent = `${body.text ?? ''}${block}`.trim();
  const messages: ChatMessage[] = [...history, ...(userContent ? [{ role: 'user' as const, content: userContent }] : [])];

  const trace = ctx.tracer.startTrace({
    name: assistant.name,
    sessionId: p.conversationId,
    userId: user.username,
    tags: [`llm_model:${p.model.base_name}`, `agent_name:${assistant.name}`, ...langfuseTags(body.metadata)],
    metadata: { assistant_id: assistant.id, request_uuid: p.requestId ?? null },
    input: body.text ?? '',
  });

  const thoughts: Thought[] = [];
  const toolThoughts = new Map<string, Thought>();
  const answer = thought({ author_name: ANSWER_AUTHOR, author_type: 'Tool', in_progress: true });
  let toolset: Toolset | null = null;
  let text = '';
  let llmMs = 0;
  let result: CallResult;
  try {
    const servers = ((assistant.data.mcp_servers as MCPServerDetails[]) ?? []).filter((s) => s.enabled !== false);
    if (servers.length) {
      toolset = await ctx.mcp.openToolset(servers, { propagatedHeaders: p.propagatedHeaders, user, signal, requestId: p.requestId });
      for (const w of toolset.warnings) {
        const t = thought({ author_name: toolTitle(w.source), author_type: 'System', message: w.message, error: true });
        thoughts.push(t);
        await emit?.(chunk({ thought: t }));
      }
    }
    let end: Extract<Awaited<ReturnType<typeof nextEnd>>, object> | null = null;
    const llmStarted = performance.now();
    for await (const ev of ctx.llm.runAgent({
      model: p.model.base_name,
      system: body.system_prompt || assistant.system_prompt || undefined,
      messages,
      temperature: assistant.temperature,
      topP: assistant.top_p,
      tools: toolset?.tools ?? [],
      outputSchema: body.output_schema ?? null,
      signal,
      controller: opts.controller,
      trace: { observation: trace },
    })) {
      if (ev.type === 'text-delta') {
        text += ev.text;
        if (emit) await emit(chunk({ generated_chunk: ev.text, thought: { ...answer, message: ev.text } }));
      } else if (ev.type === 'tool-call') {
        const t = thought({ author_name: toolTitle(ev.toolName), author_type: 'Tool', in_progress: true, input_text: stringify(ev.input), metadata: { tool_name: ev.toolName } });
        toolThoughts.set(ev.toolCallId, t);
        await emit?.(chunk({ thought: t }));
      } else if (ev.type === 'tool-result') {
        const t = toolThoughts.get(ev.toolCallId) ?? thought({ author_name: toolTitle(ev.toolName) });
        const done = { ...t, in_progress: false, message: ev.output, error: ev.isError };
        thoughts.push(done);
        await emit?.(chunk({ thought: done }));
      } else {
        end = ev;
      }
    }
    llmMs = performance.now() - llmStarted;
    if (!end) end = { type: 'error', error: { code: 'llm_bad_response', message: 'The agent ended without an answer', status: 502 } as never, usage: ZERO_USAGE, text };
    if (end.type === 'finish') {
      const generated = end.object !== undefined ? end.object : end.text;
      thoughts.push({ ...answer, in_progress: false, message: typeof generated === 'string' ? generated : JSON.stringify(generated) });
      result = { generated, text: end.text, thoughts, usage: end.usage, timeElapsed: elapsed(), success: true, errorCode: null, errorStatus: null, errorMessage: null, interrupted: false };
    } else {
      // A lent controller is also aborted by the agent's own timeout: that is a failure, not an interruption.
      const interrupted = end.error.code === 'llm_aborted' || (signal.aborted && end.error.code !== 'llm_timeout');
      const partial = end.text || text;
      thoughts.push({ ...answer, in_progress: false, message: partial, error: !interrupted, interrupted });
      result = {
        generated: interrupted ? partial : `${errorSummary(end.error.code)} ${end.error.message}`.trim(),
        text: partial,
        thoughts,
        usage: end.usage,
        timeElapsed: elapsed(),
        success: false,
        errorCode: end.error.code,
        errorStatus: end.error.status,
        errorMessage: end.error.message,
        interrupted,
      };
    }
  } catch (err) {
    // Unexpected (not an LLM failure): the request fails as a whole.
    trace.end({ level: 'ERROR', statusMessage: (err as Error).message });
    throw err;
  } finally {
    await toolset?.close().catch(() => undefined);
  }
  trace.end({
    output: result.generated,
    ...(result.success ? {} : { level: result.interrupted ? ('DEFAULT' as const) : ('ERROR' as const), statusMessage: result.errorCode ?? undefined }),
  });
  result.llmMs = llmMs;
  if (body.save_history && (opts.saveWhen?.(result) ?? true)) await saveTurn(conversations, p, result, messages.length ? (body.text ?? '') : '');
  return result;
}

// Only used for its type: the end event of the agent loop.
async function nextEnd() {
  return null as unknown as { type: 'finish'; text: string; object?: unknown; usage: TokenUsage; finishReason: string } | { type: 'error'; error: { code: string; message: string; status: number }; usage: TokenUsage; text: string };
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

function stringify(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

async function saveTurn(conversations: ConversationService, p: PreparedCall, r: CallResult, userText: string): Promise<void> {
  const firstText = userText || 'Conversation';
  const now = new Date().toISOString();
  const init = { assistantId: p.assistant.id, project: p.assistant.project, firstText, llmModel: p.model.base_name, isNew: p.newConversation };
  await conversations.appendTurn(p.conversationId, p.user, init, (historyIndex) => [
    { role: 'User', message: userText, historyIndex, date: now, fileNames: p.body.file_names, assistantId: p.assistant.id },
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

/** The non-stream response (camelCase top level, every key present). */
export function callResponse(r: CallResult) {
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
    toolErrors: r.thoughts.some((t) => t.error && t.author_type === 'Tool')
      ? r.thoughts.filter((t) => t.error && t.author_type === 'Tool').map((t) => ({ tool_name: t.metadata.tool_name ?? t.author_name, error_code: 'tool_error', message: t.message }))
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
