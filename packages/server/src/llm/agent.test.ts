/** The agent loop through the REAL AI SDK provider adapters against the local test LLM server. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { loadConfig } from '../config/config.js';
import { createLlmService } from './service.js';
import { runToEnd } from './collect.js';
import type { AgentEvent, AgentRequest, LlmService } from './types.js';
import type { AgentTool } from './tool.js';
import { startTestLlmServer, writeTestModelsFile, TEST_LLM_API_KEY, type TestLlmServer } from '../../test/llm-server.js';
import { tempDir } from '../../test/helpers.js';

const log = pino({ level: 'silent' });
let server: TestLlmServer;
let llm: LlmService;
let tmp: { dir: string; cleanup: () => void };

/** openai-compatible models run on the platform's own model or the AI SDK adapter, through the same loop: both are tested. */
let direct = true;
const pathEnv = () => ({ CODEMIE_LLM_DIRECT_CLIENT: String(direct) });

function service(extraEnv: Record<string, string> = {}): LlmService {
  const { env } = writeTestModelsFile(server, tmp.dir);
  return createLlmService(loadConfig({ CODEMIE_DATA_DIR: tmp.dir, ...pathEnv(), ...env, ...extraEnv }), log);
}

/** Runs a group once per client path. */
function bothPaths(name: string, body: () => void) {
  for (const d of [true, false]) {
    describe(`${name} (${d ? 'platform model' : 'AI SDK adapter'})`, () => {
      beforeAll(() => {
        direct = d;
        llm = service({ CODEMIE_LLM_MAX_RETRIES: '2', CODEMIE_LLM_TIMEOUT_MS: '5000' });
      });
      body();
    });
  }
}

async function collect(it: AsyncIterable<AgentEvent>, onEvent?: (e: AgentEvent, at: number) => void): Promise<AgentEvent[]> {
  const out: AgentEvent[] = [];
  for await (const e of it) {
    onEvent?.(e, Date.now());
    out.push(e);
  }
  return out;
}

const req = (over: Partial<AgentRequest> = {}): AgentRequest => ({
  model: 'test-model',
  messages: [{ role: 'user', content: 'hello there' }],
  signal: new AbortController().signal,
  ...over,
});

const last = (events: AgentEvent[]) => events[events.length - 1];

beforeAll(async () => {
  server = await startTestLlmServer();
  tmp = tempDir('codemie-llm-');
  llm = service({ CODEMIE_LLM_MAX_RETRIES: '2', CODEMIE_LLM_TIMEOUT_MS: '5000' });
});
afterAll(async () => {
  await server.close();
  tmp.cleanup();
});
beforeEach(() => server.reset());

