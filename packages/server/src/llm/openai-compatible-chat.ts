/**
 * A direct client for OpenAI-compatible chat completions (vLLM, Ollama, LiteLLM, LM Studio...),
 * used by the agent loop for plain answers (no tools). It speaks the same wire protocol as the
 * AI SDK's openai-compatible provider and fails the same way (APICallError, same retry rules),
 * but on undici's Agent.request() (keep-alive pools per origin, no fetch/web-stream layer) and a
 * hand-rolled SSE parser: the SDK's path through fetch, web streams and per-chunk schema validation
 * cost ~5 ms of CPU per call, which was most of the platform's own overhead on an assistant call
 * (bench/README.md, "Assistant call overhead"); undici's request() is also cheaper than node:http's
 * ClientRequest/Agent machinery.
 *
 * Tool calling stays on the AI SDK (runAgentLoop picks the path).
 */
import { STATUS_CODES } from 'node:http';
import { APICallError } from 'ai';
import { Agent, type Dispatcher } from 'undici';
import type { ModelConfig } from './models-config.js';
import type { ChatMessage } from './types.js';

/** What the agent loop consumes: the subset of the AI SDK's stream parts it reads. */
export type ChatStreamPart =
  | { type: 'start-step' }
  | { type: 'text-delta'; text: string }
  | { type: 'finish-step'; usage: { inputTokens?: number; outputTokens?: number; cachedInputTokens?: number }; finishReason: string }
  | { type: 'finish'; finishReason: string }
  | { type: 'error'; error: unknown };

export interface DirectChatRequest {
  system?: string;
  messages: ChatMessage[];
  temperature?: number;
  topP?: number;
  maxOutputTokens?: number;
  /** Structured output: json_schema when the server supports it, else json_object. */
  outputSchema?: Record<string, unknown> | null;
  maxRetries: number;
  signal: AbortSignal;
}

export interface DirectChatClient {
  stream(req: DirectChatRequest): AsyncGenerator<ChatStreamPart>;
}

const RETRY_INITIAL_MS = 2000;
const RETRY_FACTOR = 2;
const USER_AGENT = 'codemie-open (openai-compatible)';

/**
 * One keep-alive pool per origin (http and https) for the whole process. No connection limit (like
 * Node's agent); idle sockets are closed after 4 s at most (or the server's Keep-Alive hint minus
 * a margin), before typical servers drop them. No header/body timeouts: the agent loop's own
 * watchdog (CODEMIE_LLM_TIMEOUT_MS) aborts the call through its signal.
 */
const dispatcher = new Agent({ connections: null, keepAliveTimeout: 4000, keepAliveMaxTimeout: 4000, headersTimeout: 0, bodyTimeout: 0 });

type Body = Dispatcher.ResponseData['body'];
type Headers = Record<string, string | string[] | undefined>;

/** The same rule as the AI SDK: timeouts, conflicts, rate limits and server errors are worth another try. */
const retryable = (status: number) => status === 408 || status === 409 || status === 429 || status >= 500;

function mapFinishReason(r: unknown): string {
  switch (r) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content-filter';
    case 'tool_calls':
    case 'function_call':
      return 'tool-calls';
    case null:
    case undefined:
      return 'unknown';
    default:
      return 'other';
  }
}

