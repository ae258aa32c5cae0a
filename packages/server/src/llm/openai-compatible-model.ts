/**
 * The platform's own model for OpenAI-compatible chat completions (vLLM, Ollama, LiteLLM, LM
 * Studio...): an AI SDK LanguageModelV3 like every other provider's, so the agent loop has one
 * path for every model, with and without tools. It speaks the wire protocol of the AI SDK's
 * openai-compatible provider and fails the same way (APICallError, same retryable statuses), but
 * on undici's dispatcher (keep-alive pools per origin, no fetch/web-stream layer) with a
 * hand-rolled SSE parser, and hands its parts to the agent loop as an async iterable
 * (`streamParts`, no ReadableStream): the SDK's path through fetch, web streams and per-chunk
 * schema validation cost ~2 ms of CPU per call where the whole platform spends ~0.5 ms
 * (bench/README.md, "The LLM path"). The response is read through dispatch() handler callbacks
 * straight into the SSE parser.
 */
import { STATUS_CODES } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { APICallError } from '@ai-sdk/provider';
import type { LanguageModelV3, LanguageModelV3CallOptions, LanguageModelV3Content, LanguageModelV3Prompt, LanguageModelV3StreamPart } from '@ai-sdk/provider';
import type { Agent, Dispatcher } from 'undici';
import type { ModelConfig } from './models-config.js';

/** A LanguageModelV3 whose stream parts can also be read without a ReadableStream (agent.ts prefers that). */
export interface IterableLanguageModel extends LanguageModelV3 {
  streamParts(options: LanguageModelV3CallOptions): AsyncIterable<LanguageModelV3StreamPart>;
}

const USER_AGENT = 'codemie-open (openai-compatible)';

/**
 * One keep-alive pool per origin (http and https) for the whole process. No connection limit (like
 * Node's agent); idle sockets are closed after 4 s at most (or the server's Keep-Alive hint minus
 * a margin), before typical servers drop them. No header/body timeouts: the agent loop's own
 * watchdog (CODEMIE_LLM_TIMEOUT_MS) aborts the call through its signal.
 */
// undici is loaded with the first call of a model on this path (idle servers do not carry it).
let dispatcher: Agent | undefined;
let loading: Promise<Agent> | undefined;
function theDispatcher(): Agent | Promise<Agent> {
  return (
    dispatcher ??
    (loading ??= import('undici').then(({ Agent }) => {
      dispatcher = new Agent({ connections: null, keepAliveTimeout: 4000, keepAliveMaxTimeout: 4000, headersTimeout: 0, bodyTimeout: 0 });
      return dispatcher;
    }))
  );
}

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

function mapFinishReason(r: unknown): 'stop' | 'length' | 'content-filter' | 'tool-calls' | 'other' {
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
    default:
      return 'other';
  }
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

type OpenAiMessage = Record<string, unknown> & { role: string };

/** The V3 prompt as chat-completions messages (text, tool calls and their results). */
function toMessages(prompt: LanguageModelV3Prompt): OpenAiMessage[] {
  const out: OpenAiMessage[] = [];
  for (const msg of prompt) {
    switch (msg.role) {
      case 'system':
        out.push({ role: 'system', content: msg.content });
        break;
      case 'user': {
        const text = msg.content.map((p) => (p.type === 'text' ? p.text : '')).join('');
        out.push({ role: 'user', content: text });
        break;
      }
      case 'assistant': {
        let text = '';
        const calls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = [];
        for (const p of msg.content) {
          if (p.type === 'text') text += p.text;
          else if (p.type === 'tool-call') {
            calls.push({
              id: p.toolCallId,
              type: 'function',
              function: { name: p.toolName, arguments: typeof p.input === 'string' ? p.input : JSON.stringify(p.input ?? {}) },
            });
          }
        }
        out.push({ role: 'assistant', content: text || (calls.length ? null : ''), ...(calls.length ? { tool_calls: calls } : {}) });
        break;
      }
      case 'tool':
        for (const p of msg.content) {
          if (p.type !== 'tool-result') continue;
          const o = p.output;
          const content =
            o.type === 'text' || o.type === 'error-text' ? o.value : o.type === 'json' || o.type === 'error-json' ? JSON.stringify(o.value) : JSON.stringify(o);
          out.push({ role: 'tool', tool_call_id: p.toolCallId, content });
        }
        break;
    }
  }
  return out;
}

