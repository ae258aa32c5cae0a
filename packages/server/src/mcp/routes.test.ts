/**
 * /v1/mcp-configs on both databases (CRUD, 403 for non-admins, 404, 422), catalog references
 * resolved by openToolset, and the schemas/propagation as other domains embed them (422 naming
 * the nested field, 400 for oversize propagated headers).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import { defineRoute } from '../api/route.js';
import { currentUser } from '../api/auth.js';
import { DB_KINDS, startTestPlatform, testAuthHeaders, type TestPlatform } from '../../test/helpers.js';
import { startRecordingHttpServer, type McpHttpServer } from '../../test/mcp-servers/recording.mjs';
import { extractPropagatedHeaders, limitsFromConfig } from './headers.js';
import { mcpServerDetailsSchema } from './schemas.js';

/** Stands in for the assistants domain: embeds mcp_servers[] and propagates headers on request. */
const probe = (infra: Infra): Module[] => {
  const body = z.object({ mcp_servers: z.array(mcpServerDetailsSchema).default([]), propagate_headers: z.boolean().default(false) });
  const route = defineRoute({
    method: 'POST',
    path: '/probe',
    tags: ['probe'],
    summary: 'open the toolset',
    body,
    responses: { 200: z.object({ tools: z.array(z.string()), warnings: z.array(z.unknown()), whoami: z.unknown() }) },
    async handler({ body: b, req, user }) {
      const headers = b.propagate_headers ? extractPropagatedHeaders(req.headers, limitsFromConfig(infra.config)) : null;
      const ts = await infra.mcp.openToolset(b.mcp_servers, { propagatedHeaders: headers, user, requestId: req.id });
      try {
        const whoami = ts.tools.find((t) => t.name === 'whoami');
        const out = whoami ? await whoami.execute({}, { signal: new AbortController().signal, toolCallId: '1' }) : null;
        return { tools: ts.tools.map((t) => t.name).sort(), warnings: ts.warnings, whoami: out ? JSON.parse(out.output) : null };
      } finally {
        await ts.close();
      }
    },
  });
  return [{ name: 'probe', services: null, routes: [route] }];
};

const admin = testAuthHeaders({ id: 'u-admin', username: 'boss', roles: ['admin'] });
const dev = testAuthHeaders({ id: 'u-dev', username: 'dev', roles: ['developer'] });

