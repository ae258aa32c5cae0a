/** Assistant CRUD on SQLite and PostgreSQL: shapes, slugs, paging, filters, scopes, ACL. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, testAuthHeaders, tempDir, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../test/llm-server.js';

const alice = testAuthHeaders({ id: 'alice', username: 'alice', name: 'Alice', projects: ['demo', 'team'] });
const bob = testAuthHeaders({ id: 'bob', username: 'bob', name: 'Bob', projects: ['demo'] });
const teamAdmin = testAuthHeaders({ id: 'tadmin', username: 'tadmin', projects: [], adminProjects: ['team'] });
const admin = testAuthHeaders({ id: 'root', username: 'root', roles: ['admin'], projects: [] });

describe.each(DB_KINDS)('assistants CRUD (%s)', (db) => {
  let llm: TestLlmServer;
  let p: TestPlatform;
  const tmp = tempDir('codemie-assistant-crud-');

  beforeAll(async () => {
    llm = await startTestLlmServer();
    p = await startTestPlatform({ db, testAuth: true, env: writeTestModelsFile(llm, tmp.dir).env });
  });
  afterAll(async () => {
    await p.stop();
    await llm.close();
    tmp.cleanup();
  });

  const req = (method: string, url: string, headers: Record<string, string>, payload?: unknown) =>
    p.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

  it('create → 200 with the reference message; detail in the snake_case shape; update only what is sent; delete', async () => {
    const res = await req('POST', '/v1/assistants', alice, {
      name: 'Code Reviewer',
      description: 'Reviews code',
      system_prompt: 'Review carefully.',
      llm_model_type: 'test-model',
      temperature: 0.2,
      conversation_starters: ['Review this'],
      mcp_servers: [{ name: 'gh', config: { url: 'http://127.0.0.1:9/mcp' } }],
      icon_url: 'https://x/icon.png',
    });
    expect(res.statusCode).toBe(200);
    const created = res.json();
    expect(created).toEqual({ message: 'Specified assistant saved', assistantId: expect.stringMatching(/^[0-9a-f-]{36}$/), validation: null });
    const id = created.assistantId;

    const detail = (await req('GET', `/v1/assistants/id/${id}`, alice)).json();
    expect(detail).toMatchObject({
      id,
      name: 'Code Reviewer',
      description: 'Reviews code',
      system_prompt: 'Review carefully.',
      llm_model_type: 'test-model',
      project: 'demo',
      shared: true,
      slug: 'code-reviewer',
      temperature: 0.2,
      top_p: null,
      conversation_starters: ['Review this'],
      icon_url: 'https://x/icon.png',
      created_by: { id: 'alice', username: 'alice', name: 'Alice' },
      user_abilities: ['read', 'write', 'delete'],
      toolkits: [],
      context: [],
    });
    expect(detail.mcp_servers[0]).toMatchObject({ name: 'gh' });
    expect(detail.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(detail.update_date).toMatch(/Z$/);

    const upd = await req('PUT', `/v1/assistants/${id}`, alice, { description: 'Reviews code well' });
    expect(upd.statusCode).toBe(200);
    expect(upd.json()).toEqual({ message: 'Specified assistant updated', validation: null });
    const after = (await req('GET', `/v1/assistants/id/${id}`, alice)).json();
    expect(after).toMatchObject({ description: 'Reviews code well', name: 'Code Reviewer', system_prompt: 'Review carefully.', temperature: 0.2, conversation_starters: ['Review this'] });

    // bob (same project, shared) can read but not change it.
    expect((await req('GET', `/v1/assistants/id/${id}`, bob)).json().user_abilities).toEqual(['read']);
    const denied = await req('PUT', `/v1/assistants/${id}`, bob, { name: 'Mine' });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error).toMatchObject({ message: 'Access denied', details: 'You do not have the necessary permissions to update this entity.' });
    expect((await req('DELETE', `/v1/assistants/${id}`, bob)).statusCode).toBe(403);

    const del = await req('DELETE', `/v1/assistants/${id}`, alice);
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ message: 'Specified assistant removed' });
    const gone = await req('GET', `/v1/assistants/id/${id}`, alice);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.message).toBe('Assistant not found');
    expect((await req('PUT', `/v1/assistants/${id}`, alice, { name: 'x' })).statusCode).toBe(404);
    expect((await req('DELETE', `/v1/assistants/${id}`, alice)).statusCode).toBe(404);
  });

  it('slugs: auto from the name, `_` + 15 letters when taken, explicit duplicate → 400 "Failed to save assistant", lookup by slug (?project)', async () => {
    const a = (await req('POST', '/v1/assistants', alice, { name: 'Slug Bot', system_prompt: 'x' })).json().assistantId;
    const b = (await req('POST', '/v1/assistants', alice, { name: 'Slug Bot', system_prompt: 'x' })).json().assistantId;
    expect((await req('GET', `/v1/assistants/id/${b}`, alice)).json().slug).toMatch(/^slug-bot_[a-z]{15}$/);
    const dup = await req('POST', '/v1/assistants', alice, { name: 'Other', slug: 'slug-bot' });
    expect(dup.statusCode).toBe(400);
    expect(dup.json().error).toEqual({
      message: 'Failed to save assistant',
      details:
        "An error occurred while trying to save the assistant: Slug 'slug-bot' is already used by another assistant in this project. Slugs must be unique within a project — please choose a different slug.",
      help: 'Please check the assistant data for any invalid fields or constraints. If you continue to experience issues, please contact support with the error details.',
    });
    // Same slug in another project is fine.
    expect((await req('POST', '/v1/assistants', alice, { name: 'Other', slug: 'slug-bot', project: 'team' })).statusCode).toBe(200);
    const bySlug = await req('GET', '/v1/assistants/slug/slug-bot?project=demo', alice);
    expect(bySlug.statusCode).toBe(200);
    expect(bySlug.json().id).toBe(a);
    expect((await req('GET', '/v1/assistants/slug/slug-bot?project=team', alice)).json().project).toBe('team');
    expect((await req('GET', '/v1/assistants/slug/no-such-slug', alice)).statusCode).toBe(404);
  });

  it('project must be accessible (403); unknown llm_model_type → 400 naming the models; 422 for a bad body; 401 without a token', async () => {
    const forbidden = await req('POST', '/v1/assistants', bob, { name: 'X', project: 'team' });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.details).toBe("You do not have permission to access the project 'team'.");
    const model = await req('POST', '/v1/assistants', bob, { name: 'X', llm_model_type: 'gpt-nope' });
    expect(model.statusCode).toBe(400);
    expect(JSON.stringify(model.json().error)).toContain('test-model');
    expect((await req('POST', '/v1/assistants', bob, { description: 'no name' })).statusCode).toBe(422);
    expect((await req('POST', '/v1/assistants', bob, { name: 'X', temperature: 'hot' })).statusCode).toBe(422);
    expect((await p.app.inject({ method: 'GET', url: '/v1/assistants' })).statusCode).toBe(401);
  });

  it('list: 0-based paging (per_page 12), filters JSON, invalid filters → 400, visibility and scopes, minimal_response', async () => {
    const u = testAuthHeaders({ id: 'lister', username: 'lister', projects: ['paging'] });
    for (let i = 0; i < 14; i++) await req('POST', '/v1/assistants', u, { name: `Pager ${String(i).padStart(2, '0')}`, project: 'paging', shared: i % 2 === 0 });
    const first = (await req('GET', `/v1/assistants?filters=${encodeURIComponent(JSON.stringify({ project: 'paging' }))}`, u)).json();
    expect(first.pagination).toEqual({ page: 0, per_page: 12, total: 14, pages: 2 });
    expect(first.data).toHaveLength(12);
    const second = (await req('GET', `/v1/assistants?page=1&filters=${encodeURIComponent(JSON.stringify({ project: 'paging' }))}`, u)).json();
    expect(second.data).toHaveLength(2);
    const search = (await req('GET', `/v1/assistants?filters=${encodeURIComponent(JSON.stringify({ search: 'pager 03' }))}`, u)).json();
    expect(search.data.map((a: { name: string }) => a.name)).toEqual(['Pager 03']);
    const shared = (await req('GET', `/v1/assistants?per_page=50&filters=${encodeURIComponent(JSON.stringify({ project: 'paging', shared: false }))}`, u)).json();
    expect(shared.pagination.total).toBe(7);
    const bad = await req('GET', '/v1/assistants?filters={not json', u);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toBe('Invalid filters');

    // Another member of 'paging' sees only the shared ones; an outsider none; the project admin and admin all.
    const member = testAuthHeaders({ id: 'member', username: 'member', projects: ['paging'] });
    expect((await req('GET', `/v1/assistants?filters=${encodeURIComponent('{"project":"paging"}')}`, member)).json().pagination.total).toBe(7);
    expect((await req('GET', `/v1/assistants?filters=${encodeURIComponent('{"project":"paging"}')}`, bob)).json().pagination.total).toBe(0);
    const pAdmin = testAuthHeaders({ id: 'padmin', username: 'padmin', adminProjects: ['paging'], projects: [] });
    expect((await req('GET', `/v1/assistants?filters=${encodeURIComponent('{"project":"paging"}')}`, pAdmin)).json().pagination.total).toBe(14);
    expect((await req('GET', `/v1/assistants?filters=${encodeURIComponent('{"project":"paging"}')}`, admin)).json().pagination.total).toBe(14);
    expect((await req('GET', `/v1/assistants?scope=created_by_user&filters=${encodeURIComponent('{"project":"paging"}')}`, member)).json().pagination.total).toBe(0);

    const minimal = (await req('GET', `/v1/assistants?minimal_response=true&filters=${encodeURIComponent('{"project":"paging"}')}`, u)).json();
    expect(Object.keys(minimal.data[0]).sort()).toEqual(
      ['categories', 'created_by', 'description', 'icon_url', 'id', 'is_global', 'name', 'origin', 'project', 'shared', 'slug', 'type', 'unique_dislikes_count', 'unique_likes_count', 'unique_users_count', 'user_abilities'].sort(),
    );
  });

  it('non-shared assistants: only the owner, project admins and admins read them (others 403)', async () => {
    const id = (await req('POST', '/v1/assistants', alice, { name: 'Private team', project: 'team', shared: false })).json().assistantId;
    const other = testAuthHeaders({ id: 'member2', username: 'member2', projects: ['team'] });
    const denied = await req('GET', `/v1/assistants/id/${id}`, other);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.details).toBe('You do not have the necessary permissions to view this entity.');
    expect((await req('GET', `/v1/assistants/id/${id}`, teamAdmin)).json().user_abilities).toEqual(['read', 'write', 'delete']);
    expect((await req('GET', `/v1/assistants/id/${id}`, admin)).statusCode).toBe(200);
    expect((await req('PUT', `/v1/assistants/${id}`, teamAdmin, { shared: true })).statusCode).toBe(200);
    expect((await req('GET', `/v1/assistants/id/${id}`, other)).statusCode).toBe(200);
  });

  it('a call stores its turn and a continuation sends it back to the model', async () => {
    const id = (await req('POST', '/v1/assistants', alice, { name: 'Chat', system_prompt: 'sys', llm_model_type: 'test-model' })).json().assistantId;
    llm.reset();
    const first = await req('POST', `/v1/assistants/${id}/model`, alice, { text: 'remember 42' });
    expect(first.statusCode).toBe(200);
    const conv = (await req('GET', '/v1/conversations', alice)).json().find((c: { initial_assistant_id: string }) => c.initial_assistant_id === id);
    const second = await req('POST', `/v1/assistants/${id}/model`, alice, { text: 'what number?', conversation_id: conv.id });
    expect(second.statusCode).toBe(200);
    expect(llm.chatRequests()[1].messages).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'remember 42' },
      { role: 'assistant', content: 'Echo: remember 42' },
      { role: 'user', content: 'what number?' },
    ]);
    expect((await req('GET', `/v1/conversations/${conv.id}`, alice)).json().history).toHaveLength(4);
  });
});
