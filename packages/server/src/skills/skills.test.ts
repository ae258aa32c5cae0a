/**
 * Skills through HTTP on both databases: CRUD with validation and visibility, categories, users,
 * config, import/export of SKILL.md, companion files, attaching to assistants, the `skill` tool an
 * assistant call gets (scripted model loads the skill; the use is an event), the event log and its
 * stats, reactions, marketplace, instructions drafted by the model, delete detaching.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, tempDir, testAuthHeaders, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../test/llm-server.js';

const alice = testAuthHeaders({ id: 'alice', username: 'alice', name: 'Alice', projects: ['demo', 'team'] });
const bob = testAuthHeaders({ id: 'bob', username: 'bob', name: 'Bob', projects: ['demo'] });
const carol = testAuthHeaders({ id: 'carol', username: 'carol', name: 'Carol', projects: ['other'] });
const admin = testAuthHeaders({ id: 'root', username: 'root', roles: ['admin'], projects: [] });

const CONTENT = `# API testing\n\n${'Always check status codes, response shapes and error envelopes before anything else. '.repeat(3)}`;
const skillBody = (over: Record<string, unknown> = {}) => ({
  name: 'api-testing',
  description: 'How to test REST APIs thoroughly',
  content: CONTENT,
  project: 'demo',
  visibility: 'project',
  categories: ['testing'],
  ...over,
});

describe.each(DB_KINDS)('skills (%s)', (db) => {
  let llm: TestLlmServer;
  let p: TestPlatform;
  const tmp = tempDir('codemie-skills-');

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

  const createAssistant = async (headers: Record<string, string>, body: Record<string, unknown>) => {
    const res = await req('POST', '/v1/assistants', headers, { system_prompt: 'Be helpful.', llm_model_type: 'test-model', ...body });
    expect(res.statusCode).toBe(200);
    return res.json().assistantId as string;
  };

  let skillId = '';

  it('create → 201 with the detail shape; a duplicate name is 409; bad input is 422; a foreign project is 403', async () => {
    const res = await req('POST', '/v1/skills', alice, skillBody());
    expect(res.statusCode).toBe(201);
    const s = res.json();
    skillId = s.id;
    expect(s).toMatchObject({
      name: 'api-testing',
      description: 'How to test REST APIs thoroughly',
      content: CONTENT,
      project: 'demo',
      visibility: 'project',
      categories: ['testing'],
      created_by: { id: 'alice', user_id: 'alice', username: 'alice', name: 'Alice' },
      assistants_count: 0,
      user_abilities: ['read', 'write', 'delete'],
      toolkits: [],
      mcp_servers: [],
      companion_files: [],
      enabled_builtin_subagents: [],
      display_name: null,
      updatedDate: null,
    });
    expect(Date.parse(s.createdDate)).toBeGreaterThan(0);

    const dup = await req('POST', '/v1/skills', alice, skillBody({ name: 'API-Testing'.toLowerCase() }));
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toMatchObject({
      message: 'Skill name already exists',
      details: "A skill named 'api-testing' already exists for this user in project 'demo'",
    });

    const badName = await req('POST', '/v1/skills', alice, skillBody({ name: 'Not Kebab' }));
    expect(badName.statusCode).toBe(422);
    expect(JSON.stringify(badName.json())).toContain('kebab-case');
    const short = await req('POST', '/v1/skills', alice, skillBody({ name: 'short-one', content: 'too short' }));
    expect(short.statusCode).toBe(422);
    const cats = await req('POST', '/v1/skills', alice, skillBody({ name: 'many-cats', categories: ['testing', 'devops', 'security', 'other'] }));
    expect(cats.statusCode).toBe(422);
    expect(JSON.stringify(cats.json())).toContain('Maximum 3 categories allowed per skill');

    const foreign = await req('POST', '/v1/skills', carol, skillBody({ name: 'carol-skill' }));
    expect(foreign.statusCode).toBe(403);
    expect((await req('GET', '/v1/skills', admin)).json().total).toBe(1);
  });

  it('visibility: project members read, others get 403; only the owner (or admin) writes', async () => {
    const priv = (await req('POST', '/v1/skills', alice, skillBody({ name: 'private-notes', visibility: 'private' }))).json();
    expect((await req('GET', `/v1/skills/${skillId}`, bob)).json()).toMatchObject({ id: skillId, user_abilities: ['read'] });
    const hidden = await req('GET', `/v1/skills/${priv.id}`, bob);
    expect(hidden.statusCode).toBe(403);
    expect(hidden.json().error).toMatchObject({ message: 'Permission denied', details: "User does not have read access to skill 'private-notes'" });
    expect((await req('GET', `/v1/skills/${skillId}`, carol)).statusCode).toBe(403);
    const missing = await req('GET', '/v1/skills/nope', alice);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ message: 'Skill not found', details: "No skill found with ID 'nope'" });

    const upd = await req('PUT', `/v1/skills/${skillId}`, bob, { description: 'Bob was here for sure' });
    expect(upd.statusCode).toBe(403);
    const ok = await req('PUT', `/v1/skills/${skillId}`, alice, {
      description: 'How to test REST APIs, updated',
      categories: ['testing', 'quality_assurance'],
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ description: 'How to test REST APIs, updated', categories: ['testing', 'quality_assurance'], content: CONTENT });
    expect(ok.json().updatedDate).not.toBeNull();

    // Listing: Bob sees the project skill, not the private one; filters and paging.
    const bobList = (await req('GET', '/v1/skills', bob)).json();
    expect(bobList).toMatchObject({ page: 0, perPage: 20, total: 1, pages: 1 });
    expect(bobList.skills[0]).toMatchObject({ id: skillId, is_attached: false, assistants_count: 0 });
    const aliceList = (await req('GET', '/v1/skills?per_page=1', alice)).json();
    expect(aliceList).toMatchObject({ total: 2, pages: 2, perPage: 1 });
    const filtered = (await req('GET', `/v1/skills?filters=${encodeURIComponent(JSON.stringify({ visibility: 'private' }))}`, alice)).json();
    expect(filtered.skills.map((s: { name: string }) => s.name)).toEqual(['private-notes']);
    const search = (await req('GET', `/v1/skills?filters=${encodeURIComponent(JSON.stringify({ search: 'API' }))}`, alice)).json();
    expect(search.skills.map((s: { name: string }) => s.name)).toEqual(['api-testing']);
    const badFilters = await req('GET', '/v1/skills?filters=nope', alice);
    expect(badFilters.statusCode).toBe(400);
    expect(badFilters.json().error.message).toBe('Invalid filters');
    const badCat = await req('GET', `/v1/skills?filters=${encodeURIComponent(JSON.stringify({ categories: ['nope'] }))}`, alice);
    expect(badCat.statusCode).toBe(400);
    expect(badCat.json().error.message).toBe('Invalid category value');
    const scope = await req('GET', `/v1/skills?filters=${encodeURIComponent(JSON.stringify({ scope: 'project_with_marketplace' }))}`, alice);
    expect(scope.statusCode).toBe(400);
    expect(scope.json().error.message).toBe('Invalid scope configuration');
    await req('DELETE', `/v1/skills/${priv.id}`, alice);
  });

  it('categories, users and config', async () => {
    const cats = (await req('GET', '/v1/skills/categories', bob)).json();
    expect(cats).toContainEqual({ value: 'quality_assurance', label: 'Quality Assurance' });
    expect(cats).toHaveLength(26);
    expect((await req('GET', '/v1/skills/users', bob)).json()).toEqual([{ id: 'alice', user_id: 'alice', username: 'alice', name: 'Alice' }]);
    expect((await req('GET', '/v1/skills/config', bob)).json()).toMatchObject({ max_content_length: 30000, min_content_length: 100 });
  });

  it('import a SKILL.md (base64) → 201; malformed files → 400 with the reference texts; export gives the file back', async () => {
    const md = `---\nname: code-review\ndescription: Review code changes carefully\n---\n\n${CONTENT}`;
    const res = await req('POST', '/v1/skills/import', alice, { file_content: Buffer.from(md).toString('base64'), filename: 'SKILL.md', project: 'demo' });
    expect(res.statusCode).toBe(201);
    const s = res.json();
    expect(s).toMatchObject({
      name: 'code-review',
      description: 'Review code changes carefully',
      content: CONTENT.trim(),
      visibility: 'private',
      categories: [],
    });

    const exp = await req('GET', `/v1/skills/${s.id}/export`, alice);
    expect(exp.statusCode).toBe(200);
    expect(exp.headers['content-type']).toMatch(/^text\/markdown/);
    expect(exp.headers['content-disposition']).toBe('attachment; filename="code-review.md"');
    expect(exp.body).toBe(`---\nname: code-review\ndescription: Review code changes carefully\n---\n\n${CONTENT.trim()}\n`);

    const b64 = (t: string) => Buffer.from(t).toString('base64');
    const cases: Array<[string, string, string]> = [
      ['no frontmatter here', 'Invalid skill format', 'File must start with YAML frontmatter (---)'],
      ['---\nname: x-y-z\n', 'Invalid skill format', 'Could not find closing YAML frontmatter delimiter (---)'],
      [`---\nname: only-name\n---\n${CONTENT}`, 'Invalid skill format', "Skill file must have 'name' and 'description' in YAML frontmatter"],
      [`---\nname: Bad Name\ndescription: something long enough\n---\n${CONTENT}`, 'Invalid skill name', "Name 'Bad Name' is not valid kebab-case"],
      [
        '---\nname: tiny-skill\ndescription: something long enough\n---\nshort',
        'Invalid skill content',
        'Content is too short (5 characters). Minimum is 100 characters.',
      ],
    ];
    for (const [text, message, details] of cases) {
      const r = await req('POST', '/v1/skills/import', alice, { file_content: b64(text), filename: 'SKILL.md', project: 'demo' });
      expect(r.statusCode).toBe(400);
      expect(r.json().error).toMatchObject({ message, details });
    }
    const notB64 = await req('POST', '/v1/skills/import', alice, { file_content: '%%%not-base64', filename: 'SKILL.md', project: 'demo' });
    expect(notB64.statusCode).toBe(400);
    expect(notB64.json().error.message).toBe('Invalid file encoding');
    await req('DELETE', `/v1/skills/${s.id}`, alice);
  });

  it('companion files: stored with metadata, read by path; reserved, duplicate and escaping paths → 400', async () => {
    const res = await req('PUT', `/v1/skills/${skillId}`, alice, {
      companion_files: [
        { path: 'references/checklist.md', content: '- status codes\n- shapes' },
        { path: 'assets/logo.bin', encoding: 'base64', content: Buffer.from([1, 2, 3]).toString('base64') },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().companion_files).toEqual([
      { path: 'references/checklist.md', mime_type: 'text/markdown', encoding: 'text', size_bytes: 23 },
      { path: 'assets/logo.bin', mime_type: 'application/octet-stream', encoding: 'base64', size_bytes: 3 },
    ]);
    expect((await req('GET', `/v1/skills/${skillId}/companion-files`, bob)).json()).toHaveLength(2);
    const f = await req('GET', `/v1/skills/${skillId}/companion-files/content?path=references/checklist.md`, bob);
    expect(f.json()).toMatchObject({ path: 'references/checklist.md', content: '- status codes\n- shapes' });
    const nf = await req('GET', `/v1/skills/${skillId}/companion-files/content?path=nope.md`, bob);
    expect(nf.statusCode).toBe(404);
    expect(nf.json().error.message).toBe('Companion file not found');
    for (const [files, message] of [
      [[{ path: 'SKILL.md', content: 'x' }], 'Invalid companion file path'],
      [
        [
          { path: 'a.md', content: 'x' },
          { path: './a.md', content: 'y' },
        ],
        'Duplicate companion file path',
      ],
      [[{ path: '../escape.md', content: 'x' }], 'Invalid companion file path'],
    ] as const) {
      const r = await req('PUT', `/v1/skills/${skillId}`, alice, { companion_files: files });
      expect(r.statusCode).toBe(400);
      expect(r.json().error.message).toBe(message);
    }
    expect((await req('GET', `/v1/skills/${skillId}/companion-files`, alice)).json()).toHaveLength(2);
  });

  it('attach to an assistant; the call gets a `skill` tool listing it; loading it is a use event; detach', async () => {
    const aid = await createAssistant(alice, { name: 'Tester' });
    const bobs = await createAssistant(bob, { name: 'Bobs', shared: false });
    const att = await req('POST', `/v1/assistants/${aid}/skills`, alice, { skill_id: skillId });
    expect(att.statusCode).toBe(200);
    expect(att.json()).toEqual({ message: 'Skill attached successfully' });
    const denied = await req('POST', `/v1/assistants/${bobs}/skills`, alice, { skill_id: skillId });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error).toMatchObject({ message: 'Permission denied', details: 'User does not own this assistant' });
    expect((await req('POST', '/v1/assistants/nope/skills', alice, { skill_id: skillId })).statusCode).toBe(404);
    expect((await req('POST', `/v1/assistants/${aid}/skills`, alice, { skill_id: 'nope' })).statusCode).toBe(404);

    const listed = (await req('GET', `/v1/assistants/${aid}/skills`, alice)).json();
    expect(listed).toEqual([expect.objectContaining({ id: skillId, is_attached: true, assistants_count: 1 })]);
    expect((await req('GET', `/v1/assistants/id/${aid}`, alice)).json()).toMatchObject({
      skill_ids: [skillId],
      skills: [{ id: skillId, name: 'api-testing', description: 'How to test REST APIs, updated' }],
    });
    expect((await req('GET', `/v1/skills/${skillId}/assistants`, alice)).json()).toEqual([expect.objectContaining({ id: aid, name: 'Tester' })]);
    expect((await req('GET', `/v1/skills?assistant_id=${aid}`, alice)).json().skills[0]).toMatchObject({ id: skillId, is_attached: true, assistants_count: 1 });

    llm.reset();
    llm.script(
      (r) => {
        const t = r.tools.find((x) => x.function.name === 'skill');
        return t ? { toolCalls: [{ name: 'skill', arguments: { skill: 'api-testing' } }] } : { text: 'no skill tool' };
      },
      { text: 'Loaded the skill.' },
    );
    const call = await req('POST', `/v1/assistants/${aid}/model`, alice, { text: 'test my API', stream: false });
    expect(call.statusCode).toBe(200);
    expect(call.json().generated).toBe('Loaded the skill.');
    const first = llm.chatRequests()[0]!;
    const tool = first.tools.find((t) => t.function.name === 'skill')!;
    expect(tool.function.description).toContain('- api-testing: How to test REST APIs, updated');
    expect(first.tools.map((t) => t.function.name)).toContain('skill_file');
    const second = llm.chatRequests()[1]!;
    const result = second.messages.find((m) => m.role === 'tool')!;
    expect(String(result.content)).toContain('<skill_content name="api-testing">');
    expect(String(result.content)).toContain('Always check status codes');
    const thought = call.json().thoughts.find((t: { metadata: { tool_name?: string } }) => t.metadata?.tool_name === 'skill');
    expect(thought).toMatchObject({ author_type: 'Tool', error: false });

    const stats = (await req('GET', '/v1/skills/events/stats', bob)).json();
    expect(stats.data).toEqual([expect.objectContaining({ skill_slug: 'api-testing', uses: 1, installs: 0, removals: 0 })]);
    expect((await req('GET', '/v1/skills/events/api-testing/stats', bob)).json()).toMatchObject({ uses: 1, installs: 0 });

    const bulk = (await req('POST', `/v1/skills/${skillId}/assistants/bulk-attach`, alice, { assistant_ids: [aid, bobs, 'ghost'] })).json();
    expect(bulk).toMatchObject({ message: 'Skill attached to 0 of 3 assistants', success_count: 0, total_requested: 3 });
    expect(bulk.failures).toEqual([
      { assistant_id: bobs, reason: 'You do not have permission to modify this assistant' },
      { assistant_id: 'ghost', reason: "Assistant not found with ID 'ghost'" },
    ]);

    const det = await req('DELETE', `/v1/assistants/${aid}/skills/${skillId}`, alice);
    expect(det.json()).toEqual({ message: 'Skill detached successfully' });
    expect((await req('GET', `/v1/assistants/${aid}/skills`, alice)).json()).toEqual([]);
  });

  it("an attached skill's built-in subagents and toolkits join the assistant's call", async () => {
    const helper = await req(
      'POST',
      '/v1/skills',
      alice,
      skillBody({
        name: 'delegating-skill',
        enabled_builtin_subagents: ['GENERAL_PURPOSE_SUBAGENT'],
        toolkits: [{ toolkit: 'FileSystem', tools: [{ name: 'list_directory_from_file_system' }] }],
      }),
    );
    expect(helper.statusCode).toBe(201);
    const aid = await createAssistant(alice, { name: 'Plain', skill_ids: [helper.json().id] });
    llm.reset();
    llm.script({ text: 'ok' });
    expect((await req('POST', `/v1/assistants/${aid}/model`, alice, { text: 'hi', stream: false })).statusCode).toBe(200);
    const names = llm.chatRequests()[0]!.tools.map((t) => t.function.name);
    expect(names).toEqual(expect.arrayContaining(['skill', 'list_directory_from_file_system', 'transfer_to___builtin__general_purpose_subagent']));
    // The stored assistant is unchanged: contributions apply to the call only.
    expect((await req('GET', `/v1/assistants/id/${aid}`, alice)).json()).toMatchObject({ enabled_builtin_subagents: [], toolkits: [] });
    await req('DELETE', `/v1/skills/${helper.json().id}`, alice);
  });

  it('the event log: CLI events recorded, listed (own / all for admins), aggregated; unknown slug → 404', async () => {
    const ev = await req('POST', '/v1/skills/events', bob, {
      session_id: 's1',
      command: 'add',
      status: 'completed',
      skill_name: 'My Skill',
      source: 'github.com/x',
      agent: 'claude-code',
      target_agents: ['claude'],
    });
    expect(ev.statusCode).toBe(200);
    expect(ev.json()).toMatchObject({ success: true, message: "Skill event 'add/completed' recorded" });
    await req('POST', '/v1/skills/events', alice, { session_id: 's2', command: 'add', status: 'completed', skill_slug: 'my-skill' });
    await req('POST', '/v1/skills/events', alice, { session_id: 's3', command: 'remove', status: 'completed', skill_slug: 'my-skill' });
    await req('POST', '/v1/skills/events', alice, { session_id: 's4', command: 'list', status: 'completed' });
    const bad = await req('POST', '/v1/skills/events', alice, { session_id: 's5', command: 'explode', status: 'completed' });
    expect(bad.statusCode).toBe(422);

    const own = (await req('GET', '/v1/skills/events', bob)).json();
    expect(own.pagination).toEqual({ page: 0, per_page: 100, total: 1, pages: 1 });
    expect(own.data[0]).toMatchObject({ skill_slug: 'my-skill', source: 'github.com/x', target_agents: ['claude'], command: 'add', user_id: 'bob' });
    expect((await req('GET', '/v1/skills/events', admin)).json().pagination.total).toBe(3);
    const stats = (await req('GET', '/v1/skills/events/stats', bob)).json();
    expect(stats.data[0]).toMatchObject({ skill_slug: 'my-skill', installs: 2, removals: 1, by_agent: { 'claude-code': 1, 'codemie-skills': 1 } });
    expect((await req('GET', '/v1/skills/events/my-skill/stats', bob)).json()).toMatchObject({
      installs: 2,
      removals: 1,
      by_source: { 'github.com/x': 1, unknown: 1 },
    });
    const nf = await req('GET', '/v1/skills/events/never-seen/stats', bob);
    expect(nf.statusCode).toBe(404);
    expect(nf.json().error).toMatchObject({ message: 'Skill not found', details: "No events found for skill 'never-seen'" });
  });

  it('reactions toggle; publish makes it public (readable by anyone), unpublish makes it private', async () => {
    const like = (await req('POST', `/v1/skills/${skillId}/reactions`, bob, { reaction: 'like' })).json();
    expect(like).toMatchObject({ success: true, reaction: 'like', like_count: 1, dislike_count: 0 });
    const again = (await req('POST', `/v1/skills/${skillId}/reactions`, bob, { reaction: 'like' })).json();
    expect(again).toMatchObject({ reaction: null, like_count: 0 });
    await req('POST', `/v1/skills/${skillId}/reactions`, bob, { reaction: 'dislike' });
    expect((await req('GET', `/v1/skills/${skillId}`, alice)).json()).toMatchObject({ unique_likes_count: 0, unique_dislikes_count: 1 });
    expect((await req('DELETE', `/v1/skills/${skillId}/reactions`, bob)).json()).toMatchObject({ reaction: null, dislike_count: 0 });

    expect((await req('POST', `/v1/skills/${skillId}/marketplace/publish`, bob)).statusCode).toBe(403);
    const pub = await req('POST', `/v1/skills/${skillId}/marketplace/publish`, alice, { categories: ['devops'] });
    expect(pub.json()).toEqual({ message: `Skill ${skillId} published to marketplace successfully` });
    expect((await req('GET', `/v1/skills/${skillId}`, carol)).json()).toMatchObject({ visibility: 'public', categories: ['devops'] });
    const market = (await req('GET', `/v1/skills?filters=${encodeURIComponent(JSON.stringify({ scope: 'marketplace' }))}`, carol)).json();
    expect(market.skills.map((s: { id: string }) => s.id)).toEqual([skillId]);
    await req('POST', `/v1/skills/${skillId}/marketplace/unpublish`, alice);
    expect((await req('GET', `/v1/skills/${skillId}`, carol)).statusCode).toBe(403);
  });

  it('instructions are drafted by the configured model; a model failure is the reference 500', async () => {
    llm.reset();
    llm.script({ text: '## Overview\nTest APIs.\n\n## Instructions\n### Step 1: Call it' });
    const res = await req('POST', '/v1/skills/instructions/generate', alice, { description: 'Testing REST APIs', skill_name: 'api-testing' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      instructions: '## Overview\nTest APIs.\n\n## Instructions\n### Step 1: Call it',
      metadata: { model: 'test-model', mode: 'generate' },
    });
    const sent = llm.chatRequests()[0]!;
    expect(JSON.stringify(sent.messages)).toContain('Testing REST APIs');
    llm.script({ status: 400, error: 'boom' });
    const failed = await req('POST', '/v1/skills/instructions/generate', alice, { existing_instructions: CONTENT });
    expect(failed.statusCode).toBe(500);
    expect(failed.json().error).toMatchObject({
      message: 'Failed to generate instructions',
      help: 'Try refining your description or using a different model.',
    });
    const empty = await req('POST', '/v1/skills/instructions/generate', alice, {});
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error).toMatchObject({
      message: 'Failed to generate instructions',
      details: 'A description (or existing instructions to refine) is required',
    });
    const unknownModel = await req('POST', '/v1/skills/instructions/generate', alice, { description: 'x', llm_model: 'nope' });
    expect(unknownModel.statusCode).toBe(400);
  });

  it('delete → 204; the skill leaves the assistants that had it', async () => {
    const aid = await createAssistant(alice, { name: 'Holder', skill_ids: [skillId] });
    expect((await req('DELETE', `/v1/skills/${skillId}`, bob)).statusCode).toBe(403);
    const del = await req('DELETE', `/v1/skills/${skillId}`, alice);
    expect(del.statusCode).toBe(204);
    expect((await req('GET', `/v1/skills/${skillId}`, alice)).statusCode).toBe(404);
    expect((await req('GET', `/v1/assistants/id/${aid}`, alice)).json().skill_ids).toEqual([]);
  });
});
