/** GET /v1/healthcheck: database and Redis readiness (Redis `disabled` without REDIS_URL, `down` → 503 within ~1 s). */
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';
import { startTestPlatform, type TestPlatform } from '../../test/helpers.js';
import { testServiceUrl } from '../../test/services.js';

const redisUrl = testServiceUrl('redis');
const prefix = `health-test-${randomUUID().slice(0, 8)}`;

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

const started: TestPlatform[] = [];
const platform = async (env: Record<string, string>) => {
  const p = await startTestPlatform({ env: { CODEMIE_ROLE: 'api', CODEMIE_REDIS_PREFIX: prefix, ...env } });
  started.push(p);
  return p;
};
const health = async (p: TestPlatform) => {
  const res = await p.app.inject({ method: 'GET', url: '/v1/healthcheck' });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
};

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
  if (redisUrl) {
    const r = new Redis(redisUrl);
    const keys = await r.keys(`${prefix}:*`);
    if (keys.length) await r.del(...keys);
    await r.quit();
  }
});

describe('healthcheck', () => {
  it('reports redis "disabled" without REDIS_URL (existing fields unchanged)', async () => {
    const h = await health(await platform({}));
    expect(h.status).toBe(200);
    expect(h.body).toEqual({
      status: 'healthy',
      memory_usage_mb: expect.any(Number),
      cpu_percent: expect.any(Number),
      worker_pid: process.pid,
      database: 'sqlite',
      redis: 'disabled',
    });
  });

  it.skipIf(!redisUrl)('pings Redis when REDIS_URL is set: "ok"', async () => {
    const h = await health(await platform({ REDIS_URL: redisUrl! }));
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'healthy', redis: 'ok' });
  });

  it('is unhealthy (503, redis "down") when Redis does not answer (it does not wait for Redis to come back)', async () => {
    const p = await platform({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
    const h = await health(p);
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({ status: 'unhealthy', database: 'sqlite', redis: 'down' });
  });
});
