/**
 * One agent turn, the same for assistant calls and workflow assistant states: open the MCP
 * servers' tools (with the propagated headers), run the model ↔ tool loop, report what happens as
 * run events (answer text, tool calls and results, warnings), close the tools, and end with a
 * result. Callers add what is theirs around it: conversations and tracing for assistants, state
 * rows and retries for workflows.
 */
import { randomUUID } from 'node:crypto';
import type { AuthUser } from '../api/auth.js';
import type { ChatMessage, LlmErrorCode, LlmService, TokenUsage } from '../llm/types.js';
import type { AgentTool, Toolset } from '../llm/tool.js';
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
  tools?: AgentTool[];
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

export type TurnResult =
  | { ok: true; text: string; object?: unknown; usage: TokenUsage; llmMs: number }
  | { ok: false; code: LlmErrorCode; message: string; status: number; text: string; usage: TokenUsage; llmMs: number };

export interface Turn {
  events: AsyncIterable<RunEvent>;
  /** Settles when `events` has been read to its end (or the reader stopped early). */
  result: Promise<TurnResult>;
}

const ZERO: TokenUsage = { input_tokens: 0, output_tokens: 0, cached_tokens: 0, money_spent: 0 };

const stringify = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

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
          const notice: ThoughtRef = {
            id: randomUUID(),
            parentId: parentOfTools,
            author: req.toolAuthor ? req.toolAuthor(w.source) : w.source,
            kind: 'system',
            input: '',
          };
          yield { type: 'thought-end', thought: notice, output: w.message, error: true };
        }
      }
      const tools = [...(toolset?.tools ?? []), ...(req.tools ?? [])];
      const calls = new Map<string, ThoughtRef>();
      for await (const ev of deps.llm.runAgent({
        model: req.model,
        system: req.system || undefined,
        messages: req.messages,
        temperature: req.temperature,
        topP: req.topP,
        tools,
        outputSchema: req.outputSchema ?? null,
        maxSteps: req.maxSteps,
        signal: req.signal,
        controller: req.controller,
        trace: req.trace,
      })) {
        switch (ev.type) {
          case 'text-delta':
            text += ev.text;
            yield { type: 'text-delta', thought: req.answer, text: ev.text };
            break;
          case 'tool-call': {
            const t: ThoughtRef = {
              id: randomUUID(),
              parentId: parentOfTools,
              author: req.toolAuthor ? req.toolAuthor(ev.toolName) : ev.toolName,
              kind: 'tool',
              input: stringify(ev.input),
              metadata: { tool_name: ev.toolName },
            };
            calls.set(ev.toolCallId, t);
            yield { type: 'thought-start', thought: t };
            break;
          }
          case 'tool-result': {
            const t = calls.get(ev.toolCallId) ?? {
              id: randomUUID(),
              parentId: parentOfTools,
              author: ev.toolName,
              kind: 'tool' as const,
              input: '',
              metadata: { tool_name: ev.toolName },
            };
            yield { type: 'thought-end', thought: t, output: ev.output, error: ev.isError };
            break;
          }
          case 'finish':
            outcome = {
              ok: true,
              text: ev.text,
              ...(ev.object !== undefined ? { object: ev.object } : {}),
              usage: ev.usage,
              llmMs: performance.now() - started,
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
