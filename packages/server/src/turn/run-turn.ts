/**
 * One agent turn, the same for assistant calls and workflow assistant states: open the MCP
 * servers' tools (with the propagated headers), run the model ↔ tool loop, report what happens as
 * run events (answer text, tool calls and results, warnings), close the tools, and end with a
 * result. Callers add what is theirs around it: conversations and tracing for assistants, state
 * rows and retries for workflows.
 *
 * Two extensions of the plain loop:
 * - a tool may run *in the turn* (`TurnTool.runInTurn`): it gets its call's thought and can
 *   report events while it runs — a sub-assistant's answer and tool calls become children of the
 *   delegation's thought;
 * - tool approval: when `needsApproval` says so, the call does not run; the loop stops after the
 *   step and the result is `paused` with the pending calls and the messages so far. A later turn
 *   given those messages and the user's `decisions` runs (or refuses) the calls and continues.
 */
import { randomUUID } from 'node:crypto';
import type { AuthUser } from '../api/auth.js';
import type { AgentEvent, ChatMessage, LlmErrorCode, LlmService, TokenUsage } from '../llm/types.js';
import type { AgentTool, ToolCallContext, ToolResult, Toolset } from '../llm/tool.js';
import type { RunEvent, ThoughtRef } from './events.js';

export interface ToolsetRequest {
  propagatedHeaders: Record<string, string> | null;
  user: AuthUser;
  signal: AbortSignal;
  requestId?: string;
}

/** Opens MCP servers' tools for one turn (the MCP service; workflows tests swap it). */
export type ToolsetOpener = (servers: Array<Record<string, unknown>>, opts: ToolsetRequest) => Promise<Toolset>;

/** Opening the MCP servers failed as a whole (a bad configuration, not one server down: that is a warning). */
export class ToolsetError extends Error {
  constructor(override readonly cause: unknown) {
    super((cause as Error)?.message ?? String(cause));
    this.name = 'ToolsetError';
  }
}

export interface TurnDeps {
  llm: Pick<LlmService, 'runAgent'>;
  openToolset: ToolsetOpener;
}

/** What a tool that runs in the turn gets besides the plain call context. */
export interface TurnToolContext extends ToolCallContext {
  /** The thought of this call: what the tool reports belongs under it. */
  thought: ThoughtRef;
  /** Reports an event of the turn while the tool runs. */
  emit(ev: RunEvent): void;
}

export interface TurnTool extends AgentTool {
  /** Runs the call inside the turn (instead of execute), reporting events as it goes. */
  runInTurn?(args: Record<string, unknown>, ctx: TurnToolContext): Promise<ToolResult>;
  /** How a call of this tool shows as a thought (default: a tool thought authored by `toolAuthor`). */
  thought?: { author: string; kind: 'agent' | 'tool' };
}

/** A tool call waiting for the user's decision. */
export interface PendingToolCall {
  id: string;
  name: string;
  input: unknown;
  /** The id of the call's thought (its in-progress thought was streamed). */
  thoughtId: string;
}

export interface ToolDecision extends PendingToolCall {
  approved: boolean;
}

export interface TurnRequest {
  /** base_name of a resolved model. */
  model: string;
  system?: string;
  messages: ChatMessage[];
  temperature?: number | null;
  topP?: number | null;
  outputSchema?: Record<string, unknown> | null;
  maxSteps?: number;
  /** MCP servers of the assistant (disabled ones are skipped). */
  mcpServers: Array<Record<string, unknown>>;
  /** Tools besides the MCP servers' (toolkits, sub-assistants, knowledge-base search). */
  tools?: TurnTool[];
  /** Whether a call of this tool waits for the user's approval (the turn pauses before running it). */
  needsApproval?: (tool: AgentTool) => boolean;
  /** A resumed turn: the calls the user decided on, run (approved) or refused before the model continues. */
  decisions?: ToolDecision[];
  propagatedHeaders: Record<string, string> | null;
  user: AuthUser;
  requestId?: string;
  signal: AbortSignal;
  /** The controller behind `signal`, lent to the agent loop (see AgentRequest.controller). */
  controller?: AbortController;
  /** Tracing context for the LLM layer (`{ observation }`). */
  trace?: Record<string, unknown>;
  /** The thought the answer's text belongs to. Tool calls are its children when it is an agent. */
  answer: ThoughtRef;
  /** A tool's (or MCP server's) thought author from its name (default: the name itself). */
  toolAuthor?: (toolName: string) => string;
}

export interface TurnPause {
  calls: PendingToolCall[];
  /** The messages of this turn after `messages` (assistant tool calls, tool results): the resumed turn's context. */
  transcript: ChatMessage[];
}

export type TurnResult =
  | { ok: true; text: string; object?: unknown; usage: TokenUsage; llmMs: number; paused?: TurnPause }
  | { ok: false; code: LlmErrorCode; message: string; status: number; text: string; usage: TokenUsage; llmMs: number };

