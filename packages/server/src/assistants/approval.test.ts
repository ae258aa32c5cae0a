/**
 * Tool approval (`tool_permissions`): a tool call that needs the user's approval pauses the call
 * (nothing runs, the paused turn is stored), and `POST /assistants/{id}/model/tool-call/resume`
 * runs ("allow") or refuses ("deny") it and continues the turn, streaming like /model.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { DB_KINDS, startTestPlatform, testAuthHeaders, tempDir, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, type RecordedRequest, type TestLlmServer } from '../../test/llm-server.js';
import { parseSse } from '../../test/sse.js';
import { startMcpHttpServer, type McpHttpServer } from '../../test/mcp-servers/recording.mjs';

const alice = testAuthHeaders({ id: 'alice', username: 'alice', name: 'Alice', projects: ['demo'] });
const bob = testAuthHeaders({ id: 'bob', username: 'bob', name: 'Bob', projects: ['demo'] });

const hasToolResult = (r: RecordedRequest) => r.messages.some((m) => m.role === 'tool');
const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });

describe.each(DB_KINDS)('tool approval and resume (%s)', (db) => {
  let llm: TestLlmServer;
  let mcp: McpHttpServer;
  let p: TestPlatform;
  const tmp = tempDir('codemie-assistant-approval-');

  beforeAll(async () => {
    llm = await startTestLlmServer();
    mcp = await startMcpHttpServer(() => {
      const s = new McpServer({ name: 'approvals', version: '1.0.0' });
      s.registerTool('write_note', { description: 'Writes a note', inputSchema: { note: z.string() } }, async ({ note }) => text(`written: ${note}`));
      s.registerTool('read_note', { description: 'Reads the note', annotations: { readOnlyHint: true } }, async () => text('the note'));
      return s;
    });
    p = await startTestPlatform({ db, testAuth: true, env: writeTestModelsFile(llm, tmp.dir).env });
  });
  afterAll(async () => {
    await p.stop();
    await llm.close();
    await mcp.close();
    tmp.cleanup();
  });
  beforeEach(() => llm.reset());

  const req = (method: string, url: string, headers: Record<string, string>, payload?: unknown) =>
    p.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
  const create = async (policy: string) => {
    const r = await req('POST', '/v1/assistants', alice, {
      name: `Careful ${policy}`,
      system_prompt: 'You take notes.',
      llm_model_type: 'test-model',
      shared: true,
      mcp_servers: [{ name: 'notes', config: { url: mcp.url, type: 'streamable-http' } }],
      tool_permissions: { tool_call_policy: policy },
    });
    expect(r.statusCode, r.body).toBe(200);
    return r.json().assistantId as string;
  };
  const toolCalls = () => mcp.requests.filter((r) => r.rpcMethod === 'tools/call').length;
  const scriptWrite = (final: string) =>
    llm.script(
      (r) => (!hasToolResult(r) ? { toolCalls: [{ id: 'w1', name: 'write_note', arguments: { note: 'buy milk' } }] } : undefined),
      (r) => (hasToolResult(r) ? { text: final } : undefined),
    );

  it('ask_for_approval: the call pauses before the tool; "allow" runs it and continues; the turn is stored once', async () => {
    const id = await create('ask_for_approval');
    scriptWrite('noted after approval');
    const before = toolCalls();
    const conv = 'c0ffee00-0000-4000-8000-000000000001';
    const paused = await req('POST', `/v1/assistants/${id}/model`, alice, { text: 'remember milk', conversation_id: conv });
    expect(paused.statusCode, paused.body).toBe(200);
    const body = paused.json();
    expect(body.success).toBe(true);
    expect(body.generated).toBe('The assistant wants to call \'write_note\' and is waiting for your approval. Resume with action "allow" or "deny".');
    expect(body.interactiveRequest).toMatchObject({
      type: 'tool_call_approval',
      assistant_id: id,
      conversation_id: conv,
      tool_calls: [{ id: 'w1', name: 'write_note', arguments: { note: 'buy milk' } }],
      actions: ['allow', 'deny'],
    });
    expect(toolCalls()).toBe(before); // nothing ran
    expect((await req('GET', `/v1/conversations/${conv}`, alice)).statusCode).toBe(404); // stored only when the turn ends

    const other = await req('POST', `/v1/assistants/${id}/model/tool-call/resume`, bob, { conversation_id: conv, action: 'allow', stream: false });
    expect(other.statusCode).toBe(403);
    const resumed = await req('POST', `/v1/assistants/${id}/model/tool-call/resume`, alice, { conversation_id: conv, action: 'allow', stream: false });
    expect(resumed.statusCode, resumed.body).toBe(200);
    const r = resumed.json();
    expect(r.generated).toBe('noted after approval');
    expect(r.interactiveRequest).toBeNull();
    expect(toolCalls()).toBe(before + 1);
    const continued = llm.chatRequests().at(-1)!;
    expect(continued.messages.find((m) => m.role === 'tool')?.content).toBe('written: buy milk');
    expect(continued.messages.find((m) => m.role === 'assistant')?.tool_calls?.[0]?.function?.name).toBe('write_note');
    const tool = r.thoughts.find((t: { author_name: string }) => t.author_name === 'Write Note');
    expect(tool).toMatchObject({ message: 'written: buy milk', error: false, metadata: expect.objectContaining({ approval: 'approved' }) });
    const stored = (await req('GET', `/v1/conversations/${conv}`, alice)).json();
    expect(stored.history.map((h: { role: string; message: string }) => [h.role, h.message])).toEqual([
      ['User', 'remember milk'],
      ['Assistant', 'noted after approval'],
    ]);
    const twice = await req('POST', `/v1/assistants/${id}/model/tool-call/resume`, alice, { conversation_id: conv, action: 'allow', stream: false });
    expect(twice.statusCode).toBe(404);
    expect(twice.json().error.message).toBe('No pending tool call');
    expect((await req('POST', `/v1/assistants/${id}/model/tool-call/resume`, alice, { conversation_id: conv, action: 'maybe' })).statusCode).toBe(422);
    expect((await req('POST', '/v1/assistants/missing/model/tool-call/resume', alice, { conversation_id: conv, action: 'allow' })).statusCode).toBe(404);
  });

  it('streams: the paused stream ends with interactive_request; "deny" streams the continued turn and the model learns the refusal', async () => {
    const id = await create('ask_for_approval');
    scriptWrite('ok, not writing');
    const conv = 'c0ffee00-0000-4000-8000-000000000002';
    const before = toolCalls();
    const paused = await req('POST', `/v1/assistants/${id}/model`, alice, { text: 'remember milk', conversation_id: conv, stream: true });
    const chunks = parseSse(paused.body).map((e) => JSON.parse(e.data));
    const last = chunks.at(-1);
    expect(last).toMatchObject({ last: true, interactive_request: { type: 'tool_call_approval', conversation_id: conv } });
    expect(chunks.some((c) => c.thought?.author_name === 'Write Note' && c.thought.in_progress)).toBe(true);
    const resumed = await req('POST', `/v1/assistants/${id}/model/tool-call/resume`, alice, { conversation_id: conv, action: 'deny' });
    expect(resumed.headers['content-type']).toMatch(/text\/event-stream/);
    const rchunks = parseSse(resumed.body).map((e) => JSON.parse(e.data));
    expect(rchunks.at(-1)).toMatchObject({ last: true, generated: 'ok, not writing', interactive_request: null });
    expect(rchunks.some((c) => c.thought?.author_name === 'Write Note' && c.thought.in_progress === false && c.thought.message.includes('rejected'))).toBe(true);
    expect(toolCalls()).toBe(before);
    expect(llm.chatRequests().at(-1)!.messages.find((m) => m.role === 'tool')?.content).toContain('The user rejected this tool call');
  });

  it('approve_for_me runs read-only tools without asking and asks for the rest; auto_approve never asks; a call may override when allowed', async () => {
    const id = await create('approve_for_me');
    llm.script((r) => (!hasToolResult(r) ? { toolCalls: [{ id: 'r1', name: 'read_note', arguments: {} }] } : undefined), (r) => (hasToolResult(r) ? { text: 'read it' } : undefined));
    const read = await req('POST', `/v1/assistants/${id}/model`, alice, { text: 'read', save_history: false });
    expect(read.json()).toMatchObject({ generated: 'read it', interactiveRequest: null });
    scriptWrite('unused');
    const write = await req('POST', `/v1/assistants/${id}/model`, alice, { text: 'write', conversation_id: 'c0ffee00-0000-4000-8000-000000000003' });
    expect(write.json().interactiveRequest.tool_calls[0].name).toBe('write_note');

    const auto = await create('auto_approve');
    llm.reset(); // the paused call left its second answer unused
    scriptWrite('written at once');
    expect((await req('POST', `/v1/assistants/${auto}/model`, alice, { text: 'write', save_history: false })).json().generated).toBe('written at once');
    // allow_override (default true): the caller asks for approval although the assistant would not.
    scriptWrite('unused');
    const overridden = await req('POST', `/v1/assistants/${auto}/model`, alice, {
      text: 'write',
      conversation_id: 'c0ffee00-0000-4000-8000-000000000004',
      tool_permissions: { tool_call_policy: 'ask_for_approval' },
    });
    expect(overridden.json().interactiveRequest).not.toBeNull();
  });
});
