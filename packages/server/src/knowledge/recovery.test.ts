/**
 * Indexing is a durable run: a server stopped in the middle of a knowledge base's indexing picks
 * it up again at its next start (files already indexed are not redone), on both databases. A run
 * the queue gives up on fails the datasource with the reason.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, testAuthHeaders, type TestPlatform } from '../../test/helpers.js';
import { multipartBody } from '../../test/knowledge-fixtures.js';

const alice = testAuthHeaders({ id: 'alice', username: 'alice', name: 'Alice', projects: ['proj'] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DB_KINDS)('knowledge-base indexing across a restart (%s)', (db) => {
  const platforms: TestPlatform[] = [];
  afterAll(async () => {
    for (const p of platforms.reverse()) await p.stop();
  });

  it('resumes after the restart and completes without a new request', async () => {
    let reachedSecond!: () => void;
    const reached = new Promise<void>((r) => (reachedSecond = r));
    const seen: string[] = [];
    const p1 = await startTestPlatform({
      db,
      testAuth: true,
      listen: true,
      // One file per group (groups are the unit of progress): the file done before the stop is not redone.
      env: { CODEMIE_SHUTDOWN_TIMEOUT_MS: '200', CODEMIE_KB_EMBED_BATCH: '1' },
      overrides: () => ({
        knowledge: {
          async beforeFile(_ds, file) {
            seen.push(`p1:${file.name}`);
            if (file.name === 'b.txt') {
              reachedSecond();
              await sleep(1500); // the shutdown comes while this file is being worked on
            }
          },
        },
      }),
    });
    platforms.push(p1);
    const body = multipartBody([
      { name: 'a.txt', data: 'Alpha file about albatrosses.' },
      { name: 'b.txt', data: 'Beta file about barracudas.' },
      { name: 'c.txt', data: 'Gamma file about geckos.' },
    ]);
    const res = await p1.app.inject({
      method: 'POST',
      url: '/v1/index/knowledge_base/file?name=kb-restart&project_name=proj&description=d',
      payload: body.payload,
      headers: { ...alice, ...body.headers },
    });
    expect(res.statusCode).toBe(200);
    await reached;
    await p1.close();

    const p2 = await startTestPlatform({
      testAuth: true,
      listen: true,
      env: { CODEMIE_DATA_DIR: p1.config.dataDir, ...(p1.config.databaseUrl ? { DATABASE_URL: p1.config.databaseUrl } : {}) },
      overrides: () => ({ knowledge: { beforeFile: async (_ds, file) => void seen.push(`p2:${file.name}`) } }),
    });
    platforms.push(p2);
    const list = (await p2.app.inject({ method: 'GET', url: '/v1/index', headers: alice })).json();
    const dsId = list.data[0].id as string;
    let ds: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) {
      ds = (await p2.app.inject({ method: 'GET', url: `/v1/index/${dsId}`, headers: alice })).json();
      if (ds.completed || ds.error) break;
      await sleep(50);
    }
    expect(ds.completed).toBe(true);
    expect(ds.processed_files).toEqual(['a.txt', 'b.txt', 'c.txt']);
    expect(ds.current__chunks_state).toBe(3);
    expect(seen).toEqual(['p1:a.txt', 'p1:b.txt', 'p2:b.txt', 'p2:c.txt']);
  });

  it('a run the queue gives up on fails the datasource with the reason', async () => {
    const p = await startTestPlatform({ db, testAuth: true });
    platforms.push(p);
    const body = multipartBody([{ name: 'a.txt', data: 'text' }]);
    await p.app.inject({
      method: 'POST',
      url: '/v1/index/knowledge_base/file?name=kb-giveup&project_name=proj&description=d',
      payload: body.payload,
      headers: { ...alice, ...body.headers },
    });
    const row = await p.infra.store.db.selectFrom('datasources').select('id').where('repo_name', '=', 'kb-giveup').executeTakeFirstOrThrow();
    await p.services.knowledge.indexer.giveUp(row.id, 'worker lost');
    const ds = (await p.app.inject({ method: 'GET', url: `/v1/index/${row.id}`, headers: alice })).json();
    expect(ds.error).toBe(true);
    expect(ds.text).toBe('Indexing could not be completed: worker lost');
  });
});