export interface Turn {
  events: AsyncIterable<RunEvent>;
  /** Settles when `events` has been read to its end (or the reader stopped early). */
  result: Promise<TurnResult>;
}

const ZERO: TokenUsage = { input_tokens: 0, output_tokens: 0, cached_tokens: 0, money_spent: 0 };

const stringify = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

export const AWAITING_APPROVAL = "Waiting for the user's approval of this tool call.";
export const REJECTED_BY_USER = 'The user rejected this tool call; it was not run.';

/** Events reported by tools running in the turn, merged into the agent's events. */
class SideChannel {
  readonly items: RunEvent[] = [];
  private wake: (() => void) | null = null;

  push(ev: RunEvent): void {
    this.items.push(ev);
    this.wake?.();
  }

  wait(): Promise<'side'> {
    if (this.items.length) return Promise.resolve('side');
    return new Promise((r) => {
      this.wake = () => {
        this.wake = null;
        r('side');
      };
    });
  }
}

type Merged = AgentEvent | { type: 'side'; ev: RunEvent };

async function* withSide(agent: AsyncIterable<AgentEvent>, side: SideChannel): AsyncGenerator<Merged> {
  const it = agent[Symbol.asyncIterator]();
  let next = it.next();
  try {
    for (;;) {
      while (side.items.length) yield { type: 'side', ev: side.items.shift()! };
      const r = await Promise.race([next, side.wait()]);
      if (r === 'side') continue;
      if (r.done) break;
      next = it.next();
      yield r.value;
    }
    while (side.items.length) yield { type: 'side', ev: side.items.shift()! };
  } finally {
    void it.return?.(undefined)?.catch(() => undefined);
  }
}