bothPaths('runAgent: plain answers', () => {
  for (const model of ['test-model', 'test-openai']) {
    it(`${model}: streams the answer, reports usage and cost`, async () => {
      server.script({ text: 'The answer is 42.', usage: { prompt_tokens: 1000, completion_tokens: 500, cached_tokens: 200 } });
      const events = await collect(llm.runAgent(req({ model, system: 'Be brief.' })));
      const deltas = events.filter((e) => e.type === 'text-delta').map((e) => (e as { text: string }).text);
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.join('')).toBe('The answer is 42.');
      const fin = last(events);
      expect(fin.type).toBe('finish');
      if (fin.type !== 'finish') return;
      expect(fin.text).toBe('The answer is 42.');
      expect(fin.finishReason).toBe('stop');
      expect(fin.usage).toEqual({ input_tokens: 1000, output_tokens: 500, cached_tokens: 200, money_spent: 0.002 });
      const sent = server.chatRequests()[0];
      expect(sent.stream).toBe(true);
      expect(sent.model).toBe(model === 'test-model' ? 'test-model' : 'gpt-test');
      expect(sent.messages[0]).toMatchObject({ role: 'system', content: 'Be brief.' });
      expect(sent.messages[1]).toMatchObject({ role: 'user', content: 'hello there' });
      expect(sent.headers.authorization).toBe(`Bearer ${TEST_LLM_API_KEY}`);
      // test-model is openai-compatible: the direct client when enabled; test-openai always the AI SDK.
      expect(sent.headers['user-agent']).toMatch(direct && model === 'test-model' ? /^codemie-open/ : /ai-sdk/);
      expect(sent.body).toMatchObject({ stream_options: { include_usage: true } });
      // Only what an HTTP client and the provider adapter send: no platform or propagated headers.
      const allowed = /^(authorization|content-type|content-length|user-agent|accept|accept-encoding|accept-language|connection|host|sec-fetch-mode)$/;
      expect(Object.keys(sent.headers).filter((h) => !allowed.test(h))).toEqual([]);
    });
  }

  it('sends temperature/top_p only when the model allows them', async () => {
    await collect(llm.runAgent(req({ temperature: 0.3, topP: 0.9 })));
    expect(server.chatRequests()[0].body).toMatchObject({ temperature: 0.3, top_p: 0.9 });
    const { env } = writeTestModelsFile(server, tmp.dir, { models: [{ base_name: 'test-model', features: { temperature: false, top_p: false } }] });
    const noTemp = createLlmService(loadConfig({ CODEMIE_DATA_DIR: tmp.dir, ...pathEnv(), ...env }), log);
    await collect(noTemp.runAgent(req({ temperature: 0.3, topP: 0.9 })));
    const body = server.chatRequests()[1].body;
    expect(body.temperature).toBeUndefined();
    expect(body.top_p).toBeUndefined();
  });

  it('models without streaming are called without stream and still produce events', async () => {
    const { env } = writeTestModelsFile(server, tmp.dir, { models: [{ base_name: 'test-model', features: { streaming: false } }] });
    const noStream = createLlmService(loadConfig({ CODEMIE_DATA_DIR: tmp.dir, ...pathEnv(), ...env }), log);
    server.script({ text: 'whole answer', usage: { prompt_tokens: 3, completion_tokens: 2 } });
    const events = await collect(noStream.runAgent(req()));
    expect(events.filter((e) => e.type === 'text-delta').map((e) => (e as { text: string }).text).join('')).toBe('whole answer');
    expect(last(events)).toMatchObject({ type: 'finish', text: 'whole answer', usage: { input_tokens: 3, output_tokens: 2 } });
    expect(server.chatRequests()[0].stream).toBe(false);
  });

  it('emits the first token as soon as it arrives (no buffering)', async () => {
    server.script({ chunks: ['First ', 'second ', 'third ', 'fourth'], delayMs: 300 });
    // Ordering, not a clock: when the first token comes out, the provider is still sending the rest.
    let upstreamDoneAtFirstToken: boolean | undefined;
    const events = await collect(llm.runAgent(req()), (e) => {
      if (e.type === 'text-delta' && upstreamDoneAtFirstToken === undefined) upstreamDoneAtFirstToken = server.chatRequests()[0]?.completedAt !== undefined;
    });
    expect(last(events).type).toBe('finish');
    expect(upstreamDoneAtFirstToken).toBe(false);
    expect(server.chatRequests()[0]!.completedAt).toBeDefined();
  });

  it('reports an unknown model as an error event', async () => {
    const events = await collect(llm.runAgent(req({ model: 'nope' })));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'error', error: { status: 400 } });
  });
});

