/**
 * The assistant call through the REAL test LLM server: the guide's curl bodies, every status,
 * SSE/NDJSON streaming, disconnects, provider errors, conversations, structured output, tools.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestPlatform, testAuthHeaders, tempDir, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../test/llm-server.js';
import { http, parseSse } from '../../test/sse.js';
import { startRecordingHttpServer, type McpHttpServer } from '../../test/mcp-servers/recording.mjs';

let llm: TestLlmServer;
let platform: TestPlatform;
let mcp: McpHttpServer;
const tmp = tempDir('codemie-assistant-call-');
const alice = testAuthHeaders({ id: 'alice', username: 'alice', name: 'Alice', projects: ['demo'] });
const bob = testAuthHeaders({ id: 'bob', username: 'bob', name: 'Bob', projects: ['demo'] });
const json = { 'content-type': 'application/json' };

const GUIDE_KEYS = ['generated', 'timeElapsed', 'tokensUsed', 'thoughts', 'taskId'];
const RESPONSE_KEYS = [...GUIDE_KEYS, 'usage', 'success', 'agentError', 'toolErrors'];
const THOUGHT_KEYS = ['id', 'parent_id', 'metadata', 'in_progress', 'input_text', 'message', 'author_type', 'author_name', 'output_format', 'error', 'interrupted', 'aborted', 'children'];
const CHUNK_KEYS = [
  'time_elapsed', 'generated_chunk', 'generated', 'thought', 'context', 'last', 'debug', 'workflow_execution_id',
  'workflow_state', 'execution_error', 'success', 'agent_error', 'tool_errors', 'error_details', 'interactive_request',
];

async function createAssistant(headers: Record<string, string>, body: Record<string, unknown>): Promise<string> {
  const res = await http(`${platform.url}/v1/assistants`, { method: 'POST', headers: { ...headers, ...json }, body: JSON.stringify({ name: 'Helper', system_prompt: 'You are helpful.', llm_model_type: 'test-model', ...body }) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { assistantId: string }).assistantId;
}

function post(path: string, body: unknown, headers: Record<string, string> = alice, extra: Record<string, string> = {}) {
  return http(`${platform.url}${path}`, { method: 'POST', headers: { ...headers, ...json, ...extra }, body: JSON.stringify(body) });
}

let assistantId: string;

beforeAll(async () => {
  llm = await startTestLlmServer();
  mcp = await startRecordingHttpServer();
  const { env } = writeTestModelsFile(llm, tmp.dir);
  platform = await startTestPlatform({ testAuth: true, listen: true, env });
  assistantId = await createAssistant(alice, { shared: true });
});
afterAll(async () => {
  await platform.stop();
  await llm.close();
  await mcp.close();
  tmp.cleanup();
});
beforeEach(() => llm.reset());

describe('POST /v1/assistants/{id}/model (non-stream)', () => {
  it("answers the guide's {\"text\":\"hi\"} with every key of the guide's example, real usage and a Codemie Thoughts thought", async () => {
    llm.script({ text: 'Hello! How can I help?', usage: { prompt_tokens: 12, completion_tokens: 5 } });
    const res = await http(`${platform.url}/code-assistant-api/v1/assistants/${assistantId}/model`, { method: 'POST', headers: { ...alice, ...json }, body: '{\n"text": "hi"\n}' });
    expect(res.status).toBe(200);
    expect(res.headers.get('server-timing')).toMatch(/app;dur=[\d.]+, llm;dur=[\d.]+/);
    const body = await res.json();
    expect(Object.keys(body).sort()).toEqual([...RESPONSE_KEYS].sort());
    expect(body.generated).toBe('Hello! How can I help?');
    expect(typeof body.timeElapsed).toBe('number');
    expect(body.tokensUsed).toBe(17);
    expect(body.usage).toEqual({ input_tokens: 12, output_tokens: 5, cached_tokens: 0, money_spent: expect.closeTo(12e-6 + 10e-6, 10) });
    expect(body.taskId).toBeNull();
    expect(body.success).toBe(true);
    expect(body.agentError).toBeNull();
    expect(body.toolErrors).toBeNull();
    expect(body.thoughts).toHaveLength(1);
    expect(Object.keys(body.thoughts[0]).sort()).toEqual([...THOUGHT_KEYS].sort());
    expect(body.thoughts[0]).toMatchObject({ author_name: 'Codemie Thoughts', author_type: 'Tool', message: 'Hello! How can I help?', in_progress: false, parent_id: null, output_format: 'text', children: [] });
    // What the model was sent: the assistant's system prompt and the user's text.
    const sent = llm.chatRequests()[0];
    expect(sent.model).toBe('test-model');
    expect(sent.messages).toEqual([
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('the /chat alias, camelCase keys and an llmModel override reach the named model', async () => {
    const res = await post(`/v1/assistants/${assistantId}/chat`, { text: 'ping', llmModel: 'test-openai', systemPrompt: 'Be brief.', unknownKey: 1 });
    expect(res.status).toBe(200);
    expect((await res.json()).generated).toBe('Echo: ping');
    const sent = llm.chatRequests()[0];
    expect(sent.model).toBe('gpt-test');
    expect(sent.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
  });

  it('400 naming the available models for an unknown llmModel', async () => {
    const res = await post(`/v1/assistants/${assistantId}/model`, { text: 'hi', llm_model: 'nope' });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(JSON.stringify(body.error)).toContain('test-model');
    expect(llm.chatRequests()).toHaveLength(0);
  });

  it('401 without a token, 404 unknown assistant, 403 for a non-shared or foreign-project assistant', async () => {
    expect((await http(`${platform.url}/v1/assistants/${assistantId}/model`, { method: 'POST', headers: json, body: '{"text":"hi"}' })).status).toBe(401);
    const missing = await post('/v1/assistants/00000000-0000-0000-0000-000000000000/model', { text: 'hi' });
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.message).toBe('Assistant not found');
    const priv = await createAssistant(alice, { name: 'Private', shared: false });
    const denied = await post(`/v1/assistants/${priv}/model`, { text: 'hi' }, bob);
    expect(denied.status).toBe(403);
    expect((await denied.json()).error).toMatchObject({ message: 'Access denied', details: 'You do not have the necessary permissions to view this entity.' });
    const other = await createAssistant(testAuthHeaders({ id: 'carol', username: 'carol', projects: ['secret'] }), { name: 'Secret', project: 'secret', shared: true });
    expect((await post(`/v1/assistants/${other}/model`, { text: 'hi' }, bob)).status).toBe(403);
    expect(llm.chatRequests()).toHaveLength(0);
  });

  it('422 when text is missing (without history) and for an invalid output_schema', async () => {
    const noText = await post(`/v1/assistants/${assistantId}/model`, { stream: false });
    expect(noText.status).toBe(422);
    expect((await noText.json()).error.message).toContain('text');
    const bad = await post(`/v1/assistants/${assistantId}/model`, { text: 'hi', output_schema: { type: 'object', properties: { a: { type: 'nonsense' } } } });
    expect(bad.status).toBe(422);
    expect((await bad.json()).error.message).toBe('Wrong JSON schema for structured output');
    const wrongType = await post(`/v1/assistants/${assistantId}/model`, { text: 'hi', stream: 'yes' });
    expect(wrongType.status).toBe(422);
    expect(llm.chatRequests()).toHaveLength(0);
  });

  it('502 "Assistant Error" with clear details when the provider fails', async () => {
    llm.script({ status: 401, error: 'bad key' });
    const res = await post(`/v1/assistants/${assistantId}/model`, { text: 'hi' });
    expect(res.status).toBe(502);
    const body = await res.json();
    expect(body.error.message).toBe('Assistant Error');
    expect(body.error.details).toContain('llm_auth_failed');
  });

  it('structured output: generated is the object matching output_schema', async () => {
    llm.script({ text: '{"city":"Paris","population":2100000}' });
    const schema = { type: 'object', properties: { city: { type: 'string' }, population: { type: 'integer' } }, required: ['city', 'population'] };
    const res = await post(`/v1/assistants/${assistantId}/model`, { text: 'capital of France?', outputSchema: schema });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.generated).toEqual({ city: 'Paris', population: 2100000 });
    expect(JSON.stringify(llm.chatRequests()[0].body)).toContain('population');
  });

  it('history given in the body (list or string) is sent to the model; text optional with history', async () => {
    const res = await post(`/v1/assistants/${assistantId}/model`, {
      history: [
        { role: 'User', message: 'my name is Ann' },
        { role: 'Assistant', message: 'Hi Ann' },
      ],
      text: 'what is my name?',
      save_history: false,
    });
    expect(res.status).toBe(200);
    expect(llm.chatRequests()[0].messages.slice(1)).toEqual([
      { role: 'user', content: 'my name is Ann' },
      { role: 'assistant', content: 'Hi Ann' },
      { role: 'user', content: 'what is my name?' },
    ]);
    const onlyHistory = await post(`/v1/assistants/${assistantId}/model`, { history: 'tell me a joke', save_history: false });
    expect(onlyHistory.status).toBe(200);
  });

  it('tool calls (MCP) become thoughts titled after the tool, with input and output', async () => {
    const withTools = await createAssistant(alice, { name: 'Tooled', mcp_servers: [{ name: 'rec', config: { url: mcp.url, type: 'streamable-http' } }] });
    llm.script(
      (req) => {
        const echo = req.tools.find((t) => t.function.name.endsWith('echo'));
        return echo ? { toolCalls: [{ name: echo.function.name, arguments: { text: 'from tool' } }] } : undefined;
      },
      { text: 'The tool said: from tool' },
    );
    const res = await post(`/v1/assistants/${withTools}/model`, { text: 'use the tool' });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.generated).toBe('The tool said: from tool');
    const tool = body.thoughts.find((t: { author_name: string }) => t.author_name !== 'Codemie Thoughts');
    expect(tool).toMatchObject({ author_type: 'Tool', in_progress: false, error: false, message: 'from tool' });
    expect(tool.author_name).toMatch(/Echo$/);
    expect(JSON.parse(tool.input_text)).toEqual({ text: 'from tool' });
    expect(body.thoughts.at(-1).author_name).toBe('Codemie Thoughts');
  });
});

describe('tools and header propagation', () => {
  const toolCall = (suffix: string, args: Record<string, unknown>) => (req: { tools: Array<{ function: { name: string } }> }) => {
    const t = req.tools.find((x) => x.function.name.endsWith(suffix));
    return t ? { toolCalls: [{ name: t.function.name, arguments: args }] } : undefined;
  };

  it("propagate_headers: the request's X-* headers (minus the blocklist) reach the MCP server, never the model", async () => {
    const id = await createAssistant(alice, { name: 'Propagating', mcp_servers: [{ name: 'rec', config: { url: mcp.url, type: 'streamable-http' } }] });
    mcp.requests.length = 0;
    llm.script(toolCall('echo', { text: 'x' }), { text: 'ok' });
    const res = await post(`/v1/assistants/${id}/chat`, { text: 'List all deployments in production environment', propagate_headers: true }, alice, {
      'X-Tenant-ID': 'acme-corp',
      'X-Correlation-ID': 'trace-123',
      'X-Forwarded-For': '10.0.0.1',
    });
    expect(res.status).toBe(200);
    const calls = mcp.requests.filter((r) => r.rpcMethod === 'tools/call');
    expect(calls).toHaveLength(1);
    expect(calls[0].headers['x-tenant-id']).toBe('acme-corp');
    expect(calls[0].headers['x-correlation-id']).toBe('trace-123');
    expect(calls[0].headers['x-forwarded-for']).toBeUndefined();
    for (const r of llm.chatRequests()) expect(r.headers['x-tenant-id']).toBeUndefined();

    // Without the flag nothing is forwarded.
    mcp.requests.length = 0;
    llm.script(toolCall('echo', { text: 'x' }), { text: 'ok' });
    await post(`/v1/assistants/${id}/chat`, { text: 'again' }, alice, { 'X-Tenant-ID': 'acme-corp' });
    const plain = mcp.requests.filter((r) => r.rpcMethod === 'tools/call');
    expect(plain).toHaveLength(1);
    expect(plain[0].headers['x-tenant-id']).toBeUndefined();
  });

  it('a failing tool is an error thought and a toolErrors entry; the call still answers', async () => {
    const id = await createAssistant(alice, { name: 'Failing tool', mcp_servers: [{ name: 'rec', config: { url: mcp.url, type: 'streamable-http' } }] });
    llm.script(toolCall('fail', {}), { text: 'The tool failed, sorry.' });
    const body = await (await post(`/v1/assistants/${id}/model`, { text: 'try it' })).json();
    expect(body.success).toBe(true);
    const t = body.thoughts.find((x: { author_name: string }) => x.author_name.endsWith('Fail'));
    expect(t).toMatchObject({ error: true, in_progress: false, author_type: 'Tool' });
    expect(body.toolErrors).toHaveLength(1);
    expect(body.toolErrors[0].tool_name).toMatch(/fail$/);
  });

  it('streamed tool calls: an in-progress thought with input, then the same id with the output', async () => {
    const id = await createAssistant(alice, { name: 'Stream tools', mcp_servers: [{ name: 'rec', config: { url: mcp.url, type: 'streamable-http' } }] });
    llm.script(toolCall('echo', { text: 'streamed' }), { text: 'done' });
    const chunks = parseSse(await (await post(`/v1/assistants/${id}/model`, { text: 'go', stream: true })).text()).map((e) => JSON.parse(e.data));
    const toolChunks = chunks.filter((c) => c.thought && c.thought.author_name !== 'Codemie Thoughts');
    expect(toolChunks).toHaveLength(2);
    expect(toolChunks[0].thought).toMatchObject({ in_progress: true, message: '' });
    expect(JSON.parse(toolChunks[0].thought.input_text)).toEqual({ text: 'streamed' });
    expect(toolChunks[1].thought).toMatchObject({ id: toolChunks[0].thought.id, in_progress: false, message: 'streamed' });
    expect(chunks.at(-1)).toMatchObject({ last: true, generated: 'done', success: true });
  });
});

describe('conversations', () => {
  it('each call starts a conversation; continuing one sends the stored turns to the model; owner-only', async () => {
    const first = await post(`/v1/assistants/${assistantId}/model`, { text: 'my name is Ann' });
    expect(first.status).toBe(200);
    const list = await (await http(`${platform.url}/v1/conversations`, { headers: alice })).json();
    expect(Array.isArray(list)).toBe(true);
    const conv = list.find((c: { name: string }) => c.name === 'my name is Ann');
    expect(conv).toMatchObject({ initial_assistant_id: assistantId, assistant_ids: [assistantId], pinned: false, is_workflow: false });

    llm.reset();
    const second = await post(`/v1/assistants/${assistantId}/model`, { text: 'what is my name?', conversationId: conv.id });
    expect(second.status).toBe(200);
    expect(llm.chatRequests()[0].messages.slice(1)).toEqual([
      { role: 'user', content: 'my name is Ann' },
      { role: 'assistant', content: 'Echo: my name is Ann' },
      { role: 'user', content: 'what is my name?' },
    ]);

    const detail = await (await http(`${platform.url}/v1/conversations/${conv.id}`, { headers: alice })).json();
    expect(detail).toMatchObject({ id: conv.id, conversation_id: conv.id, user_id: 'alice', initial_assistant_id: assistantId, llm_model: 'test-model' });
    expect(detail.history.map((m: { role: string; historyIndex: number }) => [m.role, m.historyIndex])).toEqual([
      ['User', 0],
      ['Assistant', 0],
      ['User', 1],
      ['Assistant', 1],
    ]);
    const answer = detail.history[3];
    expect(answer).toMatchObject({ message: 'Echo: what is my name?', assistantId });
    expect(answer.inputTokens).toBeGreaterThan(0);
    expect(answer.outputTokens).toBeGreaterThan(0);
    expect(typeof answer.responseTime).toBe('number');
    expect(answer.thoughts[0].author_name).toBe('Codemie Thoughts');

    // Someone else can neither read, continue nor delete it.
    expect((await http(`${platform.url}/v1/conversations/${conv.id}`, { headers: bob })).status).toBe(403);
    expect((await post(`/v1/assistants/${assistantId}/model`, { text: 'hi', conversation_id: conv.id }, bob)).status).toBe(403);
    expect((await http(`${platform.url}/v1/conversations/${conv.id}`, { method: 'DELETE', headers: bob })).status).toBe(403);
    expect((await (await http(`${platform.url}/v1/conversations`, { headers: bob })).json()).some((c: { id: string }) => c.id === conv.id)).toBe(false);

    const del = await http(`${platform.url}/v1/conversations/${conv.id}`, { method: 'DELETE', headers: alice });
    expect(del.status).toBe(200);
    expect((await del.json()).message).toBeTruthy();
    const gone = await http(`${platform.url}/v1/conversations/${conv.id}`, { headers: alice });
    expect(gone.status).toBe(404);
    expect((await gone.json()).error.message).toBe('Conversation not found');
  });

  it('conversation list pages with page/per_page (still a bare array); save_history=false stores nothing', async () => {
    const u = testAuthHeaders({ id: 'pager', username: 'pager', projects: ['demo'] });
    for (const t of ['one', 'two', 'three']) expect((await post(`/v1/assistants/${assistantId}/model`, { text: t }, u)).status).toBe(200);
    expect((await post(`/v1/assistants/${assistantId}/model`, { text: 'not saved', saveHistory: false }, u)).status).toBe(200);
    const all = await (await http(`${platform.url}/v1/conversations`, { headers: u })).json();
    expect(all.map((c: { name: string }) => c.name).sort()).toEqual(['one', 'three', 'two']);
    const page1 = await (await http(`${platform.url}/v1/conversations?page=1&per_page=2`, { headers: u })).json();
    expect(Array.isArray(page1)).toBe(true);
    expect(page1).toHaveLength(1);
  });
});

describe('conversation paging and bulk delete; call by slug', () => {
  it('detail pages messages with page/per_page/sort_order (pagination added), DELETE /v1/conversations removes only mine', async () => {
    const u = testAuthHeaders({ id: 'pages', username: 'pages', projects: ['demo'] });
    const first = await post(`/v1/assistants/${assistantId}/model`, { text: 't0' }, u);
    expect(first.status).toBe(200);
    const [conv] = await (await http(`${platform.url}/v1/conversations`, { headers: u })).json();
    for (const t of ['t1', 't2']) await post(`/v1/assistants/${assistantId}/model`, { text: t, conversation_id: conv.id }, u);
    const full = await (await http(`${platform.url}/v1/conversations/${conv.id}`, { headers: u })).json();
    expect(full.history).toHaveLength(6);
    expect(full).not.toHaveProperty('pagination');
    const p1 = await (await http(`${platform.url}/v1/conversations/${conv.id}?page=1&per_page=2`, { headers: u })).json();
    expect(p1.pagination).toEqual({ page: 1, per_page: 2, total: 6, pages: 3, has_next: true, has_previous: true });
    expect(p1.history.map((m: { message: string }) => m.message)).toEqual(['t1', 'Echo: t1']);
    const desc = await (await http(`${platform.url}/v1/conversations/${conv.id}?per_page=2&sort_order=desc`, { headers: u })).json();
    expect(desc.history.map((m: { message: string }) => m.message)).toEqual(['Echo: t2', 't2']);

    const before = (await (await http(`${platform.url}/v1/conversations`, { headers: alice })).json()).length;
    const del = await http(`${platform.url}/v1/conversations`, { method: 'DELETE', headers: u });
    expect(del.status).toBe(200);
    expect((await del.json()).message).toBe('Conversation history cleared');
    expect(await (await http(`${platform.url}/v1/conversations`, { headers: u })).json()).toEqual([]);
    expect((await (await http(`${platform.url}/v1/conversations`, { headers: alice })).json()).length).toBe(before);
  });

  it('POST /v1/assistants/slug/{slug}/model calls the assistant of that slug', async () => {
    const id = await createAssistant(alice, { name: 'By Slug Caller', slug: 'by-slug-caller', system_prompt: 'slug prompt' });
    const res = await post('/v1/assistants/slug/by-slug-caller/model?project=demo', { text: 'hello' });
    expect(res.status).toBe(200);
    expect((await res.json()).generated).toBe('Echo: hello');
    expect(llm.chatRequests()[0].messages[0]).toEqual({ role: 'system', content: 'slug prompt' });
    expect(id).toBeTruthy();
    expect((await post('/v1/assistants/slug/no-such/model', { text: 'x' })).status).toBe(404);
  });
});

describe('streaming', () => {
  it("SSE by default for the guide's {text, llmModel, stream:true}: token thoughts, generated_chunk deltas, a last chunk with the answer", async () => {
    llm.script({ text: 'Hello there friend', delayMs: 5 });
    const res = await post(`/v1/assistants/${assistantId}/model`, { text: 'hi', llmModel: 'test-model', stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const events = parseSse(await res.text());
    const chunks = events.map((e) => JSON.parse(e.data));
    expect(events.map((e) => e.id)).toEqual(chunks.map((_, i) => String(i + 1)));
    for (const c of chunks) expect(Object.keys(c).sort()).toEqual([...CHUNK_KEYS].sort());
    const deltas = chunks.filter((c) => !c.last);
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.map((c) => c.thought.message).join('')).toBe('Hello there friend');
    expect(deltas.map((c) => c.generated_chunk).join('')).toBe('Hello there friend');
    expect(new Set(deltas.map((c) => c.thought.id)).size).toBe(1);
    expect(deltas[0].thought).toMatchObject({ author_name: 'Codemie Thoughts', in_progress: true });
    const last = chunks.at(-1);
    expect(last).toMatchObject({ last: true, generated: 'Hello there friend', generated_chunk: '', success: true, execution_error: null, thought: null });
    expect(typeof last.time_elapsed).toBe('number');
  });

  it('NDJSON with Accept: application/x-ndjson (same chunks, one JSON per line)', async () => {
    llm.script({ text: 'one two' });
    const res = await post(`/v1/assistants/${assistantId}/model`, { text: 'hi', stream: true }, alice, { accept: 'application/x-ndjson' });
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await res.text()).split('\n').filter((l) => l.trim());
    const chunks = lines.map((l) => JSON.parse(l));
    expect(chunks.at(-1)).toMatchObject({ last: true, generated: 'one two', success: true });
    expect(chunks.slice(0, -1).map((c) => c.generated_chunk).join('')).toBe('one two');
  });

  it('the first token is written as soon as it arrives', async () => {
    llm.script({ chunks: ['first ', 'second'], delayMs: 700 });
    const res = await post(`/v1/assistants/${assistantId}/model`, { text: 'hi', stream: true }, alice, { accept: 'application/x-ndjson' });
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toContain('first ');
    // Ordering, not a clock: the first token is here while the provider has not sent the second yet.
    expect(llm.chatRequests()[0]!.completedAt).toBeUndefined();
    await reader.cancel();
  });

  it('provider error mid-stream: a last chunk with execution_error and success false, then the stream closes', async () => {
    llm.script({ chunks: ['partial ', 'answer ', 'more'], dropConnectionAfterChunks: 2, delayMs: 5 });
    const res = await post(`/v1/assistants/${assistantId}/model`, { text: 'hi', stream: true });
    const chunks = parseSse(await res.text()).map((e) => JSON.parse(e.data));
    const last = chunks.at(-1);
    expect(last.last).toBe(true);
    expect(last.success).toBe(false);
    expect(last.execution_error).toMatch(/^llm_/);
    // What arrived before the connection dropped was streamed; the rest never came.
    const streamed = chunks.filter((c) => !c.last).map((c) => c.generated_chunk).join('');
    expect(streamed.startsWith('partial ')).toBe(true);
    expect(streamed).not.toContain('more');
  });

  it('provider failure before the first token while streaming: still a final error chunk', async () => {
    llm.script({ status: 401 });
    const res = await post(`/v1/assistants/${assistantId}/model`, { text: 'hi', stream: true });
    expect(res.status).toBe(200);
    const chunks = parseSse(await res.text()).map((e) => JSON.parse(e.data));
    expect(chunks.at(-1)).toMatchObject({ last: true, success: false, execution_error: 'llm_auth_failed' });
  });

  it('client disconnect aborts the upstream call and stores the partial answer as interrupted', async () => {
    const u = testAuthHeaders({ id: 'leaver', username: 'leaver', projects: ['demo'] });
    llm.script({ chunks: ['partial ', 'words ', 'never ', 'sent ', 'at ', 'all'], delayMs: 300 });
    const res = await post(`/v1/assistants/${assistantId}/model`, { text: 'long story', stream: true }, u, { accept: 'application/x-ndjson' });
    const reader = res.body!.getReader();
    let got = '';
    while (!got.includes('words')) got += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const upstream = llm.chatRequests()[0];
    await upstream.done;
    expect(upstream.clientClosed).toBe(true);
    // The turn is stored as interrupted with what was generated so far.
    let detail: any;
    for (let i = 0; i < 50; i++) {
      const list = await (await http(`${platform.url}/v1/conversations`, { headers: u })).json();
      if (list.length) {
        detail = await (await http(`${platform.url}/v1/conversations/${list[0].id}`, { headers: u })).json();
        if (detail.history.length === 2) break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const answer = detail.history[1];
    expect(answer.status).toBe('interrupted');
    expect(answer.message).toMatch(/^partial words/);
    expect(answer.messageRaw).toBe('Agent has been interrupted by client');
  });
});

describe('upstream timeout (the call shares one abort controller with the agent loop)', () => {
  let slow: TestPlatform;
  let slowAssistant: string;
  const tmpSlow = tempDir('codemie-assistant-timeout-');
  beforeAll(async () => {
    const { env } = writeTestModelsFile(llm, tmpSlow.dir);
    slow = await startTestPlatform({ testAuth: true, listen: true, env: { ...env, CODEMIE_LLM_TIMEOUT_MS: '300', CODEMIE_LLM_MAX_RETRIES: '0' } });
    const res = await http(`${slow.url}/v1/assistants`, { method: 'POST', headers: { ...alice, ...json }, body: JSON.stringify({ name: 'Slow', system_prompt: '', llm_model_type: 'test-model', project: 'demo' }) });
    slowAssistant = ((await res.json()) as { assistantId: string }).assistantId;
  });
  afterAll(async () => {
    await slow.stop();
    tmpSlow.cleanup();
  });

  const storedAnswer = async (headers: Record<string, string>) => {
    const list = await (await http(`${slow.url}/v1/conversations`, { headers })).json();
    const detail = await (await http(`${slow.url}/v1/conversations/${list[0].id}`, { headers })).json();
    return detail.history[1];
  };

  it('non-stream: a 504 envelope naming the timeout, stored as an error, not as interrupted by the client', async () => {
    const u = testAuthHeaders({ id: 'patient', username: 'patient', projects: ['demo'] });
    llm.script({ hang: true });
    const res = await http(`${slow.url}/v1/assistants/${slowAssistant}/model`, { method: 'POST', headers: { ...u, ...json }, body: '{"text":"hi"}' });
    expect(res.status).toBe(504);
    const body = await res.json();
    expect(body.error.details).toMatch(/^llm_timeout: LLM provider did not respond within 300 ms/);
    const answer = await storedAnswer(u);
    expect(answer.status).toBe('error');
    expect(answer.messageRaw).toBeNull();
  });

  it('stream: partial tokens, then a last chunk with execution_error llm_timeout', async () => {
    const u = testAuthHeaders({ id: 'patient2', username: 'patient2', projects: ['demo'] });
    llm.script({ chunks: ['early ', 'late'], delayMs: 2000 });
    const res = await http(`${slow.url}/v1/assistants/${slowAssistant}/model`, { method: 'POST', headers: { ...u, ...json }, body: '{"text":"hi","stream":true}' });
    const chunks = parseSse(await res.text()).map((e) => JSON.parse(e.data));
    expect(chunks.filter((c) => !c.last).map((c) => c.generated_chunk).join('')).toBe('early ');
    expect(chunks.at(-1)).toMatchObject({ last: true, success: false, execution_error: 'llm_timeout' });
    const answer = await storedAnswer(u);
    expect(answer.status).toBe('error');
  });
});