export function runTurn(deps: TurnDeps, req: TurnRequest): Turn {
  let settle!: (r: TurnResult) => void;
  let fail!: (err: unknown) => void;
  const result = new Promise<TurnResult>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  // A reader that never awaits `result` must not see an unhandled rejection.
  result.catch(() => undefined);
  const parentOfTools = req.answer.kind === 'agent' ? req.answer.id : null;
  const author = (name: string) => (req.toolAuthor ? req.toolAuthor(name) : name);

  async function* events(): AsyncGenerator<RunEvent> {
    let toolset: Toolset | null = null;
    let outcome: TurnResult | null = null;
    let text = '';
    const started = performance.now();
    try {
      const servers = req.mcpServers.filter((s) => s.enabled !== false);
      if (servers.length) {
        toolset = await deps
          .openToolset(servers, { propagatedHeaders: req.propagatedHeaders, user: req.user, signal: req.signal, requestId: req.requestId })
          .catch((err: unknown) => {
            throw new ToolsetError(err);
          });
        for (const w of toolset.warnings) {
          const notice: ThoughtRef = { id: randomUUID(), parentId: parentOfTools, author: author(w.source), kind: 'system', input: '' };
          yield { type: 'thought-end', thought: notice, output: w.message, error: true };
        }
      }
      const plain: TurnTool[] = [...(toolset?.tools ?? []), ...(req.tools ?? [])];
      const byName = new Map(plain.map((t) => [t.name, t]));

      // One thought per tool call, made by whichever comes first: the call event or the tool running.
      const calls = new Map<string, ThoughtRef>();
      const startedThoughts = new Set<string>();
      const thoughtFor = (toolCallId: string, toolName: string, input: unknown): ThoughtRef => {
        let t = calls.get(toolCallId);
        if (!t) {
          const tool = byName.get(toolName);
          t = {
            id: randomUUID(),
            parentId: parentOfTools,
            author: tool?.thought?.author ?? author(toolName),
            kind: tool?.thought?.kind ?? 'tool',
            input: stringify(input),
            metadata: { tool_name: toolName, tool_call_id: toolCallId, ...(tool?.mcpServer ? { mcp_server: tool.mcpServer } : {}) },
          };
          calls.set(toolCallId, t);
        }
        return t;
      };

      // A resumed turn: the decided calls first, their results appended to the messages.
      const resumed: ChatMessage[] = [];
      for (const d of req.decisions ?? []) {
        const ref: ThoughtRef = {
          id: d.thoughtId,
          parentId: parentOfTools,
          author: author(d.name),
          kind: 'tool',
          input: stringify(d.input),
          metadata: { tool_name: d.name, tool_call_id: d.id, approval: d.approved ? 'approved' : 'rejected' },
        };
        yield { type: 'thought-start', thought: ref };
        let r: ToolResult;
        const tool = byName.get(d.name);
        if (!d.approved) r = { output: REJECTED_BY_USER, isError: true };
        else if (!tool) r = { output: `Tool ${d.name} is no longer available.`, isError: true };
        else {
          try {
            r = await tool.execute((d.input ?? {}) as Record<string, unknown>, { signal: req.signal, toolCallId: d.id });
          } catch (err) {
            r = { output: `Tool ${d.name} failed: ${err instanceof Error ? err.message : String(err)}`, isError: true };
          }
        }
        yield { type: 'thought-end', thought: ref, output: r.output, error: r.isError && d.approved };
        resumed.push({ role: 'tool', content: r.output, toolCallId: d.id, toolName: d.name, isError: r.isError });
      }

      const side = new SideChannel();
      const pending: PendingToolCall[] = [];
      const tools: AgentTool[] = plain.map((t) => {
        const ask = req.needsApproval?.(t) === true;
        if (!ask && !t.runInTurn) return t;
        return {
          name: t.name,
          description: t.description,
          inputSchema: t.inputSchema,
          execute: async (args, ctx) => {
            const ref = thoughtFor(ctx.toolCallId, t.name, args);
            if (ask) {
              pending.push({ id: ctx.toolCallId, name: t.name, input: args, thoughtId: ref.id });
              return { output: AWAITING_APPROVAL, isError: false };
            }
            if (!startedThoughts.has(ctx.toolCallId)) {
              startedThoughts.add(ctx.toolCallId);
              side.push({ type: 'thought-start', thought: ref });
            }
            return t.runInTurn!(args, { ...ctx, thought: ref, emit: (ev) => side.push(ev) });
          },
        };
      });
      const inTurn = plain.some((t) => t.runInTurn);

      // The messages of this turn, for a pause: one assistant message per step, then its results.
      const transcript: ChatMessage[] = [...resumed];
      let step: { text: string; calls: Array<{ id: string; name: string; input: unknown }>; results: ChatMessage[] } = { text: '', calls: [], results: [] };
      const flush = () => {
        if (step.calls.length || step.text) {
          transcript.push({ role: 'assistant', content: step.text, ...(step.calls.length ? { toolCalls: step.calls } : {}) });
          const waiting = new Set(pending.map((p) => p.id));
          transcript.push(...step.results.filter((r) => !waiting.has(r.toolCallId!)));
        }
        step = { text: '', calls: [], results: [] };
      };
      const stepDone = () => step.calls.length > 0 && step.results.length >= step.calls.length;

      const agent = deps.llm.runAgent({
        model: req.model,
        system: req.system || undefined,
        messages: resumed.length ? [...req.messages, ...resumed] : req.messages,
        temperature: req.temperature,
        topP: req.topP,
        tools,
        outputSchema: req.outputSchema ?? null,
        maxSteps: req.maxSteps,
        ...(req.needsApproval ? { stopAfterStep: () => pending.length > 0 } : {}),
        signal: req.signal,
        controller: req.controller,
        trace: req.trace,
      });
      const source: AsyncIterable<Merged> = inTurn ? withSide(agent, side) : agent;
      for await (const ev of source) {
        switch (ev.type) {
          case 'side':
            yield ev.ev;
            break;
          case 'text-delta':
            if (stepDone()) flush();
            step.text += ev.text;
            text += ev.text;
            yield { type: 'text-delta', thought: req.answer, text: ev.text };
            break;
          case 'tool-call': {
            if (stepDone()) flush();
            step.calls.push({ id: ev.toolCallId, name: ev.toolName, input: ev.input });
            const t = thoughtFor(ev.toolCallId, ev.toolName, ev.input);
            if (!startedThoughts.has(ev.toolCallId)) {
              startedThoughts.add(ev.toolCallId);
              yield { type: 'thought-start', thought: t };
            }
            break;
          }
          case 'tool-result': {
            step.results.push({ role: 'tool', content: ev.output, toolCallId: ev.toolCallId, toolName: ev.toolName, isError: ev.isError });
            if (pending.some((p) => p.id === ev.toolCallId)) break; // its thought stays in progress
            const t = calls.get(ev.toolCallId) ?? thoughtFor(ev.toolCallId, ev.toolName, '');
            yield { type: 'thought-end', thought: t, output: ev.output, error: ev.isError };
            break;
          }
          case 'finish':
            if (pending.length) flush();
            outcome = {
              ok: true,
              text: ev.text,
              ...(ev.object !== undefined ? { object: ev.object } : {}),
              usage: ev.usage,
              llmMs: performance.now() - started,
              ...(pending.length ? { paused: { calls: [...pending], transcript } } : {}),
            };
            break;
          case 'error':
            outcome = {
              ok: false,
              code: ev.error.code,
              message: ev.error.message,
              status: ev.error.status,
              text: ev.text || text,
              usage: ev.usage,
              llmMs: performance.now() - started,
            };
            break;
        }
      }
      settle(
        outcome ?? {
          ok: false,
          code: 'llm_bad_response',
          message: 'The agent ended without an answer',
          status: 502,
          text,
          usage: ZERO,
          llmMs: performance.now() - started,
        },
      );
    } catch (err) {
      fail(err);
      throw err;
    } finally {
      // A reader that stops early (client gone) ends the turn as aborted.
      settle({ ok: false, code: 'llm_aborted', message: 'The call was stopped', status: 499, text, usage: ZERO, llmMs: performance.now() - started });
      await toolset?.close().catch(() => undefined);
    }
  }

  return { events: events(), result };
}
