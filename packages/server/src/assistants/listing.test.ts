/**
 * Listing and lookup as the reference answers them: scopes (marketplace, project_with_marketplace,
 * templates), filters, sort_by, per_page up to 10000, slug rules, the error texts (help included),
 * 405 on GET /assistants/{id}, and a detail every SDK model parses (mcp_servers[].description).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, testAuthHeaders, tempDir, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../test/llm-server.js';

const alice = testAuthHeaders({ id: 'alice', username: 'alice', name: 'Alice', projects: ['demo', 'team'] });
const bob = testAuthHeaders({ id: 'bob', username: 'bob', name: 'Bob', projects: ['demo'] });
const carol = testAuthHeaders({ id: 'carol', username: 'carol', name: 'Carol', projects: ['other'] });
const admin = testAuthHeaders({ id: 'root', username: 'root', roles: ['admin'], projects: [] });

describe.each(DB_KINDS)('assistant listing and lookup (%s)', (db) => {
  let llm: TestLlmServer;
  let p: TestPlatform;
  const tmp = tempDir('codemie-assistant-list-');

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
    const r = await req('POST', '/v1/assistants', headers, { system_prompt: 'x', ...body });
    expect(r.statusCode, r.body).toBe(200);
    return r.json().assistantId as string;
  };
  const list = async (headers: Record<string, string>, query: string) => {
    const r = await req('GET', `/v1/assistants?${query}`, headers);
    expect(r.statusCode, r.body).toBe(200);
    return r.json() as { data: Array<Record<string, any>>; pagination: Record<string, number> };
  };
  const f = (o: unknown) => encodeURIComponent(JSON.stringify(o));

  it('scopes: published assistants leave visible_to_user for marketplace; project_with_marketplace joins both; sort_by orders', async () => {
    const zed = await create(alice, { name: 'Zed lister', project: 'team', description: 'last by name' });
    const amy = await create(alice, { name: 'Amy lister', project: 'team', description: 'first by name' });
    const pub = await create(alice, { name: 'Mid lister', project: 'team', description: 'published', categories: ['engineering'], is_global: true });
    const mine = (await list(alice, `per_page=100&filters=${f({ search: 'lister' })}`)).data.map((a) => a.id);
    expect(mine).toEqual(expect.arrayContaining([zed, amy]));
    expect(mine).not.toContain(pub);
    // Carol is in no project of these: she sees only the published one, in the marketplace.
    expect((await list(carol, `per_page=100&filters=${f({ search: 'lister' })}`)).data).toEqual([]);
    const market = await list(carol, `scope=marketplace&per_page=100&filters=${f({ search: 'lister' })}`);
    expect(market.data.map((a) => a.id)).toEqual([pub]);
    expect(market.data[0]).toMatchObject({ is_global: true, categories: ['engineering'], user_abilities: ['read'] });
    const both = await list(alice, `scope=project_with_marketplace&per_page=100&filters=${f({ project: 'team', search: 'lister' })}`);
    expect(both.data.map((a) => a.id).sort()).toEqual([zed, amy, pub].sort());
    expect(both.data.at(-1)!.id).toBe(pub); // non-global first
    const byName = await list(alice, `scope=all&sort_by=name&sort_order=asc&per_page=100&filters=${f({ search: 'lister' })}`);
    expect(byName.data.map((a) => a.name)).toEqual(['Amy lister', 'Mid lister', 'Zed lister']);
    const desc = await list(alice, `scope=all&sort_by=name&per_page=100&filters=${f({ search: 'lister' })}`);
    expect(desc.data.map((a) => a.name)).toEqual(['Zed lister', 'Mid lister', 'Amy lister']);
    // Filters of the reference: is_global, categories, project lists, created_by (display name), created_date.
    expect((await list(alice, `scope=all&per_page=100&filters=${f({ is_global: true, search: 'lister' })}`)).data.map((a) => a.id)).toEqual([pub]);
    expect((await list(alice, `scope=all&per_page=100&filters=${f({ categories: ['engineering', 'nope'] })}`)).data.map((a) => a.id)).toEqual([pub]);
    expect((await list(alice, `scope=all&per_page=100&filters=${f({ project: ['team'], created_by: 'Alice', search: 'lister' })}`)).pagination.total).toBe(3);
    expect((await list(alice, `scope=all&per_page=100&filters=${f({ created_date: { '>=': '2999-01-01' }, search: 'lister' })}`)).pagination.total).toBe(0);
    // search matches name first, then description.
    const search = await list(alice, `scope=all&per_page=100&filters=${f({ search: 'first' })}`);
    expect(search.data.map((a) => a.id)).toEqual([amy]);
    // Admins see no global assistants in visible_to_user (reference §4.1).
    expect((await list(admin, `per_page=100&filters=${f({ search: 'lister' })}`)).data.map((a) => a.id)).not.toContain(pub);
  });

  it('per_page up to 10000; sort_by / sort_order / scope outside their values → 422 naming the values; bad filters → 400 with the reference texts', async () => {
    expect((await list(alice, 'per_page=500')).pagination.per_page).toBe(500);
    expect((await req('GET', '/v1/assistants?per_page=10001', alice)).statusCode).toBe(422);
    const badSort = await req('GET', '/v1/assistants?sort_by=bogus', alice);
    expect(badSort.statusCode).toBe(422);
    expect(badSort.json().error.message).toBe("query.sort_by: Input should be 'usage', 'likes', 'dislikes' or 'name'");
    expect((await req('GET', '/v1/assistants?sort_by=name&sort_order=up', alice)).json().error.message).toBe("query.sort_order: Input should be 'asc' or 'desc'");
    expect((await req('GET', '/v1/assistants?scope=mine', alice)).json().error.message).toBe(
      "query.scope: Input should be 'project_with_marketplace', 'visible_to_user', 'created_by_user', 'marketplace', 'all' or 'templates'",
    );
    const bad = await req('GET', '/v1/assistants?filters=notjson', alice);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toEqual({
      message: 'Invalid filters',
      details: 'Filters must be a valid encoded JSON object.',
      help: 'Please check the filters and ensure they are in the correct format. ',
    });
    expect((await req('GET', `/v1/assistants?filters=${f({ created_date: { '~': 1 } })}`, alice)).statusCode).toBe(400);
  });

  it('scope=templates lists the prebuilt catalog, paged and filtered in memory', async () => {
    const page = await list(bob, 'scope=templates&per_page=5');
    expect(page.data).toHaveLength(5);
    expect(page.pagination).toEqual({ page: 0, per_page: 5, total: 27, pages: 6 });
    expect(page.data.every((a) => a.slug.startsWith('template-') && a.id === null)).toBe(true);
    expect((await list(admin, 'scope=templates&per_page=100')).pagination.total).toBe(33);
    const chat = await list(bob, `scope=templates&filters=${f({ search: 'chatgpt' })}`);
    expect(chat.data.map((a) => a.slug)).toEqual(['template-chatgpt-assistant']);
  });

  it('errors as the reference words them: 404 by id and slug, 403 with help, 405 on GET /assistants/{id}', async () => {
    const missing = await req('GET', '/v1/assistants/id/missing', alice);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toEqual({
      message: 'Assistant not found',
      details: "No assistant found with the id 'missing'.",
      help: 'Please check the assistant id and ensure it is correct. ',
    });
    const slug = await req('GET', '/v1/assistants/slug/nope?project=demo', alice);
    expect(slug.json().error).toEqual({
      message: 'Assistant not found',
      details: "No assistant found with the slug 'nope' in project 'demo'.",
      help: 'Please check the assistant slug and ensure it is correct. ',
    });
    const privateId = await create(alice, { name: 'Private one', project: 'demo', shared: false });
    const denied = await req('GET', `/v1/assistants/id/${privateId}`, bob);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error).toEqual({
      message: 'Access denied',
      details: 'You do not have the necessary permissions to view this entity.',
      help: 'Please ensure you have the correct role or permissions assigned to your account. If you believe this is an error, contact your system administrator.',
    });
    const project = await req('POST', '/v1/assistants', carol, { name: 'x', project: 'demo' });
    expect(project.statusCode).toBe(403);
    expect(project.json().error.help).toBe('If you believe you should have access to this project, please contact your system administrator or the project owner.');
    const wrongMethod = await req('GET', `/v1/assistants/${privateId}`, alice);
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toMatch(/PUT/);
  });

  it('slugs: underscores and capitals allowed, `/` refused, none for a name without ASCII letters; the detail parses with every SDK-required key', async () => {
    const id = await create(alice, {
      name: 'Slugs',
      slug: 'My_Bot_1',
      mcp_servers: [{ name: 'srv', config: { url: 'http://127.0.0.1:9/mcp' } }],
      context: [{ context_type: 'code', name: 'repo' }],
      prompt_variables: [{ key: 'team', default_value: 'core' }, { key: 'token', default_value: 's3cret', is_sensitive: true }],
      enabled_builtin_subagents: ['GENERAL_PURPOSE_SUBAGENT', 'GENERAL_PURPOSE_SUBAGENT'],
      tool_permissions: { tool_call_policy: 'ask_for_approval' },
      categories: [{ id: 'devops', name: 'DevOps' }],
    });
    const a = (await req('GET', '/v1/assistants/slug/My_Bot_1', alice)).json();
    expect(a.id).toBe(id);
    expect(a.mcp_servers[0]).toMatchObject({ name: 'srv', description: null, enabled: true });
    expect(a.prompt_variables).toEqual([
      { key: 'team', description: null, default_value: 'core', is_sensitive: false },
      { key: 'token', description: null, default_value: '********', is_sensitive: true },
    ]);
    expect(a.enabled_builtin_subagents).toEqual(['GENERAL_PURPOSE_SUBAGENT']);
    expect(a.tool_permissions).toEqual({ tool_call_policy: 'ask_for_approval', allow_override: true });
    expect(a.categories).toEqual([expect.objectContaining({ id: 'devops', name: 'DevOps' })]);
    expect(a).toMatchObject({ origin: 'unknown', version_count: 1, version: null, is_global: false });
    // The sensitive value is stored sealed, never in clear.
    const stored = async () => JSON.stringify((await p.services.assistants.assistants.repo.get(id))!.data);
    const row = { data: await stored() };
    expect(row.data).not.toContain('s3cret');
    expect((await req('POST', '/v1/assistants', alice, { name: 'x', slug: 'a/b' })).statusCode).toBe(422);
    expect((await req('POST', '/v1/assistants', alice, { name: 'x', context: [{ context_type: 'bogus', name: 'r' }] })).statusCode).toBe(422);
    expect((await req('POST', '/v1/assistants', alice, { name: 'x', enabled_builtin_subagents: ['NOPE'] })).statusCode).toBe(422);
    const unnamed = await create(alice, { name: 'Ω≈ç' });
    expect((await req('GET', `/v1/assistants/id/${unnamed}`, alice)).json().slug).toBeNull();
    // A sensitive value sent back masked keeps the stored one; keys must be unique.
    const upd = await req('PUT', `/v1/assistants/${id}`, alice, { prompt_variables: [{ key: 'token', default_value: '********', is_sensitive: true }] });
    expect(upd.statusCode).toBe(200);
    const after = { data: await stored() };
    expect(JSON.parse(after.data).prompt_variables[0].default_value).toBe(JSON.parse(row.data).prompt_variables[1].default_value);
    const dup = await req('PUT', `/v1/assistants/${id}`, alice, { prompt_variables: [{ key: 'k' }, { key: 'k' }] });
    expect(dup.statusCode).toBe(400);
    expect(dup.json().error.details).toBe('An error occurred while trying to update the assistant: Duplicate prompt variable keys detected: k');
    const dupMcp = await req('PUT', `/v1/assistants/${id}`, alice, { mcp_servers: [{ name: 'b', command: 'npx' }, { name: 'b', command: 'npx' }] });
    expect(dupMcp.json().error.details).toBe('An error occurred while trying to update the assistant: Duplicate MCP server names detected: b');
  });

  it('GET /assistants/users lists the creators of a scope', async () => {
    await create(bob, { name: 'Bob bot', project: 'demo' });
    const users = (await req('GET', '/v1/assistants/users?scope=all', alice)).json() as Array<{ id: string; name: string }>;
    expect(users.map((u) => u.id)).toEqual(expect.arrayContaining(['alice', 'bob']));
    expect((await req('GET', '/v1/assistants/users?scope=templates', alice)).json()).toEqual([]);
  });
});
