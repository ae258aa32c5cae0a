import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CodeMieClient } from './index.js';
import { REALM, send, startFake, type FakePlatform } from './test-support/fake-server.js';

let fake: FakePlatform;
let client: CodeMieClient;

beforeEach(async () => {
  fake = await startFake();
  client = new CodeMieClient({
    codemie_api_domain: fake.apiDomain + '/',
    auth_server_url: fake.authUrl,
    auth_realm_name: REALM,
    username: 'alice',
    password: 'secret',
  });
});

afterEach(async () => {
  await fake.stop();
});

describe('users and models', () => {
  it('users.aboutMe → GET /v1/user; users.getData → GET /v1/user/data', async () => {
    fake.json('GET', '/v1/user', { user_id: 'u1', username: 'alice', name: 'Alice', email: 'a@x', applications: ['demo'], applications_admin: [], is_admin: false });
    fake.json('GET', '/v1/user/data', { sidebar_view: 'flat' });
    const me = await client.users.aboutMe();
    expect(me.applications).toEqual(['demo']);
    expect(fake.last().path).toBe('/code-assistant-api/v1/user');
    expect(await client.users.getData()).toEqual({ sidebar_view: 'flat' });
  });

  it('llms.list → GET /v1/llm_models; listEmbeddings → GET /v1/embeddings_models', async () => {
    fake.json('GET', '/v1/llm_models', [{ base_name: 'gpt-4o', deployment_name: 'gpt-4o', enabled: true, default: true }]);
    fake.json('GET', '/v1/embeddings_models', [{ base_name: 'ada', deployment_name: 'ada', enabled: true }]);
    expect((await client.llms.list()).map((m) => m.base_name)).toEqual(['gpt-4o']);
    expect(fake.last().path).toBe('/code-assistant-api/v1/llm_models');
    expect((await client.llms.listEmbeddings())[0]!.base_name).toBe('ada');
  });
});

describe('assistants', () => {
  it('list/get/getBySlug/create/update/delete use the reference routes and snake_case bodies', async () => {
    fake.json('GET', '/v1/assistants', { data: [{ id: 'a1', name: 'Helper' }], pagination: { page: 0, per_page: 12, total: 1, pages: 1 } });
    fake.json('GET', '/v1/assistants/id/:id', { id: 'a1', name: 'Helper', system_prompt: 'Be nice' });
    fake.json('GET', '/v1/assistants/slug/:slug', { id: 'a1', slug: 'helper' });
    fake.json('POST', '/v1/assistants', { message: 'Specified assistant saved', assistantId: 'a2', validation: null });
    fake.json('PUT', '/v1/assistants/:id', { message: 'Specified assistant updated', validation: null });
    fake.json('DELETE', '/v1/assistants/:id', { message: 'Specified assistant removed' });

    const list = await client.assistants.list({ scope: 'visible_to_user', minimal_response: true, page: 0, per_page: 12, filters: { project: 'demo' } });
    expect(list).toEqual([{ id: 'a1', name: 'Helper' }]);
    const q = fake.last().query;
    expect(q.get('scope')).toBe('visible_to_user');
    expect(q.get('minimal_response')).toBe('true');
    expect(q.get('per_page')).toBe('12');
    expect(JSON.parse(q.get('filters')!)).toEqual({ project: 'demo' });
    expect((await client.assistants.listPaginated()).pagination.pages).toBe(1);

    expect((await client.assistants.get('a1')).system_prompt).toBe('Be nice');
    expect(fake.last().path).toBe('/code-assistant-api/v1/assistants/id/a1');

    expect((await client.assistants.getBySlug('helper', 'demo')).slug).toBe('helper');
    expect(fake.last().path).toBe('/code-assistant-api/v1/assistants/slug/helper');
    expect(fake.last().query.get('project')).toBe('demo');

    const created = await client.assistants.create({ name: 'New', description: 'd', system_prompt: 'p', llm_model_type: 'gpt-4o', project: 'demo', toolkits: [], shared: false });
    expect(created.assistantId).toBe('a2');
    expect(fake.last().body).toEqual({ name: 'New', description: 'd', system_prompt: 'p', llm_model_type: 'gpt-4o', project: 'demo', toolkits: [], shared: false });

    expect((await client.assistants.update('a2', { name: 'Renamed' })).message).toBe('Specified assistant updated');
    expect(fake.last().method).toBe('PUT');
    expect(fake.last().path).toBe('/code-assistant-api/v1/assistants/a2');
    expect(fake.last().body).toEqual({ name: 'Renamed' });

    expect((await client.assistants.delete('a2')).message).toBe('Specified assistant removed');
    expect(fake.last().method).toBe('DELETE');
    expect(fake.last().path).toBe('/code-assistant-api/v1/assistants/a2');
  });

  it('chatWithVersion puts the version in the body', async () => {
    fake.route('POST', '/v1/assistants/:id/model', (req, res) => send(res, 200, { generated: 'v', echo: req.body }));
    const r = await client.assistants.chatWithVersion('a1', 3, { text: 'hi' });
    expect(r.echo).toEqual({ text: 'hi', version: 3 });
  });
});

