/**
 * Files end to end on a real started server with real tokens from the embedded IdP: upload and
 * download (bytes identical), 413/415/422/401/403/404, bulk upload, and attached files reaching
 * the model through the REAL test LLM server, for workflow executions and assistant calls.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, tempDir, type TestPlatform } from '../../test/helpers.js';
import { authHeaders, createUser, passwordToken } from '../../test/identity-helpers.js';
import { startTestLlmServer, writeTestModelsFile, type RecordedRequest, type TestLlmServer } from '../../test/llm-server.js';
import { decodeFileUrl, encodeFileUrl, typeAllowed } from './service.js';

const WORKFLOW = `
assistants:
  - id: a
    system_prompt: "ROLE reader"
states:
  - id: first
    assistant_id: a
    task: "Summarise the files {{file_names}}"
    next:
      state_id: second
  - id: second
    assistant_id: a
    task: "Again"
    next:
      state_id: end
`;

const allText = (r: RecordedRequest) => r.messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content))).join('\n');

describe('file_url encoding and type checks', () => {
  it('round-trips base64url(<id>/<name>) and accepts a bare id; rejects others', () => {
    const id = '0b7f5f3e-6f7a-4c1e-9d2b-8f1e2a3b4c5d';
    const url = encodeFileUrl({ id, name: 'r é/port.txt' });
    expect(Buffer.from(url, 'base64url').toString()).toBe(`${id}/r é/port.txt`);
    expect(decodeFileUrl(url)).toBe(id);
    expect(decodeFileUrl(id)).toBe(id);
    expect(decodeFileUrl('notes.txt')).toBeNull();
  });
  it('matches MIME types, families and extensions', () => {
    expect(typeAllowed(['text/*'], 'text/markdown', 'a.md')).toBe(true);
    expect(typeAllowed(['.csv'], 'application/octet-stream', 'x.CSV')).toBe(true);
    expect(typeAllowed(['image/png'], 'image/png; charset=binary', 'x.png')).toBe(true);
    expect(typeAllowed(['text/*', '.md'], 'application/x-msdownload', 'x.exe')).toBe(false);
  });
});

describe.each(DB_KINDS)('files API (%s)', (db) => {
  let llm: TestLlmServer;
  let p: TestPlatform;
  const tmp = tempDir('codemie-files-');
  const tok: Record<string, Record<string, string>> = {};

  beforeAll(async () => {
    llm = await startTestLlmServer();
    const { env } = writeTestModelsFile(llm, tmp.dir);
    p = await startTestPlatform({ db, listen: true, env: { ...env, CODEMIE_FILES_MAX_BYTES: '4096', CODEMIE_FILES_MAX_TEXT_CHARS: '200', CODEMIE_LLM_MAX_RETRIES: '0' } });
    await createUser(p, { username: 'alice', projects: ['demo'] });
    await createUser(p, { username: 'bob', projects: ['demo'] });
    await createUser(p, { username: 'eve', projects: ['other'] });
    for (const u of ['alice', 'bob', 'eve']) tok[u] = authHeaders(await passwordToken(p, u));
  });
  afterAll(async () => {
    await p?.stop();
    await llm?.close();
    tmp.cleanup();
  });
  beforeEach(() => llm.reset());

  async function upload(user: string, name: string, content: string | Uint8Array, type = 'text/plain', opts: { field?: string; project?: string; path?: string } = {}) {
    const form = new FormData();
    if (opts.project) form.append('project', opts.project);
    form.append(opts.field ?? 'file', new Blob([content], { type }), name);
    const res = await fetch(`${p.url}${opts.path ?? '/v1/files/'}`, { method: 'POST', headers: tok[user], body: form });
    return { status: res.status, body: (await res.json()) as any };
  }
  const get = (user: string | null, url: string) => fetch(`${p.url}/v1/files/${url}`, { headers: user ? tok[user] : {} });
  const api = async (user: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${p.url}${path}`, { method, headers: { ...tok[user], ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body !== undefined ? JSON.stringify(body) : undefined });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('uploads (SDK upload_file_to_chat shape) and downloads the identical bytes', async () => {
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255, 254, 10, 13]);
    const up = await upload('alice', 'pixel.png', bytes, 'image/png');
    expect(up.status).toBe(200);
    expect(Object.keys(up.body)).toEqual(['file_url']);
    expect(Buffer.from(up.body.file_url, 'base64url').toString()).toMatch(/^[0-9a-f-]{36}\/pixel\.png$/);
    const res = await get('alice', up.body.file_url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''pixel.png");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    // Also under the reference's prefix.
    expect((await fetch(`${p.url}/code-assistant-api/v1/files/${up.body.file_url}`, { headers: tok.alice })).status).toBe(200);
  });

  it('refuses an over-size file (413), a refused type (415), a missing file part (422), no token (401)', async () => {
    const big = await upload('alice', 'big.txt', 'x'.repeat(5000));
    expect(big.status).toBe(413);
    expect(big.body.error).toMatchObject({ message: 'File too large', details: expect.stringContaining('4096') });
    const exe = await upload('alice', 'tool.exe', 'MZ', 'application/x-msdownload');
    expect(exe.status).toBe(415);
    expect(exe.body.error.message).toBe('Unsupported file type');
    expect(exe.body.error.details).toContain('application/x-msdownload');
    const wrongField = await upload('alice', 'a.txt', 'hi', 'text/plain', { field: 'document' });
    expect(wrongField.status).toBe(422);
    expect(wrongField.body.error.message).toBe('file: Field required');
    const json = await api('alice', 'POST', '/v1/files/', { file: 'x' });
    expect(json.status).toBe(422);
    expect((await fetch(`${p.url}/v1/files/`, { method: 'POST', body: new FormData() })).status).toBe(401);
  });

  it('GET: owner 200, project member 200 (project files only), others 403, unknown 404', async () => {
    const priv = (await upload('alice', 'private.txt', 'secret notes')).body.file_url;
    const shared = (await upload('alice', 'team.txt', 'team notes', 'text/plain', { project: 'demo' })).body.file_url;
    expect((await get('bob', priv)).status).toBe(403);
    const bobShared = await get('bob', shared);
    expect(bobShared.status).toBe(200);
    expect(await bobShared.text()).toBe('team notes');
    const eve = await get('eve', shared);
    expect(eve.status).toBe(403);
    expect(((await eve.json()) as any).error.message).toBe('Access denied');
    const unknown = await get('alice', encodeFileUrl({ id: '00000000-0000-4000-8000-000000000000', name: 'x.txt' }));
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.message).toBe('File not found');
    expect((await get('alice', 'garbage')).status).toBe(404);
    expect((await get(null, priv)).status).toBe(401);
    // Uploading into a project you are not a member of is refused.
    expect((await upload('eve', 'x.txt', 'x', 'text/plain', { project: 'demo' })).status).toBe(403);
  });

  it('bulk upload returns file_urls and lists refused files', async () => {
    const form = new FormData();
    form.append('files', new Blob(['one'], { type: 'text/plain' }), 'one.txt');
    form.append('files', new Blob(['MZ'], { type: 'application/x-msdownload' }), 'bad.exe');
    form.append('files', new Blob(['{"a":1}'], { type: 'application/json' }), 'two.json');
    const res = await fetch(`${p.url}/v1/files/bulk`, { method: 'POST', headers: tok.alice, body: form });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.files).toHaveLength(2);
    expect(body.failed_files).toEqual([{ file_name: 'bad.exe', error: 'Unsupported file type' }]);
    expect(await (await get('alice', body.files[1].file_url)).text()).toBe('{"a":1}');
  });

  it('workflow execution: file_names in the context store, text content in the prompt; unknown 400, foreign 403', async () => {
    const wf = await api('alice', 'POST', '/v1/workflows', { name: 'files', description: 'd', project: 'demo', yaml_config: WORKFLOW });
    expect(wf.status).toBe(200);
    const wid = wf.body.data.id;
    const notes = (await upload('alice', 'notes.txt', `BANANA-42 ${'y'.repeat(300)}`)).body.file_url;
    const image = (await upload('alice', 'pic.png', new Uint8Array([1, 2, 3]), 'image/png')).body.file_url;

    const ex = await api('alice', 'POST', `/v1/workflows/${wid}/executions`, { user_input: 'go', file_name: notes, file_names: [image] });
    expect(ex.status).toBe(200);
    expect(ex.body.file_names).toEqual([image, notes]);
    let done: any;
    for (let i = 0; i < 500; i++) {
      done = (await api('alice', 'GET', `/v1/workflows/${wid}/executions/${ex.body.execution_id}`)).body;
      if (done.overall_status !== 'In Progress') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(done.overall_status).toBe('Succeeded');
    const states = (await api('alice', 'GET', `/v1/workflows/${wid}/executions/${ex.body.execution_id}/states?per_page=10`)).body.data;
    const first = states.find((s: any) => s.name === 'first');
    expect(first.task).toContain('pic.png');
    expect(first.task).toContain('notes.txt');
    const calls = llm.chatRequests();
    expect(calls).toHaveLength(2);
    for (const c of calls) {
      const text = allText(c);
      expect(text).toContain('<file name="notes.txt">\nBANANA-42');
      expect(text).toContain('[… truncated]');
      expect(text).not.toContain('y'.repeat(200)); // cut at CODEMIE_FILES_MAX_TEXT_CHARS=200
      expect(text).not.toContain('<file name="pic.png"'); // binary files: no content block
    }

    const unknownUrl = encodeFileUrl({ id: '00000000-0000-4000-8000-000000000001', name: 'gone.txt' });
    const unknown = await api('alice', 'POST', `/v1/workflows/${wid}/executions`, { user_input: 'go', file_names: [unknownUrl] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toContain(unknownUrl);
    expect((await api('alice', 'POST', `/v1/workflows/${wid}/executions`, { user_input: 'go', file_name: 'a.txt' })).status).toBe(400);
    const bobs = (await upload('bob', 'bob.txt', 'bob only')).body.file_url;
    const foreign = await api('alice', 'POST', `/v1/workflows/${wid}/executions`, { user_input: 'go', file_names: [bobs] });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.details).toContain('bob.txt');
    expect(llm.chatRequests()).toHaveLength(2); // nothing ran for the refused requests
  });

  it('resume with file_names: validated (400/403), names added to the context, content to the history', async () => {
    const yaml = WORKFLOW.replace('    task: "Again"', '    task: "Again {{file_names}}"\n    interrupt_before: true');
    const wid = (await api('alice', 'POST', '/v1/workflows', { name: 'hitl', description: 'd', project: 'demo', yaml_config: yaml })).body.data.id;
    const first = (await upload('alice', 'first.txt', 'APPLE-1')).body.file_url;
    const later = (await upload('alice', 'later.csv', 'a,b\nDATE-9,2', 'text/csv')).body.file_url;
    const ex = await api('alice', 'POST', `/v1/workflows/${wid}/executions`, { user_input: 'go', file_names: [first] });
    expect(ex.status).toBe(200);
    const path = `/v1/workflows/${wid}/executions/${ex.body.execution_id}`;
    const waitFor = async (status: string) => {
      for (let i = 0; i < 500; i++) {
        const b = (await api('alice', 'GET', path)).body;
        if (b.overall_status === status) return b;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`never ${status}`);
    };
    await waitFor('Interrupted');
    const unknown = await api('alice', 'PUT', `${path}/resume`, { file_names: ['nope.txt'] });
    expect(unknown.status).toBe(400);
    const bobs = (await upload('bob', 'b.txt', 'bob')).body.file_url;
    expect((await api('alice', 'PUT', `${path}/resume`, { file_names: [bobs] })).status).toBe(403);
    expect((await api('alice', 'GET', path)).body.overall_status).toBe('Interrupted');
    expect((await api('alice', 'PUT', `${path}/resume`, { file_names: [later] })).status).toBe(200);
    await waitFor('Succeeded');
    const calls = llm.chatRequests();
    expect(calls).toHaveLength(2);
    expect(allText(calls[0])).toContain('APPLE-1');
    expect(allText(calls[0])).not.toContain('DATE-9');
    const second = allText(calls[1]);
    expect(second).toContain('APPLE-1');
    expect(second).toContain('<file name="later.csv">\na,b\nDATE-9,2\n</file>');
    expect(second).toContain('Again ["first.txt","later.csv"]');
  });

  it('assistant call: text content appended to the user message; unknown 400, foreign 403', async () => {
    const created = await api('alice', 'POST', '/v1/assistants', { name: 'Reader', description: 'd', system_prompt: 'You read files.', llm_model_type: 'test-model', project: 'demo' });
    expect(created.status).toBe(200);
    const aid = created.body.assistantId;
    const doc = (await upload('alice', 'doc.md', '# Title\nCHERRY-7', 'text/markdown')).body.file_url;
    const res = await api('alice', 'POST', `/v1/assistants/${aid}/model`, { text: 'What is in the file?', file_names: [doc] });
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    const call = llm.chatRequests()[0];
    const last = call.messages[call.messages.length - 1];
    expect(last.role).toBe('user');
    expect(last.content).toBe('What is in the file?\n\nAttached files:\n<file name="doc.md">\n# Title\nCHERRY-7\n</file>');
    // Legacy camelCase fileNames is accepted too.
    llm.reset();
    expect((await api('alice', 'POST', `/v1/assistants/${aid}/model`, { text: 'again', fileNames: [doc] })).status).toBe(200);
    expect(allText(llm.chatRequests()[0])).toContain('CHERRY-7');

    llm.reset();
    const unknown = await api('alice', 'POST', `/v1/assistants/${aid}/model`, { text: 'x', file_names: ['missing.txt'] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ message: 'Unknown file', details: expect.stringContaining('missing.txt') });
    const eves = (await upload('eve', 'eve.txt', 'eve only')).body.file_url;
    expect((await api('alice', 'POST', `/v1/assistants/${aid}/model`, { text: 'x', file_names: [eves] })).status).toBe(403);
    expect((await api('alice', 'POST', `/v1/assistants/${aid}/model`, { text: 'x', stream: true, file_names: [eves] })).status).toBe(403);
    expect(llm.chatRequests()).toHaveLength(0);
  });
});
