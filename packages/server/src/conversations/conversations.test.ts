/**
 * Conversations over HTTP on both databases, with assistant calls through the REAL test LLM
 * server (echo): list/detail fields, names, regeneration from a point (history_index), create and
 * update, files (listing and download), history edits (clear, delete a turn, edit an answer,
 * import), folders, finishing (owner, admin bulk, admin list, the 409 guard), final marks,
 * search, the unsaved template, and every ACL/404/409 text.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, tempDir, testAuthHeaders, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from '../../test/llm-server.js';

const alice = testAuthHeaders({ id: 'alice', username: 'alice', name: 'Alice', projects: ['demo'] });
const bob = testAuthHeaders({ id: 'bob', username: 'bob', name: 'Bob', projects: ['demo'] });
const root = testAuthHeaders({ id: 'root', username: 'root', name: 'Root', roles: ['admin'], isAdmin: true, projects: ['demo'] });

const NOT_FOUND_HELP = 'Please verify the conversation ID and try again. If you believe this is an error, contact support.';
const ACL_HELP =
  'Please ensure you have the correct role or permissions assigned to your account. If you believe this is an error, contact your system administrator.';
const notFound = (id: string) => ({
  error: { message: 'Conversation not found', details: `The conversation with ID [${id}] could not be found in the system.`, help: NOT_FOUND_HELP },
});
const denied = (verb: string) => ({
  error: { message: 'Access denied', details: `You do not have the necessary permissions to ${verb} this entity.`, help: ACL_HELP },
});
const finished = (id: string) => ({
  error: {
    message: 'Conversation is finished',
    details: `This conversation was closed and can no longer receive new messages (id=${id}).`,
    help: 'Start a new conversation to continue.',
  },
});

describe.each(DB_KINDS)('conversations API (%s)', (db) => {
  let llm: TestLlmServer;
  let p: TestPlatform;
  const tmp = tempDir('codemie-conv-');
  let assistantId: string;
  let otherAssistant: string;

  const req = async (method: string, url: string, headers: Record<string, string>, payload?: unknown) => {
    const r = await p.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: r.statusCode, body: r.body ? r.json() : null };
  };
  const chat = (text: string, conversationId?: string, extra: Record<string, unknown> = {}, headers = alice, assistant = assistantId) =>
    req('POST', `/v1/assistants/${assistant}/model`, headers, { text, ...(conversationId ? { conversation_id: conversationId } : {}), ...extra });
  const detail = async (id: string, headers = alice) => (await req('GET', `/v1/conversations/${id}`, headers)).body;
  const turns = (d: { history: Array<{ role: string; message: string; historyIndex: number }> }) => d.history.map((m) => [m.role, m.message, m.historyIndex]);

  beforeAll(async () => {
    llm = await startTestLlmServer();
    const { env } = writeTestModelsFile(llm, tmp.dir);
    p = await startTestPlatform({ db, testAuth: true, listen: true, env: { ...env, CODEMIE_LLM_MAX_RETRIES: '0' } });
    const mk = async (name: string, extra: Record<string, unknown> = {}) => {
      const r = await req('POST', '/v1/assistants', alice, {
        name,
        description: 'd',
        system_prompt: 's',
        llm_model_type: 'test-model',
        project: 'demo',
        ...extra,
      });
      expect(r.status).toBe(200);
      return r.body.assistantId as string;
    };
    assistantId = await mk('Helper Bot', {
      icon_url: 'https://icons.example/helper.png',
      conversation_starters: ['Ask me'],
      toolkits: [{ toolkit: 'General', tools: [{ name: 'get_weather' }] }],
    });
    otherAssistant = await mk('Second Bot');
  });
  afterAll(async () => {
    await p?.stop();
    await llm?.close();
    tmp.cleanup();
  });
  beforeEach(() => llm.reset());

  it('turns: list and detail fields, names (50 characters + "..."), assistants that answered (latest first)', async () => {
    const long = 'L'.repeat(60);
    expect((await chat(long, 'conv-fields')).status).toBe(200);
    expect((await chat('second', 'conv-fields', {}, alice, otherAssistant)).status).toBe(200);
    const item = (await req('GET', '/v1/conversations', alice)).body.find((c: { id: string }) => c.id === 'conv-fields');
    expect(item).toMatchObject({
      name: `${'L'.repeat(50)}...`,
      folder: null,
      pinned: false,
      assistant_ids: [otherAssistant, assistantId],
      initial_assistant_id: assistantId,
      is_workflow: false,
      workflow_id: null,
      conversation_id: null,
      assistant_icon: 'https://icons.example/helper.png',
      assistant_names: ['Helper Bot', 'Second Bot'],
      finished_at: null,
    });
    expect(item.date).toBe(item.update_date);
    expect(item.very_first_msg_at <= item.very_last_msg_at).toBe(true);
    const d = await detail('conv-fields');
    expect(d.conversation_name).toBe(`${'L'.repeat(50)}...`);
    expect(turns(d)).toEqual([
      ['User', long, 0],
      ['Assistant', `Echo: ${long}`, 0],
      ['User', 'second', 1],
      ['Assistant', 'Echo: second', 1],
    ]);
    expect(d.history[0]).toMatchObject({ messageRaw: long, fileNames: [], userMark: null, operatorMark: null, thoughts: null, executionStatus: null });
    expect(d.history[1].thoughts.length).toBeGreaterThan(0);
    expect(Date.parse(d.history[0].date)).toBeLessThanOrEqual(Date.parse(d.history[1].date));
    expect(d.assistant_data.map((a: { assistant_name: string }) => a.assistant_name).sort()).toEqual(['Helper Bot', 'Second Bot']);
    expect(d.assistant_data.find((a: { assistant_id: string }) => a.assistant_id === assistantId)).toMatchObject({
      assistant_type: 'codemie',
      assistant_icon: 'https://icons.example/helper.png',
      conversation_starters: ['Ask me'],
      tools: [{ name: 'get_weather', label: 'Get Weather', settings_config: false, description: null, user_description: null }],
    });
    expect(d).toMatchObject({ project: 'demo', finished_at: null, user_id: 'alice', user_name: 'Alice', is_workflow_conversation: false });
  });

  it('regenerating from a point: history_index of an earlier turn appends a variant; the model sees only the turns before it', async () => {
    await chat('one', 'conv-regen');
    await chat('two', 'conv-regen');
    llm.reset();
    const again = await chat('one again', 'conv-regen', { historyIndex: 0 });
    expect(again.body.generated).toBe('Echo: one again');
    const sent = llm.chatRequests()[0].messages.filter((m) => m.role !== 'system');
    expect(sent).toEqual([{ role: 'user', content: 'one again' }]);
    expect(turns(await detail('conv-regen'))).toEqual([
      ['User', 'one', 0],
      ['Assistant', 'Echo: one', 0],
      ['User', 'two', 1],
      ['Assistant', 'Echo: two', 1],
      ['User', 'one again', 0],
      ['Assistant', 'Echo: one again', 0],
    ]);
    llm.reset();
    await chat('three', 'conv-regen');
    // Continuing: each turn once, with its latest variant's text, in turn order.
    expect(llm.chatRequests()[0].messages.filter((m) => m.role !== 'system')).toEqual([
      { role: 'user', content: 'one again' },
      { role: 'assistant', content: 'Echo: one again' },
      { role: 'user', content: 'two' },
      { role: 'assistant', content: 'Echo: two' },
      { role: 'user', content: 'three' },
    ]);
    expect((await detail('conv-regen')).history.at(-1).historyIndex).toBe(2);
    // An index past the end is just the next turn.
    await chat('four', 'conv-regen', { history_index: 99 });
    expect((await detail('conv-regen')).history.at(-1).historyIndex).toBe(3);
  });

  it('detail paging counts messages; sort_order alone pages; no parameters, no pagination key', async () => {
    for (const t of ['p0', 'p1', 'p2']) await chat(t, 'conv-pages');
    const page = (await req('GET', '/v1/conversations/conv-pages?per_page=4', alice)).body;
    expect(page.pagination).toEqual({ page: 0, per_page: 4, total: 6, pages: 2, has_next: true, has_previous: false });
    expect(page.history).toHaveLength(4);
    const desc = (await req('GET', '/v1/conversations/conv-pages?sort_order=desc', alice)).body;
    expect(desc.pagination).toMatchObject({ page: 0, per_page: 20, total: 6 });
    expect(desc.history[0].message).toBe('Echo: p2');
    expect(desc.very_first_msg_at).toBe(page.history[0].date);
    expect((await detail('conv-pages')).pagination).toBeUndefined();
    expect((await req('GET', '/v1/conversations/conv-pages?sort_order=up', alice)).status).toBe(422);
  });

  it('POST /conversations creates an empty conversation (folder made); PUT renames, pins, moves, reorders assistants', async () => {
    const created = await req('POST', '/v1/conversations', alice, { initial_assistant_id: assistantId, folder: 'F1', mcp_server_single_usage: false });
    expect(created.status).toBe(200);
    const id = created.body.id;
    expect(created.body).toMatchObject({ conversation_id: id, conversation_name: '', history: [], folder: 'F1', assistant_ids: [assistantId], pinned: false });
    expect((await req('GET', '/v1/conversations/folders/list', alice)).body.map((f: { folder_name: string }) => f.folder_name)).toContain('F1');
    // The first message names a pre-created conversation.
    await chat('Hello there', id);
    expect((await detail(id)).conversation_name).toBe('Hello there');
    expect((await req('GET', '/v1/conversations', alice)).body.find((c: { id: string }) => c.id === id).name).toBe('Hello there');
    const upd = await req('PUT', `/v1/conversations/${id}`, alice, { name: 'Renamed', pinned: true, folder: 'Elsewhere', llmModel: 'test-model' });
    expect(upd.status).toBe(200);
    expect(upd.body).toMatchObject({ conversation_name: 'Renamed', pinned: true, folder: 'Elsewhere', llm_model: 'test-model' });
    // An empty name is ignored.
    expect((await req('PUT', `/v1/conversations/${id}`, alice, { name: '' })).body.conversation_name).toBe('Renamed');
    await chat('with the other', id, {}, alice, otherAssistant);
    expect((await detail(id)).assistant_ids).toEqual([otherAssistant, assistantId]);
    const active = await req('PUT', `/v1/conversations/${id}`, alice, { active_assistant_id: assistantId });
    expect(active.body.assistant_ids).toEqual([assistantId, otherAssistant]);
    expect((await req('GET', '/v1/conversations', alice)).body.find((c: { id: string }) => c.id === id)).toMatchObject({ pinned: true, name: 'Renamed' });
    expect(await req('PUT', '/v1/conversations/nope', alice, { name: 'x' })).toEqual({ status: 404, body: notFound('nope') });
    expect(await req('PUT', `/v1/conversations/${id}`, bob, { name: 'x' })).toEqual({ status: 403, body: denied('write') });
    const wf = await req('POST', '/v1/conversations', alice, { initial_assistant_id: 'no-such-workflow', is_workflow: true });
    expect(wf).toEqual({ status: 404, body: { error: { message: 'Requested workflow with id no-such-workflow not found', details: null, help: null } } });
  });

  it('files: listed from the history, downloadable by those who may read the conversation', async () => {
    const form = new FormData();
    form.append('file', new Blob(['file body'], { type: 'text/plain' }), 'notes.txt');
    const up = await fetch(`${p.url}/v1/files/`, { method: 'POST', headers: alice, body: form });
    const { file_url } = (await up.json()) as { file_url: string };
    await chat('read it', 'conv-files', { file_names: [file_url] });
    await chat('again', 'conv-files', { file_names: [file_url] });
    expect(await req('GET', '/v1/conversations/conv-files/files', alice)).toEqual({ status: 200, body: [file_url] });
    const dl = await fetch(`${p.url}/v1/conversations/conv-files/files/${file_url}`, { headers: alice });
    expect(dl.status).toBe(200);
    expect(await dl.text()).toBe('file body');
    const byAdmin = await fetch(`${p.url}/v1/conversations/conv-files/files/${file_url}`, { headers: root });
    expect(byAdmin.status).toBe(200);
    expect((await fetch(`${p.url}/v1/conversations/conv-files/files/${file_url}`, { headers: bob })).status).toBe(403);
    await chat('no files', 'conv-nofiles');
    expect((await req('GET', '/v1/conversations/conv-nofiles/files', alice)).body).toEqual([]);
    const elsewhere = await req('GET', `/v1/conversations/conv-nofiles/files/${file_url}`, alice);
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body.error.message).toBe('File not found');
    expect(await req('GET', '/v1/conversations/conv-files/files', bob)).toEqual({ status: 403, body: denied('view') });
    expect(await req('GET', '/v1/conversations/ghost/files', alice)).toEqual({ status: 404, body: notFound('ghost') });
  });

  it('history: edit an answer (a variant), delete a turn (renumbered), clear', async () => {
    for (const t of ['a', 'b', 'c']) await chat(t, 'conv-hist');
    const edited = await req('PUT', '/v1/conversations/conv-hist/history/0', alice, { messageIndex: 0, message: 'edited' });
    expect(edited.status).toBe(200);
    expect(edited.body.history).toHaveLength(8);
    expect(turns(edited.body).slice(-2)).toEqual([
      ['User', 'a', 0],
      ['Assistant', 'edited', 0],
    ]);
    // A variant index that turn 1 does not have: its latest variant is edited.
    const lenient = await req('PUT', '/v1/conversations/conv-hist/history/1', alice, { messageIndex: 1, message: 'edited 1' });
    expect(turns(lenient.body).at(-1)).toEqual(['Assistant', 'edited 1', 1]);
    const noTurn = await req('PUT', '/v1/conversations/conv-hist/history/9', alice, { messageIndex: 0, message: 'x' });
    expect(noTurn).toEqual({
      status: 400,
      body: { error: { message: 'History item not found', details: 'The conversation [conv-hist] has no history item with index [9].', help: null } },
    });
    expect((await req('PUT', '/v1/conversations/conv-hist/history/0', alice, { messageIndex: 0 })).status).toBe(422);

    const del = await req('DELETE', '/v1/conversations/conv-hist/history/1', alice);
    expect(del.status).toBe(200);
    expect(turns(del.body)).toEqual([
      ['User', 'a', 0],
      ['Assistant', 'Echo: a', 0],
      ['User', 'c', 1],
      ['Assistant', 'Echo: c', 1],
      ['User', 'a', 0],
      ['Assistant', 'edited', 0],
    ]);
    const cleared = await req('DELETE', '/v1/conversations/conv-hist/history', alice);
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ history: [], assistant_ids: [assistantId], conversation_name: 'a' });
    expect((await req('GET', '/v1/conversations', alice)).body.some((c: { id: string }) => c.id === 'conv-hist')).toBe(true);
    for (const [m, u, b] of [
      ['DELETE', '/v1/conversations/conv-hist/history', undefined],
      ['DELETE', '/v1/conversations/conv-hist/history/0', undefined],
      ['PUT', '/v1/conversations/conv-hist/history/0', { messageIndex: 0, message: 'x' }],
    ] as const) {
      expect(await req(m, u, bob, b)).toEqual({ status: 403, body: denied('write') });
      expect(await req(m, u.replace('conv-hist', 'ghost'), alice, b)).toEqual({ status: 404, body: notFound('ghost') });
    }
  });

  it('history import (PUT …/history): 201 on create, idempotent, replaces by (historyIndex, role); 400/403/422', async () => {
    const at = '2026-01-02T03:04:05.000Z';
    const pair = (i: number, q: string, a: string) => [
      { role: 'User', message: q, historyIndex: i, date: at, fileNames: [] },
      { role: 'Assistant', message: a, history_index: i, date: at, file_names: [] },
    ];
    const first = await req('PUT', '/v1/conversations/imported-1/history', alice, {
      assistant_id: assistantId,
      folder: 'Imports',
      history: pair(0, 'Q <b>', 'A'),
    });
    expect(first).toEqual({ status: 201, body: { conversation_id: 'imported-1', new_messages: 2, total_messages: 2, created: true } });
    const again = await req('PUT', '/v1/conversations/imported-1/history', alice, { assistant_id: assistantId, history: pair(0, 'Q <b>', 'A') });
    expect(again).toEqual({ status: 200, body: { conversation_id: 'imported-1', new_messages: 2, total_messages: 2, created: false } });
    await req('PUT', '/v1/conversations/imported-1/history', alice, { assistant_id: otherAssistant, history: pair(1, 'Q2', 'A2') });
    const replaced = await req('PUT', '/v1/conversations/imported-1/history', alice, {
      assistant_id: assistantId,
      history: [{ role: 'Assistant', message: 'A-new', historyIndex: 0, date: at, fileNames: [] }],
    });
    expect(replaced.body).toMatchObject({ new_messages: 1, total_messages: 4 });
    const d = await detail('imported-1');
    expect(turns(d)).toEqual([
      ['User', 'Q <b>', 0],
      ['Assistant', 'A-new', 0],
      ['User', 'Q2', 1],
      ['Assistant', 'A2', 1],
    ]);
    expect(d.history[0]).toMatchObject({ messageRaw: 'Q &lt;b&gt;', date: at });
    expect(d).toMatchObject({ conversation_name: 'Q <b>', folder: 'Imports', initial_assistant_id: assistantId, assistant_ids: [assistantId, otherAssistant] });
    expect((await req('GET', '/v1/conversations/folders/list', alice)).body.map((f: { folder_name: string }) => f.folder_name)).toContain('Imports');
    // The model continues from the imported turns.
    llm.reset();
    await chat('next', 'imported-1');
    expect(
      llm
        .chatRequests()[0]
        .messages.filter((m) => m.role !== 'system')
        .map((m) => m.content),
    ).toEqual(['Q <b>', 'A-new', 'Q2', 'A2', 'next']);

    const noAssistant = await req('PUT', '/v1/conversations/imported-2/history', alice, { history: pair(0, 'q', 'a') });
    expect(noAssistant.status).toBe(422);
    expect(noAssistant.body.error.message).toContain('assistant_id');
    expect(await req('PUT', '/v1/conversations/imported-2/history', alice, { assistant_id: assistantId, history: [] })).toEqual({
      status: 400,
      body: {
        error: {
          message: 'History cannot be empty',
          details: 'The request must contain at least one message in the history.',
          help: 'Please provide a valid history array with at least one message.',
        },
      },
    });
    expect(await req('PUT', '/v1/conversations/imported-1/history', bob, { assistant_id: assistantId, history: pair(5, 'q', 'a') })).toEqual({
      status: 403,
      body: denied('write'),
    });
    const both = await req('PUT', '/v1/conversations/imported-2/history', alice, {
      assistant_id: assistantId,
      history: [{ role: 'User', message: 'q', file_name: 'a', fileNames: ['b'] }],
    });
    expect(both.status).toBe(422);
    expect(both.body.error.message).toContain('Cannot provide both file_name and file_names. Use only file_names.');
  });

  it('folders: create, unique and reserved names, rename with "/" (conversations move), delete with or without conversations', async () => {
    expect(await req('POST', '/v1/conversations/folder', alice, { folder: 'Team/Q1' })).toEqual({ status: 200, body: { message: 'Folder created' } });
    const dup = { status: 400, body: { error: { message: 'Folder name already exists', details: 'Folder name should be unique', help: '' } } };
    expect(await req('POST', '/v1/conversations/folder', alice, { folder: 'Team/Q1' })).toEqual(dup);
    expect(await req('POST', '/v1/conversations/folder', alice, { folder: 'Default' })).toEqual(dup);
    // Bob has his own namespace.
    expect((await req('POST', '/v1/conversations/folder', bob, { folder: 'Team/Q1' })).status).toBe(200);
    await chat('in a folder', 'conv-folder');
    await req('PUT', '/v1/conversations/conv-folder', alice, { folder: 'Team/Q1' });
    expect(await req('PUT', '/v1/conversations/folder/Team/Q1', alice, { folder: 'Team Q2' })).toEqual({
      status: 200,
      body: { message: 'Folder name updated' },
    });
    let names = (await req('GET', '/v1/conversations/folders/list', alice)).body.map((f: { folder_name: string }) => f.folder_name);
    expect(names).toContain('Team Q2');
    expect(names).not.toContain('Team/Q1');
    expect((await detail('conv-folder')).folder).toBe('Team Q2');
    await req('POST', '/v1/conversations/folder', alice, { folder: 'Taken' });
    expect(await req('PUT', '/v1/conversations/folder/Team%20Q2', alice, { folder: 'Taken' })).toEqual({
      status: 400,
      body: { error: { message: 'Folder name already exists', details: 'Folder name should be unique', help: null } },
    });
    expect((await detail('conv-folder')).folder).toBe('Team Q2');
    const folder = (await req('GET', '/v1/conversations/folders/list', alice)).body.find((f: { folder_name: string }) => f.folder_name === 'Team Q2');
    expect(folder).toMatchObject({ user_id: 'alice', user_abilities: [] });
    expect(await req('DELETE', '/v1/conversations/folder/Team%20Q2?remove_conversations=false', alice)).toEqual({
      status: 200,
      body: { message: 'Folder removed' },
    });
    expect((await detail('conv-folder')).folder).toBe('');
    await req('PUT', '/v1/conversations/conv-folder', alice, { folder: 'Taken' });
    expect((await req('DELETE', '/v1/conversations/folder/Taken?remove_conversations=True', alice)).status).toBe(200);
    expect((await req('GET', '/v1/conversations/conv-folder', alice)).status).toBe(404);
    names = (await req('GET', '/v1/conversations/folders/list', alice)).body.map((f: { folder_name: string }) => f.folder_name);
    expect(names).not.toContain('Taken');
    expect((await req('GET', '/v1/conversations/folders/list', bob)).body.map((f: { folder_name: string }) => f.folder_name)).toEqual(['Team/Q1']);
  });

  it('finishing: 409 on a second finish, on assistant calls and history edits; rename, share, feedback still work; isFinished filters', async () => {
    await chat('to finish', 'conv-fin');
    await chat('stays open', 'conv-open');
    const f = await req('POST', '/v1/conversations/conv-fin/finish', alice);
    expect(f.status).toBe(200);
    expect(f.body.conversationId).toBe('conv-fin');
    expect(Date.parse(f.body.finishedAt)).not.toBeNaN();
    expect(await req('POST', '/v1/conversations/conv-fin/finish', alice)).toEqual({ status: 409, body: finished('conv-fin') });
    llm.reset();
    expect(await chat('more', 'conv-fin')).toEqual({ status: 409, body: finished('conv-fin') });
    expect(llm.chatRequests()).toHaveLength(0); // refused before the model runs
    const streamed = await fetch(`${p.url}/v1/assistants/${assistantId}/model`, {
      method: 'POST',
      headers: { ...alice, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x', conversation_id: 'conv-fin', stream: true }),
    });
    expect(streamed.status).toBe(409);
    for (const [m, u, b] of [
      ['DELETE', '/v1/conversations/conv-fin/history', undefined],
      ['DELETE', '/v1/conversations/conv-fin/history/0', undefined],
      ['PUT', '/v1/conversations/conv-fin/history/0', { messageIndex: 0, message: 'x' }],
      ['PUT', '/v1/conversations/conv-fin/history', { assistant_id: assistantId, history: [{ role: 'User', message: 'q', historyIndex: 5 }] }],
    ] as const) {
      expect(await req(m, u, alice, b)).toEqual({ status: 409, body: finished('conv-fin') });
    }
    expect((await req('PUT', '/v1/conversations/conv-fin', alice, { name: 'still ok', pinned: true })).status).toBe(200);
    expect((await req('POST', '/v1/share/conversations', alice, { chat_id: 'conv-fin' })).status).toBe(201);
    const fb = await req('POST', '/v1/feedback', alice, {
      conversationId: 'conv-fin',
      messageIndex: 1,
      assistant_id: assistantId,
      request: 'to finish',
      response: 'Echo: to finish',
      mark: 'correct',
      author: 'user',
    });
    expect(fb.status).toBe(200);
    expect((await detail('conv-fin')).finished_at).toBe(f.body.finishedAt);
    const onlyFinished = (await req('GET', '/v1/conversations?isFinished=True', alice)).body.map((c: { id: string }) => c.id);
    expect(onlyFinished).toContain('conv-fin');
    expect(onlyFinished).not.toContain('conv-open');
    const open = (await req('GET', '/v1/conversations?isFinished=false', alice)).body.map((c: { id: string }) => c.id);
    expect(open).toContain('conv-open');
    expect(open).not.toContain('conv-fin');
    expect(await req('POST', '/v1/conversations/conv-open/finish', bob)).toEqual({ status: 403, body: denied('write') });
    expect(await req('POST', '/v1/conversations/ghost/finish', alice)).toEqual({ status: 404, body: notFound('ghost') });
    // Another user's conversation id in an assistant call: refused with the handler's texts.
    expect(await chat('hijack', 'conv-open', {}, bob)).toEqual({
      status: 403,
      body: {
        error: {
          message: 'Access denied',
          details: "You don't have permission to access conversation conv-open.",
          help: 'Please ensure you have the correct permissions or contact the conversation owner.',
        },
      },
    });
  });

  it('admin: finish-bulk (per id, in order), the cross-user list (oldest first, filters, paging), a user conversation, operator mark', async () => {
    await chat('bob 1', 'bob-c1', {}, bob);
    await chat('alice b1', 'al-b1');
    await req('POST', '/v1/conversations/al-b1/finish', alice);
    const bulk = await req('POST', '/v1/admin/conversations/finish-bulk', root, { conversationIds: ['bob-c1', 'al-b1', 'missing-id'] });
    expect(bulk.status).toBe(200);
    expect(bulk.body.total).toBe(3);
    expect(
      bulk.body.results.map((r: { conversationId: string; alreadyFinished: boolean; error: string | null }) => [r.conversationId, r.alreadyFinished, r.error]),
    ).toEqual([
      ['bob-c1', false, null],
      ['al-b1', true, null],
      ['missing-id', false, 'not_found'],
    ]);
    expect(bulk.body.results[0].finishedAt).toBeTruthy();
    expect(bulk.body.results[2].finishedAt).toBeNull();
    expect((await req('POST', '/v1/admin/conversations/finish-bulk', root, { conversation_ids: [] })).status).toBe(422);
    expect((await req('POST', '/v1/admin/conversations/finish-bulk', root, { conversationIds: Array.from({ length: 501 }, (_, i) => `x${i}`) })).status).toBe(
      422,
    );
    const adminOnly = { error: { message: 'Access denied', details: 'This action requires administrator or maintainer privileges.', help: null } };
    expect(await req('POST', '/v1/admin/conversations/finish-bulk', alice, { conversationIds: ['bob-c1'] })).toEqual({ status: 403, body: adminOnly });
    expect(await req('GET', '/v1/admin/conversations', alice)).toEqual({ status: 403, body: adminOnly });

    const all = (await req('GET', '/v1/admin/conversations?page=0&perPage=200', root)).body;
    expect(all.pagination).toMatchObject({ page: 0, per_page: 200 });
    const created = all.data.map((c: { created_date: string }) => c.created_date);
    expect([...created].sort()).toEqual(created);
    expect(new Set(all.data.map((c: { user_id: string }) => c.user_id))).toEqual(new Set(['alice', 'bob']));
    const unfinished = (await req('GET', '/v1/admin/conversations?isFinished=False&perPage=2', root)).body;
    expect(unfinished.pagination).toMatchObject({ per_page: 2, total: all.data.filter((c: { finished_at: string | null }) => !c.finished_at).length });
    expect(unfinished.data.every((c: { finished_at: string | null }) => c.finished_at === null)).toBe(true);
    expect(unfinished.data).toHaveLength(2);
    const finishedOnes = (await req('GET', '/v1/admin/conversations?isFinished=true&per_page=200', root)).body.data.map((c: { id: string }) => c.id);
    expect(finishedOnes).toEqual(expect.arrayContaining(['bob-c1', 'al-b1']));
    const future = (await req('GET', `/v1/admin/conversations?startedAt=${encodeURIComponent('2999-01-01T00:00:00Z')}`, root)).body;
    expect(future).toEqual({ data: [], pagination: { page: 0, per_page: 20, total: 0, pages: 0 } });
    expect((await req('GET', '/v1/admin/conversations?project=nowhere', root)).body.pagination.total).toBe(0);
    expect((await req('GET', '/v1/admin/conversations?project=demo&perPage=200', root)).body.data.some((c: { id: string }) => c.id === 'bob-c1')).toBe(true);
    expect((await req('GET', '/v1/admin/conversations?startedAt=yesterday', root)).status).toBe(422);

    expect((await req('GET', '/v1/admin/users/bob/conversations/bob-c1', root)).body).toMatchObject({ id: 'bob-c1', user_id: 'bob' });
    expect(await req('GET', '/v1/admin/users/alice/conversations/bob-c1', root)).toEqual({ status: 404, body: notFound('bob-c1') });
    const op = await req('PUT', '/v1/admin/users/bob/conversations/bob-c1/feedback', root, { author: 'operator', mark: 'wrong', comments: 'off topic' });
    expect(await req('PUT', '/v1/admin/users/bob/conversations/ghost/feedback', root, { author: 'operator', mark: 'wrong' })).toEqual({
      status: 404,
      body: notFound('ghost'),
    });
    expect(op.body.final_operator_mark).toMatchObject({ mark: 'wrong', rating: 0, comments: 'off topic', operator: { user_id: 'root', name: 'Root' } });
    // Admins are excepted from owner-only access.
    expect((await req('GET', '/v1/conversations/bob-c1', root)).status).toBe(200);
  });

  it('final user mark, search, the unsaved template', async () => {
    await chat('Quarterly planning notes', 'conv-search');
    const mark = await req('POST', '/v1/conversations/conv-search/feedback', alice, { author: 'user', mark: 'partially correct' });
    expect(mark).toEqual({ status: 200, body: { user_id: 'alice', conversation_id: 'conv-search' } });
    expect((await detail('conv-search')).final_user_mark).toMatchObject({ mark: 'partially correct', rating: 50, comments: '' });
    expect(await req('POST', '/v1/conversations/conv-search/feedback', bob, { author: 'user', mark: 'wrong' })).toEqual({
      status: 404,
      body: notFound('conv-search'),
    });

    await req('POST', '/v1/conversations/folder', alice, { folder: 'Planning folder' });
    const found = (await req('GET', '/v1/conversations/search?query=PLANNING', alice)).body.items;
    expect(found.map((i: { name: string; type: string }) => [i.type, i.name])).toEqual(
      expect.arrayContaining([
        ['chat', 'Quarterly planning notes'],
        ['folder', 'Planning folder'],
      ]),
    );
    expect((await req('GET', '/v1/conversations/search?query=PLANNING', bob)).body.items).toEqual([]);
    expect((await req('GET', '/v1/conversations/search?query=pl', alice)).status).toBe(422);

    const tpl = await req('GET', `/v1/conversations/new?initial_assistant_id=${assistantId}&folder=F`, alice);
    expect(tpl.body).toMatchObject({
      id: 'new',
      conversation_id: 'new',
      history: [],
      folder: 'F',
      assistant_ids: [assistantId],
      is_workflow_conversation: false,
    });
    expect(tpl.body.assistant_data[0].assistant_name).toBe('Helper Bot');
    expect((await req('GET', '/v1/conversations/new', alice)).body.assistant_ids).toEqual([]);
    expect(await req('GET', '/v1/conversations/new?initial_assistant_id=nope', alice)).toEqual({
      status: 404,
      body: { error: { message: 'Assistant nope not found.', details: null, help: null } },
    });
    expect(await req('GET', '/v1/conversations/new?initial_assistant_id=nope&is_workflow=true', alice)).toEqual({
      status: 404,
      body: { error: { message: 'Workflow nope not found.', details: null, help: null } },
    });
    expect((await req('GET', '/v1/conversations', alice)).body.some((c: { id: string }) => c.id === 'new')).toBe(false);
  });

  it('workflow chats through the service: listed with workflow_id and conversation_id; the finish guard', async () => {
    const user = {
      id: 'alice',
      username: 'alice',
      name: 'Alice',
      email: 'a@example.com',
      roles: [],
      projects: ['demo'],
      adminProjects: [],
      isAdmin: false,
      userType: 'regular',
    };
    const svc = p.services.conversations;
    const wf = await req('POST', '/v1/workflows', alice, {
      name: 'Chat flow',
      description: 'd',
      project: 'demo',
      yaml_config: 'assistants:\n  - id: a\n    system_prompt: x\nstates:\n  - id: first\n    assistant_id: a\n    task: hi\n    next:\n      state_id: end\n',
    });
    expect(wf.status).toBe(200);
    const workflowId = wf.body.data.id;
    await svc.appendTurn('wf-chat', user, { assistantId: workflowId, project: 'demo', firstText: 'run it', llmModel: 'm', workflow: true }, (i) => [
      { role: 'User', message: 'run it', historyIndex: i, date: new Date().toISOString() },
      { role: 'Assistant', message: 'done', historyIndex: i, date: new Date().toISOString(), executionId: 'exec-1', workflowExecutionRef: true },
    ]);
    const item = (await req('GET', '/v1/conversations', alice)).body.find((c: { id: string }) => c.id === 'wf-chat');
    expect(item).toMatchObject({ is_workflow: true, workflow_id: workflowId, conversation_id: 'wf-chat', name: 'run it' });
    const d = await detail('wf-chat');
    expect(d.is_workflow_conversation).toBe(true);
    expect(d.assistant_data).toHaveLength(1);
    expect(d.assistant_data[0]).toMatchObject({ assistant_id: workflowId, assistant_type: null, conversation_starters: [] });
    expect(d.assistant_data[0].assistant_name).toBe('Chat flow');
    expect(d.history[1]).toMatchObject({ executionId: 'exec-1', workflowExecutionRef: true });
    await svc.assertCanContinue('wf-chat', user);
    await req('POST', '/v1/conversations/wf-chat/finish', alice);
    await expect(svc.assertCanContinue('wf-chat', user)).rejects.toMatchObject({ status: 409, message: 'Conversation is finished' });
    await expect(svc.assertOpen('wf-chat')).rejects.toMatchObject({ status: 409 });
    await expect(svc.assertCanContinue('wf-chat', { ...user, id: 'bob' })).rejects.toMatchObject({ status: 403 });
    await svc.assertCanContinue('never-used', user);
  });

  it('ACL and 404 texts on read and delete; delete all clears conversations, folders and share links', async () => {
    await chat('mine', 'conv-acl');
    expect(await req('GET', '/v1/conversations/conv-acl', bob)).toEqual({ status: 403, body: denied('view') });
    expect(await req('DELETE', '/v1/conversations/conv-acl', bob)).toEqual({ status: 403, body: denied('delete') });
    expect(await req('GET', '/v1/conversations/ghost', alice)).toEqual({ status: 404, body: notFound('ghost') });
    expect(await req('DELETE', '/v1/conversations/ghost', alice)).toEqual({ status: 404, body: notFound('ghost') });
    expect(await req('DELETE', '/v1/conversations/conv-acl', alice)).toEqual({ status: 200, body: { message: 'Specified conversation removed' } });

    const u = testAuthHeaders({ id: 'carol', username: 'carol', name: 'Carol', projects: ['demo'] });
    await chat('carol 1', 'carol-1', {}, u);
    await req('POST', '/v1/conversations/folder', u, { folder: 'Carol folder' });
    const share = await req('POST', '/v1/share/conversations', u, { chat_id: 'carol-1' });
    expect((await req('GET', `/v1/share/conversations/${share.body.token}`, {})).status).toBe(200);
    expect(await req('DELETE', '/v1/conversations', u)).toEqual({ status: 200, body: { message: 'Conversation history cleared' } });
    expect((await req('GET', '/v1/conversations', u)).body).toEqual([]);
    expect((await req('GET', '/v1/conversations/folders/list', u)).body).toEqual([]);
    expect((await req('GET', `/v1/share/conversations/${share.body.token}`, {})).status).toBe(404);
    expect((await req('GET', '/v1/conversations', alice)).body.length).toBeGreaterThan(0);
  });
});
