/**
 * Categories (/v1/assistants/categories), the marketplace (validate, publish, unpublish, with
 * sub-assistants), reactions and usage counters, and versions (list, get, compare, rollback,
 * calls of a version), on both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, testAuthHeaders, tempDir, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../test/llm-server.js';

const alice = testAuthHeaders({ id: 'alice', username: 'alice', name: 'Alice', projects: ['demo'] });
const bob = testAuthHeaders({ id: 'bob', username: 'bob', name: 'Bob', projects: ['demo'] });
const carol = testAuthHeaders({ id: 'carol', username: 'carol', name: 'Carol', projects: ['other'] });
const admin = testAuthHeaders({ id: 'root', username: 'root', roles: ['admin'], projects: [] });

describe.each(DB_KINDS)('categories, marketplace, reactions, versions (%s)', (db) => {
  let llm: TestLlmServer;
  let p: TestPlatform;
  const tmp = tempDir('codemie-assistant-market-');

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
  const create = async (headers: Record<string, string>, body: Record<string, unknown>) => {
    const r = await req('POST', '/v1/assistants', headers, { system_prompt: 'x', llm_model_type: 'test-model', ...body });
    expect(r.statusCode, r.body).toBe(200);
    return r.json().assistantId as string;
  };

  it('categories: 15 seeded (public list), admin CRUD with humanized ids, both list shapes, counts, delete guarded', async () => {
    const all = await p.app.inject({ method: 'GET', url: '/v1/assistants/categories' });
    expect(all.statusCode).toBe(200);
    expect(all.json()).toHaveLength(15);
    expect(all.json()).toContainEqual(expect.objectContaining({ id: 'engineering', name: 'Engineering' }));
    const denied = await req('POST', '/v1/assistants/categories', alice, { name: 'Nope' });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error).toEqual({
      message: 'Access denied',
      details: 'This action requires administrator or maintainer privileges.',
      help: 'If you believe you should have elevated access, please contact your system administrator or check your account settings.',
    });
    expect((await req('GET', '/v1/assistants/categories/list', alice)).statusCode).toBe(403);
    const made = await req('POST', '/v1/assistants/categories', admin, { name: 'Compat Tests & More', description: 'd' });
    expect(made.statusCode).toBe(201);
    expect(made.json()).toMatchObject({ id: 'compat_tests_more', name: 'Compat Tests & More', marketplace_count: 0, project_count: 0, marketplaceAssistantCount: 0 });
    const again = await req('POST', '/v1/assistants/categories', admin, { name: 'Compat Tests & More' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ message: 'Category already exists', details: "A category with name 'Compat Tests & More' already exists" });
    const clash = await req('POST', '/v1/assistants/categories', admin, { name: 'compat tests more' });
    expect(clash.statusCode).toBe(400);
    expect(clash.json().error.message).toBe('Cannot create category');
    const page = (await req('GET', '/v1/assistants/categories/list?page=0&per_page=100', admin)).json();
    expect(page.total).toBe(16);
    expect(page.metadata).toEqual({ page: 0, per_page: 100, total: 16, total_pages: 1 });
    expect(page.items.map((c: { id: string }) => c.id)).toContain('compat_tests_more');
    expect(page.categories).toEqual(page.items);
    expect((await req('GET', '/v1/assistants/categories/list?per_page=101', admin)).statusCode).toBe(422);

    const used = await create(alice, { name: 'Categorised', categories: ['compat_tests_more'] });
    expect((await req('GET', '/v1/assistants/categories/compat_tests_more', admin)).json()).toMatchObject({ project_count: 1, marketplace_count: 0 });
    const busy = await req('DELETE', '/v1/assistants/categories/compat_tests_more', admin);
    expect(busy.statusCode).toBe(409);
    expect(busy.json().error).toMatchObject({ message: 'Cannot delete category', details: 'Cannot delete category with 1 assigned assistants' });
    const renamed = await req('PUT', '/v1/assistants/categories/compat_tests_more', admin, { name: 'Compat renamed' });
    expect(renamed.json()).toMatchObject({ id: 'compat_tests_more', name: 'Compat renamed', project_count: 1 });
    expect((await req('PUT', '/v1/assistants/categories/compat_tests_more', admin, { name: 'Engineering' })).json().error.message).toBe('Category name already exists');
    await req('DELETE', `/v1/assistants/${used}`, alice);
    const gone = await req('DELETE', '/v1/assistants/categories/compat_tests_more', admin);
    expect(gone.statusCode).toBe(204);
    const missing = await req('GET', '/v1/assistants/categories/compat_tests_more', admin);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ message: 'Category not found', details: "Category with ID 'compat_tests_more' does not exist." });
    expect((await req('PUT', '/v1/assistants/categories/nope', admin, { name: 'x' })).statusCode).toBe(404);
    expect((await req('DELETE', '/v1/assistants/categories/nope', admin)).statusCode).toBe(404);
    const unknown = await req('POST', '/v1/assistants', alice, { name: 'x', categories: ['nope'] });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.details).toBe("An error occurred while trying to save the assistant: Invalid category IDs: ['nope']");
    expect((await req('POST', '/v1/assistants', alice, { name: 'x', categories: ['a', 'b', 'c', 'd'] })).statusCode).toBe(422);
  });

  it('marketplace: validate (inline credentials), publish with categories and sub-assistants, visibility and calls for others, unpublish', async () => {
    const sub = await create(alice, { name: 'Market helper', project: 'demo', shared: false });
    const main = await create(alice, { name: 'Market main', project: 'demo', shared: false, assistant_ids: [sub] });
    const v = (await req('POST', `/v1/assistants/${main}/marketplace/publish/validate`, alice)).json();
    expect(v).toMatchObject({
      requires_confirmation: false,
      message: `Assistant ${main} is ready to be published to marketplace along with 1 sub-assistant(s)`,
      inline_credentials: [],
      assistant_id: main,
    });
    expect(v.sub_assistants[0]).toMatchObject({ id: sub, name: 'Market helper', is_global: false });
    const withEnv = await create(alice, { name: 'Env holder', mcp_servers: [{ name: 'srv', config: { command: 'npx', args: ['x'], env: { TOKEN: 'abc' } } }] });
    const creds = (await req('POST', `/v1/assistants/${withEnv}/marketplace/publish/validate`, alice)).json();
    expect(creds.requires_confirmation).toBe(true);
    expect(creds.inline_credentials).toEqual([{ mcp_server: 'srv', credential_type: 'mcp_inline_config_env', env_vars: ['TOKEN'] }]);
    expect((await req('POST', `/v1/assistants/${main}/marketplace/publish/validate`, bob)).statusCode).toBe(403);

    const noBody = await req('POST', `/v1/assistants/${main}/marketplace/publish`, alice);
    expect(noBody.statusCode).toBe(400);
    expect(noBody.json().error).toEqual({ message: 'At least one category is required', details: null, help: null });
    const bad = await req('POST', `/v1/assistants/${main}/marketplace/publish`, alice, { categories: ['nope'] });
    expect(bad.json().error.message).toBe("Invalid category IDs: ['nope']");
    expect((await req('POST', `/v1/assistants/${main}/marketplace/publish`, alice, {})).statusCode).toBe(422);
    expect((await req('POST', `/v1/assistants/${main}/marketplace/publish`, bob, { categories: ['engineering'] })).statusCode).toBe(403);
    const ok = await req('POST', `/v1/assistants/${main}/marketplace/publish`, alice, { categories: ['engineering'] });
    expect(ok.json()).toEqual({ message: `Assistant ${main} published to marketplace successfully along with 1 sub-assistant(s) published to marketplace` });
    expect((await req('GET', `/v1/assistants/id/${sub}`, alice)).json()).toMatchObject({ is_global: true, categories: [expect.objectContaining({ id: 'engineering' })] });
    // Carol (another project) can now read and call it; she still may not publish it.
    const asCarol = await req('GET', `/v1/assistants/id/${main}`, carol);
    expect(asCarol.json()).toMatchObject({ is_global: true, user_abilities: ['read'] });
    expect(asCarol.json().nested_assistants.map((n: { id: string }) => n.id)).toEqual([sub]);
    const call = await req('POST', `/v1/assistants/${main}/model`, carol, { text: 'hello market', save_history: false });
    expect(call.json().generated).toBe('Echo: hello market');
    expect((await req('POST', `/v1/assistants/${main}/marketplace/unpublish`, carol)).statusCode).toBe(403);
    // Updating a published assistant needs a category; with one it may even stay published.
    const noCat = await req('PUT', `/v1/assistants/${main}`, alice, { categories: [] });
    expect(noCat.statusCode).toBe(400);
    expect(noCat.json().error.details).toBe('An error occurred while trying to update the assistant: At least one category is required');
    expect((await req('PUT', `/v1/assistants/${main}`, alice, { categories: ['engineering', 'devops'] })).statusCode).toBe(200);
    const un = await req('POST', `/v1/assistants/${main}/marketplace/unpublish`, alice);
    expect(un.json()).toEqual({ message: `Assistant ${main} unpublished from marketplace successfully` });
    expect((await req('GET', `/v1/assistants/id/${main}`, carol)).statusCode).toBe(403);
    expect((await req('POST', '/v1/assistants/missing/marketplace/unpublish', alice)).statusCode).toBe(404);
    // Sub-assistant kept private on request.
    const sub2 = await create(alice, { name: 'Private helper', shared: false });
    const main2 = await create(alice, { name: 'Market main 2', assistant_ids: [sub2] });
    const kept = await req('POST', `/v1/assistants/${main2}/marketplace/publish`, alice, {
      categories: ['support'],
      sub_assistants_settings: [{ assistant_id: sub2, is_global: false }],
    });
    expect(kept.json().message).toBe(`Assistant ${main2} published to marketplace successfully with 1 sub-assistant(s) kept private`);
    // Kept private, still runnable through the published parent for Carol.
    expect((await req('GET', `/v1/assistants/id/${main2}`, carol)).json().nested_assistants.map((n: { id: string }) => n.id)).toEqual([sub2]);
  });

  it('reactions toggle and count; usage counts unique users; marketplace order by usage', async () => {
    const a = await create(alice, { name: 'Likeable', shared: true });
    const like = await req('POST', `/v1/assistants/${a}/reactions`, bob, { reaction: 'like' });
    expect(like.json()).toEqual({ success: true, reaction: 'like', like_count: 1, dislike_count: 0, error: null });
    expect((await req('POST', `/v1/assistants/${a}/reactions`, bob, { reaction: 'like' })).json()).toMatchObject({ reaction: null, like_count: 0 });
    expect((await req('POST', `/v1/assistants/${a}/reactions`, bob, { reaction: 'dislike' })).json()).toMatchObject({ reaction: 'dislike', dislike_count: 1 });
    expect((await req('POST', `/v1/assistants/${a}/reactions`, alice, { reaction: 'like' })).json()).toMatchObject({ like_count: 1, dislike_count: 1 });
    expect((await req('GET', `/v1/assistants/id/${a}`, alice)).json()).toMatchObject({ unique_likes_count: 1, unique_dislikes_count: 1 });
    expect((await req('DELETE', `/v1/assistants/${a}/reactions`, bob)).json()).toEqual({ success: true, reaction: null, like_count: 1, dislike_count: 0, error: null });
    expect((await req('DELETE', `/v1/assistants/${a}/reactions`, bob)).json()).toMatchObject({ reaction: null, like_count: 1 });
    expect((await req('POST', `/v1/assistants/${a}/reactions`, carol, { reaction: 'like' })).statusCode).toBe(403);
    expect((await req('POST', `/v1/assistants/${a}/reactions`, bob, { reaction: 'love' })).json().error.message).toBe("reaction: Input should be 'like' or 'dislike'");
    expect((await req('POST', '/v1/assistants/missing/reactions', bob, { reaction: 'like' })).statusCode).toBe(404);
    // Calls count users (once each).
    for (const u of [alice, bob, bob]) await req('POST', `/v1/assistants/${a}/model`, u, { text: 'hi', save_history: false });
    await expect.poll(async () => (await req('GET', `/v1/assistants/id/${a}`, alice)).json().unique_users_count).toBe(2);
    const sorted = (await req('GET', '/v1/assistants?scope=all&sort_by=usage&per_page=100', alice)).json().data;
    expect(sorted[0].id).toBe(a);
  });

  it('versions: each change of a versioned field, list/get/compare/rollback, system_prompt_history, calls of a version', async () => {
    const a = await create(alice, { name: 'Versioned', system_prompt: 'P1', conversation_starters: ['Hi'] });
    expect((await req('PUT', `/v1/assistants/${a}`, alice, { system_prompt: 'P2', conversation_starters: ['Hi', 'Yo'], temperature: 0.5 })).statusCode).toBe(200);
    expect((await req('PUT', `/v1/assistants/${a}`, alice, { name: 'Versioned renamed' })).statusCode).toBe(200); // not versioned
    const list = (await req('GET', `/v1/assistants/${a}/versions`, alice)).json();
    expect(list).toMatchObject({ total_versions: 2, assistant_name: 'Versioned renamed', assistant_id: a });
    expect(list.versions.map((v: { version_number: number; change_notes: string }) => [v.version_number, v.change_notes])).toEqual([
      [2, 'Configuration updated'],
      [1, 'Initial version'],
    ]);
    expect((await req('GET', `/v1/assistants/${a}/versions/1`, alice)).json()).toMatchObject({ version_number: 1, system_prompt: 'P1', created_by: { id: 'alice' } });
    const nf = await req('GET', `/v1/assistants/${a}/versions/9`, alice);
    expect(nf.statusCode).toBe(404);
    expect(nf.json().error).toEqual({ message: 'Version not found', details: `Version 9 not found for assistant ${a}`, help: 'Please verify the version number and try again' });
    expect((await req('GET', `/v1/assistants/${a}/versions/1`, carol)).statusCode).toBe(403);

    const cmp = (await req('GET', `/v1/assistants/${a}/versions/1/compare/2`, alice)).json();
    expect(cmp.differences.values_changed["root['system_prompt']"]).toEqual({ new_value: 'P2', old_value: 'P1' });
    expect(cmp.differences.type_changes["root['temperature']"]).toEqual({ old_type: "<class 'NoneType'>", new_type: "<class 'float'>", old_value: null, new_value: 0.5 });
    expect(cmp.differences.iterable_item_added).toEqual({ "root['conversation_starters'][1]": 'Yo' });
    expect(cmp.change_summary).toBe(
      [
        'Changes from version 1 to version 2:',
        '- 1 field(s) with type changes',
        '  • temperature type changed: NoneType → float',
        '- 1 field(s) modified',
        '  • system_prompt changed',
        '- 1 item(s) added',
      ].join('\n'),
    );
    expect((await req('GET', `/v1/assistants/${a}/versions/1/compare/1`, alice)).json()).toMatchObject({ differences: {}, change_summary: 'No differences between version 1 and version 1' });

    // Calls of a version run its configuration.
    await req('POST', `/v1/assistants/${a}/model`, alice, { text: 'v1 please', version: 1, save_history: false });
    expect(llm.chatRequests().at(-1)!.messages[0]).toMatchObject({ role: 'system', content: 'P1' });
    await req('POST', `/v1/assistants/${a}/model`, alice, { text: 'current please', save_history: false });
    expect(llm.chatRequests().at(-1)!.messages[0]).toMatchObject({ role: 'system', content: 'P2' });
    expect((await req('POST', `/v1/assistants/${a}/model`, alice, { text: 'x', version: 9 })).json().error.message).toBe('Version not found');

    const rb = await req('POST', `/v1/assistants/${a}/versions/1/rollback`, alice, {});
    expect(rb.json()).toEqual({ message: 'Rolled back to version 1. Created new version 3' });
    const after = (await req('GET', `/v1/assistants/id/${a}`, alice)).json();
    expect(after).toMatchObject({ system_prompt: 'P1', version_count: 3, temperature: null, conversation_starters: ['Hi'], name: 'Versioned renamed' });
    expect(after.system_prompt_history.map((h: { system_prompt: string }) => h.system_prompt)).toEqual(['P2', 'P1']);
    const current = await req('POST', `/v1/assistants/${a}/versions/3/rollback`, alice);
    expect(current.statusCode).toBe(400);
    expect(current.json().error).toEqual({ message: 'Cannot rollback to current version', details: 'Version 3 is already the current version', help: 'Please select a different version to rollback to' });
    expect((await req('POST', `/v1/assistants/${a}/versions/7/rollback`, alice)).json().error).toEqual({
      message: 'Invalid version number',
      details: 'Version 7 does not exist. Valid range: 1 to 3',
      help: 'Please verify the version number',
    });
    expect((await req('POST', `/v1/assistants/${a}/versions/1/rollback`, bob)).statusCode).toBe(403);
    // Deleting the assistant removes its versions.
    await req('DELETE', `/v1/assistants/${a}`, alice);
    expect((await req('GET', `/v1/assistants/${a}/versions`, alice)).statusCode).toBe(404);
    expect(await p.services.assistants.assistants.versions.all(a)).toEqual([]);
  });
});
