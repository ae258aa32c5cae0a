/**
 * createLocalModel: a GGUF model run in-process by node-llama-cpp (CPU), exposed as a Vercel AI
 * SDK LanguageModelV3, so generateText/streamText/the platform's agent loop use it like any
 * remote provider.
 *
 * - chat template: the model's own (node-llama-cpp resolves the chat wrapper from the GGUF);
 * - streaming: text-start / text-delta / text-end, then tool-call parts, then finish with usage;
 * - abort: the call's abortSignal (or cancelling the stream) stops generation; a queued call
 *   leaves the queue;
 * - usage: prompt tokens (the rendered chat, tokenized) and generated tokens;
 * - context window: a prompt that leaves no room for an answer fails with
 *   LocalModelContextLengthError before generation; the answer is capped to the room left and to
 *   maxOutputTokens (default 512);
 * - sampling: repeat, frequency and presence penalties on by default (loops of small models);
 * - one shared model per (file, settings), loaded lazily once; requests beyond `parallel` wait
 *   FIFO, at most `maxQueue` of them (LocalModelBusyError beyond);
 * - responseFormat json: output constrained by a grammar (from the JSON schema when node-llama-cpp
 *   supports it, else generic JSON);
 * - tools: best effort through node-llama-cpp's function calling for the model's chat wrapper;
 *   small models often answer in text instead of calling. toolChoice 'required'/'tool' cannot be
 *   forced (a warning is returned).
 */
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3FinishReason,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
  LanguageModelV3Usage,
  SharedV3Warning,
} from '@ai-sdk/provider';
import type { ChatHistoryItem, ChatModelFunctions, LlamaChat, LlamaGrammar } from 'node-llama-cpp';
import { randomUUID } from 'node:crypto';
import { sharedEngine, type Lease, type LocalEngine } from './engine.js';
import { LocalModelContextLengthError, abortError } from './errors.js';
import { convertPrompt } from './prompt.js';
import { cleanSchema } from './schema.js';

export interface LocalModelOptions {
  /** Path of the GGUF file (see resolveLocalModelFile). */
  modelPath: string;
  /** Context window in tokens per request: prompt + answer (default 4096, capped at the model's training context). */
  contextSize?: number;
  /** CPU threads for evaluation (default 0 = half the cores, 1 to 4; more threads than free cores is much slower). */
  threads?: number;
  /** Requests allowed to wait while the model is busy (default 32); more fail with LocalModelBusyError. */
  maxQueue?: number;
  /** Requests generated at the same time (default 1; each adds a context-sized KV cache). */
  parallel?: number;
  /** Model id reported to the AI SDK (default: the file name without .gguf). */
  modelId?: string;
  /** Answer length cap when the call sets none (default 512 tokens; small models otherwise ramble until the context is full). */
  maxOutputTokens?: number;
  /** Penalty of tokens seen in the last 256 (llama.cpp's repeat penalty; default 1.3, 1 = off). */
  repeatPenalty?: number;
  /** Per occurrence in the last 256 tokens, 0 to 1 (default 0.3); the call's frequencyPenalty wins. */
  frequencyPenalty?: number;
  /** Once for any token in the last 256, 0 to 1 (default 0.1); the call's presencePenalty wins. */
  presencePenalty?: number;
  /** Told when a call has to wait for the model (the requests waiting, this one included). */
  onQueued?: (waiting: number) => void;
}

/**
 * Defaults. The sampling settings were measured on SmolLM2-135M (greedy, as calls without a
 * temperature are): with llama.cpp's defaults "Say hello in French" repeats one sentence until the
 * cap; with these, it and the demo workflow's prompts end on their own (docs/local-model.md).
 */
export const LOCAL_DEFAULTS = {
  contextSize: 4096,
  threads: 0,
  maxQueue: 32,
  parallel: 1,
  maxOutputTokens: 512,
  repeatPenalty: 1.3,
  frequencyPenalty: 0.3,
  presencePenalty: 0.1,
} as const;

/** Tokens the repeat penalties look back over. */
const REPEAT_WINDOW = 256;

export type LocalLanguageModel = LanguageModelV3 & {
  /** Loads the model now (it otherwise loads on the first call). */
  preload(): Promise<void>;
  /** Requests waiting for the model right now. */
  readonly queued: number;
};

interface Prepared {
  lease: Lease;
  chat: LlamaChat;
  history: ChatHistoryItem[];
  promptTokens: number;
  maxTokens: number;
  grammar?: LlamaGrammar;
  functions?: ChatModelFunctions;
  warnings: SharedV3Warning[];
  signal: AbortSignal;
}

interface Outcome {
  text: string;
  toolCalls: Array<{ toolCallId: string; toolName: string; input: string }>;
  finishReason: LanguageModelV3FinishReason;
  usage: LanguageModelV3Usage;
}

