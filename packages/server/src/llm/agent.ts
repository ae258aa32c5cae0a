/**
 * One agent run: streamText with tools, bounded steps, the caller's abort signal, an upstream
 * inactivity timeout and provider retries (before the first token only — the SDK retries the
 * call, never a stream that has started). Every outcome ends the iterable with exactly one
 * `finish` or `error` event; nothing is thrown once iteration has begun.
 */
import { streamText, stepCountIs, tool, jsonSchema, Output, type LanguageModel, type ToolSet, type ModelMessage } from 'ai';
import type { FastifyBaseLogger } from 'fastify';
import type { AgentEvent, AgentRequest, ChatMessage } from './types.js';
import { LlmError } from './types.js';
import type { AgentTool, ToolResult } from './tool.js';
import type { ModelConfig } from './models-config.js';
import { UsageMeter } from './usage.js';
import { toLlmError } from './errors.js';
import { extractJsonObject, tryValidator, validateAgainstSchema } from './json-schema.js';
import type { ChatStreamPart, DirectChatClient } from './openai-compatible-chat.js';

export interface AgentSettings {
  /** Upstream inactivity timeout: no answer/chunk from the provider for this long fails the call. */
  timeoutMs: number;
  /** Provider retries of one call (429, 5xx, timeouts of the HTTP call) before any token. */
  maxRetries: number;
  /** Default bound of model↔tool round trips. */
  maxSteps: number;
}

function toToolSet(tools: AgentTool[], fallbackSignal: AbortSignal): ToolSet {
  const set: ToolSet = {};
  for (const t of tools) {
    // Arguments are checked against the tool's schema; a mismatch goes back to the model as an error.
    const check = tryValidator(t.inputSchema);
    set[t.name] = tool<Record<string, unknown>, ToolResult>({
      description: t.description,
      inputSchema: jsonSchema<Record<string, unknown>>(
        t.inputSchema as Parameters<typeof jsonSchema>[0],
        check
          ? {
              validate: (value) => {
                const r = check(value ?? {});
                return r.ok
                  ? { success: true, value: (value ?? {}) as Record<string, unknown> }
                  : { success: false, error: new Error(`Invalid arguments for tool ${t.name}: ${r.errors.join('; ')}`) };
              },
            }
          : undefined,
      ),
      async execute(input, opts) {
        try {
          return await t.execute(input ?? {}, { signal: opts.abortSignal ?? fallbackSignal, toolCallId: opts.toolCallId });
        } catch (err) {
          return { output: `Tool ${t.name} failed: ${err instanceof Error ? err.message : String(err)}`, isError: true };
        }
      },
      toModelOutput: ({ output }) =>
        output.isError ? { type: 'error-text', value: output.output } : { type: 'text', value: output.output },
    });
  }
  return set;
}

/** A platform message in the AI SDK's form (tool calls and results of a resumed loop included). */
function toModelMessage(x: ChatMessage): ModelMessage {
  if (x.role === 'tool') {
    return {
      role: 'tool',
      content: [
        {
          type: 'tool-result',
          toolCallId: x.toolCallId ?? '',
          toolName: x.toolName ?? '',
          output: x.isError ? { type: 'error-text', value: x.content } : { type: 'text', value: x.content },
        },
      ],
    };
  }
  if (x.role === 'assistant' && x.toolCalls?.length) {
    return {
      role: 'assistant',
      content: [
        ...(x.content ? [{ type: 'text' as const, text: x.content }] : []),
        ...x.toolCalls.map((c) => ({ type: 'tool-call' as const, toolCallId: c.id, toolName: c.name, input: c.input })),
      ],
    };
  }
  return { role: x.role, content: x.content } as ModelMessage;
}

function providerOptionsFor(m: ModelConfig): Record<string, Record<string, string | number | boolean>> | undefined {
  if (m.features.parallel_tool_calls) return undefined;
  if (m.provider === 'openai' || m.provider === 'azure') return { openai: { parallelToolCalls: false } };
  if (m.provider === 'anthropic') return { anthropic: { disableParallelToolUse: true } };
  return undefined;
}

type SdkStreamPart = ReturnType<typeof streamText>['fullStream'] extends AsyncIterable<infer T> ? T : never;