describe('conversations, tasks, files', () => {
  it('conversations list/get/delete', async () => {
    fake.json('GET', '/v1/conversations', [{ id: 'c1', name: 'first' }]);
    fake.json('GET', '/v1/conversations/:id', { id: 'c1', conversation_id: 'c1', history: [{ role: 'User', message: 'hi' }] });
    fake.json('DELETE', '/v1/conversations/:id', { message: 'Specified conversation removed' });
    expect(await client.conversations.list()).toEqual([{ id: 'c1', name: 'first' }]);
    expect(fake.last().query.toString()).toBe('');
    await client.conversations.list({ page: 0, per_page: 20 });
    expect(fake.last().query.toString()).toBe('page=0&per_page=20');
    expect((await client.conversations.get('c1')).history).toHaveLength(1);
    expect(fake.last().path).toBe('/code-assistant-api/v1/conversations/c1');
    expect((await client.conversations.delete('c1')).message).toBe('Specified conversation removed');
    expect(fake.last().method).toBe('DELETE');
  });

  it('tasks.get → GET /v1/tasks/{id}', async () => {
    fake.json('GET', '/v1/tasks/:id', { id: 't1', status: 'COMPLETED', final_output: 'done' });
    expect((await client.tasks.get('t1')).final_output).toBe('done');
    expect(fake.last().path).toBe('/code-assistant-api/v1/tasks/t1');
  });

  it('files.upload sends multipart field "file" from a path or from memory', async () => {
    fake.route('POST', '/v1/files/', (req, res) => send(res, 200, { file_url: 'ZmlsZQ==', ct: req.headers['content-type'], raw: req.raw.toString('utf8') }));
    const dir = await mkdtemp(join(tmpdir(), 'sdk-files-'));
    try {
      const path = join(dir, 'notes.md');
      await writeFile(path, '# hello file');
      const r1 = (await client.files.upload(path)) as unknown as { file_url: string; ct: string; raw: string };
      expect(r1.file_url).toBe('ZmlsZQ==');
      expect(r1.ct).toMatch(/^multipart\/form-data; boundary=/);
      expect(r1.raw).toContain('name="file"; filename="notes.md"');
      expect(r1.raw).toContain('Content-Type: text/markdown');
      expect(r1.raw).toContain('# hello file');
      expect(fake.last().path).toBe('/code-assistant-api/v1/files/');

      const r2 = (await client.files.upload({ name: 'data.bin', content: new Uint8Array([104, 105]), mimeType: 'application/x-test' })) as unknown as { raw: string };
      expect(r2.raw).toContain('filename="data.bin"');
      expect(r2.raw).toContain('Content-Type: application/x-test');
      expect(r2.raw).toContain('\r\n\r\nhi\r\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('files.bulkUpload sends every file as field "files"', async () => {
    fake.route('POST', '/v1/files/bulk', (req, res) => {
      const raw = req.raw.toString('utf8');
      send(res, 200, { files: [{ file_url: 'a' }, { file_url: 'b' }], failed_files: {}, parts: raw.split('name="files"').length - 1 });
    });
    const r = await client.files.bulkUpload([{ name: 'a.txt', content: 'A' }, { name: 'b.txt', content: 'B' }]);
    expect(r.files.map((f) => f.file_url)).toEqual(['a', 'b']);
    expect(r.parts).toBe(2);
  });
});
