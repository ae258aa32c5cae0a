/**
 * A local OpenAI-compatible LLM server for tests and benchmarks (never in the product path).
 * Speaks POST [...]/chat/completions (streaming with stream_options.include_usage, and not) and
 * GET /v1/models, so the platform reaches it through the REAL provider adapters
 * (@ai-sdk/openai-compatible and @ai-sdk/openai with base_url).
 *
 * Answers are scripted per test:
 *   server.script({ text: 'hi' })                       one-shot answers, consumed in order
 *   server.script((req) => req.tools.length ? {...} : undefined)   a rule used once it matches
 *   server.rule((req) => ...)                           persistent rule (checked after the queue)
 * With nothing scripted it answers deterministically: "Echo: <last user message>".
 * Every request is recorded (headers, body, messages, tools, whether the client hung up).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';

export interface ScriptedToolCall {
  id?: string;
  name: string;
  arguments: Record<string, unknown> | string;
}

export interface ScriptedReply {
  /** Answer text (split into word chunks when streaming, unless `chunks` is given). */
  text?: string;
  chunks?: string[];
  toolCalls?: ScriptedToolCall[];
  /** Delay between streamed chunks. */
  delayMs?: number;
  /** Delay before anything (status line included) is sent. */
  firstTokenDelayMs?: number;
  /** Never answer (until the client hangs up). */
  hang?: boolean;
  /** HTTP error status to answer with (with an OpenAI-style error body). */
  status?: number;
  error?: string;
  headers?: Record<string, string>;
  usage?: { prompt_tokens?: number; completion_tokens?: number; cached_tokens?: number };
  /** Destroy the socket after this many streamed chunks. */
  dropConnectionAfterChunks?: number;
  finishReason?: string;
}

export type ReplyRule = (req: RecordedRequest) => ScriptedReply | null | undefined;

export interface RecordedRequest {
  method: string;
  path: string;
  /** Path with the query string. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, any>;
  model: string;
  stream: boolean;
  messages: Array<{ role: string; content?: unknown; tool_calls?: any[]; tool_call_id?: string }>;
  tools: Array<{ type: string; function: { name: string; description?: string; parameters?: unknown } }>;
  receivedAt: number;
  /** When the last byte of the answer was written (undefined while answering or when cut). */
  completedAt?: number;
  /** The client closed the connection before the answer was complete. */
  clientClosed: boolean;
  /** Resolves when the exchange is over (answer complete, or the client hung up). */
  done: Promise<void>;
}

export interface TestLlmServer {
  url: string;
  /** base URL for providers: `${url}/v1` */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Chat completion requests only. */
  chatRequests(): RecordedRequest[];
  script(...replies: Array<ScriptedReply | ReplyRule>): void;
  rule(rule: ReplyRule): void;
  reset(): void;
  close(): Promise<void>;
}

export interface TestLlmServerOptions {
  /** No delays at all (scripted delays ignored): for benchmarks. */
  instant?: boolean;
  models?: string[];
  /** Keep every request for inspection (default true); long benchmarks turn it off. */
  record?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const words = (s: string) => (s.match(/\S+/g) ?? []).length;

function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (typeof p === 'object' && p && 'text' in p ? String((p as { text: unknown }).text) : '')).join(' ');
  return '';
}

export const TEST_EMBEDDING_DIMS = 64;

/**
 * The test server's embeddings (POST …/embeddings): a deterministic, L2-normalised hashed bag of
 * word stems (first 5 letters), so texts sharing words are near each other.
 */
export function testEmbedding(text: string): number[] {
  const v = new Array<number>(TEST_EMBEDDING_DIMS).fill(0);
  for (const w of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const stem = w.slice(0, 5);
    let h = 2166136261;
    for (let i = 0; i < stem.length; i++) h = Math.imul(h ^ stem.charCodeAt(i), 16777619);
    v[(h >>> 0) % TEST_EMBEDDING_DIMS] += 1;
  }
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  return v.map((x) => x / n);
}

export function defaultReply(req: RecordedRequest): ScriptedReply {
  const lastUser = [...req.messages].reverse().find((m) => m.role === 'user');
  return { text: `Echo: ${contentText(lastUser?.content)}` };
}