export async function* runAgentLoop(
  req: AgentRequest,
  m: ModelConfig,
  model: LanguageModel,
  settings: AgentSettings,
  log: FastifyBaseLogger,
  /** Plain answers (no tools) go through this client instead of the AI SDK when given. */
  direct?: DirectChatClient,
): AsyncGenerator<AgentEvent> {
  const meter = new UsageMeter(m.cost);
  let allText = '';
  let stepText = '';
  let steps = 0;
  // The caller's own controller when it lends it (one controller per call), else one chained to its signal.
  const lent = req.controller?.signal === req.signal ? req.controller : undefined;
  const controller = lent ?? new AbortController();
  let timedOut = false;
  const onCallerAbort = () => controller.abort(req.signal.reason);
  if (!lent) {
    if (req.signal.aborted) controller.abort(req.signal.reason);
    else req.signal.addEventListener('abort', onCallerAbort, { once: true });
  }

  // Inactivity watchdog: armed while we wait for the provider, paused while our tools run.
  let timer: NodeJS.Timeout | undefined;
  const pendingTools = new Set<string>();
  // One timer, pushed back on every part (refresh() is cheap; a new timer per part is not).
  let timerActive = false;
  const arm = () => {
    if (pendingTools.size > 0 || settings.timeoutMs <= 0) {
      if (timer && timerActive) clearTimeout(timer);
      timerActive = false;
      return;
    }
    // A cleared timer cannot be refreshed back to life: make a new one then.
    if (timer && timerActive) timer.refresh();
    else {
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new DOMException(`LLM provider timeout of ${settings.timeoutMs}ms exceeded`, 'TimeoutError'));
      }, settings.timeoutMs);
      timer.unref?.();
    }
    timerActive = true;
  };
  const errCtx = () => ({
    model: m.base_name,
    aborted: req.signal.aborted && !timedOut,
    timedOut,
    timeoutMs: settings.timeoutMs,
    secrets: m.apiKey ? [m.apiKey] : [],
  });
  const fail = (err: unknown): AgentEvent => {
    const error = toLlmError(err, errCtx());
    // A cancellation is not a failure of the platform (logged below warning level).
    const level = error.code === 'llm_aborted' ? 'debug' : 'warn';
    log[level]({ model: m.base_name, code: error.code, status: error.status, steps }, `LLM call failed: ${error.message}`);
    return { type: 'error', error, usage: meter.snapshot(), text: allText };
  };

  let finished = false;
  try {
    const f = m.features;
    const messages: ModelMessage[] = req.messages.map(toModelMessage);
    const hasToolParts = req.messages.some((x) => x.role === 'tool' || x.toolCalls?.length);
    let system = req.system || undefined;
    if (req.outputSchema && m.provider === 'openai-compatible' && !m.supports_structured_outputs) {
      // Servers without json_schema support only get `json_object`: spell the schema out.
      const hint = `Answer with a single JSON object that validates against this JSON Schema, and nothing else:\n${JSON.stringify(req.outputSchema)}`;
      system = system ? `${system}\n\n${hint}` : hint;
    }
    if (system && !f.system_prompt) {
      const first = messages.findIndex((x) => x.role === 'user');
      if (first >= 0) messages[first] = { role: 'user', content: `${system}\n\n${messages[first].content as string}` };
      else messages.unshift({ role: 'user', content: system });
      system = undefined;
    }
    const tools = req.tools?.length && f.tools ? toToolSet(req.tools, controller.signal) : undefined;
    if (req.tools?.length && !f.tools) log.warn({ model: m.base_name }, 'model does not support tools; tools ignored');
    const maxSteps = Math.max(1, req.maxSteps ?? settings.maxSteps);
    const providerOptions = providerOptionsFor(m);

    arm();
    const temperature = f.temperature && req.temperature != null ? req.temperature : undefined;
    const topP = f.top_p && req.topP != null ? req.topP : undefined;
    const maxOutputTokens = f.max_tokens && m.max_output_tokens ? m.max_output_tokens : undefined;
    // Plain answers from openai-compatible servers take the direct client; tool loops the AI SDK.
    const parts: AsyncIterable<ChatStreamPart | Record<string, unknown>> =
      direct && !tools && !hasToolParts
        ? direct.stream({ system, messages: messages as ChatMessage[], temperature, topP, maxOutputTokens, outputSchema: req.outputSchema, maxRetries: settings.maxRetries, signal: controller.signal })
        : sdkStream();
    function sdkStream() {
      const result = streamText({
        model,
        system,
        messages,
        ...(tools ? { tools, stopWhen: req.stopAfterStep ? [stepCountIs(maxSteps), () => req.stopAfterStep!()] : stepCountIs(maxSteps) } : {}),
        ...(temperature !== undefined ? { temperature } : {}),
        ...(topP !== undefined ? { topP } : {}),
        ...(maxOutputTokens !== undefined ? { maxOutputTokens } : {}),
        ...(req.outputSchema
          ? { output: Output.object({ schema: jsonSchema<Record<string, unknown>>(req.outputSchema as Parameters<typeof jsonSchema>[0]) }) }
          : {}),
        ...(providerOptions ? { providerOptions } : {}),
        maxRetries: settings.maxRetries,
        abortSignal: controller.signal,
        // Errors arrive as stream parts; keep the SDK from printing them.
        onError: () => {},
      });
      return result.fullStream;
    }

    let finishReason = 'unknown';
    let streamError: unknown;
    let aborted = false;
    for await (const p of parts) {
      // Both sources yield AI SDK-shaped parts; the direct client only the plain-answer subset.
      const part = p as SdkStreamPart;
      arm();
      switch (part.type) {
        case 'start-step':
          stepText = '';
          break;
        case 'text-delta':
          if (part.text) {
            allText += part.text;
            stepText += part.text;
            yield { type: 'text-delta', text: part.text };
          }
          break;
        case 'tool-call':
          if (!part.providerExecuted) {
            pendingTools.add(part.toolCallId);
            arm();
          }
          yield { type: 'tool-call', toolCallId: part.toolCallId, toolName: part.toolName, input: part.input };
          break;
        case 'tool-result': {
          pendingTools.delete(part.toolCallId);
          arm();
          const out = part.output as ToolResult | string | undefined;
          const r: ToolResult =
            out && typeof out === 'object' && 'output' in out ? out : { output: typeof out === 'string' ? out : JSON.stringify(out ?? null), isError: false };
          yield { type: 'tool-result', toolCallId: part.toolCallId, toolName: part.toolName, output: r.output, isError: r.isError };
          break;
        }
        case 'tool-error': {
          pendingTools.delete(part.toolCallId);
          arm();
          const msg = part.error instanceof Error ? part.error.message : String(part.error);
          yield { type: 'tool-result', toolCallId: part.toolCallId, toolName: part.toolName, output: msg, isError: true };
          break;
        }
        case 'finish-step':
          steps++;
          meter.add(part.usage);
          finishReason = part.finishReason;
          break;
        case 'finish':
          finishReason = part.finishReason;
          break;
        case 'error':
          streamError ??= part.error;
          break;
        case 'abort':
          aborted = true;
          break;
        default:
          break;
      }
    }
    if (timer) clearTimeout(timer);
    if (streamError !== undefined || aborted || controller.signal.aborted) {
      finished = true;
      yield fail(streamError ?? controller.signal.reason ?? new DOMException('aborted', 'AbortError'));
      return;
    }
    if (req.stopAfterStep?.()) {
      finished = true;
      yield { type: 'finish', text: allText, usage: meter.snapshot(), finishReason: 'paused' };
      return;
    }
    if (tools && finishReason === 'tool-calls' && steps >= maxSteps) finishReason = 'max-steps';
    let object: unknown;
    if (req.outputSchema) {
      object = extractJsonObject(stepText || allText);
      const check =
        object && typeof object === 'object' && !Array.isArray(object)
          ? validateAgainstSchema(req.outputSchema, object)
          : { ok: false, errors: ['the answer is not a JSON object'] };
      if (!check.ok) {
        finished = true;
        yield fail(
          new LlmError(
            'structured_output_invalid',
            `The model's answer does not match the output schema: ${check.errors.slice(0, 5).join('; ')}`,
            502,
          ),
        );
        return;
      }
    }
    finished = true;
    log.debug({ model: m.base_name, steps, usage: meter.snapshot(), finishReason }, 'LLM call finished');
    yield { type: 'finish', text: allText, ...(req.outputSchema ? { object } : {}), usage: meter.snapshot(), finishReason };
  } catch (err) {
    if (!finished) {
      finished = true;
      yield fail(err);
    }
  } finally {
    if (timer) clearTimeout(timer);
    if (!lent) req.signal.removeEventListener('abort', onCallerAbort);
    // The consumer stopped early (break/return): cancel the provider call. After a normal end
    // nothing is left to cancel, and aborting would tear down the direct client's keep-alive socket.
    if (!finished && !controller.signal.aborted) controller.abort(new DOMException('consumer stopped', 'AbortError'));
  }
}
