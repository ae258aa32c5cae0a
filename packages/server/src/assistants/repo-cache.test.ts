/** The assistant record cache (SQLite, single process): writes are seen at once, cached records are frozen. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../store/db.js';
import { AssistantRepo, type AssistantRecord } from './repo.js';

let store: Store;
beforeAll(async () => {
  store = await openStore({ dataDir: '', sqliteFile: ':memory:' });
});
afterAll(() => store.close());

const record = (id: string, name: string): AssistantRecord => ({
  id,
  name,
  description: '',
  system_prompt: 'Be brief.',
  llm_model_type: null,
  project: 'demo',
  shared: false,
  slug: id,
  temperature: null,
  top_p: null,
  data: { toolkits: [] },
  created_by: { id: 'u1', username: 'u1', name: 'U One' },
  date: '2026-11-28T00:00:00.000Z',
  update_date: '2026-11-28T00:00:00.000Z',
  is_global: false,
  categories: [],
  version_count: 1,
  unique_users_count: 0,
  unique_likes_count: 0,
  unique_dislikes_count: 0,
});

describe('assistant record cache', () => {
  it('serves updates and deletes at once, and hands out frozen records', async () => {
    const repo = new AssistantRepo(store.db, { cacheRecords: true });
    await repo.insert(record('a1', 'First'));
    const first = (await repo.get('a1'))!;
    expect(first.name).toBe('First');
    expect(Object.isFrozen(first) && Object.isFrozen(first.data)).toBe(true);
    expect(await repo.get('a1')).toBe(first);

    await repo.update({ ...first, name: 'Renamed', data: { ...first.data, extra: 1 } });
    const second = (await repo.get('a1'))!;
    expect(second.name).toBe('Renamed');
    expect(second.data.extra).toBe(1);

    expect(await repo.delete('a1')).toBe(true);
    expect(await repo.get('a1')).toBeUndefined();
  });

  it('does not cache a read that overlapped a write', async () => {
    const repo = new AssistantRepo(store.db, { cacheRecords: true });
    await repo.insert(record('a2', 'Old'));
    const [read] = await Promise.all([repo.get('a2'), repo.update({ ...record('a2', 'New') })]);
    expect(['Old', 'New']).toContain(read!.name);
    expect((await repo.get('a2'))!.name).toBe('New');
  });

  it('without the cache, every read goes to the database', async () => {
    const repo = new AssistantRepo(store.db);
    const other = new AssistantRepo(store.db);
    await repo.insert(record('a3', 'One'));
    expect((await repo.get('a3'))!.name).toBe('One');
    await other.update(record('a3', 'Two'));
    expect((await repo.get('a3'))!.name).toBe('Two');
  });
});