function usageOf(input: number, output: number): LanguageModelV3Usage {
  return {
    inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: output, text: output, reasoning: undefined },
  };
}

function finishReasonOf(stopReason: string, hasCalls: boolean): LanguageModelV3FinishReason {
  if (hasCalls) return { unified: 'tool-calls', raw: stopReason };
  switch (stopReason) {
    case 'eogToken':
    case 'stopGenerationTrigger':
    case 'customStopTrigger':
      return { unified: 'stop', raw: stopReason };
    case 'maxTokens':
      return { unified: 'length', raw: stopReason };
    default:
      return { unified: 'other', raw: stopReason };
  }
}

export function createLocalModel(options: LocalModelOptions): LocalLanguageModel {
  const engine: LocalEngine = sharedEngine({
    modelPath: options.modelPath,
    contextSize: options.contextSize ?? LOCAL_DEFAULTS.contextSize,
    threads: options.threads ?? LOCAL_DEFAULTS.threads,
    maxQueue: options.maxQueue ?? LOCAL_DEFAULTS.maxQueue,
    parallel: Math.max(1, options.parallel ?? LOCAL_DEFAULTS.parallel),
  });
  const modelId = options.modelId ?? engine.modelId;

  function repeatPenalty(call: LanguageModelV3CallOptions): false | { lastTokens: number; penalty: number; frequencyPenalty: number; presencePenalty: number } {
    const penalty = options.repeatPenalty ?? LOCAL_DEFAULTS.repeatPenalty;
    const frequencyPenalty = call.frequencyPenalty ?? options.frequencyPenalty ?? LOCAL_DEFAULTS.frequencyPenalty;
    const presencePenalty = call.presencePenalty ?? options.presencePenalty ?? LOCAL_DEFAULTS.presencePenalty;
    if (penalty === 1 && !frequencyPenalty && !presencePenalty) return false;
    return { lastTokens: REPEAT_WINDOW, penalty, frequencyPenalty, presencePenalty };
  }

  async function prepare(call: LanguageModelV3CallOptions, signal: AbortSignal): Promise<Prepared> {
    const { history, warnings } = convertPrompt(call.prompt);
    if (call.tools?.some((t) => t.type !== 'function')) {
      warnings.push({ type: 'unsupported', feature: 'provider tools', details: 'only function tools are supported' });
    }
    const lease = await engine.acquire(signal, options.onQueued);
    let chat: LlamaChat | undefined;
    try {
      const { LlamaChat } = await import('node-llama-cpp');
      const { llama, model } = lease.loaded;
      chat = new LlamaChat({ contextSequence: lease.sequence, chatWrapper: lease.loaded.chatWrapper, autoDisposeSequence: false });

      let functions: ChatModelFunctions | undefined;
      const fnTools = (call.tools ?? []).filter((t) => t.type === 'function');
      if (fnTools.length > 0 && call.toolChoice?.type !== 'none') {
        const choice = call.toolChoice;
        const wanted = choice?.type === 'tool' ? fnTools.filter((t) => t.name === choice.toolName) : fnTools;
        const defs: Record<string, ChatModelFunctions[string]> = {};
        for (const t of wanted.length > 0 ? wanted : fnTools) {
          defs[t.name] = {
            ...(t.description ? { description: t.description } : {}),
            params: cleanSchema(t.inputSchema) as ChatModelFunctions[string]['params'],
          };
        }
        functions = defs;
        if (call.toolChoice?.type === 'required' || call.toolChoice?.type === 'tool') {
          warnings.push({ type: 'unsupported', feature: `toolChoice ${call.toolChoice.type}`, details: 'the local model decides itself whether to call a tool' });
        }
      }

      let grammar: LlamaGrammar | undefined;
      if (call.responseFormat?.type === 'json') {
        if (functions) {
          warnings.push({ type: 'unsupported', feature: 'responseFormat json with tools', details: 'tools take precedence' });
        } else if (call.responseFormat.schema) {
          try {
            grammar = await llama.createGrammarForJsonSchema(cleanSchema(call.responseFormat.schema) as never);
          } catch (err) {
            grammar = await llama.getGrammarFor('json');
            warnings.push({
              type: 'compatibility',
              feature: 'responseFormat schema',
              details: `schema not expressible as a grammar (${err instanceof Error ? err.message : String(err)}); output is constrained to JSON only`,
            });
          }
        } else {
          grammar = await llama.getGrammarFor('json');
        }
      }

      const last = history[history.length - 1];
      if (!last || last.type !== 'model') history.push({ type: 'model', response: [] });

      const contextSize = lease.sequence.contextSize;
      const { contextText } = chat.chatWrapper.generateContextState({
        chatHistory: history,
        ...(functions ? { availableFunctions: functions, documentFunctionParams: true } : {}),
      });
      const promptTokens = contextText.tokenize(model.tokenizer).length;
      const room = contextSize - promptTokens;
      if (room < 1) throw new LocalModelContextLengthError(promptTokens, contextSize, modelId);
      const maxTokens = Math.max(1, Math.min(call.maxOutputTokens ?? options.maxOutputTokens ?? LOCAL_DEFAULTS.maxOutputTokens, room));
      return { lease, chat, history, promptTokens, maxTokens, grammar, functions, warnings, signal };
    } catch (err) {
      chat?.dispose({ disposeSequence: false });
      lease.release();
      throw err;
    }
  }

  async function execute(p: Prepared, call: LanguageModelV3CallOptions, onText?: (delta: string) => void): Promise<Outcome> {
    let outputTokens = 0;
    try {
      const common = {
        signal: p.signal,
        maxTokens: p.maxTokens,
        onToken: (tokens: readonly unknown[]) => {
          outputTokens += tokens.length;
        },
        ...(onText ? { onTextChunk: onText } : {}),
        ...(call.temperature != null ? { temperature: call.temperature } : {}),
        ...(call.topP != null ? { topP: call.topP } : {}),
        ...(call.topK != null ? { topK: call.topK } : {}),
        ...(call.seed != null ? { seed: call.seed } : {}),
        ...(call.stopSequences?.length ? { customStopTriggers: call.stopSequences } : {}),
        repeatPenalty: repeatPenalty(call),
      };
      const res = p.functions
        ? await p.chat.generateResponse(p.history, { ...common, functions: p.functions, documentFunctionParams: true })
        : await p.chat.generateResponse(p.history, { ...common, ...(p.grammar ? { grammar: p.grammar } : {}) });
      if (p.signal.aborted) throw abortError(call.abortSignal);
      const toolCalls = (res.functionCalls ?? []).map((fc) => ({
        toolCallId: `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
        toolName: fc.functionName,
        input: JSON.stringify(fc.params ?? {}),
      }));
      return {
        text: res.response,
        toolCalls,
        finishReason: finishReasonOf(res.metadata.stopReason, toolCalls.length > 0),
        usage: usageOf(p.promptTokens, outputTokens),
      };
    } catch (err) {
      if (p.signal.aborted) throw abortError(call.abortSignal);
      throw err;
    } finally {
      p.chat.dispose({ disposeSequence: false });
      p.lease.release();
    }
  }

  const model: LocalLanguageModel = {
    specificationVersion: 'v3',
    provider: 'local',
    modelId,
    supportedUrls: {},
    get queued() {
      return engine.queued;
    },
    async preload() {
      await engine.load();
    },

    async doGenerate(call: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
      const signal = call.abortSignal ?? new AbortController().signal;
      const prepared = await prepare(call, signal);
      const out = await execute(prepared, call);
      const content: LanguageModelV3Content[] = [];
      if (out.text) content.push({ type: 'text', text: out.text });
      for (const tc of out.toolCalls) content.push({ type: 'tool-call', ...tc });
      return {
        content,
        finishReason: out.finishReason,
        usage: out.usage,
        warnings: prepared.warnings,
        response: { id: randomUUID(), timestamp: new Date(), modelId },
      };
    },

    async doStream(call: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
      const cancel = new AbortController();
      const signal = call.abortSignal ? AbortSignal.any([call.abortSignal, cancel.signal]) : cancel.signal;
      // Queueing, loading and the context-window check happen before the stream is returned,
      // so those failures reject doStream (the caller can still answer with an HTTP error).
      const prepared = await prepare(call, signal);
      const textId = randomUUID();
      // set once the stream is closed, errored or cancelled by the reader: nothing more is enqueued
      let closed = false;
      const stream = new ReadableStream<LanguageModelV3StreamPart>({
        start(controller) {
          let started = false;
          const enqueue = (part: LanguageModelV3StreamPart) => {
            if (!closed) controller.enqueue(part);
          };
          enqueue({ type: 'stream-start', warnings: prepared.warnings });
          enqueue({ type: 'response-metadata', id: randomUUID(), timestamp: new Date(), modelId });
          execute(prepared, call, (delta) => {
            if (!delta) return;
            if (!started) {
              started = true;
              enqueue({ type: 'text-start', id: textId });
            }
            enqueue({ type: 'text-delta', id: textId, delta });
          }).then(
            (out) => {
              if (started) enqueue({ type: 'text-end', id: textId });
              for (const tc of out.toolCalls) enqueue({ type: 'tool-call', ...tc });
              enqueue({ type: 'finish', finishReason: out.finishReason, usage: out.usage });
              if (!closed) {
                closed = true;
                controller.close();
              }
            },
            (err: unknown) => {
              if (!closed) {
                closed = true;
                controller.error(err);
              }
            },
          );
        },
        cancel() {
          closed = true;
          cancel.abort();
        },
      });
      return { stream, request: { body: { modelId, maxTokens: prepared.maxTokens, promptTokens: prepared.promptTokens } } };
    },
  };
  return model;
}
