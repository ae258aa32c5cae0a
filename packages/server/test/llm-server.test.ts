/** The test LLM server itself: OpenAI wire format in both modes, scripting, recording. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestLlmServer, type TestLlmServer } from './llm-server.js';

let server: TestLlmServer;
beforeAll(async () => {
  server = await startTestLlmServer({ models: ['m1', 'm2'] });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

/** The parts of a chat completion these tests read. */
interface Completion {
  choices: Array<{ message: { role?: string; content: string | null; tool_calls?: unknown[] }; finish_reason: string }>;
  usage: Record<string, number>;
}

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('test LLM server', () => {
  it('lists models', async () => {
    const res = (await (await fetch(`${server.baseUrl}/models`)).json()) as { data: Array<{ id: string }> };
    expect(res.data.map((m: { id: string }) => m.id)).toEqual(['m1', 'm2']);
  });

  it('echoes by default (non-stream) with usage, and records the request', async () => {
    const res = await post({ model: 'm1', messages: [{ role: 'user', content: 'ping pong' }] }, { 'x-probe': '1' });
    const body = (await res.json()) as Completion;
    expect(body.choices[0].message).toEqual({ role: 'assistant', content: 'Echo: ping pong' });
    expect(body.choices[0].finish_reason).toBe('stop');
    expect(body.usage).toEqual({ prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 });
    expect(server.requests[0]).toMatchObject({ model: 'm1', stream: false, headers: { 'x-probe': '1' } });
  });

  it('answers tool calls (non-stream)', async () => {
    server.script({ toolCalls: [{ id: 'c1', name: 'f', arguments: { a: 1 } }] });
    const body = (await (await post({ model: 'm1', messages: [{ role: 'user', content: 'x' }] })).json()) as Completion;
    expect(body.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] } });
  });

  it('streams chunks, tool calls and the usage chunk when asked', async () => {
    server.script({ chunks: ['a', 'b'], toolCalls: [{ id: 'c1', name: 'f', arguments: { q: 'z' } }], usage: { prompt_tokens: 7, completion_tokens: 3, cached_tokens: 2 } });
    const text = await (await post({ model: 'm1', stream: true, stream_options: { include_usage: true }, messages: [] })).text();
    const events = text.split('\n\n').filter(Boolean).map((l) => l.replace(/^data: /, ''));
    expect(events.at(-1)).toBe('[DONE]');
    const parsed = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(parsed.map((p) => p.choices[0]?.delta?.content).filter(Boolean)).toEqual(['a', 'b']);
    const args = parsed.flatMap((p) => p.choices[0]?.delta?.tool_calls ?? []).map((t: { function: { arguments: string } }) => t.function.arguments).join('');
    expect(JSON.parse(args)).toEqual({ q: 'z' });
    expect(parsed.at(-1).usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 2 } });
  });

  it('scripted errors and rules; queue before rules', async () => {
    server.rule(() => ({ text: 'from rule' }));
    server.script({ status: 503, error: 'busy' });
    const r1 = await post({ messages: [] });
    expect(r1.status).toBe(503);
    expect(((await r1.json()) as { error: { message: string } }).error.message).toBe('busy');
    expect(((await (await post({ messages: [] })).json()) as Completion).choices[0].message.content).toBe('from rule');
  });

  it('instant mode ignores delays and sends the whole stream at once', async () => {
    const fast = await startTestLlmServer({ instant: true });
    fast.script({ chunks: ['a', 'b', 'c'], delayMs: 20_000, firstTokenDelayMs: 20_000 });
    // Ordering: the whole answer is here before the first scripted delay could have run out.
    const firstDelay = new Promise<'delay'>((r) => setTimeout(() => r('delay'), 20_000).unref());
    const answer = fetch(`${fast.baseUrl}/chat/completions`, { method: 'POST', body: JSON.stringify({ stream: true, messages: [] }) }).then((r) => r.text());
    expect(await Promise.race([answer, firstDelay])).not.toBe('delay');
    const text = await answer;
    const deltas = text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)).choices[0]?.delta?.content);
    expect(deltas.filter(Boolean)).toEqual(['a', 'b', 'c']);
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    await fast.close();
  });
});