/** Delay before the next attempt: the server's retry-after(-ms) when sane, else exponential backoff. */
function retryDelay(headers: Record<string, string> | undefined, backoff: number): number {
  let ms: number | undefined;
  const rms = headers?.['retry-after-ms'];
  if (typeof rms === 'string' && !Number.isNaN(parseFloat(rms))) ms = parseFloat(rms);
  const ra = headers?.['retry-after'];
  if (ms === undefined && typeof ra === 'string') {
    const s = parseFloat(ra);
    ms = Number.isNaN(s) ? Date.parse(ra) - Date.now() : s * 1000;
  }
  return ms !== undefined && !Number.isNaN(ms) && ms >= 0 && (ms < 60_000 || ms < backoff) ? ms : backoff;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function flatHeaders(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** The socket-level failures undici reports when a connection is closed under a request. */
const CLOSED_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/**
 * Failed before any response (undici rejects request() only before the headers) on a connection
 * the server closed: a kept-alive socket it dropped while idle. undici's SocketError carries the
 * socket's byte counts: nothing read on it means a fresh connection, which is a real failure
 * (a plain ECONNRESET/EPIPE carries no counts and counts as stale).
 */
function isStaleSocket(err: NodeJS.ErrnoException & { socket?: { bytesRead?: number } }): boolean {
  return typeof err.code === 'string' && CLOSED_CODES.has(err.code) && err.socket?.bytesRead !== 0;
}

/** A connection cut mid-body, in the words the error mapping (errors.ts) knows. */
function closedMidBody(err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && CLOSED_CODES.has(code) ? new Error('LLM provider closed the connection: terminated', { cause: err }) : err;
}

/** The request went out on a reused keep-alive socket that turned out closed (see connect()). */
class StaleSocket extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }

  toApiCallError(url: string, values: unknown): APICallError {
    return new APICallError({ message: `Cannot connect to API: ${this.message}`, url, requestBodyValues: values, cause: this.cause, isRetryable: true });
  }
}