function v3Usage(u: { prompt_tokens?: number; completion_tokens?: number; cached?: number }) {
  const input = u.prompt_tokens ?? 0;
  const cached = u.cached ?? 0;
  return {
    inputTokens: { total: input, noCache: input - cached, cacheRead: cached, cacheWrite: undefined },
    outputTokens: { total: u.completion_tokens ?? 0, text: u.completion_tokens ?? 0, reasoning: undefined },
  };
}

/** A tool call streamed in pieces (OpenAI sends the arguments in fragments, keyed by index). */
interface PendingCall {
  id: string;
  name: string;
  args: string;
}

export function createOpenAICompatibleModel(m: ModelConfig): IterableLanguageModel {
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

  const body = (o: LanguageModelV3CallOptions) => {
    const b: Record<string, unknown> = { model: m.deployment_name, messages: toMessages(o.prompt) };
    if (o.maxOutputTokens !== undefined) b.max_tokens = o.maxOutputTokens;
    if (o.temperature !== undefined) b.temperature = o.temperature;
    if (o.topP !== undefined) b.top_p = o.topP;
    if (o.stopSequences?.length) b.stop = o.stopSequences;
    if (o.seed !== undefined) b.seed = o.seed;
    const tools = (o.tools ?? []).filter((t) => t.type === 'function');
    if (tools.length) {
      b.tools = tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.inputSchema } }));
      const c = o.toolChoice;
      if (c) b.tool_choice = c.type === 'tool' ? { type: 'function', function: { name: c.toolName } } : c.type;
      const opts = (o.providerOptions?.openaiCompatible ?? {}) as { parallelToolCalls?: boolean };
      if (opts.parallelToolCalls === false) b.parallel_tool_calls = false;
    }
    if (o.responseFormat?.type === 'json') {
      b.response_format =
        m.supports_structured_outputs && o.responseFormat.schema
          ? { type: 'json_schema', json_schema: { schema: o.responseFormat.schema, strict: true, name: o.responseFormat.name ?? 'response' } }
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
      const d = dispatcher ?? (await theDispatcher());
      const ex = new Exchange(signal);
      d.dispatch({ origin, path, method: 'POST', headers: staticHeaders, body: payload }, ex);
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

  /** Sends the request; a kept-alive socket found closed is replaced at once (up to twice). Retries of provider failures are the agent loop's. */
  const connect = async (values: Record<string, unknown>, signal: AbortSignal) => {
    const payload = JSON.stringify(values);
    for (let stale = 0; ; stale++) {
      try {
        return await post(payload, values, signal);
      } catch (err) {
        if (err instanceof StaleSocket) {
          if (stale < 2) continue;
          throw err.toApiCallError(url.href, values);
        }
        throw err;
      }
    }
  };

  /**
   * The call's parts. Failing before any answer (connection refused, HTTP error) throws from the
   * first next(), as doStream rejects; a failure once the answer has started is an `error` part.
   */
  async function* streamParts(o: LanguageModelV3CallOptions): AsyncGenerator<LanguageModelV3StreamPart> {
    const signal = o.abortSignal ?? new AbortController().signal;
    const values = body(o);
    const res = await connect(values, signal);
    yield { type: 'stream-start', warnings: [] };
    let finishReason: string | null | undefined;
    let usage = v3Usage({});
    let textOpen = false;
    const calls = new Map<number, PendingCall>();
    /** The parts one completion chunk makes (text deltas as they come; tool calls at the end). */
    const onChunk = (j: ChatCompletionChunk, out: LanguageModelV3StreamPart[]) => {
      if (j.error) throw new Error(`LLM provider error: ${typeof j.error === 'string' ? j.error : (j.error.message ?? JSON.stringify(j.error))}`);
      if (j.usage)
        usage = v3Usage({
          prompt_tokens: j.usage.prompt_tokens,
          completion_tokens: j.usage.completion_tokens,
          cached: j.usage.prompt_tokens_details?.cached_tokens ?? 0,
        });
      const choice = j.choices?.[0];
      if (!choice) return;
      if (choice.finish_reason != null) finishReason = choice.finish_reason;
      const d = streaming ? choice.delta : choice.message;
      const text = d?.content;
      if (typeof text === 'string' && text) {
        if (!textOpen) {
          textOpen = true;
          out.push({ type: 'text-start', id: '0' });
        }
        out.push({ type: 'text-delta', id: '0', delta: text });
      }
      for (const [i, tc] of (d?.tool_calls ?? []).entries()) {
        const index = tc.index ?? i;
        const call = calls.get(index) ?? { id: '', name: '', args: '' };
        if (tc.id) call.id = tc.id;
        if (tc.function?.name) call.name += tc.function.name;
        if (tc.function?.arguments) call.args += tc.function.arguments;
        calls.set(index, call);
      }
    };
    let complete = false;
    try {
      const out: LanguageModelV3StreamPart[] = [];
      if (!streaming) {
        onChunk(JSON.parse(await res.text()) as ChatCompletionChunk, out);
        yield* out;
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
            onChunk(j, out);
            if (out.length) {
              yield* out;
              out.length = 0;
            }
          }
          if (!piece) break;
        }
      }
      complete = true;
    } catch (error) {
      yield { type: 'error', error: signal.aborted ? (signal.reason ?? error) : closedMidBody(error) };
      return;
    } finally {
      // Failed, or the consumer stopped early: nothing more will be read.
      if (!complete) res.abort();
    }
    if (textOpen) yield { type: 'text-end', id: '0' };
    let n = 0;
    for (const call of calls.values()) {
      yield { type: 'tool-call', toolCallId: call.id || `call_${n}`, toolName: call.name, input: call.args || '{}' };
      n++;
    }
    const unified =
      calls.size && (finishReason === 'tool_calls' || finishReason === 'function_call' || finishReason == null) ? 'tool-calls' : mapFinishReason(finishReason);
    yield { type: 'finish', usage, finishReason: { unified: unified as 'stop', raw: finishReason ?? undefined } };
  }

  return {
    specificationVersion: 'v3',
    provider: 'openai-compatible',
    modelId: m.deployment_name,
    supportedUrls: {},
    streamParts,
    async doStream(o) {
      // Connection and HTTP failures reject here, as the SDK's providers do.
      const it = streamParts(o)[Symbol.asyncIterator]();
      const first = await it.next();
      return {
        stream: new ReadableStream<LanguageModelV3StreamPart>({
          start(c) {
            if (!first.done) c.enqueue(first.value);
            else c.close();
          },
          async pull(c) {
            const r = await it.next();
            if (r.done) c.close();
            else c.enqueue(r.value);
          },
          async cancel() {
            await it.return?.(undefined);
          },
        }),
      };
    },
    async doGenerate(o) {
      const content: LanguageModelV3Content[] = [];
      let text = '';
      let finish: Extract<LanguageModelV3StreamPart, { type: 'finish' }> | undefined;
      for await (const p of streamParts(o)) {
        if (p.type === 'text-delta') text += p.delta;
        else if (p.type === 'tool-call') content.push(p);
        else if (p.type === 'finish') finish = p;
        else if (p.type === 'error') throw p.error;
      }
      if (text) content.unshift({ type: 'text', text });
      return { content, finishReason: finish?.finishReason ?? { unified: 'other', raw: undefined }, usage: finish?.usage ?? v3Usage({}), warnings: [] };
    },
  };
}

interface ChatCompletionChunk {
  choices?: Array<{
    delta?: { content?: string | null; tool_calls?: ToolCallDelta[] };
    message?: { content?: string | null; tool_calls?: ToolCallDelta[] };
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } | null } | null;
  error?: { message?: string } | string;
}

interface ToolCallDelta {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
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
