/**
 * Sub-assistants: the save-time rules (no self reference, unknown ids, other projects, nesting,
 * unreadable ones) and the runtime — the orchestrator's model delegates through
 * `transfer_to_<name>`, the sub-assistant runs its own turn (its MCP tools, with the propagated
 * headers) and shows as a nested Agent thought; built-in subagents; version pins; the delegation
 * depth bound; and unsaved ("virtual") assistants.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, testAuthHeaders, tempDir, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, type RecordedRequest, type TestLlmServer } from '../../test/llm-server.js';
import { parseSse } from '../../test/sse.js';
import { startRecordingHttpServer, type McpHttpServer } from '../../test/mcp-servers/recording.mjs';

const alice = testAuthHeaders({ id: 'alice', username: 'alice', name: 'Alice', projects: ['demo'] });
const bob = testAuthHeaders({ id: 'bob', username: 'bob', name: 'Bob', projects: ['other'] });

const systemOf = (r: RecordedRequest) => String(r.messages.find((m) => m.role === 'system')?.content ?? '');
const lastUser = (r: RecordedRequest) => String([...r.messages].reverse().find((m) => m.role === 'user')?.content ?? '');
const toolNames = (r: RecordedRequest) => r.tools.map((t) => t.function.name);

describe.each(DB_KINDS)('sub-assistants and virtual assistants (%s)', (db) => {
  let llm: TestLlmServer;
  let mcp: McpHttpServer;
  let p: TestPlatform;
  const tmp = tempDir('codemie-assistant-deleg-');

  beforeAll(async () => {
    llm = await startTestLlmServer();
    mcp = await startRecordingHttpServer();
    p = await startTestPlatform({ db, testAuth: true, env: { ...writeTestModelsFile(llm, tmp.dir).env, CODEMIE_ASSISTANT_MAX_DELEGATION_DEPTH: '1' } });
  });
  afterAll(async () => {
    await p.stop();
    await llm.close();
    await mcp.close();
    tmp.cleanup();
  });
  beforeEach(() => llm.reset());

  const req = (method: string, url: string, headers: Record<string, string>, payload?: unknown, extra: Record<string, string> = {}) =>
    p.app.inject({ method: method as 'GET', url, headers: { ...headers, ...extra }, ...(payload !== undefined ? { payload: payload as object } : {}) });
  const create = async (headers: Record<string, string>, body: Record<string, unknown>) => {
    const r = await req('POST', '/v1/assistants', headers, { llm_model_type: 'test-model', ...body });
    expect(r.statusCode, r.body).toBe(200);
    return r.json().assistantId as string;
  };

  it('save rules: self reference, unknown id, another project, nesting both ways, unreadable sub-assistant', async () => {
    const a = await create(alice, { name: 'Rules parent', system_prompt: 'p' });
    const self = await req('PUT', `/v1/assistants/${a}`, alice, { assistant_ids: [a] });
    expect(self.statusCode).toBe(400);
    expect(self.json().error).toMatchObject({
      message: 'Failed to update assistant',
      details: 'An error occurred while trying to update the assistant: Circular reference detected: An assistant cannot include itself as an inner assistant',
    });
    const unknown = await req('POST', '/v1/assistants', alice, { name: 'x', assistant_ids: ['nope'] });
    expect(unknown.json().error.details).toBe(
      'An error occurred while trying to save the assistant: Invalid reference: Assistant with ID "nope" does not exist in the system',
    );
    const foreign = await create(testAuthHeaders({ id: 'alice', username: 'alice', name: 'Alice', projects: ['demo', 'team'] }), {
      name: 'Team helper',
      project: 'team',
      system_prompt: 's',
    });
    const mismatch = await req('POST', '/v1/assistants', alice, { name: 'x', project: 'demo', assistant_ids: [foreign] });
    expect(mismatch.json().error.details).toBe(
      "An error occurred while trying to save the assistant: Sub-assistant 'Team helper' (project: 'team') is associated with a different project. However, the expected project for the assistant 'x' must be 'demo'. Tip: Publish 'Team helper' to marketplace to use it across projects.",
    );
    const leaf = await create(alice, { name: 'Leaf', system_prompt: 'l' });
    const middle = await create(alice, { name: 'Middle', system_prompt: 'm', assistant_ids: [leaf] });
    const nested = await req('POST', '/v1/assistants', alice, { name: 'Top', assistant_ids: [middle] });
    expect(nested.json().error.details).toBe(
      "An error occurred while trying to save the assistant: Nested assistants aren't supported. Assistant 'Middle' can't have its own sub-assistants",
    );
    // The other way round: a sub-assistant cannot become an orchestrator.
    const other = await create(alice, { name: 'Other leaf', system_prompt: 'o' });
    const promote = await req('PUT', `/v1/assistants/${leaf}`, alice, { assistant_ids: [other] });
    expect(promote.json().error.details).toBe(
      "An error occurred while trying to update the assistant: Nested assistants aren't supported. Assistant 'Leaf' is a sub-assistant of 'Middle' and can't have its own sub-assistants",
    );
    const hidden = await create(testAuthHeaders({ id: 'dave', username: 'dave', projects: ['demo'] }), { name: 'Hidden', system_prompt: 'h', shared: false });
    const unreadable = await req('POST', '/v1/assistants', alice, { name: 'x', assistant_ids: [hidden] });
    expect(unreadable.statusCode).toBe(400);
    expect(unreadable.json().error.details).toContain("Access denied: you do not have the necessary permissions to use assistant 'Hidden'");
  });

  it('a delegation is a nested Agent thought: the sub-assistant runs its own turn, its MCP tool gets the propagated headers', async () => {
    const sub = await create(alice, {
      name: 'Research Helper',
      description: 'finds things',
      system_prompt: 'You are the research helper.',
      mcp_servers: [{ name: 'rec', config: { url: mcp.url, type: 'streamable-http' } }],
    });
    const main = await create(alice, { name: 'Orchestrator', system_prompt: 'You orchestrate.', assistant_ids: [sub] });
    llm.script(
      (r) =>
        systemOf(r).includes('orchestrate') && !r.messages.some((m) => m.role === 'tool')
          ? { toolCalls: [{ id: 'c1', name: 'transfer_to_research_helper', arguments: { task: 'look it up' } }] }
          : undefined,
      (r) =>
        systemOf(r).includes('research helper') && !r.messages.some((m) => m.role === 'tool')
          ? { toolCalls: [{ id: 'c2', name: 'whoami', arguments: {} }] }
          : undefined,
      (r) => (systemOf(r).includes('research helper') ? { text: 'helper found it' } : undefined),
      (r) => (systemOf(r).includes('orchestrate') ? { text: 'final from the orchestrator' } : undefined),
    );
    const res = await req(
      'POST',
      `/v1/assistants/${main}/model`,
      alice,
      { text: 'go', propagate_headers: true, save_history: false },
      { 'x-tenant-id': 'tenant-7' },
    );
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.generated).toBe('final from the orchestrator');
    const first = llm.chatRequests()[0]!;
    expect(toolNames(first)).toEqual(['transfer_to_research_helper']);
    expect(first.tools[0]!.function.description).toBe('Sub-assistant: finds things');
    const subReq = llm.chatRequests().find((r) => systemOf(r).includes('research helper'))!;
    expect(lastUser(subReq)).toBe('look it up');
    // The delegation's result went back to the orchestrator as the tool result.
    const last = llm.chatRequests().at(-1)!;
    expect(last.messages.find((m) => m.role === 'tool')?.content).toBe('helper found it');
    // Thoughts: one Agent thought named after the sub-assistant, with its tool call nested.
    const agent = body.thoughts.find((t: { author_type: string }) => t.author_type === 'Agent');
    expect(agent).toMatchObject({
      author_name: 'Research Helper',
      message: 'helper found it',
      input_text: JSON.stringify({ task: 'look it up' }),
      error: false,
    });
    expect(agent.children).toHaveLength(1);
    expect(agent.children[0]).toMatchObject({ author_type: 'Tool', author_name: 'Whoami', parent_id: agent.id });
    // The propagated header reached the sub-assistant's MCP server.
    const call = mcp.requests.filter((r) => r.rpcMethod === 'tools/call').at(-1)!;
    expect(call.headers['x-tenant-id']).toBe('tenant-7');
    expect(body.tokensUsed).toBeGreaterThan(first.messages.length);
  });

  it('streams the delegation as thoughts with parent ids; version pins; depth bound; built-in subagent', async () => {
    const sub = await create(alice, { name: 'Writer', system_prompt: 'You are the writer v1.' });
    await req('PUT', `/v1/assistants/${sub}`, alice, { system_prompt: 'You are the writer v2.' });
    const main = await create(alice, {
      name: 'Boss',
      system_prompt: 'You are the boss.',
      assistant_ids: [sub],
      enabled_builtin_subagents: ['GENERAL_PURPOSE_SUBAGENT'],
    });
    llm.script(
      (r) =>
        systemOf(r).includes('boss') && !r.messages.some((m) => m.role === 'tool')
          ? { toolCalls: [{ id: 'w1', name: 'transfer_to_writer', arguments: { task: 'write' } }] }
          : undefined,
      (r) => (systemOf(r).includes('writer') ? { text: 'written' } : undefined),
      (r) => (systemOf(r).includes('boss') ? { text: 'boss done' } : undefined),
    );
    const res = await req('POST', `/v1/assistants/${main}/model`, alice, {
      text: 'go',
      stream: true,
      save_history: false,
      sub_assistants_versions: { [sub]: 1 },
    });
    const chunks = parseSse(res.body).map((e) => JSON.parse(e.data));
    expect(chunks.at(-1)).toMatchObject({ last: true, generated: 'boss done' });
    const agentChunks = chunks.filter((c) => c.thought?.author_type === 'Agent');
    expect(agentChunks[0].thought).toMatchObject({ author_name: 'Writer', in_progress: true, parent_id: null });
    expect(agentChunks.some((c) => c.thought.message === 'written' && c.thought.in_progress)).toBe(true);
    expect(agentChunks.at(-1).thought.in_progress).toBe(false);
    // The boss sees both delegations; the writer ran version 1 and, at depth 1, has none of its own.
    const bossReq = llm.chatRequests()[0]!;
    expect(toolNames(bossReq)).toEqual(['transfer_to_writer', 'transfer_to___builtin__general_purpose_subagent']);
    expect(bossReq.tools[1]!.function.description).toBe('General Purpose');
    const writerReq = llm.chatRequests().find((r) => systemOf(r).includes('writer'))!;
    expect(systemOf(writerReq)).toBe('You are the writer v1.');
    expect(writerReq.tools).toEqual([]);

    llm.reset();
    llm.script((r) =>
      systemOf(r).includes('boss') && !r.messages.some((m) => m.role === 'tool')
        ? { toolCalls: [{ id: 'g1', name: 'transfer_to___builtin__general_purpose_subagent', arguments: { task: 'summarise' } }] }
        : undefined,
    );
    const gp = await req('POST', `/v1/assistants/${main}/model`, alice, { text: 'go', save_history: false });
    expect(gp.statusCode).toBe(200);
    const gpReq = llm.chatRequests()[1]!;
    expect(systemOf(gpReq)).toContain('general-purpose helper');
    expect(lastUser(gpReq)).toBe('summarise');
    expect(gp.json().thoughts.find((t: { author_type: string }) => t.author_type === 'Agent')).toMatchObject({
      author_name: 'General Purpose',
      message: 'Echo: summarise',
    });
  });

  it('unreadable sub-assistants are skipped at run time unless the parent is published', async () => {
    const sub = await create(alice, { name: 'Secret helper', system_prompt: 's', shared: false });
    const main = await create(alice, { name: 'Shared boss', system_prompt: 'b', shared: true, assistant_ids: [sub] });
    await p.services.assistants.assistants.save({ ...(await p.services.assistants.assistants.repo.get(main))!, is_global: true, categories: ['support'] });
    await req('POST', `/v1/assistants/${main}/model`, bob, { text: 'hi', save_history: false });
    expect(toolNames(llm.chatRequests().at(-1)!)).toEqual(['transfer_to_secret_helper']);
    await p.services.assistants.assistants.save({ ...(await p.services.assistants.assistants.repo.get(main))!, is_global: false });
    const carol = testAuthHeaders({ id: 'carol', username: 'carol', projects: ['demo'] });
    await req('POST', `/v1/assistants/${main}/model`, carol, { text: 'hi', save_history: false });
    expect(llm.chatRequests().at(-1)!.tools).toEqual([]);
  });

  it('POST /assistants/virtual/model runs an inline definition; nothing is stored', async () => {
    const before = (await req('GET', '/v1/conversations', alice)).json().length;
    const res = await req('POST', '/v1/assistants/virtual/model', alice, {
      system_prompt: 'You are virtual for {{ current_user }}.',
      llm_model_type: 'test-model',
      text: 'hi virtual',
      conversation_id: 'f2a9c2b4-0000-4000-8000-000000000001',
      save_history: true,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().generated).toBe('Echo: hi virtual');
    expect(systemOf(llm.chatRequests().at(-1)!)).toBe('You are virtual for Alice.');
    expect((await req('GET', '/v1/conversations', alice)).json().length).toBe(before);
    const stream = await req('POST', '/v1/assistants/virtual/model', alice, { system_prompt: 'V', text: 'streamed', stream: true });
    expect(
      parseSse(stream.body)
        .map((e) => JSON.parse(e.data))
        .at(-1),
    ).toMatchObject({ last: true, generated: 'Echo: streamed' });
    expect((await req('POST', '/v1/assistants/virtual/model', alice, { system_prompt: 'V' })).statusCode).toBe(422);
    expect((await req('POST', '/v1/assistants/virtual/model', alice, { text: 'x', temperature: 5 })).statusCode).toBe(422);
    // A definition naming a datasource that does not exist is the caller's error (a saved assistant's deleted one is the reference's 500).
    const missing = await req('POST', '/v1/assistants/virtual/model', alice, {
      system_prompt: 'V',
      text: 'x',
      context: [{ context_type: 'code', name: 'nowhere' }],
    });
    expect(missing.statusCode, missing.body).toBe(400);
    expect(missing.json().error).toMatchObject({ message: 'Assistant Error', details: expect.stringContaining('Datasource name: **nowhere**') });
  });
});
