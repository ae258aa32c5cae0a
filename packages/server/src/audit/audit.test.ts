/** The audit log on both databases: permission denials recorded centrally; admin-only reading. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { forbidden } from '../api/errors.js';
import { defineRoute } from '../api/route.js';
import { DB_KINDS, probeModule, startTestPlatform, testAuthHeaders, type TestPlatform } from '../../test/helpers.js';

const guarded = defineRoute({
  method: 'GET',
  path: '/guarded',
  tags: ['probe'],
  summary: 'always refused',
  responses: { 200: z.object({}) },
  errors: [403],
  handler: () => {
    throw forbidden("You do not have permission to access the project 'secret'.");
  },
});

describe.each(DB_KINDS)('audit log on %s', (db) => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform({ db, testAuth: true, extraModules: probeModule([guarded]) });
  });
  afterAll(() => p.stop());

  const dev = testAuthHeaders({ id: 'u-dev', username: 'dev', roles: ['developer'] });
  const admin = testAuthHeaders({ id: 'u-admin', username: 'boss', roles: ['admin'] });

  it('records a permission denial with who, where and why (no secrets)', async () => {
    const res = await p.app.inject({ method: 'GET', url: '/v1/guarded', headers: { ...dev, 'x-request-id': 'req-audit-1' } });
    expect(res.statusCode).toBe(403);
    await p.infra.audit.flush();
    const list = await p.app.inject({ method: 'GET', url: '/v1/admin/audit?event=access.denied', headers: admin });
    expect(list.statusCode).toBe(200);
    const body = list.json();
    expect(body.pagination).toMatchObject({ page: 0, total: 1 });
    expect(body.data[0]).toMatchObject({
      event: 'access.denied',
      outcome: 'denied',
      user_id: 'u-dev',
      username: 'dev',
      request_id: 'req-audit-1',
      details: { method: 'GET', route: '/v1/guarded', reason: "You do not have permission to access the project 'secret'." },
    });
  });

  it('is readable by admins only (and that denial is itself audited)', async () => {
    const res = await p.app.inject({ method: 'GET', url: '/v1/admin/audit', headers: dev });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.details).toBe('This action requires administrator or maintainer privileges.');
    await p.infra.audit.flush();
    const list = await p.app.inject({ method: 'GET', url: '/v1/admin/audit?per_page=1', headers: admin });
    expect(list.json().data[0].details.route).toBe('/v1/admin/audit');
    expect(list.json().pagination.pages).toBeGreaterThanOrEqual(2);
  });

  it('validates its query', async () => {
    const res = await p.app.inject({ method: 'GET', url: '/v1/admin/audit?since=yesterday', headers: admin });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.message).toContain('since');
  });
});
