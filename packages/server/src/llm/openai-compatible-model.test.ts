/** The platform's OpenAI-compatible model's own edge cases (the common paths run in agent.test.ts on both models). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { createOpenAICompatibleModel } from './openai-compatible-model.js';
import type { ModelConfig } from './models-config.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => (s.closeAllConnections(), s.close(r)))));
});

const sse = (text: string) =>
  [
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: text } }] })}`,
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}`,
    `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 1 } })}`,
    'data: [DONE]',
    '',
    '',
  ].join('\n\n');

async function serve(handler: http.RequestListener): Promise<string> {
  const srv = http.createServer(handler);
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}/v1`;
}

const model = (baseUrl: string) =>
  ({ base_name: 'm', deployment_name: 'm', provider: 'openai-compatible', base_url: baseUrl, features: { streaming: true } }) as unknown as ModelConfig;

type Part = LanguageModelV3StreamPart | { type: 'thrown'; error: unknown };

/** The parts that matter here (text, tool calls, errors, the finish); a failure before any answer is `thrown`. */
async function collect(it: AsyncIterable<LanguageModelV3StreamPart>): Promise<Part[]> {
  const out: Part[] = [];
  try {
    for await (const p of it) if (p.type === 'text-delta' || p.type === 'error' || p.type === 'finish' || p.type === 'tool-call') out.push(p);
  } catch (error) {
    out.push({ type: 'thrown', error });
  }
  return out;
}

const hi = (signal = new AbortController().signal) => ({
  prompt: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] }],
  abortSignal: signal,
});