bothPaths('runAgent: tools', () => {
  const calls: Array<Record<string, unknown>> = [];
  const weather: AgentTool = {
    name: 'get_weather',
    description: 'Weather for a city',
    inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    async execute(args) {
      calls.push(args);
      if (args.city === 'Atlantis') return { output: 'city not found', isError: true };
      return { output: `Sunny in ${String(args.city)}`, isError: false };
    },
  };
  beforeEach(() => void (calls.length = 0));

  it('calls a tool, feeds the result back and answers', async () => {
    server.script({ toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }], usage: { prompt_tokens: 10, completion_tokens: 5 } });
    server.script((r) => (r.messages.some((m) => m.role === 'tool') ? { text: 'It is sunny in Paris.', usage: { prompt_tokens: 20, completion_tokens: 7 } } : undefined));
    const events = await collect(llm.runAgent(req({ tools: [weather] })));
    expect(events.map((e) => e.type)).toEqual(['tool-call', 'tool-result', ...events.slice(2, -1).map(() => 'text-delta'), 'finish']);
    expect(events[0]).toEqual({ type: 'tool-call', toolCallId: 'call_1', toolName: 'get_weather', input: { city: 'Paris' } });
    expect(events[1]).toEqual({ type: 'tool-result', toolCallId: 'call_1', toolName: 'get_weather', output: 'Sunny in Paris', isError: false });
    expect(calls).toEqual([{ city: 'Paris' }]);
    const fin = last(events);
    expect(fin).toMatchObject({ type: 'finish', text: 'It is sunny in Paris.', finishReason: 'stop' });
    if (fin.type === 'finish') expect(fin.usage).toMatchObject({ input_tokens: 30, output_tokens: 12 });
    const [first, second] = server.chatRequests();
    expect(first.tools.map((t) => t.function.name)).toEqual(['get_weather']);
    expect(first.tools[0].function.parameters).toMatchObject({ properties: { city: { type: 'string' } } });
    const toolMsg = second.messages.find((m) => m.role === 'tool');
    expect(toolMsg).toMatchObject({ tool_call_id: 'call_1' });
    expect(JSON.stringify(toolMsg?.content)).toContain('Sunny in Paris');
  });

  it('hands a tool error back to the model, which then answers', async () => {
    server.script({ toolCalls: [{ id: 'call_x', name: 'get_weather', arguments: { city: 'Atlantis' } }] });
    server.script((r) => (r.messages.some((m) => m.role === 'tool') ? { text: 'I could not find that city.' } : undefined));
    const events = await collect(llm.runAgent(req({ tools: [weather] })));
    expect(events[1]).toEqual({ type: 'tool-result', toolCallId: 'call_x', toolName: 'get_weather', output: 'city not found', isError: true });
    expect(last(events)).toMatchObject({ type: 'finish', text: 'I could not find that city.' });
    const toolMsg = server.chatRequests()[1].messages.find((m) => m.role === 'tool');
    expect(JSON.stringify(toolMsg?.content)).toContain('city not found');
  });

  it('a throwing tool becomes an error result, not a failed run', async () => {
    const boom: AgentTool = { ...weather, name: 'boom', execute: async () => Promise.reject(new Error('kaput')) };
    server.script({ toolCalls: [{ id: 'c1', name: 'boom', arguments: { city: 'x' } }] }, { text: 'done' });
    const events = await collect(llm.runAgent(req({ tools: [boom] })));
    expect(events[1]).toMatchObject({ type: 'tool-result', isError: true, output: expect.stringContaining('kaput') });
    expect(last(events)).toMatchObject({ type: 'finish', text: 'done' });
  });

  it('runs parallel tool calls of one step and reports each', async () => {
    server.script({
      toolCalls: [
        { id: 'p1', name: 'get_weather', arguments: { city: 'Oslo' } },
        { id: 'p2', name: 'get_weather', arguments: { city: 'Lima' } },
      ],
    });
    server.script((r) => (r.messages.filter((m) => m.role === 'tool').length === 2 ? { text: 'both done' } : undefined));
    const events = await collect(llm.runAgent(req({ tools: [weather] })));
    const results = events.filter((e) => e.type === 'tool-result');
    expect(results.map((e) => (e as { output: string }).output).sort()).toEqual(['Sunny in Lima', 'Sunny in Oslo']);
    expect(last(events)).toMatchObject({ type: 'finish', text: 'both done' });
  });

  it('a call of an unknown tool or with invalid arguments goes back to the model as an error', async () => {
    server.script({ toolCalls: [{ id: 'u1', name: 'no_such_tool', arguments: {} }] });
    server.script({ toolCalls: [{ id: 'u2', name: 'get_weather', arguments: { town: 1 } }] });
    server.script({ text: 'giving up' });
    const events = await collect(llm.runAgent(req({ tools: [weather] })));
    const results = events.filter((e) => e.type === 'tool-result') as Array<{ toolCallId: string; isError: boolean; output: string }>;
    expect(results.map((r) => [r.toolCallId, r.isError])).toEqual([
      ['u1', true],
      ['u2', true],
    ]);
    expect(results[1].output).toContain("must have required property 'city'");
    expect(calls).toEqual([]);
    expect(last(events)).toMatchObject({ type: 'finish', text: 'giving up' });
    expect(JSON.stringify(server.chatRequests()[2].messages)).toContain("must have required property 'city'");
    expect(server.chatRequests()).toHaveLength(3);
  });

  it('stops after maxSteps model calls', async () => {
    server.rule(() => ({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Rome' } }] }));
    const events = await collect(llm.runAgent(req({ tools: [weather], maxSteps: 3 })));
    expect(server.chatRequests()).toHaveLength(3);
    expect(events.filter((e) => e.type === 'tool-call')).toHaveLength(3);
    expect(last(events)).toMatchObject({ type: 'finish', finishReason: 'max-steps' });
  });
});

bothPaths('runAgent: structured output', () => {
  const schema = {
    type: 'object',
    properties: { name: { type: 'string' }, age: { type: 'integer' } },
    required: ['name', 'age'],
    additionalProperties: false,
  };

  it('returns the validated object', async () => {
    server.script({ text: '{"name":"Ada","age":36}' });
    const events = await collect(llm.runAgent(req({ outputSchema: schema })));
    expect(last(events)).toMatchObject({ type: 'finish', object: { name: 'Ada', age: 36 } });
    const body = server.chatRequests()[0].body;
    expect(body.response_format).toMatchObject({ type: 'json_schema' });
    expect(JSON.stringify(body.response_format)).toContain('"age"');
  });

  it('fails with structured_output_invalid when the answer does not match', async () => {
    server.script({ text: '{"name":"Ada","age":"old"}' });
    const events = await collect(llm.runAgent(req({ outputSchema: schema })));
    const e = last(events);
    expect(e.type).toBe('error');
    if (e.type !== 'error') return;
    expect(e.error.code).toBe('structured_output_invalid');
    expect(e.error.status).toBe(502);
    expect(e.error.message).toContain('/age');
    expect(e.text).toBe('{"name":"Ada","age":"old"}');
  });

  it('spells the schema out for openai-compatible servers without json_schema support', async () => {
    const { env } = writeTestModelsFile(server, tmp.dir, { models: [{ base_name: 'test-model', supports_structured_outputs: false }] });
    const plain = createLlmService(loadConfig({ CODEMIE_DATA_DIR: tmp.dir, ...pathEnv(), ...env }), log);
    server.script({ text: '```json\n{"name":"Bo","age":3}\n```' });
    const events = await collect(plain.runAgent(req({ system: 'You are terse.', outputSchema: schema })));
    expect(last(events)).toMatchObject({ type: 'finish', object: { name: 'Bo', age: 3 } });
    const body = server.chatRequests()[0].body;
    expect(body.response_format).toEqual({ type: 'json_object' });
    expect(body.messages[0].content).toContain('You are terse.');
    expect(body.messages[0].content).toContain('"required":["name","age"]');
  });

  it('fails when the answer is not JSON', async () => {
    server.script({ text: 'sorry, no JSON today' });
    const e = last(await collect(llm.runAgent(req({ outputSchema: schema }))));
    expect(e).toMatchObject({ type: 'error', error: { code: 'structured_output_invalid' } });
  });
});

bothPaths('runAgent: failures', () => {
  it('abort mid-stream cancels the upstream request', async () => {
    server.script({ chunks: Array.from({ length: 50 }, (_, i) => `w${i} `), delayMs: 50 });
    const ac = new AbortController();
    const events = await collect(llm.runAgent(req({ signal: ac.signal })), (e) => {
      if (e.type === 'text-delta' && !ac.signal.aborted) ac.abort();
    });
    const e = last(events);
    expect(e).toMatchObject({ type: 'error', error: { code: 'llm_aborted' } });
    const upstream = server.chatRequests()[0];
    await upstream.done;
    expect(upstream.clientClosed).toBe(true);
  });

  it('an already-aborted signal ends with llm_aborted at once', async () => {
    const ac = new AbortController();
    ac.abort();
    const end = await runToEnd(llm.runAgent(req({ signal: ac.signal })));
    expect(end).toMatchObject({ type: 'error', error: { code: 'llm_aborted', status: 499 }, text: '' });
  });

  it('runToEnd returns the finish event', async () => {
    server.script({ text: 'ok then' });
    const seen: string[] = [];
    const end = await runToEnd(llm.runAgent(req()), (e) => void seen.push(e.type));
    expect(end).toMatchObject({ type: 'finish', text: 'ok then' });
    expect(seen.at(-1)).toBe('finish');
  });

  it('a consumer that stops iterating cancels the upstream request', async () => {
    server.script({ chunks: Array.from({ length: 50 }, (_, i) => `w${i} `), delayMs: 50 });
    for await (const e of llm.runAgent(req())) if (e.type === 'text-delta') break;
    const upstream = server.chatRequests()[0];
    await upstream.done;
    expect(upstream.clientClosed).toBe(true);
  });

  it('retries a 429 and then succeeds', async () => {
    server.script({ status: 429, error: 'slow down' }, { text: 'finally' });
    const events = await collect(llm.runAgent(req()));
    expect(last(events)).toMatchObject({ type: 'finish', text: 'finally' });
    expect(server.chatRequests()).toHaveLength(2);
  });

  it('persistent 500 ends with an error event, status 502, after retries', async () => {
    server.rule(() => ({ status: 500, error: 'internal kaboom', headers: { 'retry-after-ms': '5' } }));
    const events = await collect(llm.runAgent(req()));
    expect(events).toHaveLength(1);
    const e = events[0];
    expect(e.type).toBe('error');
    if (e.type !== 'error') return;
    expect(e.error.code).toBe('llm_unavailable');
    expect(e.error.status).toBe(502);
    expect(e.error.message).toContain('HTTP 500');
    expect(e.usage).toEqual({ input_tokens: 0, output_tokens: 0, cached_tokens: 0, money_spent: 0 });
    expect(server.chatRequests()).toHaveLength(3);
  });

  it('persistent 429 surfaces as llm_rate_limited 502', async () => {
    server.rule(() => ({ status: 429 }));
    const e = last(await collect(llm.runAgent(req())));
    expect(e).toMatchObject({ type: 'error', error: { code: 'llm_rate_limited', status: 502 } });
  });

  it('401 from the provider is llm_auth_failed 502 and never echoes the key', async () => {
    server.script({ status: 401, error: `Incorrect API key provided: ${TEST_LLM_API_KEY}` });
    const e = last(await collect(llm.runAgent(req())));
    expect(e).toMatchObject({ type: 'error', error: { code: 'llm_auth_failed', status: 502 } });
    expect(JSON.stringify(e)).not.toContain(TEST_LLM_API_KEY);
    expect(server.chatRequests()).toHaveLength(1);
  });

  it('a provider that does not answer in time is a 504 llm_timeout', async () => {
    const quick = service({ CODEMIE_LLM_TIMEOUT_MS: '300', CODEMIE_LLM_MAX_RETRIES: '0' });
    server.script({ hang: true });
    // the provider never answers: without the timeout this would hang (and the test time out)
    const e = last(await collect(quick.runAgent(req())));
    expect(e).toMatchObject({ type: 'error', error: { code: 'llm_timeout', status: 504 } });
    const upstream = server.chatRequests()[0];
    await upstream.done;
    expect(upstream.clientClosed).toBe(true);
  });

  it('a stream that stalls mid-answer times out with the text so far', async () => {
    const quick = service({ CODEMIE_LLM_TIMEOUT_MS: '300', CODEMIE_LLM_MAX_RETRIES: '0' });
    server.script({ chunks: ['partial ', 'answer'], delayMs: 2000 });
    const e = last(await collect(quick.runAgent(req())));
    expect(e).toMatchObject({ type: 'error', error: { code: 'llm_timeout' }, text: 'partial ' });
  });

  it('a dropped connection mid-stream is an error event, not a throw', async () => {
    server.script({ chunks: ['a ', 'b ', 'c ', 'd'], dropConnectionAfterChunks: 2 });
    const events = await collect(llm.runAgent(req()));
    expect(last(events).type).toBe('error');
  });

  it('an unreachable provider is llm_unavailable 503', async () => {
    const dead = await startTestLlmServer();
    const { env } = writeTestModelsFile(dead, tmp.dir);
    await dead.close();
    const s = createLlmService(loadConfig({ CODEMIE_DATA_DIR: tmp.dir, ...pathEnv(), ...env, CODEMIE_LLM_MAX_RETRIES: '0' }), log);
    const e = last(await collect(s.runAgent(req())));
    expect(e).toMatchObject({ type: 'error', error: { code: 'llm_unavailable', status: 503 } });
  });
});