export function createOpenAICompatibleChat(m: ModelConfig): DirectChatClient {
  const url = new URL(`${m.base_url!.replace(/\/+$/, '')}/chat/completions`);
  const origin = url.origin;
  const path = url.pathname + url.search;
  // Header names are case-insensitive: later ones replace earlier ones whatever their case (as
  // node:http's setHeader did). undici adds host, connection and content-length itself.
  const staticHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries({
    ...(m.headers ?? {}),
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    ...(m.apiKey ? { authorization: `Bearer ${m.apiKey}` } : {}),
  }))
    staticHeaders[k.toLowerCase()] = v;
  // Credentials in base_url (http://user:pass@host) as node:http sent them: Basic auth, unless set.
  if (url.username && !staticHeaders.authorization) {
    staticHeaders.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  }
  const streaming = m.features.streaming;

  const body = (req: DirectChatRequest) => {
    const messages: Array<{ role: string; content: string }> = [];
    if (req.system) messages.push({ role: 'system', content: req.system });
    for (const x of req.messages) messages.push({ role: x.role, content: x.content });
    const b: Record<string, unknown> = { model: m.deployment_name, messages };
    if (req.maxOutputTokens !== undefined) b.max_tokens = req.maxOutputTokens;
    if (req.temperature !== undefined) b.temperature = req.temperature;
    if (req.topP !== undefined) b.top_p = req.topP;
    if (req.outputSchema) {
      b.response_format = m.supports_structured_outputs
        ? { type: 'json_schema', json_schema: { schema: req.outputSchema, strict: true, name: 'response' } }
        : { type: 'json_object' };
    }
    if (streaming) {
      b.stream = true;
      b.stream_options = { include_usage: true };
    }
    return b;
  };

  /** One HTTP exchange up to the response headers; non-2xx becomes an APICallError (body read). */
  const post = async (payload: string, values: unknown, signal: AbortSignal): Promise<Body> => {
    let res: Dispatcher.ResponseData;
    try {
      res = await dispatcher.request({ origin, path, method: 'POST', headers: staticHeaders, body: payload, signal });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (signal.aborted) throw signal.reason ?? err;
      // A kept-alive socket the server closed while idle: not a provider failure, send again at once.
      if (isStaleSocket(err)) throw new StaleSocket(err);
      // No response at all: the SDK's "Cannot connect to API" (retryable, no status).
      throw new APICallError({ message: `Cannot connect to API: ${err.message}`, url: url.href, requestBodyValues: values, cause: err, isRetryable: true });
    }
    const status = res.statusCode;
    if (status >= 200 && status < 300) return res.body;
    const text = await res.body.text();
    let message = text || STATUS_CODES[status] || `HTTP ${status}`;
    try {
      const j = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
      message = (typeof j.error === 'string' ? j.error : j.error?.message) ?? j.message ?? message;
    } catch {
      /* not JSON: keep the text */
    }
    throw new APICallError({
      message,
      url: url.href,
      requestBodyValues: values,
      statusCode: status,
      responseHeaders: flatHeaders(res.headers),
      responseBody: text,
      isRetryable: retryable(status),
    });
  };

  /** The call with retries before any answer (never once a response has started). */
  const connect = async (req: DirectChatRequest, values: Record<string, unknown>) => {
    const payload = JSON.stringify(values);
    let backoff = RETRY_INITIAL_MS;
    let staleRetries = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await post(payload, values, req.signal);
      } catch (err) {
        if (err instanceof StaleSocket && staleRetries++ < 2) {
          attempt--;
          continue;
        }
        if (err instanceof StaleSocket) err = err.toApiCallError(url.href, values);
        if (req.signal.aborted || !(err instanceof APICallError) || !err.isRetryable || attempt >= req.maxRetries) throw err;
        await sleep(retryDelay(err.responseHeaders, backoff), req.signal);
        backoff *= RETRY_FACTOR;
      }
    }
  };

  return {
    async *stream(req) {
      yield { type: 'start-step' };
      const values = body(req);
      let res: Body;
      try {
        res = await connect(req, values);
      } catch (error) {
        yield { type: 'error', error };
        return;
      }
      let finishReason = 'unknown';
      let usage: { inputTokens?: number; outputTokens?: number; cachedInputTokens?: number } = {};
      const onChunk = (j: ChatCompletionChunk): ChatStreamPart | undefined => {
        if (j.error) throw new Error(`LLM provider error: ${typeof j.error === 'string' ? j.error : (j.error.message ?? JSON.stringify(j.error))}`);
        if (j.usage) usage = usageOf(j.usage);
        const choice = j.choices?.[0];
        if (!choice) return undefined;
        if (choice.finish_reason != null) finishReason = mapFinishReason(choice.finish_reason);
        const text = streaming ? choice.delta?.content : choice.message?.content;
        return typeof text === 'string' && text ? { type: 'text-delta', text } : undefined;
      };
      try {
        if (!streaming) {
          const part = onChunk(JSON.parse(await res.text()) as ChatCompletionChunk);
          if (part) yield part;
        } else {
          // Read to the end even after [DONE]: leaving the loop early would destroy the response
          // and with it the keep-alive socket.
          for await (const data of sseData(res)) {
            if (data === '[DONE]') continue;
            let j: ChatCompletionChunk;
            try {
              j = JSON.parse(data) as ChatCompletionChunk;
            } catch {
              throw new Error(`Unexpected LLM provider response: not JSON: ${data.slice(0, 200)}`);
            }
            const part = onChunk(j);
            if (part) yield part;
          }
        }
      } catch (error) {
        res.destroy();
        yield { type: 'error', error: req.signal.aborted ? (req.signal.reason ?? error) : closedMidBody(error) };
        return;
      }
      yield { type: 'finish-step', usage, finishReason };
      yield { type: 'finish', finishReason };
    },
  };
}

interface ChatCompletionChunk {
  choices?: Array<{ delta?: { content?: string | null }; message?: { content?: string | null }; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } | null } | null;
  error?: { message?: string } | string;
}

function usageOf(u: NonNullable<ChatCompletionChunk['usage']>) {
  return { inputTokens: u.prompt_tokens ?? 0, outputTokens: u.completion_tokens ?? 0, cachedInputTokens: u.prompt_tokens_details?.cached_tokens ?? 0 };
}

/**
 * The `data:` payloads of a server-sent event stream, one per event. A connection cut off before
 * the response's end surfaces as an error (undici errors the body; stream() rewords socket errors).
 */
async function* sseData(res: Body): AsyncGenerator<string> {
  res.setEncoding('utf8');
  let buf = '';
  let data: string[] = [];
  for await (const chunk of res) {
    buf += chunk as string;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      let line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (data.length) {
          yield data.join('\n');
          data = [];
        }
      } else if (line.startsWith('data:')) {
        data.push(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
      }
      // Other fields (event:, id:, retry:) and comments are not used by chat completions.
    }
  }
  if (buf.startsWith('data:')) data.push(buf.charCodeAt(5) === 32 ? buf.slice(6) : buf.slice(5));
  if (data.length) yield data.join('\n');
}
