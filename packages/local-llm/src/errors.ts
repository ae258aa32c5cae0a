/**
 * Errors of the local model. They extend the AI SDK's APICallError (so `APICallError.isInstance`
 * is true) with the HTTP-like status a remote provider would use; an LLM layer that already maps
 * provider errors by status and message maps these without special cases:
 *   - LocalModelContextLengthError → 400, message mentions "context length" → llm_context_length_exceeded
 *   - LocalModelBusyError          → 503 → llm_unavailable (too many requests waiting for the model)
 *   - LocalModelUnavailableError   → 503 → llm_unavailable (no model file, load failed)
 * `code` carries the platform error code directly for callers that prefer it. None is retryable.
 */
import { APICallError } from '@ai-sdk/provider';

export type LocalModelErrorCode = 'llm_context_length_exceeded' | 'llm_unavailable';

function body(message: string, code: string): string {
  return JSON.stringify({ error: { message, code } });
}

abstract class LocalModelError extends APICallError {
  abstract readonly code: LocalModelErrorCode;
  constructor(message: string, status: number, kind: string, modelId: string, cause?: unknown) {
    super({
      message,
      url: `local://${modelId}`,
      requestBodyValues: {},
      statusCode: status,
      responseBody: body(message, kind),
      isRetryable: false,
      cause,
    });
  }
}

/** The prompt (plus at least one token of answer) does not fit in the model's context window. */
export class LocalModelContextLengthError extends LocalModelError {
  readonly code = 'llm_context_length_exceeded' as const;
  constructor(
    readonly promptTokens: number,
    readonly contextSize: number,
    modelId: string,
  ) {
    super(
      `context length exceeded: the prompt has ${promptTokens} tokens but the local model's context window is ${contextSize} tokens`,
      400,
      'context_length_exceeded',
      modelId,
    );
    this.name = 'LocalModelContextLengthError';
  }
}

/** More requests are waiting for the local model than its queue allows (maxQueue). */
export class LocalModelBusyError extends LocalModelError {
  readonly code = 'llm_unavailable' as const;
  constructor(
    readonly queued: number,
    modelId: string,
  ) {
    super(
      `local model is busy: ${queued} requests are already waiting (raise CODEMIE_LOCAL_MODEL_MAX_QUEUE or retry later)`,
      503,
      'busy',
      modelId,
    );
    this.name = 'LocalModelBusyError';
  }
}

/**
 * No usable model file (not configured, missing, download impossible) or the model failed to load.
 * `message` is `reason` plus, when given, `; hint` (what a user can do about it).
 */
export class LocalModelUnavailableError extends LocalModelError {
  readonly code = 'llm_unavailable' as const;
  constructor(
    readonly reason: string,
    modelId = 'local',
    cause?: unknown,
    readonly hint?: string,
  ) {
    super(hint ? `${reason}; ${hint}` : reason, 503, 'unavailable', modelId, cause);
    this.name = 'LocalModelUnavailableError';
  }
}

export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && (reason.name === 'AbortError' || reason.name === 'TimeoutError')) return reason;
  const err = new Error('The local model call was aborted');
  err.name = 'AbortError';
  return err;
}
