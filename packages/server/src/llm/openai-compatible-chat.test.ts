/** The direct client's own edge cases (the common paths run in agent.test.ts on both clients). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAICompatibleChat, type ChatStreamPart } from './openai-compatible-chat.js';
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

async function collect(it: AsyncIterable<ChatStreamPart>): Promise<ChatStreamPart[]> {
  const out: ChatStreamPart[] = [];
  for await (const p of it) out.push(p);
  return out;
}

describe('direct OpenAI-compatible client', () => {
  it('reuses one keep-alive connection for sequential calls', async () => {
    const sockets = new Set<unknown>();
    const base = await serve((req, res) => {
      sockets.add(req.socket);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(sse('ok')));
    });
    const c = createOpenAICompatibleChat(model(base));
    for (let i = 0; i < 3; i++) {
      const parts = await collect(c.stream({ messages: [{ role: 'user', content: 'hi' }], maxRetries: 0, signal: new AbortController().signal }));
      expect(parts.filter((p) => p.type === 'text-delta')).toEqual([{ type: 'text-delta', text: 'ok' }]);
      expect(parts.at(-2)).toEqual({ type: 'finish-step', usage: { inputTokens: 3, outputTokens: 1, cachedInputTokens: 0 }, finishReason: 'stop' });
    }
    expect(sockets.size).toBe(1);
  });

  it('a kept-alive socket the server dropped is replaced at once, even with retries off', async () => {
    let requests = 0;
    const base = await serve((req, res) => {
      requests++;
      req.resume();
      // The second request arrives on the first call's socket: drop it without an answer.
      if (requests === 2) return req.socket.destroy();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(sse(`answer ${requests}`)));
    });
    const c = createOpenAICompatibleChat(model(base));
    const call = () => collect(c.stream({ messages: [{ role: 'user', content: 'hi' }], maxRetries: 0, signal: new AbortController().signal }));
    expect((await call()).some((p) => p.type === 'text-delta' && p.text === 'answer 1')).toBe(true);
    const second = await call();
    expect(second.some((p) => p.type === 'error')).toBe(false);
    expect(second.some((p) => p.type === 'text-delta' && p.text === 'answer 3')).toBe(true);
    expect(requests).toBe(3);
  });

  it('an error chunk mid-stream ends the stream with an error naming it', async () => {
    const base = await serve((req, res) => {
      req.resume();
      req.on('end', () =>
        res
          .writeHead(200, { 'content-type': 'text/event-stream' })
          .end(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'par' } }] })}\n\ndata: ${JSON.stringify({ error: { message: 'model overloaded' } })}\n\n`),
      );
    });
    const parts = await collect(createOpenAICompatibleChat(model(base)).stream({ messages: [{ role: 'user', content: 'hi' }], maxRetries: 0, signal: new AbortController().signal }));
    expect(parts.map((p) => p.type)).toEqual(['start-step', 'text-delta', 'error']);
    expect(String((parts.at(-1) as { error: Error }).error.message)).toContain('model overloaded');
  });
});
