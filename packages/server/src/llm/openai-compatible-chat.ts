/**
 * A direct client for OpenAI-compatible chat completions (vLLM, Ollama, LiteLLM, LM Studio...),
 * used by the agent loop for plain answers (no tools). It speaks the same wire protocol as the
 * AI SDK's openai-compatible provider and fails the same way (APICallError, same retry rules),
 * but on undici's dispatcher (keep-alive pools per origin, no fetch/web-stream layer) and a
 * hand-rolled SSE parser: the SDK's path through fetch, web streams and per-chunk schema validation
 * cost ~5 ms of CPU per call, which was most of the platform's own overhead on an assistant call
 * (bench/README.md, "Assistant call overhead"). The response is read through dispatch() handler
 * callbacks straight into the SSE parser: undici's request() would wrap the body in a Node.js
 * Readable read through an async iterator, which cost ~20 µs more CPU per call.
 *
 * Tool calling stays on the AI SDK (runAgentLoop picks the path).
 */
import { STATUS_CODES } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
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

/** How many unread body pieces make us pause the socket until the consumer catches up. */
const BODY_HIGH_WATER = 16;

/**
 * One HTTP exchange as undici reports it (a dispatch handler): the status and headers first (`head`
 * resolves; it rejects when the request failed before any response), then the body's pieces,
 * pulled with next(). The caller's signal aborts it at any point; a piece already received is
 * still delivered before the failure that followed it.
 */
class Exchange implements Dispatcher.DispatchHandlers {
  status = 0;
  readonly head: Promise<Exchange>;
  private settle!: { resolve: (x: Exchange) => void; reject: (e: unknown) => void };
  private started = false;
  private rawHeaders: Buffer[] = [];
  private abortFn?: (err?: Error) => void;
  private resumeFn?: () => void;
  private paused = false;
  private readonly pieces: Buffer[] = [];
  private ended = false;
  private failure: unknown = undefined;
  private wake?: () => void;

  constructor(private readonly signal: AbortSignal) {
    this.head = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // A signal aborted before the request is on a socket takes effect in onConnect (as in undici's request()).
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  private readonly onAbort = () => this.abortFn?.(this.signal.reason);

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.signal.aborted) abort(this.signal.reason);
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void): boolean {
    this.status = status;
    this.rawHeaders = rawHeaders;
    this.resumeFn = resume;
    this.started = true;
    this.settle.resolve(this);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.pieces.push(chunk);
    this.notify();
    if (this.pieces.length < BODY_HIGH_WATER) return true;
    this.paused = true;
    return false;
  }

  onComplete(): void {
    this.finish();
  }

  onError(err: Error): void {
    if (this.started) this.failure = err;
    else {
      this.started = true;
      this.settle.reject(err);
    }
    this.finish();
  }

  /** The next piece of the body, or null at its end; throws what ended the exchange early. */
  async next(): Promise<Buffer | null> {
    for (;;) {
      const piece = this.pieces.shift();
      if (piece) {
        if (this.paused && this.pieces.length === 0) {
          this.paused = false;
          this.resumeFn?.();
        }
        return piece;
      }
      if (this.failure !== undefined) throw this.failure;
      if (this.ended) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async text(): Promise<string> {
    const all: Buffer[] = [];
    for (let p = await this.next(); p; p = await this.next()) all.push(p);
    return Buffer.concat(all).toString('utf8');
  }

  /** Lower-case names; repeated headers joined with ", " (as the AI SDK reports them). */
  headers(): Record<string, string> {
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < this.rawHeaders.length; i += 2) {
      const k = this.rawHeaders[i]!.toString('latin1').toLowerCase();
      const v = this.rawHeaders[i + 1]!.toString('latin1');
      out[k] = k in out ? `${out[k]}, ${v}` : v;
    }
    return out;
  }

  /** Stops the exchange (no-op once it is over). */
  abort(): void {
    if (!this.ended) this.abortFn?.(new DOMException('aborted', 'AbortError'));
  }

  private finish(): void {
    this.ended = true;
    this.signal.removeEventListener('abort', this.onAbort);
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

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
  const post = async (payload: string, values: unknown, signal: AbortSignal): Promise<Exchange> => {
    let res: Exchange;
    try {
      const ex = new Exchange(signal);
      dispatcher.dispatch({ origin, path, method: 'POST', headers: staticHeaders, body: payload }, ex);
      res = await ex.head;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (signal.aborted) throw signal.reason ?? err;
      // A kept-alive socket the server closed while idle: not a provider failure, send again at once.
      if (isStaleSocket(err)) throw new StaleSocket(err);
      // No response at all: the SDK's "Cannot connect to API" (retryable, no status).
      throw new APICallError({ message: `Cannot connect to API: ${err.message}`, url: url.href, requestBodyValues: values, cause: err, isRetryable: true });
    }
    const status = res.status;
    if (status >= 200 && status < 300) return res;
    const text = await res.text();
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
      responseHeaders: res.headers(),
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
      let res: Exchange;
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
      let complete = false;
      try {
        if (!streaming) {
          const part = onChunk(JSON.parse(await res.text()) as ChatCompletionChunk);
          if (part) yield part;
        } else {
          // Read to the end even after [DONE]: stopping early would abort the exchange and with it
          // the keep-alive socket.
          const sse = new SseParser();
          for (;;) {
            const piece = await res.next();
            for (const data of sse.push(piece)) {
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
            if (!piece) break;
          }
        }
        complete = true;
      } catch (error) {
        yield { type: 'error', error: req.signal.aborted ? (req.signal.reason ?? error) : closedMidBody(error) };
        return;
      } finally {
        // Failed, or the consumer stopped early: nothing more will be read.
        if (!complete) res.abort();
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
 * The `data:` payloads of a server-sent event stream, fed piece by piece as they arrive (null at
 * the end of the body). Other fields (event:, id:, retry:) and comments are not used by chat completions.
 */
class SseParser {
  private readonly decoder = new StringDecoder('utf8');
  private buf = '';
  private data: string[] = [];

  /** The payloads of the events this piece completes. */
  push(piece: Buffer | null): string[] {
    const out: string[] = [];
    const buf = this.buf + (piece ? this.decoder.write(piece) : this.decoder.end());
    let start = 0;
    let nl: number;
    while ((nl = buf.indexOf('\n', start)) >= 0) {
      let line = buf.slice(start, nl);
      start = nl + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (this.data.length) {
          out.push(this.data.join('\n'));
          this.data = [];
        }
      } else if (line.startsWith('data:')) this.data.push(dataValue(line));
    }
    this.buf = buf.slice(start);
    if (!piece) {
      // A last event without its blank line still counts.
      if (this.buf.startsWith('data:')) this.data.push(dataValue(this.buf));
      if (this.data.length) out.push(this.data.join('\n'));
      this.data = [];
      this.buf = '';
    }
    return out;
  }
}

/** The value of a `data:` line (one leading space is not part of it). */
const dataValue = (line: string) => (line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
