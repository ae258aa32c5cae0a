/**
 * Scale-out: two platforms on one PostgreSQL database and one Redis, each caching memberships for
 * ten minutes. A membership change or a deactivation made through one is seen by the other at once
 * (Redis pub/sub invalidation), not when the cache entry expires.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, startTestPlatform, type TestPlatform } from '../../test/helpers.js';
import { adminToken, authHeaders, createUser, passwordToken } from '../../test/identity-helpers.js';

const redisUrl = process.env.TEST_REDIS_URL;
const pgUrl = process.env.TEST_DATABASE_URL;
const ci = process.env.CI === 'true';

async function until(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.skipIf(!(redisUrl && pgUrl) && !ci)('membership cache across processes (PostgreSQL + Redis)', () => {
  let a: TestPlatform;
  let b: TestPlatform;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    if (!redisUrl || !pgUrl) throw new Error('TEST_REDIS_URL and TEST_DATABASE_URL are required (scripts/services.sh start postgres redis)');
    const pg = await freshPostgres();
    drop = pg.drop;
    const env = {
      DATABASE_URL: pg.url,
      REDIS_URL: redisUrl,
      CODEMIE_REDIS_PREFIX: `t-${randomBytes(4).toString('hex')}`,
      CODEMIE_MEMBERSHIP_CACHE_MS: '600000',
    };
    a = await startTestPlatform({ env });
    b = await startTestPlatform({ env });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await drop?.();
  });

  it('a change through one process reaches the other at once', async () => {
    const admin = authHeaders(await adminToken(a));
    const user = await createUser(a, { username: 'roamer' });
    const headers = authHeaders(await passwordToken(a, 'roamer'));
    const appsOnB = async () => (await b.app.inject({ url: '/v1/user', headers })).json().applications as string[];
    expect(await appsOnB()).toEqual([]); // cached on B now, for ten minutes
    expect((await a.app.inject({ method: 'POST', url: '/v1/projects', headers: admin, payload: { name: 'roaming' } })).statusCode).toBe(201);
    const assign = await a.app.inject({
      method: 'POST',
      url: '/v1/projects/roaming/assignment',
      headers: admin,
      payload: { user_id: user.id, is_project_admin: false },
    });
    expect(assign.statusCode).toBe(200);
    await until(async () => (await appsOnB()).includes('roaming'));

    expect((await a.app.inject({ method: 'DELETE', url: `/v1/admin/users/${user.id}`, headers: admin })).statusCode).toBe(200);
    await until(async () => (await b.app.inject({ url: '/v1/user', headers })).statusCode === 401);
  });
});
