/**
 * Assistants end to end over HTTP with real tokens and the real provider adapters against the
 * scripted test LLM server: CRUD/ACL, the guide's /model calls, streaming (SSE + NDJSON),
 * conversations, structured output, background tasks, and every error status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, tempDir, type TestPlatform } from '../../test/helpers.js';
import { authHeaders, createUser, passwordToken } from '../../test/identity-helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../test/llm-server.js';
import { parseSse } from '../../test/sse.js';

let llm: TestLlmServer;
let p: TestPlatform;
const tmp = tempDir();
let alice: Record<string, string>;
let bob: Record<string, string>;
let mallory: Record<string, string>;
let assistantId: string;

beforeAll(async () => {
  llm = await startTestLlmServer();
  const { env } = writeTestModelsFile(llm, tmp.dir);
  p = await startTestPlatform({ env: { ...env, CODEMIE_LLM_MAX_RETRIES: '0' }, listen: true });
  await createUser(p, { username: 'alice', projects: ['demo'] });
  await createUser(p, { username: 'bob', projects: ['demo'] });
  await createUser(p, { username: 'mallory', projects: ['other'] });
  alice = authHeaders(await passwordToken(p, 'alice'));
  bob = authHeaders(await passwordToken(p, 'bob'));
  mallory = authHeaders(await passwordToken(p, 'mallory'));
  const res = await p.app.inject({
    method: 'POST',
    url: '/v1/assistants',
    headers: alice,
    payload: { name: 'Helper Bot', description: 'helps', system_prompt: 'You are helpful.', llm_model_type: 'test-model', project: 'demo' },
  });
  expect(res.statusCode).toBe(200);
  expect(res.json()).toMatchObject({ message: 'Specified assistant saved', validation: null });
  assistantId = res.json().assistantId;
});
afterAll(async () => {
  await p.stop();
  await llm.close();
  tmp.cleanup();
});

const post = (url: string, headers: Record<string, string>, payload: unknown) => p.app.inject({ method: 'POST', url, headers, payload: payload as object });

describe('assistant CRUD', () => {
  it('returns the detail shape with abilities, slug and defaults', async () => {
    const res = await p.app.inject({ method: 'GET', url: `/code-assistant-api/v1/assistants/id/${assistantId}`, headers: alice });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id: assistantId,
      name: 'Helper Bot',
      description: 'helps',
      system_prompt: 'You are helpful.',
      project: 'demo',
      shared: true,
      slug: 'helper-bot',
      llm_model_type: 'test-model',
      user_abilities: ['read', 'write', 'delete'],
      created_by: { username: 'alice' },
      conversation_starters: [],
      mcp_servers: [],
    });
    const asBob = await p.app.inject({ method: 'GET', url: `/v1/assistants/id/${assistantId}`, headers: bob });
    expect(asBob.json().user_abilities).toEqual(['read']);
    const bySlug = await p.app.inject({ method: 'GET', url: '/v1/assistants/slug/helper-bot?project=demo', headers: bob });
    expect(bySlug.json().id).toBe(assistantId);
  });

  it('lists with 0-based paging and filters; invalid filters → 400', async () => {
    for (let i = 0; i < 3; i++) await post('/v1/assistants', alice, { name: `Extra ${i}`, description: '', system_prompt: 'x', project: 'demo', shared: false });
    const page = await p.app.inject({ method: 'GET', url: '/v1/assistants?page=0&per_page=2', headers: alice });
    expect(page.json().pagination).toEqual({ page: 0, per_page: 2, total: 4, pages: 2 });
    const asBob = await p.app.inject({ method: 'GET', url: '/v1/assistants', headers: bob });
    expect(asBob.json().data.map((a: { name: string }) => a.name)).toEqual(['Helper Bot']); // the others are not shared
    const filtered = await p.app.inject({ method: 'GET', url: `/v1/assistants?filters=${encodeURIComponent('{"search":"extra 1"}')}`, headers: alice });
    expect(filtered.json().data.map((a: { name: string }) => a.name)).toEqual(['Extra 1']);
    const bad = await p.app.inject({ method: 'GET', url: '/v1/assistants?filters=not-json', headers: alice });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toBe('Invalid filters');
  });

  it('updates only sent fields; ACL 403 for others; slug conflict 400; unknown model 400', async () => {
    const up = await p.app.inject({ method: 'PUT', url: `/v1/assistants/${assistantId}`, headers: alice, payload: { name: 'Helper Bot', description: 'helps more' } });
    expect(up.json()).toEqual({ message: 'Specified assistant updated', validation: null });
    const after = await p.app.inject({ method: 'GET', url: `/v1/assistants/id/${assistantId}`, headers: alice });
    expect(after.json()).toMatchObject({ description: 'helps more', system_prompt: 'You are helpful.' });
    const denied = await p.app.inject({ method: 'PUT', url: `/v1/assistants/${assistantId}`, headers: bob, payload: { name: 'x' } });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error).toMatchObject({ message: 'Access denied', details: 'You do not have the necessary permissions to update this entity.' });
    const foreign = await p.app.inject({ method: 'GET', url: `/v1/assistants/id/${assistantId}`, headers: mallory });
    expect(foreign.statusCode).toBe(403);
    const wrongProject = await post('/v1/assistants', mallory, { name: 'Sneaky', description: '', system_prompt: 'x', project: 'demo' });
    expect(wrongProject.statusCode).toBe(403);
    expect(wrongProject.json().error.details).toBe("You do not have permission to access the project 'demo'.");
    const dup = await post('/v1/assistants', alice, { name: 'Other', description: '', system_prompt: 'x', project: 'demo', slug: 'helper-bot' });
    expect(dup.statusCode).toBe(400);
    expect(dup.json().error.message).toBe('Failed to save assistant');
    const badModel = await post('/v1/assistants', alice, { name: 'M', description: '', system_prompt: 'x', project: 'demo', llm_model_type: 'gpt-99' });
    expect(badModel.statusCode).toBe(400);
    expect(badModel.json().error.details).toContain('test-model');
    const invalid = await post('/v1/assistants', alice, { description: 'no name' });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json().error.message).toContain('name');
  });

  it('deletes (owner) and then 404s', async () => {
    const created = await post('/v1/assistants', alice, { name: 'Temp', description: '', system_prompt: 'x', project: 'demo' });
    const id = created.json().assistantId;
    expect((await p.app.inject({ method: 'DELETE', url: `/v1/assistants/${id}`, headers: bob })).statusCode).toBe(403);
    const del = await p.app.inject({ method: 'DELETE', url: `/v1/assistants/${id}`, headers: alice });
    expect(del.json()).toEqual({ message: 'Specified assistant removed' });
    const gone = await p.app.inject({ method: 'GET', url: `/v1/assistants/id/${id}`, headers: alice });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.message).toBe('Assistant not found');
  });
});

describe('POST /v1/assistants/{id}/model', () => {
  it("answers the guide's {\"text\":\"hi\"} with every key of the guide's example, real usage and thoughts", async () => {
    llm.script({ text: 'Hello! How can I help?', usage: { prompt_tokens: 12, completion_tokens: 6 } });
    const res = await post(`/code-assistant-api/v1/assistants/${assistantId}/model`, alice, { text: 'hi' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    for (const k of ['generated', 'timeElapsed', 'tokensUsed', 'thoughts', 'taskId', 'success']) expect(body).toHaveProperty(k);
    expect(body.generated).toBe('Hello! How can I help?');
    expect(body.tokensUsed).toBe(18);
    expect(body.usage).toMatchObject({ input_tokens: 12, output_tokens: 6 });
    expect(body.taskId).toBeNull();
    expect(body.success).toBe(true);
    expect(body.thoughts.at(-1)).toEqual({
      id: expect.any(String),
      parent_id: null,
      metadata: {},
      in_progress: false,
      input_text: '',
      message: 'Hello! How can I help?',
      author_type: 'Tool',
      author_name: 'Codemie Thoughts',
      output_format: 'text',
      error: false,
      interrupted: false,
      aborted: false,
      children: [],
    });
    const sent = llm.chatRequests().at(-1)!;
    expect(sent.messages[0]).toMatchObject({ role: 'system', content: 'You are helpful.' });
    expect(res.headers['server-timing']).toBeDefined();
  });

  it('the /chat alias, camelCase llmModel, and unknown models → 400 naming the available ones', async () => {
    llm.script({ text: 'via chat' });
    const ok = await post(`/v1/assistants/${assistantId}/chat`, alice, { text: 'hi', llmModel: 'test-openai' });
    expect(ok.json().generated).toBe('via chat');
    expect(llm.chatRequests().at(-1)!.model).toBeDefined();
    const bad = await post(`/v1/assistants/${assistantId}/model`, alice, { text: 'hi', llmModel: 'gpt-4o' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details).toMatch(/Available models: .*test-model/);
  });

  it('401 without a token, 403 for a foreign project, 404 unknown assistant, 422 without text', async () => {
    expect((await post(`/v1/assistants/${assistantId}/model`, {}, { text: 'hi' })).statusCode).toBe(401);
    expect((await post(`/v1/assistants/${assistantId}/model`, mallory, { text: 'hi' })).statusCode).toBe(403);
    const nf = await post('/v1/assistants/nope/model', alice, { text: 'hi' });
    expect(nf.statusCode).toBe(404);
    const missing = await post(`/v1/assistants/${assistantId}/model`, alice, {});
    expect(missing.statusCode).toBe(422);
    expect(missing.json().error.message).toContain('text');
    const badSchema = await post(`/v1/assistants/${assistantId}/model`, alice, { text: 'x', output_schema: { type: 'string' } });
    expect(badSchema.statusCode).toBe(422);
    expect(badSchema.json().error.message).toBe('Wrong JSON schema for structured output');
  });

  it('provider failure → 502 envelope', async () => {
    llm.script({ status: 500, error: 'upstream exploded' }, { status: 500 }, { status: 500 }, { status: 500 });
    const res = await post(`/v1/assistants/${assistantId}/model`, alice, { text: 'hi' });
    expect(res.statusCode).toBe(502);
    expect(res.json().error.message).toBe('Assistant Error');
    llm.reset();
  });

  it('structured output returns an object matching the schema', async () => {
    llm.script({ text: '{"city":"Oslo","temp":3}' });
    const schema = { type: 'object', properties: { city: { type: 'string' }, temp: { type: 'number' } }, required: ['city', 'temp'] };
    const res = await post(`/v1/assistants/${assistantId}/model`, alice, { text: 'weather', output_schema: schema });
    expect(res.statusCode).toBe(200);
    expect(res.json().generated).toEqual({ city: 'Oslo', temp: 3 });
  });

  it('continues a conversation: the model receives the earlier turns; owner-only conversation API', async () => {
    llm.script({ text: 'Nice to meet you, Ann.' }, { text: 'Your name is Ann.' });
    const first = await post(`/v1/assistants/${assistantId}/model`, alice, { text: 'My name is Ann.', conversation_id: 'conv-ann-1' });
    expect(first.statusCode).toBe(200);
    await post(`/v1/assistants/${assistantId}/model`, alice, { text: 'What is my name?', conversationId: 'conv-ann-1' });
    const msgs = llm.chatRequests().at(-1)!.messages.map((m) => [m.role, m.content]);
    expect(msgs).toEqual([
      ['system', 'You are helpful.'],
      ['user', 'My name is Ann.'],
      ['assistant', 'Nice to meet you, Ann.'],
      ['user', 'What is my name?'],
    ]);
    const conv = await p.app.inject({ method: 'GET', url: '/v1/conversations/conv-ann-1', headers: alice });
    expect(conv.statusCode).toBe(200);
    expect(conv.json().history.map((h: { role: string; message: string; historyIndex: number }) => [h.role, h.message, h.historyIndex])).toEqual([
      ['User', 'My name is Ann.', 0],
      ['Assistant', 'Nice to meet you, Ann.', 0],
      ['User', 'What is my name?', 1],
      ['Assistant', 'Your name is Ann.', 1],
    ]);
    expect(conv.json().history[1]).toMatchObject({ responseTime: expect.any(Number), inputTokens: expect.any(Number), outputTokens: expect.any(Number) });
    expect((await p.app.inject({ method: 'GET', url: '/v1/conversations/conv-ann-1', headers: bob })).statusCode).toBe(403);
    expect((await post(`/v1/assistants/${assistantId}/model`, bob, { text: 'hijack', conversation_id: 'conv-ann-1' })).statusCode).toBe(403);
    const list = await p.app.inject({ method: 'GET', url: '/v1/conversations', headers: alice });
    expect(list.json().map((c: { id: string }) => c.id)).toContain('conv-ann-1');
    const del = await p.app.inject({ method: 'DELETE', url: '/v1/conversations/conv-ann-1', headers: alice });
    expect(del.statusCode).toBe(200);
    expect((await p.app.inject({ method: 'GET', url: '/v1/conversations/conv-ann-1', headers: alice })).statusCode).toBe(404);
  });
});

describe('streaming', () => {
  it('SSE by default: ids, deltas as thoughts, a final last:true chunk with the whole answer', async () => {
    llm.script({ chunks: ['Hel', 'lo ', 'there'] });
    const res = await fetch(`${p.url}/v1/assistants/${assistantId}/model`, {
      method: 'POST',
      headers: { ...alice, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hi', llmModel: 'test-model', stream: true }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const events = parseSse(await res.text());
    expect(events.every((e) => e.id)).toBe(true);
    const chunks = events.map((e) => JSON.parse(e.data));
    for (const c of chunks) expect(Object.keys(c)).toEqual(expect.arrayContaining(['generated_chunk', 'generated', 'thought', 'last', 'execution_error', 'time_elapsed']));
    const deltas = chunks.filter((c) => !c.last).map((c) => c.thought.message);
    expect(deltas.join('')).toBe('Hello there');
    expect(chunks.filter((c) => !c.last).every((c) => c.thought.author_name === 'Codemie Thoughts' && c.thought.in_progress)).toBe(true);
    const last = chunks.at(-1);
    expect(last).toMatchObject({ last: true, generated: 'Hello there', generated_chunk: '', success: true, execution_error: null });
  });

  it('NDJSON with Accept: application/x-ndjson', async () => {
    llm.script({ chunks: ['a', 'b'] });
    const res = await fetch(`${p.url}/v1/assistants/${assistantId}/model`, {
      method: 'POST',
      headers: { ...alice, 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ text: 'hi', stream: true }),
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ last: true, generated: 'ab' });
  });

  it('a provider error mid-stream ends the stream with execution_error and last:true', async () => {
    llm.script({ chunks: ['partial ', 'answer ', 'never'], dropConnectionAfterChunks: 2 });
    const res = await fetch(`${p.url}/v1/assistants/${assistantId}/model`, {
      method: 'POST',
      headers: { ...alice, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hi', stream: true }),
    });
    const chunks = parseSse(await res.text()).map((e) => JSON.parse(e.data));
    const last = chunks.at(-1);
    expect(last.last).toBe(true);
    expect(last.success).toBe(false);
    expect(last.execution_error).toMatch(/^llm_/);
  });

  it('a client disconnect cancels the provider call and stores the partial answer as interrupted', async () => {
    llm.script({ chunks: ['one ', 'two ', 'three ', 'four ', 'five ', 'six'], delayMs: 150 });
    const ac = new AbortController();
    const res = await fetch(`${p.url}/v1/assistants/${assistantId}/model`, {
      method: 'POST',
      headers: { ...alice, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'count', stream: true, conversation_id: 'conv-cut-1' }),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    const upstream = llm.chatRequests().at(-1)!;
    await upstream.done;
    expect(upstream.clientClosed).toBe(true);
    let conv;
    for (let i = 0; i < 50; i++) {
      conv = await p.app.inject({ method: 'GET', url: '/v1/conversations/conv-cut-1', headers: alice });
      if (conv.statusCode === 200 && conv.json().history.length === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const answer = conv!.json().history[1];
    expect(answer.status).toBe('interrupted');
    expect(answer.message).not.toContain('six');
  });
});

describe('background tasks', () => {
  it('returns a taskId at once; GET /v1/tasks/{id} reaches COMPLETED with the output', async () => {
    llm.script({ text: 'done in background', firstTokenDelayMs: 100 });
    const res = await post(`/v1/assistants/${assistantId}/model`, alice, { text: 'work', background_task: true });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ generated: 'Task is running in the background', timeElapsed: 0 });
    const taskId = res.json().taskId;
    let task;
    for (let i = 0; i < 100; i++) {
      task = (await p.app.inject({ method: 'GET', url: `/v1/tasks/${taskId}`, headers: alice })).json();
      if (task.status !== 'STARTED') break;
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(task).toMatchObject({ id: taskId, status: 'COMPLETED', final_output: 'done in background', user: { username: 'alice' } });
    // Someone else's task id answers like an unknown one (a task id reveals nothing).
    expect((await p.app.inject({ method: 'GET', url: `/v1/tasks/${taskId}`, headers: bob })).statusCode).toBe(404);
    const nf = await p.app.inject({ method: 'GET', url: '/v1/tasks/unknown', headers: alice });
    expect(nf.statusCode).toBe(404);
    expect(nf.json().error.message).toBe('Task not found');
  });
});

describe('Python SDK compatibility (codemie-sdk-python)', () => {
  it('minimal_response accepts Python booleans (True/False)', async () => {
    const minimal = await p.app.inject({ method: 'GET', url: '/v1/assistants?minimal_response=True&per_page=100', headers: alice });
    expect(minimal.statusCode).toBe(200);
    const item = minimal.json().data.find((a: { id: string }) => a.id === assistantId);
    expect(item).toMatchObject({ id: assistantId, name: 'Helper Bot' });
    expect(item).not.toHaveProperty('system_prompt');
    const full = await p.app.inject({ method: 'GET', url: '/v1/assistants?minimal_response=False&per_page=100', headers: alice });
    expect(full.json().data.find((a: { id: string }) => a.id === assistantId)).toMatchObject({ system_prompt: 'You are helpful.' });
  });

  it('POST /assistants/slug/{slug}/model calls the assistant; unknown slug → 404', async () => {
    const res = await post('/v1/assistants/slug/helper-bot/model?project=demo', bob, { text: 'by slug', save_history: false });
    expect(res.statusCode).toBe(200);
    expect(res.json().generated).toBe('Echo: by slug');
    const missing = await post('/v1/assistants/slug/no-such-bot/model', bob, { text: 'x' });
    expect(missing.statusCode).toBe(404);
    const noSuffix = await post('/v1/assistants/slug/helper-bot', bob, { text: 'x' });
    expect(noSuffix.statusCode).toBe(405); // GET-only path: wrong method, not unknown
    const outsider = await post('/v1/assistants/slug/helper-bot/model?project=demo', mallory, { text: 'x' });
    expect(outsider.statusCode).toBe(403);
  });

  it('conversation details carry every key the SDK model requires', async () => {
    const conversationId = '1d3c6f5e-9d1b-4f6e-8a57-3b0f5a2c9e11';
    expect((await post(`/v1/assistants/${assistantId}/model`, alice, { text: 'remember me', conversation_id: conversationId })).statusCode).toBe(200);
    const res = await p.app.inject({ method: 'GET', url: `/v1/conversations/${conversationId}`, headers: alice });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ final_user_mark: null, final_operator_mark: null, conversation_details: null, assistant_details: null, is_folder_migrated: true, category: null });
    expect(body.history.map((h: { role: string; fileNames: string[] }) => [h.role, h.fileNames])).toEqual([
      ['User', []],
      ['Assistant', []],
    ]);
  });
});
