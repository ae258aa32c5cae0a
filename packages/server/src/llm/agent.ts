/**
 * The agent loop: one path for every model and every call, with or without tools. It drives a
 * model through the AI SDK's provider interface (LanguageModelV3.doStream; the platform's own
 * OpenAI-compatible model hands over its parts without a ReadableStream, see
 * openai-compatible-model.ts): step by step, each step one model call, the tools it asks for run
 * (concurrently, arguments checked against their schemas), their results fed back, until the model
 * answers or the step bound is reached. Around it: the caller's abort signal, an upstream
 * inactivity timeout (paused while our tools run), provider retries before the first part, usage
 * and cost, structured output checks. Every outcome ends the iterable with exactly one `finish` or
 * `error` event; nothing is thrown once iteration has begun.
 *
 * Why not the AI SDK's streamText: measured on this platform it costs ≈ 2 ms of CPU per call on
 * top of the model call (its web streams, step bookkeeping and telemetry), 4× what the whole
 * platform spends on an assistant call (bench/README.md, "The LLM path"). The loop below does the
 * part of its work the platform uses, on the same provider interface.
 */
import type { LanguageModel } from 'ai';
import type {
  JSONSchema7,
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3FunctionTool,
  LanguageModelV3Message,
  LanguageModelV3StreamPart,
  LanguageModelV3ToolCallPart,
  LanguageModelV3ToolResultPart,
} from '@ai-sdk/provider';
import type { FastifyBaseLogger } from 'fastify';
import type { AgentEvent, AgentRequest } from './types.js';
import { LlmError } from './types.js';
import type { AgentTool, ToolResult } from './tool.js';
import type { ModelConfig } from './models-config.js';
import { UsageMeter } from './usage.js';
import { toLlmError } from './errors.js';
import { extractJsonObject, tryValidator, validateAgainstSchema } from './json-schema.js';
import { withRetries } from './retry.js';
import type { IterableLanguageModel } from './openai-compatible-model.js';

export interface AgentSettings {
  /** Upstream inactivity timeout: no answer/chunk from the provider for this long fails the call. */
  timeoutMs: number;
  /** Provider retries of one call (429, 5xx, timeouts of the HTTP call) before any part. */
  maxRetries: number;
  /** Default bound of model↔tool round trips. */
  maxSteps: number;
}

function providerOptionsFor(m: ModelConfig): LanguageModelV3CallOptions['providerOptions'] {
  if (m.features.parallel_tool_calls) return undefined;
  if (m.provider === 'openai' || m.provider === 'azure') return { openai: { parallelToolCalls: false } };
  if (m.provider === 'anthropic') return { anthropic: { disableParallelToolUse: true } };
  if (m.provider === 'openai-compatible') return { openaiCompatible: { parallelToolCalls: false } };
  return undefined;
}

/** A model call's parts as an async iterable, opened (first part received) so that its failures can be retried. */
async function openParts(model: LanguageModelV3, options: LanguageModelV3CallOptions) {
  const source: AsyncIterable<LanguageModelV3StreamPart> =
    'streamParts' in model && typeof (model as IterableLanguageModel).streamParts === 'function'
      ? (model as IterableLanguageModel).streamParts(options)
      : readable((await model.doStream(options)).stream);
  const it = source[Symbol.asyncIterator]();
  return { it, first: await it.next() };
}

async function* readable<T>(stream: ReadableStream<T>): AsyncGenerator<T> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

interface PreparedTool {
  tool: AgentTool;
  check: ReturnType<typeof tryValidator>;
}

/** Runs one tool call; every failure (unknown tool, bad arguments, a throw) is an error result the model sees. */
async function callTool(
  tools: Map<string, PreparedTool>,
  call: { toolCallId: string; toolName: string; input: unknown },
  signal: AbortSignal,
): Promise<ToolResult> {
  const t = tools.get(call.toolName);
  if (!t)
    return { output: `Model tried to call unavailable tool '${call.toolName}'. Available tools: ${[...tools.keys()].join(', ') || 'none'}.`, isError: true };
  if (call.input === undefined) return { output: `Invalid arguments for tool ${call.toolName}: not valid JSON`, isError: true };
  const args = (call.input ?? {}) as Record<string, unknown>;
  const v = t.check?.(args);
  if (v && !v.ok) return { output: `Invalid arguments for tool ${call.toolName}: ${v.errors.join('; ')}`, isError: true };
  try {
    return await t.tool.execute(args, { signal, toolCallId: call.toolCallId });
  } catch (err) {
    return { output: `Tool ${call.toolName} failed: ${err instanceof Error ? err.message : String(err)}`, isError: true };
  }
}

function parseToolInput(input: unknown): unknown {
  if (typeof input !== 'string') return input;
  if (input.trim() === '') return {};
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return undefined;
  }
}