export async function startTestLlmServer(opts: TestLlmServerOptions = {}): Promise<TestLlmServer> {
  const queue: Array<ScriptedReply | ReplyRule> = [];
  const rules: ReplyRule[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  let counter = 0;
  const wait = (ms?: number) => (opts.instant || !ms ? Promise.resolve() : sleep(ms));

  const pick = (rec: RecordedRequest): ScriptedReply => {
    for (let i = 0; i < queue.length; i++) {
      const q = queue[i];
      const r = typeof q === 'function' ? q(rec) : q;
      if (r) {
        queue.splice(i, 1);
        return r;
      }
    }
    for (const rule of rules) {
      const r = rule(rec);
      if (r) return r;
    }
    return defaultReply(rec);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, any> = {};
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        body = {};
      }
      let resolveDone!: () => void;
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path: (req.url ?? '/').split('?')[0],
        url: req.url ?? '/',
        headers: req.headers,
        body,
        model: String(body.model ?? ''),
        stream: body.stream === true,
        messages: Array.isArray(body.messages) ? body.messages : [],
        tools: Array.isArray(body.tools) ? body.tools : [],
        receivedAt: Date.now(),
        clientClosed: false,
        done: new Promise<void>((r) => (resolveDone = r)),
      };
      if (opts.record !== false) requests.push(rec);
      res.on('close', () => {
        if (!res.writableFinished) rec.clientClosed = true;
        resolveDone();
      });
      void handle(rec, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(rec: RecordedRequest, res: http.ServerResponse): Promise<void> {
    if (rec.method === 'GET' && rec.path.endsWith('/models')) {
      const data = (opts.models ?? ['test-model']).map((id) => ({ id, object: 'model', created: 0, owned_by: 'test' }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data }));
      return;
    }
    if (rec.method === 'POST' && rec.path.endsWith('/embeddings')) {
      const input: string[] = Array.isArray(rec.body.input) ? rec.body.input.map(String) : [String(rec.body.input ?? '')];
      const data = input.map((text, index) => ({ object: 'embedding', index, embedding: testEmbedding(text) }));
      const tokens = input.reduce((n, t) => n + words(t), 0);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data, model: rec.model, usage: { prompt_tokens: tokens, total_tokens: tokens } }));
      rec.completedAt = Date.now();
      return;
    }
    // Any prefix: /v1/chat/completions (OpenAI), /openai/v1/chat/completions or
    // /openai/deployments/<d>/chat/completions (Azure).
    if (rec.method !== 'POST' || !rec.path.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
      return;
    }
    const reply = pick(rec);
    if (reply.hang) return; // the client's timeout/abort ends it
    await wait(reply.firstTokenDelayMs);
    if (res.destroyed) return;
    if (reply.status && reply.status >= 400) {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        ...(reply.status === 429 ? { 'retry-after-ms': '10' } : {}),
        ...reply.headers,
      };
      res
        .writeHead(reply.status, headers)
        .end(JSON.stringify({ error: { message: reply.error ?? `scripted error ${reply.status}`, type: 'test_error', code: String(reply.status) } }));
      rec.completedAt = Date.now();
      return;
    }
    const id = `chatcmpl-${++counter}`;
    const created = Math.floor(Date.now() / 1000);
    const text = reply.text ?? (reply.toolCalls?.length ? '' : '');
    const toolCalls = (reply.toolCalls ?? []).map((t, i) => ({
      id: t.id ?? `call_${counter}_${i}`,
      type: 'function' as const,
      function: { name: t.name, arguments: typeof t.arguments === 'string' ? t.arguments : JSON.stringify(t.arguments) },
    }));
    const promptTokens =
      reply.usage?.prompt_tokens ??
      Math.max(
        1,
        rec.messages.reduce((n, m) => n + words(contentText(m.content)) + 1, 0),
      );
    const completionTokens = reply.usage?.completion_tokens ?? Math.max(1, words(text) + toolCalls.length * 5);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      ...(reply.usage?.cached_tokens !== undefined ? { prompt_tokens_details: { cached_tokens: reply.usage.cached_tokens } } : {}),
    };
    const finishReason = reply.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop');

    if (!rec.stream) {
      const message: Record<string, unknown> = { role: 'assistant', content: text || (toolCalls.length ? null : '') };
      if (toolCalls.length) message.tool_calls = toolCalls;
      res
        .writeHead(200, { 'content-type': 'application/json', ...reply.headers })
        .end(
          JSON.stringify({ id, object: 'chat.completion', created, model: rec.model, choices: [{ index: 0, message, finish_reason: finishReason }], usage }),
        );
      rec.completedAt = Date.now();
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...reply.headers });
    // An instant answer has every chunk ready at once: one socket write, as a server generating
    // faster than the network would send it. Otherwise the headers go out before the first token.
    if (opts.instant) {
      res.cork();
      setImmediate(() => res.uncork());
    } else res.flushHeaders();
    const base = { id, object: 'chat.completion.chunk', created, model: rec.model };
    let sent = 0;
    const send = async (obj: unknown, delay = true): Promise<boolean> => {
      if (res.destroyed) return false;
      if (reply.dropConnectionAfterChunks !== undefined && sent >= reply.dropConnectionAfterChunks) {
        res.socket?.destroy();
        return false;
      }
      if (delay && sent > 0) await wait(reply.delayMs);
      if (res.destroyed) return false;
      res.write(`data: ${JSON.stringify(obj)}\n\n`);
      sent++;
      return true;
    };
    const pieces = reply.chunks ?? text.match(/\S+\s*|\s+/g) ?? [];
    let first = true;
    for (const piece of pieces) {
      const delta: Record<string, unknown> = { content: piece };
      if (first) delta.role = 'assistant';
      first = false;
      if (!(await send({ ...base, choices: [{ index: 0, delta, finish_reason: null }] }))) return;
    }
    for (let i = 0; i < toolCalls.length; i++) {
      const tc = toolCalls[i];
      const args = tc.function.arguments;
      const half = Math.floor(args.length / 2);
      const head = { index: i, id: tc.id, type: 'function', function: { name: tc.function.name, arguments: args.slice(0, half) } };
      if (
        !(await send({
          ...base,
          choices: [{ index: 0, delta: first ? { role: 'assistant', tool_calls: [head] } : { tool_calls: [head] }, finish_reason: null }],
        }))
      )
        return;
      first = false;
      if (
        !(await send({
          ...base,
          choices: [{ index: 0, delta: { tool_calls: [{ index: i, function: { arguments: args.slice(half) } }] }, finish_reason: null }],
        }))
      )
        return;
    }
    if (!(await send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: finishReason }] }))) return;
    if (rec.body.stream_options?.include_usage) {
      if (!(await send({ ...base, choices: [], usage }, false))) return;
    }
    if (res.destroyed) return;
    res.end('data: [DONE]\n\n');
    rec.completedAt = Date.now();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    baseUrl: `${url}/v1`,
    requests,
    chatRequests: () => requests.filter((r) => r.path.endsWith('/chat/completions')),
    script: (...replies) => void queue.push(...replies),
    rule: (r) => void rules.push(r),
    reset() {
      queue.length = 0;
      rules.length = 0;
      requests.length = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The API key the test models use; tests assert it never leaves the server. */
export const TEST_LLM_API_KEY = 'sk-test-SECRET-0123456789abcdef';

export interface TestModelsOptions {
  /** Extra/overriding model entries (models-file fields). */
  models?: Array<Record<string, unknown>>;
  /** Add the default pair (test-model via openai-compatible, test-openai via openai). Default true. */
  defaults?: boolean;
}

/**
 * Writes a models YAML pointing at the test server and returns env vars for startTestPlatform:
 * `test-model` (openai-compatible, default) and `test-openai` (openai with base_url). Costs:
 * $1 / $2 per 1M input/output tokens.
 */
export function writeTestModelsFile(
  server: Pick<TestLlmServer, 'baseUrl'>,
  dir: string,
  opts: TestModelsOptions = {},
): { file: string; env: Record<string, string> } {
  const models: Array<Record<string, unknown>> = [];
  if (opts.defaults !== false) {
    models.push(
      {
        base_name: 'test-model',
        label: 'Test model (openai-compatible)',
        provider: 'openai-compatible',
        deployment_name: 'test-model',
        base_url: server.baseUrl,
        api_key: TEST_LLM_API_KEY,
        default: true,
        cost: { input: 0.000001, output: 0.000002 },
        max_output_tokens: 4096,
        supports_structured_outputs: true,
      },
      {
        base_name: 'test-openai',
        label: 'Test model (openai)',
        provider: 'openai',
        deployment_name: 'gpt-test',
        base_url: server.baseUrl,
        api_key: TEST_LLM_API_KEY,
        cost: { input: 0.000001, output: 0.000002 },
      },
    );
  }
  for (const m of opts.models ?? []) {
    const i = models.findIndex((x) => x.base_name === m.base_name);
    if (i >= 0) models[i] = { ...models[i], ...m };
    else models.push(m);
  }
  const file = path.join(dir, 'llm-models.yaml');
  writeFileSync(file, toYaml({ models }));
  return { file, env: { CODEMIE_LLM_CONFIG: file } };
}