describe("the platform's OpenAI-compatible model", () => {
  it('reuses keep-alive connections for sequential calls', async () => {
    const sockets = new Set<unknown>();
    const base = await serve((req, res) => {
      sockets.add(req.socket);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(sse('ok')));
    });
    const c = createOpenAICompatibleModel(model(base));
    // undici frees a connection for the next request one event-loop turn after a response ends, so a
    // call made at once takes a second connection from the pool; calls alternate between the two.
    for (let i = 0; i < 6; i++) {
      const parts = await collect(c.streamParts(hi()));
      expect(parts.filter((p) => p.type === 'text-delta')).toEqual([{ type: 'text-delta', id: '0', delta: 'ok' }]);
      expect(parts.at(-1)).toEqual({
        type: 'finish',
        usage: { inputTokens: { total: 3, noCache: 3, cacheRead: 0, cacheWrite: undefined }, outputTokens: { total: 1, text: 1, reasoning: undefined } },
        finishReason: { unified: 'stop', raw: 'stop' },
      });
    }
    expect(sockets.size).toBeLessThanOrEqual(2);
  });

  it('a kept-alive socket the server dropped is replaced at once, even with retries off', async () => {
    let requests = 0;
    let dropped = 0;
    const served = new WeakMap<object, number>();
    const base = await serve((req, res) => {
      requests++;
      req.resume();
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      // The first request that arrives on a reused socket: drop it without an answer.
      if (n > 1 && !dropped++) return req.socket.destroy();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(sse(`answer ${requests}`)));
    });
    const c = createOpenAICompatibleModel(model(base));
    const call = () => collect(c.streamParts(hi()));
    let calls = 0;
    while (!dropped && calls < 5) {
      calls++;
      const parts = await call();
      expect(parts.some((p) => p.type === 'error' || p.type === 'thrown')).toBe(false);
      expect(parts.some((p) => p.type === 'text-delta' && p.delta === `answer ${requests}`)).toBe(true);
    }
    expect(dropped).toBe(1);
    expect(requests).toBe(calls + 1);
  });

  it('a fresh connection closed without an answer fails the call before any part (no immediate re-send)', async () => {
    let requests = 0;
    const base = await serve((req) => {
      requests++;
      req.socket.destroy();
    });
    const parts = await collect(createOpenAICompatibleModel(model(base)).streamParts(hi()));
    expect(parts.map((p) => p.type)).toEqual(['thrown']);
    expect(String((parts[0] as { error: Error }).error.message)).toContain('Cannot connect to API');
    expect(requests).toBe(1);
  });

  it('an error chunk mid-stream ends the stream with an error naming it', async () => {
    const base = await serve((req, res) => {
      req.resume();
      req.on('end', () =>
        res
          .writeHead(200, { 'content-type': 'text/event-stream' })
          .end(
            `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'par' } }] })}\n\ndata: ${JSON.stringify({ error: { message: 'model overloaded' } })}\n\n`,
          ),
      );
    });
    const parts = await collect(createOpenAICompatibleModel(model(base)).streamParts(hi()));
    expect(parts.map((p) => p.type)).toEqual(['text-delta', 'error']);
    expect(String((parts.at(-1) as { error: Error }).error.message)).toContain('model overloaded');
  });

  it('a long answer read by a slow consumer arrives whole and in order; characters split between packets stay intact', async () => {
    // 2000 events written at once (more than the client buffers before pausing the socket), each
    // with a 4-byte character, and the body flushed in pieces that cut characters in two.
    const words = Array.from({ length: 2000 }, (_, i) => `w${i}😀 `);
    const body = Buffer.from(words.map((w) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: w } }] })}\n\n`).join('') + sse(''));
    const base = await serve((req, res) => {
      req.resume();
      req.on('end', async () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (let i = 0; i < body.length; i += 4093) {
          res.write(body.subarray(i, i + 4093));
          await new Promise((r) => setImmediate(r));
        }
        res.end();
      });
    });
    let text = '';
    let n = 0;
    for await (const p of createOpenAICompatibleModel(model(base)).streamParts(hi())) {
      if (p.type === 'text-delta') text += p.delta;
      if (p.type === 'error') throw p.error;
      if (++n % 100 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    expect(text).toBe(words.join(''));
  });

  it('an error response reports its status, message and headers (repeated ones joined)', async () => {
    const base = await serve((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('x-trace', ['a', 'b']);
        res.writeHead(400, { 'content-type': 'application/json', 'X-Request-Id': 'r-1' }).end(JSON.stringify({ error: { message: 'bad things' } }));
      });
    });
    const parts = await collect(createOpenAICompatibleModel(model(base)).streamParts(hi()));
    expect(parts.map((p) => p.type)).toEqual(['thrown']);
    const err = (parts.at(-1) as { error: { message: string; statusCode: number; responseHeaders: Record<string, string>; responseBody: string } }).error;
    expect(err.message).toBe('bad things');
    expect(err.statusCode).toBe(400);
    expect(err.responseHeaders).toMatchObject({ 'x-request-id': 'r-1', 'x-trace': 'a, b', 'content-type': 'application/json' });
    expect(JSON.parse(err.responseBody)).toEqual({ error: { message: 'bad things' } });
  });

  it('aborting mid-stream ends it with the abort reason and frees the connection', async () => {
    let closed = false;
    const base = await serve((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'first ' } }] })}\n\n`);
        res.on('close', () => (closed = true));
      });
    });
    const ac = new AbortController();
    const parts: LanguageModelV3StreamPart[] = [];
    for await (const p of createOpenAICompatibleModel(model(base)).streamParts(hi(ac.signal))) {
      if (p.type === 'text-delta' || p.type === 'error') parts.push(p);
      if (p.type === 'text-delta') ac.abort(new DOMException('client went away', 'AbortError'));
    }
    expect(parts.map((p) => p.type)).toEqual(['text-delta', 'error']);
    expect((parts[1] as { error: Error }).error.message).toBe('client went away');
    for (let i = 0; i < 50 && !closed; i++) await new Promise((r) => setTimeout(r, 10));
    expect(closed).toBe(true);
  });
});

describe('the platform model is an AI SDK LanguageModelV3', () => {
  it('works under the AI SDK itself: streamText with a tool, through doStream', async () => {
    let turn = 0;
    const base = await serve((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        const body = JSON.parse(raw) as { tools?: unknown[]; messages: Array<{ role: string; content: string | null }> };
        expect(body.tools).toHaveLength(1);
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (turn++ === 0) {
          const call = { index: 0, id: 'call_1', type: 'function', function: { name: 'add', arguments: '{"a":2,' } };
          res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [call] } }] })}\n\n`);
          res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"b":3}' } }] } }] })}\n\n`);
          res.end(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] })}\n\ndata: [DONE]\n\n`);
        } else {
          const tool = body.messages.find((m) => m.role === 'tool');
          res.end(sse(`sum is ${tool?.content}`));
        }
      });
    });
    const { streamText, tool, jsonSchema, stepCountIs } = await import('ai');
    const r = streamText({
      model: createOpenAICompatibleModel(model(base)),
      prompt: 'add 2 and 3',
      tools: {
        add: tool({
          inputSchema: jsonSchema<{ a: number; b: number }>({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } }),
          execute: async ({ a, b }) => String(a + b),
        }),
      },
      stopWhen: stepCountIs(3),
    });
    expect(await r.text).toBe('sum is 5');
    expect((await r.steps)[0].toolCalls[0]).toMatchObject({ toolName: 'add', input: { a: 2, b: 3 } });
  });
});
