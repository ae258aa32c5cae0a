/**
 * The LLM layer's contract, used by assistants and workflows alike. Implementations sit on
 * the Vercel AI SDK providers (openai, azure, anthropic, bedrock, openai-compatible) and on
 * the optional local GGUF provider; callers never see which.
 */
import type { AgentTool } from './tool.js';
import type { Embeddings } from './embeddings.js';

/** A model as listed by GET /v1/llm_models (reference shape, snake_case). */
export interface LlmModelInfo {
  base_name: string;
  deployment_name: string;
  label?: string;
  provider: string;
  enabled: boolean;
  default: boolean;
  multimodal?: boolean;
  react_agent?: boolean;
  supports_image_generation?: boolean;
  default_for_categories?: string[];
  max_output_tokens?: number;
  /** USD per token (as the reference lists it). */
  cost?: { input: number; output: number; cache_read_input_token_cost?: number };
  /** Hidden from GET /v1/llm_models unless include_all=true. */
  forbidden_for_web?: boolean;
  /** Azure OpenAI api-version, when configured. */
  api_version?: string;
  features: {
    streaming: boolean;
    tools: boolean;
    temperature: boolean;
    parallel_tool_calls: boolean;
    system_prompt: boolean;
    max_tokens: boolean;
    top_p: boolean;
  };
}

export interface ChatMessage {
  /** `tool`: the result of a tool call made by the assistant message before it (a resumed tool loop). */
  role: 'user' | 'assistant' | 'tool';
  content: string;
  /** assistant: the tool calls this message made (a turn resumed after the user approved a call). */
  toolCalls?: Array<{ id: string; name: string; input: unknown }>;
  /** tool: which call this is the result of. */
  toolCallId?: string;
  toolName?: string;
  isError?: boolean;
}

export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  /** Cost in USD from the model's configured prices (0 when unknown). */
  money_spent: number;
}

export interface AgentRequest {
  /** base_name of the model (already resolved/validated by the caller via resolveModel). */
  model: string;
  system?: string;
  messages: ChatMessage[];
  temperature?: number | null;
  topP?: number | null;
  tools?: AgentTool[];
  /** JSON Schema: the final answer must be an object matching it (structured output). */
  outputSchema?: Record<string, unknown> | null;
  /** Upper bound of model↔tool round trips (default from config). */
  maxSteps?: number;
  /**
   * Checked after each model↔tool step: true stops the loop there (a tool call is waiting for the
   * user's approval). The run then finishes with finishReason `paused` and no output-schema check.
   */
  stopAfterStep?: () => boolean;
  signal: AbortSignal;
  /**
   * The controller behind `signal`, when the caller lets the agent loop abort through it (on its
   * upstream timeout, or when the consumer stops early) instead of making a second controller per
   * call. The caller's signal then also reads aborted after a timeout; the loop's error still says
   * `llm_timeout`.
   */
  controller?: AbortController;
  /** Tracing context: `{ observation }` = the caller's current trace Observation (see llm/instrumented.ts); never sent to the provider. */
  trace?: Record<string, unknown>;
}

/** What the agent loop reports while it runs, in order. Exactly one `finish` or `error` ends it. */
export type AgentEvent =
  | { type: 'text-delta'; text: string }
  | { type: 'tool-call'; toolCallId: string; toolName: string; input: unknown }
  | { type: 'tool-result'; toolCallId: string; toolName: string; output: string; isError: boolean }
  | { type: 'finish'; text: string; object?: unknown; usage: TokenUsage; finishReason: string }
  | { type: 'error'; error: LlmError; usage: TokenUsage; text: string };

/** Provider failures mapped to the platform's error vocabulary. */
export type LlmErrorCode =
  | 'llm_rate_limited'
  | 'llm_timeout'
  | 'llm_unavailable'
  | 'llm_bad_response'
  | 'llm_context_length_exceeded'
  | 'llm_auth_failed'
  | 'llm_aborted'
  | 'structured_output_invalid';

export class LlmError extends Error {
  constructor(
    readonly code: LlmErrorCode,
    message: string,
    /** HTTP status to surface when this fails a request before streaming starts (502/503/504...). */
    readonly status: number,
  ) {
    super(message);
    this.name = 'LlmError';
  }
}

export interface LlmService {
  listModels(): LlmModelInfo[];
  /** The named model (or the default when name is empty); throws ApiError 400 naming the available ones. */
  resolveModel(name?: string | null): LlmModelInfo;
  /** Runs the tool-calling loop; never throws after it has started: failures arrive as an `error` event. */
  runAgent(req: AgentRequest): AsyncIterable<AgentEvent>;
  /** Embeddings models (the models file's `embeddings:` list and the local one): list, resolve, embed(). */
  embeddings?: Embeddings;
  /** Starts, in the background, what models need before their first call (fetching the local model's file). */
  prepare?(): void;
}