export async function* runAgentLoop(
  req: AgentRequest,
  m: ModelConfig,
  lm: LanguageModel,
  settings: AgentSettings,
  log: FastifyBaseLogger,
): AsyncGenerator<AgentEvent> {
  const model = lm as LanguageModelV3;
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
  let toolsRunning = 0;
  // One timer, pushed back on every part (refresh() is cheap; a new timer per part is not).
  let timerActive = false;
  const arm = () => {
    if (toolsRunning > 0 || settings.timeoutMs <= 0) {
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
  let open: AsyncIterator<LanguageModelV3StreamPart> | undefined;
  try {
    const f = m.features;
    const prompt: LanguageModelV3Message[] = req.messages.map((x) =>
      x.role === 'user' ? { role: 'user', content: [{ type: 'text', text: x.content }] } : { role: 'assistant', content: [{ type: 'text', text: x.content }] },
    );
    let system = req.system || undefined;
    if (req.outputSchema && m.provider === 'openai-compatible' && !m.supports_structured_outputs) {
      // Servers without json_schema support only get `json_object`: spell the schema out.
      const hint = `Answer with a single JSON object that validates against this JSON Schema, and nothing else:\n${JSON.stringify(req.outputSchema)}`;
      system = system ? `${system}\n\n${hint}` : hint;
    }
    if (system && !f.system_prompt) {
      const first = prompt.find((x) => x.role === 'user');
      if (first && first.role === 'user') first.content = [{ type: 'text', text: `${system}\n\n${(first.content[0] as { text: string }).text}` }];
      else prompt.unshift({ role: 'user', content: [{ type: 'text', text: system }] });
      system = undefined;
    }
    if (system) prompt.unshift({ role: 'system', content: system });
    const toolList = req.tools?.length && f.tools ? req.tools : [];
    if (req.tools?.length && !f.tools) log.warn({ model: m.base_name }, 'model does not support tools; tools ignored');
    const tools = new Map<string, PreparedTool>(toolList.map((t) => [t.name, { tool: t, check: tryValidator(t.inputSchema) }]));
    const toolDefs: LanguageModelV3FunctionTool[] = toolList.map((t) => ({
      type: 'function',
      name: t.name,
      description: t.description,
      inputSchema: t.inputSchema as JSONSchema7,
    }));
    const maxSteps = Math.max(1, req.maxSteps ?? settings.maxSteps);
    const base: Omit<LanguageModelV3CallOptions, 'prompt'> = {
      ...(toolDefs.length ? { tools: toolDefs, toolChoice: { type: 'auto' as const } } : {}),
      ...(f.temperature && req.temperature != null ? { temperature: req.temperature } : {}),
      ...(f.top_p && req.topP != null ? { topP: req.topP } : {}),
      ...(f.max_tokens && m.max_output_tokens ? { maxOutputTokens: m.max_output_tokens } : {}),
      ...(req.outputSchema ? { responseFormat: { type: 'json' as const, schema: req.outputSchema as JSONSchema7, name: 'response' } } : {}),
      ...(toolDefs.length && providerOptionsFor(m) ? { providerOptions: providerOptionsFor(m) } : {}),
      abortSignal: controller.signal,
    };

    let finishReason = 'unknown';
    for (;;) {
      arm();
      stepText = '';
      const { it, first } = await withRetries(() => openParts(model, { ...base, prompt }), settings.maxRetries, controller.signal);
      open = it;
      steps++;
      const calls: Array<{ toolCallId: string; toolName: string; input: unknown }> = [];
      const running: Array<Promise<{ call: (typeof calls)[number]; result: ToolResult }>> = [];
      let streamError: unknown;
      for (let r = first; !r.done; r = await it.next()) {
        const part = r.value;
        arm();
        switch (part.type) {
          case 'text-delta':
            if (part.delta) {
              allText += part.delta;
              stepText += part.delta;
              yield { type: 'text-delta', text: part.delta };
            }
            break;
          case 'tool-call': {
            if (part.providerExecuted) break;
            const call = { toolCallId: part.toolCallId, toolName: part.toolName, input: parseToolInput(part.input) };
            calls.push(call);
            yield { type: 'tool-call', toolCallId: call.toolCallId, toolName: call.toolName, input: call.input ?? part.input };
            // The tool starts at once; the model's stream goes on meanwhile.
            toolsRunning++;
            arm();
            running.push(callTool(tools, call, controller.signal).then((result) => ({ call, result })));
            break;
          }
          case 'finish':
            meter.addV3(part.usage);
            finishReason = part.finishReason.unified;
            break;
          case 'error':
            streamError ??= part.error;
            break;
          default:
            break;
        }
      }
      open = undefined;
      // Results in the order the tools finish.
      const results: Array<{ call: (typeof calls)[number]; result: ToolResult }> = [];
      const pending = new Map(running.map((p, i) => [i, p.then((v) => ({ i, v }))]));
      while (pending.size) {
        const { i, v } = await Promise.race(pending.values());
        pending.delete(i);
        toolsRunning--;
        arm();
        results.push(v);
        yield { type: 'tool-result', toolCallId: v.call.toolCallId, toolName: v.call.toolName, output: v.result.output, isError: v.result.isError };
      }
      if (streamError !== undefined || controller.signal.aborted) {
        finished = true;
        yield fail(streamError ?? controller.signal.reason ?? new DOMException('aborted', 'AbortError'));
        return;
      }
      if (!calls.length) break;
      const assistantParts: Array<{ type: 'text'; text: string } | LanguageModelV3ToolCallPart> = stepText ? [{ type: 'text', text: stepText }] : [];
      for (const c of calls) assistantParts.push({ type: 'tool-call', toolCallId: c.toolCallId, toolName: c.toolName, input: c.input ?? {} });
      prompt.push({ role: 'assistant', content: assistantParts });
      const resultParts: LanguageModelV3ToolResultPart[] = results.map(({ call, result }) => ({
        type: 'tool-result',
        toolCallId: call.toolCallId,
        toolName: call.toolName,
        output: result.isError ? { type: 'error-text', value: result.output } : { type: 'text', value: result.output },
      }));
      prompt.push({ role: 'tool', content: resultParts });
      if (steps >= maxSteps) {
        finishReason = 'max-steps';
        break;
      }
    }
    if (timer) clearTimeout(timer);
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
          new LlmError('structured_output_invalid', `The model's answer does not match the output schema: ${check.errors.slice(0, 5).join('; ')}`, 502),
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
    // nothing is left to cancel, and aborting would tear down the keep-alive socket.
    if (!finished && !controller.signal.aborted) controller.abort(new DOMException('consumer stopped', 'AbortError'));
    await open?.return?.(undefined);
  }
}
