import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { MemoryLoginThrottle, RedisLoginThrottle, type LoginThrottle } from './throttle.js';
import { testServiceUrl } from '../../test/services.js';

const redisUrl = testServiceUrl('redis');
const prefix = `throttle-test-${randomUUID().slice(0, 8)}`;
const redis = redisUrl ? new Redis(redisUrl) : undefined;

afterAll(async () => {
  if (!redis) return;
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

const kinds: Array<[string, () => Promise<LoginThrottle>]> = [['memory', async () => new MemoryLoginThrottle(3, 60)]];
if (redis) {
  kinds.push([
    'redis',
    async () => {
      if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r));
      return new RedisLoginThrottle(redis, `${prefix}:${randomUUID().slice(0, 6)}`, 3, 60);
    },
  ]);
}

describe.each(kinds)('login throttle (%s)', (_kind, make) => {
  it('locks a principal after the maximum failures, for the lock-out time; others are unaffected', async () => {
    const t = await make();
    await t.failure('user:a');
    await t.failure('user:a');
    expect(await t.retryAfter('user:a')).toBe(0);
    await t.failure('user:a');
    const wait = await t.retryAfter('user:a');
    expect(wait).toBeGreaterThan(55);
    expect(wait).toBeLessThanOrEqual(60);
    expect(await t.retryAfter('user:b')).toBe(0);
  });

  it('a success resets the count', async () => {
    const t = await make();
    await t.failure('user:c');
    await t.failure('user:c');
    await t.success('user:c');
    await t.failure('user:c');
    await t.failure('user:c');
    expect(await t.retryAfter('user:c')).toBe(0);
  });
});

describe.skipIf(!redis)('login throttle (redis) across processes and outages', () => {
  it('two throttles on one Redis (two API processes) share the count', async () => {
    const p = `${prefix}:shared`;
    const a = new RedisLoginThrottle(redis!, p, 3, 60);
    const b = new RedisLoginThrottle(redis!, p, 3, 60);
    await a.failure('user:x');
    await b.failure('user:x');
    await a.failure('user:x');
    expect(await b.retryAfter('user:x')).toBeGreaterThan(0);
  });

  it('with Redis unreachable it counts in the process instead of failing the login', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    const errors: Error[] = [];
    const t = new RedisLoginThrottle(dead, prefix, 2, 60, (e) => errors.push(e));
    await t.failure('user:y');
    await t.failure('user:y');
    expect(await t.retryAfter('user:y')).toBeGreaterThan(0);
    dead.disconnect();
  });
});
