/**
 * Both fair-use backends against the same cases: fixed-window rates, all-or-nothing admissions,
 * concurrency slots with leases (expiry, refresh, re-taking), release. Redis runs when
 * TEST_REDIS_URL is set, under a unique key prefix removed afterwards.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { LimitBackend } from './backend.js';
import { MemoryLimitBackend } from './memory.js';
import { RedisLimitBackend } from './redis.js';
import { testServiceUrl } from '../../test/services.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WINDOW = 400;
const redisUrl = testServiceUrl('redis');
const prefix = `limits-test-${randomUUID().slice(0, 8)}`;
const clients: Redis[] = [];

afterAll(async () => {
  if (!redisUrl) return;
  const r = new Redis(redisUrl);
  const keys = await r.keys(`${prefix}:*`);
  if (keys.length) await r.del(...keys);
  await r.quit();
  await Promise.all(clients.map((c) => c.quit()));
});

const kinds: Array<[string, () => Promise<LimitBackend>]> = [['memory', async () => new MemoryLimitBackend(WINDOW)]];
if (redisUrl) {
  kinds.push([
    'redis',
    async () => {
      const c = new Redis(redisUrl);
      clients.push(c);
      await new Promise((r) => c.once('ready', r));
      return new RedisLimitBackend(c, prefix, WINDOW);
    },
  ]);
}

describe.each(kinds)('fair-use backend (%s)', (_kind, make) => {
  const id = () => randomUUID().slice(0, 8);

  it('admits up to the rate limit per window, then names the rule and when its window ends', async () => {
    const b = await make();
    const key = `u:${id()}`;
    for (let i = 0; i < 3; i++) expect(await b.admit({ rates: [{ key, limit: 3 }] })).toBeNull();
    const denial = await b.admit({ rates: [{ key, limit: 3 }] });
    expect(denial).toMatchObject({ kind: 'rate', index: 0 });
    expect(denial!.kind === 'rate' && denial!.retryAfterMs).toBeGreaterThan(0);
    expect(denial!.kind === 'rate' && denial!.retryAfterMs).toBeLessThanOrEqual(WINDOW);
    // Another key has its own window.
    expect(await b.admit({ rates: [{ key: `u:${id()}`, limit: 3 }] })).toBeNull();
    await sleep(WINDOW + 50);
    expect(await b.admit({ rates: [{ key, limit: 3 }] })).toBeNull();
  });

  it('is all-or-nothing: a refused admission counts nothing and takes no slot', async () => {
    const b = await make();
    const user = `u:${id()}`;
    const project = `p:${id()}`;
    expect(await b.admit({ rates: [{ key: project, limit: 1 }] })).toBeNull();
    // The project rate is spent: refused with index 1, and neither the user rate nor the user slot moved.
    const refused = await b.admit({ rates: [{ key: user, limit: 1 }, { key: project, limit: 1 }], slots: { runId: 'r1', rules: [{ key: user, limit: 1 }], leaseMs: 10_000 } });
    expect(refused).toMatchObject({ kind: 'rate', index: 1 });
    expect(await b.admit({ rates: [{ key: user, limit: 1 }], slots: { runId: 'r2', rules: [{ key: user, limit: 1 }], leaseMs: 10_000 } })).toBeNull();
    // A full project slot set leaves the user's slots alone too.
    const u2 = `u:${id()}`;
    const p2 = `p:${id()}`;
    expect(await b.admit({ rates: [], slots: { runId: 'x', rules: [{ key: p2, limit: 1 }], leaseMs: 10_000 } })).toBeNull();
    expect(await b.admit({ rates: [], slots: { runId: 'y', rules: [{ key: u2, limit: 1 }, { key: p2, limit: 1 }], leaseMs: 10_000 } })).toEqual({ kind: 'concurrency', index: 1 });
    expect(await b.admit({ rates: [], slots: { runId: 'z', rules: [{ key: u2, limit: 1 }], leaseMs: 10_000 } })).toBeNull();
  });

  it('holds concurrency slots until released; re-admitting a holder does not count it twice', async () => {
    const b = await make();
    const key = `u:${id()}`;
    const run = (runId: string) => b.admit({ rates: [], slots: { runId, rules: [{ key, limit: 2 }], leaseMs: 10_000 } });
    const [a, c, d] = [id(), id(), id()];
    expect(await run(a)).toBeNull();
    expect(await run(c)).toBeNull();
    expect(await run(d)).toEqual({ kind: 'concurrency', index: 0 });
    expect(await run(a)).toBeNull(); // already holds one
    await b.release(a);
    await b.release(a); // idempotent
    await b.release('never-admitted');
    expect(await run(d)).toBeNull();
    expect(await run(a)).toEqual({ kind: 'concurrency', index: 0 });
  });

  it('lets a slot lapse when its lease is not refreshed, keeps it while refreshed, and re-takes a lapsed one on refresh', async () => {
    const b = await make();
    const key = `u:${id()}`;
    const run = (runId: string, leaseMs = 300) => b.admit({ rates: [], slots: { runId, rules: [{ key, limit: 1 }], leaseMs } });
    const [dead, alive, other] = [id(), id(), id()];
    expect(await run(dead)).toBeNull();
    expect(await run(other)).toEqual({ kind: 'concurrency', index: 0 });
    await sleep(350); // the holder's process "died": nobody refreshed
    expect(await run(alive)).toBeNull();
    for (let i = 0; i < 3; i++) {
      await sleep(150);
      await b.refresh([alive], 300);
    }
    expect(await run(other)).toEqual({ kind: 'concurrency', index: 0 });
    // The lapsed run turns out to be running after all (taken over by another worker): refresh re-takes its slot.
    await b.refresh([dead], 300);
    await b.release(alive);
    expect(await run(other)).toEqual({ kind: 'concurrency', index: 0 });
    await b.release(dead);
    await b.refresh([dead], 300); // released: refresh no longer brings it back
    expect(await run(other)).toBeNull();
  });
});

describe('memory backend housekeeping', () => {
  it('sweeps expired windows and records so its maps stay bounded', async () => {
    let now = 0;
    const b = new MemoryLimitBackend(1000, () => now);
    for (let i = 0; i < 999; i++) b.admitNow({ rates: [{ key: `u:${i}`, limit: 5 }] });
    b.admitNow({ rates: [], slots: { runId: 'r', rules: [{ key: 'p', limit: 1 }], leaseMs: 500 } });
    expect(b.holders('p')).toEqual(['r']);
    now = 2000;
    b.admitNow({ rates: [{ key: 'late', limit: 5 }] }); // call 1001: the last sweep (call 1000) found nothing expired
    expect((b as unknown as { windows: Map<string, unknown> }).windows.size).toBe(1000);
    for (let i = 0; i < 999; i++) b.admitNow({ rates: [{ key: 'late', limit: 100_000 }] });
    expect((b as unknown as { windows: Map<string, unknown> }).windows.size).toBe(1);
    expect(b.holders('p')).toEqual([]);
  });
});

describe.skipIf(!redisUrl)('redis backend without a connection', () => {
  it('fails at once (the caller lets the request through) instead of waiting for Redis', async () => {
    const c = new Redis(redisUrl!, { lazyConnect: true });
    const b = new RedisLimitBackend(c, prefix, WINDOW);
    // "At once": settled before any I/O could have happened (a setImmediate callback runs after the next I/O poll).
    const beforeIo = <T,>(p: Promise<T>) => Promise.race([p.then(() => 'settled', () => 'settled'), new Promise((r) => setImmediate(() => r('after I/O')))]);
    const admitted = b.admit({ rates: [{ key: 'u:x', limit: 1 }] });
    expect(await beforeIo(admitted)).toBe('settled');
    await expect(admitted).rejects.toThrow(/not connected/);
    const released = b.release('r');
    expect(await beforeIo(released)).toBe('settled');
    await expect(released).rejects.toThrow(/not connected/);
    c.disconnect();
  });
});
