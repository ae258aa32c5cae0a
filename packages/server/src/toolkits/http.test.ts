/**
 * Toolkits through HTTP: the tools API (names, schema, invoke always 200 with output or error,
 * blocked → 403), the catalog of GET /v1/assistants/tools, and an assistant with the file toolkit
 * that (scripted model) writes a file in its conversation's workspace, reads it back, and cannot
 * read outside it; the calls are tool thoughts like MCP tool calls.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, tempDir, testAuthHeaders, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../test/llm-server.js';

const alice = testAuthHeaders({ id: 'alice', username: 'alice', name: 'Alice', projects: ['demo'] });

describe.each(DB_KINDS)('toolkits over HTTP (%s)', (db) => {
  let llm: TestLlmServer;
  let p: TestPlatform;
  const tmp = tempDir('codemie-toolkits-http-');

  beforeAll(async () => {
    llm = await startTestLlmServer();
    p = await startTestPlatform({ db, testAuth: true, env: writeTestModelsFile(llm, tmp.dir).env });
  });
  afterAll(async () => {
    await p.stop();
    await llm.close();
    tmp.cleanup();
  });

  const req = (method: string, url: string, payload?: unknown) =>
    p.app.inject({ method: method as 'GET', url, headers: alice, ...(payload !== undefined ? { payload: payload as object } : {}) });

  it('GET /v1/tools lists the built-in tools; the schema gives argument and credential fields; unknown → 404', async () => {
    const names = (await req('GET', '/v1/tools')).json();
    expect(names).toEqual(
      expect.arrayContaining(['read_file_from_file_system', 'write_file_to_file_system', 'sql', 'open_api', 'open_api_spec', 'code_executor']),
    );
    expect((await req('GET', '/v1/tools/write_file_to_file_system/schema')).json()).toEqual({
      tool_name: 'write_file_to_file_system',
      creds_schema: {},
      args_schema: { file_path: { type: 'str', required: true }, text: { type: 'str', required: true } },
    });
    expect((await req('GET', '/v1/tools/sql/schema')).json().creds_schema.dialect).toEqual({ type: 'str', required: true });
    const nf = await req('GET', '/v1/tools/nope/schema');
    expect(nf.statusCode).toBe(404);
    expect(nf.json().error.message).toBe("Tool 'nope' not found");
  });

  it('POST /v1/tools/{name}/invoke: 200 with output, 200 with error, 403 for a blocked tool', async () => {
    const w = await req('POST', '/v1/tools/write_file_to_file_system/invoke', { project: 'demo', tool_args: { file_path: 'a.txt', text: 'hello' } });
    expect(w.statusCode).toBe(200);
    expect(w.json()).toEqual({ output: 'File written successfully to a.txt (5 bytes).', error: null, metadata: null });
    expect((await req('POST', '/v1/tools/read_file_from_file_system/invoke', { project: 'demo', tool_args: { file_path: 'a.txt' } })).json()).toMatchObject({
      output: 'hello',
      error: null,
    });
    const esc = await req('POST', '/v1/tools/read_file_from_file_system/invoke', { project: 'demo', tool_args: { file_path: '../../etc/passwd' } });
    expect(esc.statusCode).toBe(200);
    expect(esc.json()).toEqual({ output: null, error: "Path '../../etc/passwd' is outside the workspace", metadata: null });
    const unknown = await req('POST', '/v1/tools/nope/invoke', { project: 'demo' });
    expect(unknown.json()).toMatchObject({ output: null, error: "Tool 'nope' not found" });
    const foreign = await req('POST', '/v1/tools/read_file_from_file_system/invoke', { project: 'secret', tool_args: { file_path: 'a.txt' } });
    expect(foreign.json()).toMatchObject({ output: null, error: "You do not have permission to access the project 'secret'." });
    const sql = await req('POST', '/v1/tools/sql/invoke', {
      project: 'demo',
      tool_args: { sql_query: 'drop table x' },
      tool_creds: { dialect: 'postgres', host: '127.0.0.1' },
    });
    expect(sql.json().error).toMatch(/^Only read-only queries/);
    const blocked = await req('POST', '/v1/tools/code_executor/invoke', { project: 'demo', tool_args: { code: 'print(1)' } });
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json().error.message).toBe("Direct invocation of 'code_executor' via this endpoint is disabled.");
    const badBody = await req('POST', '/v1/tools/sql/invoke', { tool_args: {} });
    expect(badBody.statusCode).toBe(422);
  });

  it('an assistant with the file toolkit writes a file in its workspace, reads it back, and cannot read outside it', async () => {
    writeFileSync(path.join(p.config.dataDir, 'outside.txt'), 'platform secret');
    const created = await req('POST', '/v1/assistants', {
      name: 'Filer',
      system_prompt: 'You manage files.',
      llm_model_type: 'test-model',
      toolkits: [
        {
          toolkit: 'FileSystem',
          label: 'File Management',
          tools: [{ name: 'write_file_to_file_system' }, { name: 'read_file_from_file_system' }],
        },
      ],
    });
    const id = created.json().assistantId as string;
    llm.reset();
    llm.script(
      { toolCalls: [{ name: 'write_file_to_file_system', arguments: { file_path: 'report/summary.md', text: '# Summary\nAll good.' } }] },
      { toolCalls: [{ name: 'read_file_from_file_system', arguments: { file_path: 'report/summary.md' } }] },
      { toolCalls: [{ name: 'read_file_from_file_system', arguments: { file_path: '../../outside.txt' } }] },
      (r) => {
        const results = r.messages.filter((m) => m.role === 'tool').map((m) => String(m.content));
        return { text: `Read back: ${results[1]} | escape: ${results[2]}` };
      },
    );
    const res = await req('POST', `/v1/assistants/${id}/model`, { text: 'write and read a summary', stream: false, conversation_id: 'conv-files-1' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.generated).toBe("Read back: # Summary\nAll good. | escape: Path '../../outside.txt' is outside the workspace");
    expect(
      llm
        .chatRequests()[0]!
        .tools.map((t) => t.function.name)
        .sort(),
    ).toEqual(['read_file_from_file_system', 'write_file_to_file_system']);
    expect(readFileSync(path.join(p.config.dataDir, 'workspaces', 'conv-files-1', 'report', 'summary.md'), 'utf8')).toBe('# Summary\nAll good.');
    const tools = body.thoughts.filter((t: { author_name: string }) => t.author_name !== 'Codemie Thoughts');
    expect(tools).toHaveLength(3);
    expect(tools[0]).toMatchObject({
      author_type: 'Tool',
      author_name: 'Write File To File System',
      error: false,
      message: 'File written successfully to report/summary.md (19 bytes).',
    });
    expect(tools[1]).toMatchObject({ error: false, message: '# Summary\nAll good.' });
    expect(tools[2]).toMatchObject({ error: true, message: "Path '../../outside.txt' is outside the workspace" });
    expect(body.toolErrors).toEqual([expect.objectContaining({ tool_name: 'read_file_from_file_system', error_code: 'tool_execution_failed' })]);
  });
  it("a sub-assistant's toolkit tools work in a delegation, in the caller's conversation workspace", async () => {
    const sub = (
      await req('POST', '/v1/assistants', {
        name: 'File helper',
        system_prompt: 'You write files.',
        llm_model_type: 'test-model',
        toolkits: [{ toolkit: 'FileSystem', tools: [{ name: 'write_file_to_file_system' }] }],
      })
    ).json().assistantId as string;
    const boss = (await req('POST', '/v1/assistants', { name: 'Boss', system_prompt: 'Delegate.', llm_model_type: 'test-model', assistant_ids: [sub] })).json()
      .assistantId as string;
    llm.reset();
    llm.script(
      { toolCalls: [{ name: 'transfer_to_file_helper', arguments: { task: 'write hello.txt' } }] },
      (r) =>
        r.tools.some((t) => t.function.name === 'write_file_to_file_system')
          ? { toolCalls: [{ name: 'write_file_to_file_system', arguments: { file_path: 'hello.txt', text: 'hi' } }] }
          : { text: 'no tool' },
      { text: 'Written.' },
      { text: 'The helper wrote it.' },
    );
    const res = await req('POST', `/v1/assistants/${boss}/model`, { text: 'please', stream: false, conversation_id: 'conv-deleg-1' });
    expect(res.json().generated).toBe('The helper wrote it.');
    expect(llm.chatRequests()[0]!.tools.map((t) => t.function.name)).toEqual(['transfer_to_file_helper']);
    expect(readFileSync(path.join(p.config.dataDir, 'workspaces', 'conv-deleg-1', 'hello.txt'), 'utf8')).toBe('hi');
  });
});