describe.each(DB_KINDS)('MCP catalog on %s', (db) => {
  let p: TestPlatform;
  let rec: McpHttpServer;
  beforeAll(async () => {
    rec = await startRecordingHttpServer();
    p = await startTestPlatform({
      db,
      testAuth: true,
      extraModules: probe,
      env: { CODEMIE_MCP_ALLOWED_COMMANDS: 'node,uvx,/opt/mcp/bin/server' },
    });
  });
  afterAll(async () => {
    await p.stop();
    await rec.close();
  });

  const entry = (over: Record<string, unknown> = {}) => ({
    name: 'Recorder',
    description: 'Records what it receives',
    categories: ['Testing'],
    config: { url: rec.url, type: 'streamable-http', headers: { 'X-Tenant': '{{headers.x-tenant-id}}' } },
    required_env_vars: [{ name: 'TOKEN', description: 'a token' }],
    is_public: true,
    ...over,
  });

  it('admin creates (201), anyone reads, admin updates and deletes', async () => {
    const created = await p.app.inject({ method: 'POST', url: '/v1/mcp-configs', headers: admin, payload: entry() });
    expect(created.statusCode).toBe(201);
    const c = created.json();
    expect(c).toMatchObject({
      name: 'Recorder',
      description: 'Records what it receives',
      categories: ['Testing'],
      config: { url: rec.url, type: 'streamable-http', args: [], env: {}, single_usage: false },
      required_env_vars: [{ name: 'TOKEN', description: 'a token', required: true }],
      user_id: 'u-admin',
      is_public: true,
      is_system: false,
      is_active: true,
      usage_count: 0,
      warnings: [],
      created_by: { id: 'u-admin', username: 'boss' },
    });
    expect(c.id).toMatch(/^[0-9a-f-]{36}$/);

    const got = await p.app.inject({ method: 'GET', url: `/v1/mcp-configs/${c.id}`, headers: dev });
    expect(got.statusCode).toBe(200);
    expect(got.json().name).toBe('Recorder');

    const upd = await p.app.inject({
      method: 'PUT',
      url: `/code-assistant-api/v1/mcp-configs/${c.id}`,
      headers: admin,
      payload: { description: 'changed', categories: ['A', 'B'] },
    });
    expect(upd.statusCode).toBe(200);
    expect(upd.json()).toMatchObject({ name: 'Recorder', description: 'changed', categories: ['A', 'B'] });

    const del = await p.app.inject({ method: 'DELETE', url: `/v1/mcp-configs/${c.id}`, headers: admin });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ message: 'MCP configuration deleted successfully' });
    const gone = await p.app.inject({ method: 'GET', url: `/v1/mcp-configs/${c.id}`, headers: admin });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error).toEqual({
      message: 'MCP config not found',
      details: `The mcp config with ID [${c.id}] could not be found in the system.`,
      help: 'Please ensure the specified ID is correct',
    });
  });

  it('credentials in a config are masked in responses and kept when the mask is sent back', async () => {
    const created = await p.app.inject({
      method: 'POST',
      url: '/v1/mcp-configs',
      headers: admin,
      payload: entry({
        name: 'With secrets',
        config: { url: rec.url, type: 'streamable-http', auth_token: 'tok-1', headers: { Authorization: 'Bearer s3cr3t', 'X-Team': 'blue' } },
      }),
    });
    expect(created.statusCode).toBe(201);
    expect(created.body).not.toContain('s3cr3t');
    expect(created.body).not.toContain('tok-1');
    const c = created.json();
    expect(c.config).toMatchObject({ auth_token: '********', headers: { Authorization: '********', 'X-Team': 'blue' } });
    // sending the masked config back (e.g. a UI round trip) keeps the secrets
    const upd = await p.app.inject({
      method: 'PUT',
      url: `/v1/mcp-configs/${c.id}`,
      headers: admin,
      payload: { config: { ...c.config, headers: { ...c.config.headers, 'X-Team': 'red' } } },
    });
    expect(upd.statusCode).toBe(200);
    const res = await p.app.inject({
      method: 'POST',
      url: '/v1/probe',
      headers: dev,
      payload: { mcp_servers: [{ name: 'sec', mcp_config_id: c.id, tools: ['whoami'] }] },
    });
    expect(res.json().whoami.headers).toMatchObject({ authorization: 'Bearer s3cr3t', 'x-team': 'red' });
    await p.app.inject({ method: 'DELETE', url: `/v1/mcp-configs/${c.id}`, headers: admin });
  });

  it('lists {total, configs} with paging, search, category and visibility', async () => {
    const mk = (o: Record<string, unknown>) => p.app.inject({ method: 'POST', url: '/v1/mcp-configs', headers: admin, payload: entry(o) });
    await mk({ name: 'Alpha files', categories: ['Files'] });
    await mk({ name: 'Beta memory', categories: ['Memory'], description: 'remembers things' });
    await mk({ name: 'Gamma private', is_public: false });
    const all = await p.app.inject({ method: 'GET', url: '/v1/mcp-configs', headers: admin });
    expect(all.statusCode).toBe(200);
    expect(all.json()).toMatchObject({ total: 3, page: 0, per_page: 20 });
    expect(all.json().configs.map((c: { name: string }) => c.name)).toEqual(['Alpha files', 'Beta memory', 'Gamma private']);
    const forDev = await p.app.inject({ method: 'GET', url: '/v1/mcp-configs', headers: dev });
    expect(forDev.json().total).toBe(2);
    const paged = await p.app.inject({ method: 'GET', url: '/v1/mcp-configs?page=1&per_page=2', headers: admin });
    expect(paged.json()).toMatchObject({ total: 3, page: 1, per_page: 2 });
    expect(paged.json().configs.map((c: { name: string }) => c.name)).toEqual(['Gamma private']);
    const search = await p.app.inject({ method: 'GET', url: '/v1/mcp-configs?search=REMEMBERS', headers: admin });
    expect(search.json().configs.map((c: { name: string }) => c.name)).toEqual(['Beta memory']);
    const cat = await p.app.inject({ method: 'GET', url: '/v1/mcp-configs?category=files', headers: admin });
    expect(cat.json().configs.map((c: { name: string }) => c.name)).toEqual(['Alpha files']);
    const priv = all.json().configs.find((c: { name: string }) => c.name === 'Gamma private');
    const denied = await p.app.inject({ method: 'GET', url: `/v1/mcp-configs/${priv.id}`, headers: dev });
    expect(denied.statusCode).toBe(403);
    const bad = await p.app.inject({ method: 'GET', url: '/v1/mcp-configs?per_page=500', headers: admin });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.message).toContain('per_page');
  });

  it('non-admins get 403 on create, update and delete; 401 without a token', async () => {
    const c = (await p.app.inject({ method: 'POST', url: '/v1/mcp-configs', headers: admin, payload: entry({ name: 'Guarded' }) })).json();
    for (const [method, url] of [
      ['POST', '/v1/mcp-configs'],
      ['PUT', `/v1/mcp-configs/${c.id}`],
      ['DELETE', `/v1/mcp-configs/${c.id}`],
    ] as const) {
      const res = await p.app.inject({ method, url, headers: dev, payload: method === 'DELETE' ? undefined : entry() });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error).toMatchObject({ message: 'Access denied', details: 'This action requires administrator or maintainer privileges.' });
    }
    expect((await p.app.inject({ method: 'GET', url: '/v1/mcp-configs' })).statusCode).toBe(401);
    const missing = await p.app.inject({ method: 'PUT', url: '/v1/mcp-configs/nope', headers: admin, payload: { name: 'x' } });
    expect(missing.statusCode).toBe(404);
    expect((await p.app.inject({ method: 'DELETE', url: '/v1/mcp-configs/nope', headers: admin })).statusCode).toBe(404);
  });

  it('422 naming the field: command and url, neither, disallowed command, >3 categories', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ config: { command: 'node', url: rec.url } }, 'config.url'],
      [{ config: { args: ['x'] } }, "config.command: exactly one of 'command' or 'url' must be set"],
      [{ config: { command: 'npx' } }, "config.command: command 'npx' is not allowed; allowed commands: node, uvx, /opt/mcp/bin/server"],
      [{ config: { command: 'bash', args: ['-c', 'rm -rf /'] } }, "config.command: command 'bash' is not allowed"],
      [{ categories: ['a', 'b', 'c', 'd'] }, 'categories'],
      [{ name: undefined }, 'name'],
    ];
    for (const [over, msg] of cases) {
      const res = await p.app.inject({ method: 'POST', url: '/v1/mcp-configs', headers: admin, payload: entry(over) });
      expect(res.statusCode, JSON.stringify(over)).toBe(422);
      expect(res.json().error.message).toContain(msg);
    }
    const abs = await p.app.inject({ method: 'POST', url: '/v1/mcp-configs', headers: admin, payload: entry({ config: { command: '/opt/mcp/bin/server' } }) });
    expect(abs.statusCode).toBe(201);
  });

  it('embedded in another body: 422 names the nested field', async () => {
    const res = await p.app.inject({
      method: 'POST',
      url: '/v1/probe',
      headers: dev,
      payload: {
        mcp_servers: [
          { name: 'ok', config: { url: rec.url } },
          { name: 'bad', config: { command: 'sh' } },
        ],
      },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.message).toContain("mcp_servers[1].config.command: command 'sh' is not allowed");
  });

  it('assistants can reference a catalog entry by mcp_config_id (placeholders resolved per request)', async () => {
    const c = (await p.app.inject({ method: 'POST', url: '/v1/mcp-configs', headers: admin, payload: entry({ name: 'By ref' }) })).json();
    const res = await p.app.inject({
      method: 'POST',
      url: '/v1/probe',
      headers: { ...dev, 'X-Tenant-ID': 'acme-corp', 'X-Correlation-ID': 'trace-123', Cookie: 'a=b' },
      payload: { propagate_headers: true, mcp_servers: [{ name: 'catalogued', mcp_config_id: c.id, tools: ['whoami'] }] },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.tools).toEqual(['whoami']);
    expect(body.whoami.headers).toMatchObject({ 'x-tenant': 'acme-corp', 'x-tenant-id': 'acme-corp', 'x-correlation-id': 'trace-123' });
    expect(body.whoami.headers.cookie).toBeUndefined();
    expect(body.whoami.headers.authorization).toBeUndefined();

    const unknown = await p.app.inject({
      method: 'POST',
      url: '/v1/probe',
      headers: dev,
      payload: { mcp_servers: [{ name: 'ghost', mcp_config_id: 'no-such-id' }] },
    });
    expect(unknown.json().warnings).toEqual([
      { source: 'mcp:ghost', message: "MCP server 'ghost' skipped: MCP catalog entry 'no-such-id' (mcp_config_id) does not exist" },
    ]);

    await p.app.inject({ method: 'PUT', url: `/v1/mcp-configs/${c.id}`, headers: admin, payload: { is_active: false } });
    const inactive = await p.app.inject({ method: 'POST', url: '/v1/probe', headers: dev, payload: { mcp_servers: [{ name: 'x', mcp_config_id: c.id }] } });
    expect(inactive.json().warnings[0].message).toContain('is not active');
  });

  it('oversize propagated headers → 400 envelope naming the limit', async () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`x-h${i}`, 'v']));
    const res = await p.app.inject({ method: 'POST', url: '/v1/probe', headers: { ...dev, ...many }, payload: { propagate_headers: true } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ message: 'Too many headers to propagate' });
    expect(res.json().error.details).toContain('CODEMIE_FORWARDED_HEADERS_MAX_COUNT');
    const big = await p.app.inject({ method: 'POST', url: '/v1/probe', headers: { ...dev, 'x-big': 'v'.repeat(9000) }, payload: { propagate_headers: true } });
    expect(big.statusCode).toBe(400);
    expect(big.json().error.message).toBe('Propagated headers too large');
    // without propagate_headers the same request is fine
    const off = await p.app.inject({ method: 'POST', url: '/v1/probe', headers: { ...dev, ...many }, payload: {} });
    expect(off.statusCode).toBe(200);
  });
});
