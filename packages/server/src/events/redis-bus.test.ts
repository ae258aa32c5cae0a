/** The Redis-streams event bus against a real Redis (TEST_REDIS_URL). */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisEventBus } from './redis-bus.js';
import type { StreamEvent } from './bus.js';

const url = process.env.TEST_REDIS_URL;
if (!url) throw new Error('TEST_REDIS_URL is not set: run with `npm test` (it starts Redis)');
const prefix = `t-${randomUUID()}`;
const a = new RedisEventBus(url, { prefix, retainMs: 10_000 });
const b = new RedisEventBus(url, { prefix, retainMs: 10_000 });
afterAll(async () => {
  await a.close();
  await b.close();
});

async function collect(it: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

describe('redis event bus', () => {
  it('crosses connections (processes): publisher on one, subscriber on another', async () => {
    const got = collect(b.subscribe('run-1'));
    await a.publish('run-1', { n: 1 });
    await a.publish('run-1', { n: 2 });
    await a.end('run-1');
    const events = await got;
    expect(events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(events[0].id).toMatch(/^\d+-\d+$/);
  });

  it('resumes after Last-Event-ID without gaps or repeats', async () => {
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push(await a.publish('run-2', i));
    await a.end('run-2');
    expect((await collect(b.subscribe('run-2', { afterId: ids[1] }))).map((e) => e.data)).toEqual([3, 4, 5]);
  });

  it('stops a subscription when its signal aborts', async () => {
    const ac = new AbortController();
    const got = collect(b.subscribe('run-3', { signal: ac.signal }));
    await a.publish('run-3', 'x');
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    expect((await got).map((e) => e.data)).toEqual(['x']);
  });
});
