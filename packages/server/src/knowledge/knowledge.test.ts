/**
 * Knowledge bases through HTTP on both databases: upload (files, PDF, DOCX, HTML, CSV, JSON, zip),
 * indexing as a run, per-file outcome, every error status of the routes, list filters, ACL,
 * full-text / vector / hybrid search, update (metadata, add, remove), an assistant whose scripted
 * model calls the search tool (citation thought), delete, plug-in 400s.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { DB_KINDS, startTestPlatform, tempDir, testAuthHeaders, type TestPlatform } from '../../test/helpers.js';
import { startTestLlmServer, TEST_LLM_API_KEY, type TestLlmServer } from '../../test/llm-server.js';
import { makeDocx, makePdf, makeZip, multipartBody, zipBomb, type Part } from '../../test/knowledge-fixtures.js';

const alice = testAuthHeaders({ id: 'alice', username: 'alice', name: 'Alice Doe', projects: ['proj'], adminProjects: ['proj'] });
const bob = testAuthHeaders({ id: 'bob', username: 'bob', name: 'Bob', projects: ['proj'] });
const carol = testAuthHeaders({ id: 'carol', username: 'carol', name: 'Carol', projects: ['other'] });
const json = { 'content-type': 'application/json' };

export function modelsFile(llm: TestLlmServer, dir: string, withEmbeddings = true): Record<string, string> {
  const file = path.join(dir, 'models.yaml');
  const doc: Record<string, unknown> = {
    models: [
      {
        base_name: 'test-model',
        provider: 'openai-compatible',
        deployment_name: 'test-model',
        base_url: llm.baseUrl,
        api_key: TEST_LLM_API_KEY,
        default: true,
      },
    ],
  };
  if (withEmbeddings) {
    doc.embeddings = [
      {
        base_name: 'test-embedding',
        provider: 'openai-compatible',
        deployment_name: 'test-embedding',
        base_url: llm.baseUrl,
        api_key: TEST_LLM_API_KEY,
        default: true,
        dimensions: 64,
      },
    ];
  }
  writeFileSync(file, toYaml(doc));
  return { CODEMIE_LLM_CONFIG: file };
}

describe.each(DB_KINDS)('knowledge bases (%s)', (db) => {
  let p: TestPlatform;
  let llm: TestLlmServer;
  const tmp = tempDir('codemie-kb-');

  beforeAll(async () => {
    llm = await startTestLlmServer();
    p = await startTestPlatform({ db, testAuth: true, env: { ...modelsFile(llm, tmp.dir), CODEMIE_KB_CHUNK_CHARS: '300', CODEMIE_KB_CHUNK_OVERLAP: '30' } });
  });
  afterAll(async () => {
    await p?.stop();
    await llm?.close();
    tmp.cleanup();
  });
  beforeEach(() => llm.reset());

  const upload = (method: 'POST' | 'PUT', query: Record<string, string>, parts: Part[] | null, headers = alice) => {
    const qs = new URLSearchParams(query).toString();
    const body = parts ? multipartBody(parts) : { payload: '{}', headers: json };
    return p.app.inject({ method, url: `/v1/index/knowledge_base/file?${qs}`, payload: body.payload, headers: { ...headers, ...body.headers } });
  };
  const get = (url: string, headers = alice) => p.app.inject({ method: 'GET', url, headers });

  async function idOf(name: string): Promise<string> {
    const res = await get(`/v1/index?per_page=200&filters=${encodeURIComponent(JSON.stringify({ name }))}`);
    const item = res.json().data.find((d: { repo_name: string }) => d.repo_name === name);
    expect(item).toBeTruthy();
    return item.id;
  }

  async function waitDone(id: string) {
    for (let i = 0; i < 400; i++) {
      const r = (await get(`/v1/index/${id}`)).json();
      if (r.completed || r.error) return r;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error('indexing did not finish');
  }

  async function createKb(name: string, parts: Part[], extra: Record<string, string> = {}, headers = alice) {
    const res = await upload('POST', { name, project_name: 'proj', description: `${name} notes`, project_space_visible: 'True', ...extra }, parts, headers);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ message: `Indexing of ${name} has started in the background` });
    const id = await idOf(name);
    return { id, ds: await waitDone(id) };
  }

  let alphaId = '';

  it('indexes text, Markdown, CSV, HTML, JSON, a multi-page PDF, a DOCX and a zip; progress and per-file outcome on the row', async () => {
    const zip = makeZip([
      { name: 'guide/heron.md', data: '# Herons\nHerons are long-legged freshwater birds.' },
      { name: 'other/heron.md', data: 'duplicate name: skipped' },
      { name: 'inner.zip', data: 'nested archives are skipped' },
      { name: '__MACOSX/._heron.md', data: 'metadata' },
      { name: 'emptydir/' },
      { name: 'logo.png', data: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]) },
    ]);
    const { id, ds } = await createKb(
      'kb-alpha',
      [
        { name: 'notes.txt', data: 'The launch code is PELICAN-42.\nKeep it secret.', type: 'text/plain' },
        { name: 'data.csv', data: 'year;track\n1918;Armistice\n1944;Normandy\n', type: 'text/csv' },
        {
          name: 'page.html',
          data: '<html><body><h1>Zebra</h1><p>Zebras have <b>black and white</b> stripes.</p><script>var x=1</script></body></html>',
          type: 'text/html',
        },
        { name: 'facts.json', data: JSON.stringify([{ content: 'Octopuses have three hearts.', metadata: { topic: 'octopus' } }]), type: 'application/json' },
        {
          name: 'manual.pdf',
          data: makePdf(['Chapter one: the kettle must be descaled monthly.', 'Chapter two: the boiler pressure is 1.5 bar.']),
          type: 'application/pdf',
        },
        { name: 'memo.docx', data: makeDocx(['Quarterly memo', 'The office moves to Rotterdam in May.']) },
        { name: 'bundle.zip', data: zip, type: 'application/zip' },
      ],
      { csv_separator: ';', csv_start_row: '1' },
    );
    alphaId = id;
    expect(ds.completed).toBe(true);
    expect(ds.error).toBe(false);
    expect(ds.index_type).toBe('knowledge_base_file');
    expect(ds.text).toBe('');
    expect(ds.embeddings_model).toBe('test-embedding');
    expect(ds.description).toBe('kb-alpha notes');
    expect(ds.processed_files).toEqual(['data.csv', 'facts.json', 'heron.md', 'manual.pdf', 'memo.docx', 'notes.txt', 'page.html']);
    expect(ds.uploaded_files).toEqual(['notes.txt', 'data.csv', 'page.html', 'facts.json', 'manual.pdf', 'memo.docx', 'heron.md', 'logo.png']);
    expect(ds.current_state).toBe(7);
    expect(ds.complete_state).toBe(7);
    expect(ds.current__chunks_state).toBeGreaterThanOrEqual(9);
    expect(ds.processing_info).toMatchObject({ total_documents: 8, skipped_documents: 1, documents_count_key: 7 });
    expect(ds.file_statuses.find((f: { name: string }) => f.name === 'logo.png')).toMatchObject({
      status: 'skipped',
      chunks: 0,
      error: "No text could be extracted from '.png' files.",
    });
    expect(ds.user_abilities).toEqual(['read', 'write', 'delete']);
    expect(ds.created_by).toEqual({ id: 'alice', username: 'alice', name: 'Alice Doe' });
    expect(ds.full_name).toBe(`${id}-proj-kb-alpha-knowledge_base_file`);
    // Each format's text is searchable, with file name and chunk number.
    for (const [q, source, text] of [
      ['launch code', 'notes.txt-1', 'PELICAN-42'],
      ['Normandy', 'data.csv-', 'track: Normandy'],
      ['zebra stripes', 'page.html-1', 'black and white'],
      ['octopus hearts', 'facts.json-1', 'three hearts'],
      ['boiler pressure', 'manual.pdf-', '1.5 bar'],
      ['Rotterdam', 'memo.docx-1', 'Rotterdam in May'],
      ['herons', 'heron.md-1', 'long-legged'],
    ]) {
      const r = await p.app.inject({ method: 'POST', url: `/v1/index/${id}/search`, headers: { ...alice, ...json }, payload: { query: q } });
      expect(r.statusCode).toBe(200);
      const out = r.json().output as string;
      expect(out.startsWith('[]\n**Coverage:** ')).toBe(true);
      expect(out).toContain(`###SOURCE DOCUMENT###\n**Source:**${source}`);
      expect(out).toContain(text);
      expect(out).not.toContain('var x=1');
    }
    const stats = (await get(`/v1/index/${id}/elasticsearch`)).json();
    expect(stats.index_name).toBe('proj-kb-alpha');
    expect(stats.size_in_bytes).toBeGreaterThan(100);
  });

  it('pdf pages keep their page number; chunk numbers continue across pages', async () => {
    const rows = await p.infra.store.db
      .selectFrom('datasource_chunks')
      .select(['chunk_num', 'metadata'])
      .where('datasource_id', '=', alphaId)
      .where('source', '=', 'manual.pdf')
      .orderBy('chunk_num')
      .execute();
    expect(rows.map((r) => [r.chunk_num, JSON.parse(r.metadata).page, JSON.parse(r.metadata).total_pages])).toEqual([
      [1, 1, 2],
      [2, 2, 2],
    ]);
  });

  it('create errors: 409 name taken, 422 (query, files), 403 foreign project, 400 guardrails; nothing is created', async () => {
    const base = { name: 'kb-alpha', project_name: 'proj', description: 'd' };
    const one: Part[] = [{ name: 'a.txt', data: 'a' }];
    const dup = await upload('POST', base, one);
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toEqual({
      message: 'Index already exists',
      details: "An index with the name 'kb-alpha' already exists in the project 'proj'.",
      help: 'Please choose a different name for your index or use the existing index.',
    });
    expect((await upload('POST', { ...base, name: 'KB-ALPHA' }, one)).statusCode).toBe(409);
    const short = await upload('POST', { ...base, name: 'abc' }, one);
    expect(short.statusCode).toBe(422);
    expect(short.json().error.message).toBe('query.name: String should have at least 4 characters');
    const pattern = await upload('POST', { ...base, name: '-bad name' }, one);
    expect(pattern.json().error.message).toContain("query.name: String should match pattern '^[a-zA-Z0-9][\\w-]*$'");
    const noDesc = await upload('POST', { name: 'kb-x1', project_name: 'proj' }, one);
    expect(noDesc.json().error.message).toBe('query.description: Field required');
    const many = await upload(
      'POST',
      { ...base, name: 'kb-many' },
      Array.from({ length: 11 }, (_, i) => ({ name: `f${i}.txt`, data: 'x' })),
    );
    expect(many.statusCode).toBe(422);
    expect(many.json().error.message).toBe('files: Too many files. Maximum count is 10');
    const none = await upload('POST', { ...base, name: 'kb-none' }, null);
    expect(none.statusCode).toBe(422);
    expect(none.json().error.message).toBe('files: Field required');
    const foreign = await upload('POST', { ...base, name: 'kb-foreign', project_name: 'secret' }, one);
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error.details).toBe("You do not have permission to access the project 'secret'.");
    const guard = await upload('POST', { ...base, name: 'kb-guard', guardrail_assignments: 'not json' }, one);
    expect(guard.statusCode).toBe(400);
    expect(guard.json().error.message).toBe('Invalid guardrail_assignments parameter');
    const badJson = await upload('POST', { ...base, name: 'kb-json' }, [{ name: 'bad.json', data: '{"a":1}' }]);
    expect(badJson.statusCode).toBe(422);
    expect(badJson.json().error.message).toBe('File has incorrect format');
    expect(badJson.json().error.details).toContain('bad.json');
    const unauth = await p.app.inject({ method: 'POST', url: '/v1/index/knowledge_base/file?name=kb-zzzz&project_name=proj&description=d' });
    expect(unauth.statusCode).toBe(401);
    const list = (await get('/v1/index?per_page=200')).json();
    expect(list.data.map((d: { repo_name: string }) => d.repo_name)).toEqual(['kb-alpha']);
  });

  it('hostile or oversize archives get the reference errors before anything is extracted', async () => {
    const base = { project_name: 'proj', description: 'd' };
    const cases: Array<[string, Buffer, string, string]> = [
      ['kb-z1', Buffer.from('not a zip'), 'Invalid ZIP archive', 'The uploaded file could not be opened as a ZIP archive.'],
      [
        'kb-z2',
        makeZip([{ name: 'only/' }, { name: 'dirs/' }]),
        'ZIP archive contained no extractable files',
        'The archive was empty or contained only directories or metadata entries.',
      ],
      [
        'kb-z3',
        makeZip(Array.from({ length: 1001 }, (_, i) => ({ name: `f${i}.txt`, data: 'x', stored: true }))),
        'ZIP archive contains too many files',
        'Archives are limited to 1000 files.',
      ],
      ['kb-z4', zipBomb(600), 'ZIP archive too large', 'Uncompressed content exceeds the 500 MB limit.'],
      [
        'kb-z5',
        makeZip([{ name: '../../etc/evil.txt', data: 'x' }]),
        'ZIP archive contains an unsafe path',
        "The entry '../../etc/evil.txt' points outside the archive (absolute path, '..' or a symbolic link).",
      ],
      [
        'kb-z6',
        makeZip([{ name: 'link', data: '/etc/passwd', mode: 0o120777 }]),
        'ZIP archive contains an unsafe path',
        "The entry 'link' points outside the archive (absolute path, '..' or a symbolic link).",
      ],
    ];
    for (const [name, data, message, details] of cases) {
      const res = await upload('POST', { ...base, name }, [{ name: 'x.zip', data }]);
      expect(res.statusCode, name).toBe(422);
      expect(res.json().error).toMatchObject({ message, details });
    }
    // A bomb whose headers lie about its size is stopped while inflating, not by the headers.
    const mib = Buffer.alloc(1024 * 1024);
    const liar = makeZip(Array.from({ length: 520 }, (_, i) => ({ name: `z${i}.txt`, data: mib, declaredSize: 10 })));
    const res = await upload('POST', { ...base, name: 'kb-z7' }, [{ name: 'liar.zip', data: liar }]);
    expect(res.statusCode).toBe(422);
    expect(res.json().error.message).toMatch(/^Cannot read entry 'z0\.txt' from ZIP$|^ZIP archive too large$/);
    const rows = await p.infra.store.db.selectFrom('datasources').select('repo_name').execute();
    expect(rows.map((r) => r.repo_name)).toEqual(['kb-alpha']);
  });

  it('a KB whose files yield no text fails with the reference message', async () => {
    const { ds } = await createKb('kb-empty', [{ name: 'empty.txt', data: '' }]);
    expect(ds.error).toBe(true);
    expect(ds.completed).toBe(false);
    expect(ds.text).toBe(
      "No chunks were imported for datasource 'kb-empty'. All files were skipped or failed to process. Please check your files and try again.",
    );
  });

  it('list: filters, paging, sort; 400 on bad filters; ACL of members and strangers', async () => {
    await createKb('kb-private', [{ name: 'p.txt', data: 'private notes about walruses' }], { project_space_visible: 'false' });
    const list = (
      await get(
        `/v1/index?per_page=2&page=0&sort_key=date&sort_order=asc&filters=${encodeURIComponent(JSON.stringify({ project: ['proj'], index_type: ['knowledge_base_file'], status: 'completed' }))}`,
      )
    ).json();
    expect(list.pagination).toEqual({ page: 0, per_page: 2, total: 2, pages: 1 });
    expect(list.data.map((d: { repo_name: string }) => d.repo_name)).toEqual(['kb-alpha', 'kb-private']);
    expect(list.data[0]).not.toHaveProperty('description');
    const failed = (await get(`/v1/index?filters=${encodeURIComponent(JSON.stringify({ status: 'failed' }))}`)).json();
    expect(failed.data.map((d: { repo_name: string }) => d.repo_name)).toEqual(['kb-empty']);
    expect((await get(`/v1/index?filters=${encodeURIComponent(JSON.stringify({ status: 'fetching' }))}`)).json().data).toEqual([]);
    const bad = await get('/v1/index?filters=not-json');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ message: 'Invalid filters', details: 'Filters must be a valid encoded JSON object.' });
    expect((await get(`/v1/index?filters=${encodeURIComponent('{"status":"weird"}')}`)).statusCode).toBe(400);
    const full = (await get('/v1/index?full_response=true&per_page=1&sort_key=date&sort_order=asc')).json();
    expect(full.data[0].description).toBe('kb-alpha notes');
    // bob (member): shared ones only, read + write; carol: nothing.
    const bobList = (await get('/v1/index?per_page=100', bob)).json();
    expect(bobList.data.map((d: { repo_name: string }) => d.repo_name).sort()).toEqual(['kb-alpha', 'kb-empty']);
    expect(bobList.data[0].user_abilities).toEqual(['read', 'write']);
    expect((await get('/v1/index', carol)).json().data).toEqual([]);
    const denied = await get(`/v1/index/${alphaId}`, carol);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.details).toBe('You do not have the necessary permissions to read this entity.');
    const search = await p.app.inject({ method: 'POST', url: `/v1/index/${alphaId}/search`, headers: { ...carol, ...json }, payload: { query: 'x' } });
    expect(search.statusCode).toBe(403);
    expect(search.json().error.details).toBe('You do not have the necessary permissions to search this entity.');
    const bobDelete = await p.app.inject({ method: 'DELETE', url: `/v1/index/${alphaId}`, headers: bob });
    expect(bobDelete.statusCode).toBe(403);
    expect(bobDelete.json().error.details).toBe('You do not have the necessary permissions to delete this entity.');
    const missing = await get('/v1/index/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.message).toBe('Cannot find datasource by given id: nope');
    expect((await p.app.inject({ method: 'DELETE', url: '/v1/index/nope', headers: alice })).statusCode).toBe(404);
    expect((await get('/v1/index/nope/assistants')).statusCode).toBe(404);
    expect((await get('/v1/index/nope/elasticsearch')).statusCode).toBe(404);
    const users = (await get('/v1/index/users')).json();
    expect(users).toEqual([{ id: 'alice', username: 'alice', name: 'Alice Doe' }]);
  });

  it('full-text, vector and hybrid ranking; the query is embedded with the KB model', async () => {
    const svc = p.services.knowledge.service;
    const row = (await svc.store.get(alphaId))!;
    expect(row.embedding_dims).toBe(64);
    const text = await svc.rank(row, 'PELICAN', 3, 'fulltext');
    expect(text[0].source).toBe('notes.txt');
    llm.reset();
    const vec = await svc.rank(row, 'launch code secret', 3, 'vector');
    expect(vec[0].source).toBe('notes.txt');
    expect(llm.requests.some((r) => r.path.endsWith('/embeddings') && r.body.model === 'test-embedding')).toBe(true);
    const hybrid = await svc.rank(row, 'herons birds', 3, 'hybrid');
    expect(hybrid[0].source).toBe('heron.md');
    const models = (await get('/v1/embeddings_models')).json();
    expect(models.map((m: { base_name: string; default: boolean }) => [m.base_name, m.default])).toEqual([['test-embedding', true]]);
  });

  it('update: metadata only, add a file, remove files, replace one; 404 / 403 / 400', async () => {
    const q = { name: 'kb-alpha', project_name: 'proj' };
    const edit = await upload('PUT', { ...q, description: 'Alpha v2', project_space_visible: 'True' }, null);
    expect(edit.statusCode).toBe(200);
    expect(edit.json()).toEqual({ message: 'Edit successful' });
    expect((await get(`/v1/index/${alphaId}`)).json().description).toBe('Alpha v2');
    const add = await upload(
      'PUT',
      { ...q, description: 'Alpha v2', project_space_visible: 'True' },
      [{ name: 'more.md', data: '# Kestrel\nKestrels hover over fields.' }],
      bob,
    );
    expect(add.json()).toEqual({ message: 'Indexing of kb-alpha has started in the background' });
    let ds = await waitDone(alphaId);
    expect(ds.processed_files).toContain('more.md');
    expect(ds.complete_state).toBe(8);
    expect(ds.updated_by).toEqual({ id: 'bob', username: 'bob', name: 'Bob' });
    const keep = JSON.stringify(['notes.txt', 'more.md']);
    const remove = await upload('PUT', { ...q, uploaded_files: keep }, null);
    expect(remove.json().message).toBe('Indexing of kb-alpha has started in the background');
    ds = await waitDone(alphaId);
    expect(ds.processed_files).toEqual(['more.md', 'notes.txt']);
    expect(ds.uploaded_files).toEqual(['notes.txt', 'more.md']);
    const search = (
      await p.app.inject({ method: 'POST', url: `/v1/index/${alphaId}/search`, headers: { ...alice, ...json }, payload: { query: 'Normandy 1944' } })
    ).json();
    expect(search.output).not.toContain('data.csv');
    // A new part with a kept name replaces that file's chunks.
    await upload('PUT', q, [{ name: 'notes.txt', data: 'The launch code is now OSPREY-7.' }]);
    ds = await waitDone(alphaId);
    const out = (
      await p.app.inject({ method: 'POST', url: `/v1/index/${alphaId}/search`, headers: { ...alice, ...json }, payload: { query: 'launch code' } })
    ).json().output;
    expect(out).toContain('OSPREY-7');
    expect(out).not.toContain('PELICAN-42');
    expect(ds.uploaded_files).toEqual(['more.md', 'notes.txt']);
    const missing = await upload('PUT', { name: 'nope', project_name: 'proj' }, null);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ message: 'Index not found', details: "The index with name 'nope' in project 'proj' could not be found." });
    const stranger = await upload('PUT', { ...q, project_name: 'proj' }, null, carol);
    expect(stranger.statusCode).toBe(403);
    expect(stranger.json().error.details).toBe("You don't have permission to update the index 'kb-alpha'.");
    const bad = await upload('PUT', { ...q, uploaded_files: 'not json' }, null);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toBe('Invalid uploaded_files parameter');
    await upload('PUT', { ...q, uploaded_files: JSON.stringify(['notes.txt', 'more.md']) }, [{ name: 'notes2.txt', data: 'The launch code is PELICAN-42.' }]);
    await waitDone(alphaId);
  });

  it('an assistant with the KB in its context calls search_kb_<name>; the tool thought cites file and chunk', async () => {
    const create = await p.app.inject({
      method: 'POST',
      url: '/v1/assistants',
      headers: { ...alice, ...json },
      payload: {
        name: 'KB bot',
        project: 'proj',
        system_prompt: 'Answer from the knowledge base.',
        llm_model_type: 'test-model',
        context: [{ context_type: 'knowledge_base', name: 'kb-alpha' }],
      },
    });
    expect(create.statusCode, create.body).toBe(200);
    const assistantId = create.json().assistantId as string;
    const ctx = (await get('/v1/assistants/context?project_name=proj')).json();
    expect(ctx).toContainEqual({ name: 'kb-alpha', context_type: 'knowledge_base', id: alphaId });
    expect(ctx.find((c: { name: string }) => c.name === 'kb-empty')).toBeUndefined();
    const using = (await get(`/v1/index/${alphaId}/assistants`)).json();
    expect(using.map((a: { id: string; name: string }) => [a.id, a.name])).toEqual([[assistantId, 'KB bot']]);
    llm.script((req) => (req.tools.length ? { toolCalls: [{ name: 'search_kb_kb-alpha', arguments: { query: 'launch code' } }] } : undefined));
    llm.script((req) => (req.messages.some((m) => m.role === 'tool') ? { text: 'The launch code is PELICAN-42 (notes2.txt, part 1).' } : undefined));
    const call = await p.app.inject({
      method: 'POST',
      url: `/v1/assistants/${assistantId}/model`,
      headers: { ...alice, ...json },
      payload: { text: 'What is the launch code?' },
    });
    expect(call.statusCode, call.body).toBe(200);
    const body = call.json();
    expect(body.generated).toBe('The launch code is PELICAN-42 (notes2.txt, part 1).');
    const first = llm.chatRequests()[0];
    const tool = first.tools.find((t) => t.function.name === 'search_kb_kb-alpha')!;
    expect(tool.function.description).toContain('Tool knowledge description: Alpha v2.');
    expect(tool.function.parameters).toMatchObject({ required: ['query'] });
    const thought = body.thoughts.find((t: { author_name: string }) => t.author_name === 'Search Kb Kb-Alpha');
    expect(thought).toBeTruthy();
    expect(thought.author_type).toBe('Tool');
    expect(JSON.parse(thought.input_text)).toEqual({ query: 'launch code' });
    expect(thought.message.startsWith('[]')).toBe(true);
    expect(thought.message).toContain('**Source:**notes2.txt-1');
    expect(thought.message).toContain('PELICAN-42');
    // The model saw the same text as the tool result.
    const toolMsg = llm.chatRequests()[1].messages.find((m) => m.role === 'tool');
    expect(JSON.stringify(toolMsg?.content)).toContain('notes2.txt-1');

    // A workflow assistant with datasource_ids gets the same tool.
    const yaml = `assistants:\n  - id: kb\n    model: test-model\n    system_prompt: Use the knowledge base.\n    datasource_ids: ["${alphaId}"]\nstates:\n  - id: ask\n    assistant_id: kb\n    task: What is the launch code?\n    next:\n      state_id: end\n`;
    const wf = await p.app.inject({
      method: 'POST',
      url: '/v1/workflows',
      headers: { ...alice, ...json },
      payload: { name: 'kb flow', project: 'proj', yaml_config: yaml, mode: 'Sequential', shared: false },
    });
    expect(wf.statusCode, wf.body).toBe(200);
    const wfId = wf.json().id ?? wf.json().data?.id;
    llm.script((req) =>
      req.tools.some((t) => t.function.name === 'search_kb_kb-alpha') && !req.messages.some((m) => m.role === 'tool')
        ? { toolCalls: [{ name: 'search_kb_kb-alpha', arguments: { query: 'launch code' } }] }
        : undefined,
    );
    llm.script((req) => (req.messages.some((m) => m.role === 'tool') ? { text: 'PELICAN-42' } : undefined));
    const exec = await p.app.inject({ method: 'POST', url: `/v1/workflows/${wfId}/executions`, headers: { ...alice, ...json }, payload: { user_input: 'go' } });
    expect(exec.statusCode, exec.body).toBe(200);
    const execId = exec.json().execution_id;
    let status = '';
    for (let i = 0; i < 200 && !['Succeeded', 'Failed'].includes(status); i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await get(`/v1/workflows/${wfId}/executions/${execId}`)).json().overall_status;
    }
    expect(status).toBe('Succeeded');
    const toolReq = llm.chatRequests().find((r) => r.messages.some((m) => m.role === 'tool'));
    expect(JSON.stringify(toolReq?.messages)).toContain('notes2.txt-1');

    // Deleting the KB: the assistant's next call fails with the reference's Assistant Error.
    const del = await p.app.inject({ method: 'DELETE', url: `/v1/index/${alphaId}`, headers: alice });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ message: "'Index kb-alpha was deleted successfully" });
    expect((await get(`/v1/index/${alphaId}`)).statusCode).toBe(404);
    const after = await p.app.inject({
      method: 'POST',
      url: `/v1/assistants/${assistantId}/model`,
      headers: { ...alice, ...json },
      payload: { text: 'again?' },
    });
    expect(after.statusCode).toBe(500);
    expect(after.json().error.message).toBe('Assistant Error');
    expect(after.json().error.details).toContain(' - Datasource name: **kb-alpha**');
    const chunks = await p.infra.store.db.selectFrom('datasource_chunks').select('id').where('datasource_id', '=', alphaId).execute();
    expect(chunks).toEqual([]);
  });

  it('other source types answer 400 naming the type; health says not implemented', async () => {
    for (const [method, url, type] of [
      ['POST', '/v1/index/knowledge_base/confluence', 'confluence'],
      ['PUT', '/v1/index/knowledge_base/jira', 'jira'],
      ['POST', '/v1/application/proj/index', 'code'],
      ['POST', '/v1/index/provider?toolkit_id=t&provider_name=p', 'provider'],
    ] as const) {
      const r = await p.app.inject({ method, url, headers: { ...alice, ...json }, payload: { name: 'conf', project_name: 'proj', description: 'd' } });
      expect(r.statusCode).toBe(400);
      expect(r.json().error).toMatchObject({
        message: 'Unsupported datasource type',
        details: `Datasource type '${type}' is not supported by this server. Supported types: file.`,
      });
    }
    expect((await p.app.inject({ method: 'POST', url: '/v1/index/knowledge_base/confluence', payload: {} })).statusCode).toBe(401);
    const health = await p.app.inject({
      method: 'POST',
      url: '/v1/index/health',
      headers: { ...alice, ...json },
      payload: { index_type: 'file', project_name: 'proj' },
    });
    expect(health.json()).toEqual({ implemented: false, documents_count: null, error: null });
  });
});
