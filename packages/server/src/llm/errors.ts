/**
 * Maps whatever the AI SDK / provider / network throws onto LlmError: a stable code and the
 * HTTP status to surface (rate limits and upstream failures are the platform's 502, timeouts
 * 504, an unreachable provider 503). Provider messages are shortened and never carry keys.
 */
import { APICallError, RetryError } from 'ai';
import { LlmError } from './types.js';

const CONTEXT_LENGTH = /context[_ ]length|maximum context|too many tokens|prompt is too long|input is too long|context window/i;

function providerMessage(err: APICallError, secrets: string[]): string {
  let msg = '';
  try {
    const body = typeof err.responseBody === 'string' ? JSON.parse(err.responseBody) : undefined;
    msg = body?.error?.message ?? body?.message ?? '';
  } catch {
    msg = '';
  }
  if (!msg) msg = err.message ?? '';
  for (const s of secrets) if (s) msg = msg.split(s).join('***');
  msg = msg.replace(/\b(sk|key|api)[-_][A-Za-z0-9_-]{8,}/gi, '***');
  return msg.length > 300 ? `${msg.slice(0, 300)}…` : msg;
}

function isAbortLike(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError' || err.name === 'ResponseAborted');
}

export interface ErrorContext {
  model: string;
  /** The request's own signal was aborted (client went away / run cancelled). */
  aborted: boolean;
  /** The upstream watchdog fired. */
  timedOut: boolean;
  timeoutMs: number;
  /** Values to scrub from messages (the model's key). */
  secrets: string[];
}

export function toLlmError(err: unknown, ctx: ErrorContext): LlmError {
  if (err instanceof LlmError) return err;
  if (ctx.timedOut) return new LlmError('llm_timeout', `LLM provider did not respond within ${ctx.timeoutMs} ms (model ${ctx.model})`, 504);
  if (ctx.aborted) return new LlmError('llm_aborted', 'The LLM call was cancelled', 499);
  let e: unknown = err;
  if (RetryError.isInstance(e)) e = e.lastError;
  if (APICallError.isInstance(e)) {
    const status = e.statusCode;
    // The embedded local model's own 503s (local-provider.ts, @codemie-open/local-llm) say what is
    // happening and what to do: passed on whole, never shortened.
    if (status === 503 && e.url.startsWith('local://')) return new LlmError('llm_unavailable', e.message, 503);
    const detail = status === 401 || status === 403 ? '' : providerMessage(e, ctx.secrets);
    const suffix = detail ? `: ${detail}` : '';
    if (status === undefined) return new LlmError('llm_unavailable', `LLM provider is unreachable (model ${ctx.model})`, 503);
    if (status === 429) return new LlmError('llm_rate_limited', `LLM provider rate limited (model ${ctx.model})${suffix}`, 502);
    if (status === 401 || status === 403) return new LlmError('llm_auth_failed', `LLM provider rejected the credentials of model ${ctx.model} (HTTP ${status})`, 502);
    if (status === 408 || status === 504) return new LlmError('llm_timeout', `LLM provider timed out (model ${ctx.model}, HTTP ${status})`, 504);
    if (status === 503) return new LlmError('llm_unavailable', `LLM provider unavailable (model ${ctx.model})${suffix}`, 503);
    if (status >= 500) return new LlmError('llm_unavailable', `LLM provider error (model ${ctx.model}, HTTP ${status})${suffix}`, 502);
    if (CONTEXT_LENGTH.test(detail)) return new LlmError('llm_context_length_exceeded', `The conversation is too long for model ${ctx.model}${suffix}`, 400);
    return new LlmError('llm_bad_response', `LLM provider rejected the request (model ${ctx.model}, HTTP ${status})${suffix}`, 502);
  }
  if (isAbortLike(e)) return new LlmError('llm_aborted', 'The LLM call was cancelled', 499);
  const msg = e instanceof Error ? e.message : String(e);
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|fetch failed|Cannot connect/i.test(msg)) {
    return new LlmError('llm_unavailable', `LLM provider is unreachable (model ${ctx.model})`, 503);
  }
  if (/terminated|ECONNRESET|socket hang up|other side closed/i.test(msg)) {
    return new LlmError('llm_unavailable', `LLM provider closed the connection (model ${ctx.model})`, 502);
  }
  let safe = msg;
  for (const s of ctx.secrets) if (s) safe = safe.split(s).join('***');
  return new LlmError('llm_bad_response', `Unexpected LLM provider response (model ${ctx.model}): ${safe.slice(0, 300)}`, 502);
}
