/** The error envelope for every failure path, framework errors included (HTTP level, inject()). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import net from 'node:net';
import { probeModule, startTestPlatform, testAuthHeaders, type TestPlatform } from '../../test/helpers.js';
import { notFound } from './errors.js';
import { defineRoute } from './route.js';

const body = z.object({
  name: z.string().min(1),
  items: z.array(z.object({ qty: z.number().int().positive() })).default([]),
});

/** Routes that exercise each error path. */
const probes = [
  defineRoute({
    method: 'POST',
    path: '/probe/echo',
    access: 'public',
    tags: ['probe'],
    summary: 'echo',
    body,
    responses: { 200: z.object({ echoed: body }) },
    handler: ({ body }) => ({ echoed: body }),
  }),
  defineRoute({
    method: 'GET',
    path: '/probe/boom',
    access: 'public',
    tags: ['probe'],
    summary: 'boom',
    responses: { 200: z.object({}) },
    handler: () => {
      throw new Error('secret internal detail at /srv/app.ts:12');
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/probe/missing/:id',
    access: 'public',
    tags: ['probe'],
    summary: 'missing',
    params: z.object({ id: z.string() }),
    responses: { 200: z.object({}) },
    errors: [404],
    handler: ({ params }) => {
      throw notFound('Assistant', params.id);
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/probe/private',
    tags: ['probe'],
    summary: 'private',
    responses: { 200: z.object({ ok: z.boolean() }) },
    handler: () => ({ ok: true }),
  }),
];

let p: TestPlatform;
beforeAll(async () => {
  p = await startTestPlatform({ extraModules: probeModule(probes), config: { bodyLimit: 2048 } });
});
afterAll(() => p.stop());

function expectEnvelope(body: unknown) {
  expect(body).toEqual({
    error: { message: expect.any(String), details: expect.anything(), help: expect.toSatisfy((h) => h === null || typeof h === 'string') },
  });
}

describe('error envelope', () => {
  it('unknown route → 404 envelope', async () => {
    const res = await p.app.inject({ method: 'GET', url: '/v1/does-not-exist' });
    expect(res.statusCode).toBe(404);
    expectEnvelope(res.json());
    expect(res.json().error.message).toBe('Not Found');
    expect(res.json().error.details).toContain('/v1/does-not-exist');
  });

  it('wrong method on a known path → 405 with Allow', async () => {
    const res = await p.app.inject({ method: 'DELETE', url: '/code-assistant-api/v1/info' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET');
    expectEnvelope(res.json());
    expect(res.json().error.message).toBe('Method Not Allowed');
  });

  it('malformed JSON → 400 envelope', async () => {
    const res = await p.app.inject({ method: 'POST', url: '/v1/probe/echo', headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
    expect(res.statusCode).toBe(400);
    expectEnvelope(res.json());
    expect(res.json().error.message).toBe('Invalid JSON body');
  });

  it('empty body with content-type application/json is no body (Python SDK DELETEs), not a 400', async () => {
    const res = await p.app.inject({ method: 'POST', url: '/v1/probe/echo', headers: { 'content-type': 'application/json' }, payload: '' });
    // reaches body validation as a missing body (this route requires one) instead of failing to parse
    expect(res.statusCode).toBe(422);
    expectEnvelope(res.json());
  });

  it('a body of whitespace JSON does not know (a vertical tab) is not an empty body: 400, as any text that is not JSON', async () => {
    for (const payload of ['\u000b', ' \u000c ', '\u00a0']) {
      const res = await p.app.inject({ method: 'POST', url: '/v1/probe/echo', headers: { 'content-type': 'application/json' }, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expectEnvelope(res.json());
    }
    // JSON's own whitespace alone is still no body
    const ws = await p.app.inject({ method: 'POST', url: '/v1/probe/echo', headers: { 'content-type': 'application/json' }, payload: ' \t\r\n' });
    expect(ws.statusCode).toBe(422);
  });

  it('body over the limit → 413 envelope', async () => {
    const res = await p.app.inject({
      method: 'POST',
      url: '/v1/probe/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(5000) }),
    });
    expect(res.statusCode).toBe(413);
    expectEnvelope(res.json());
    expect(res.json().error.message).toBe('Request body too large');
  });

  it('schema violations → 422 naming each failing path', async () => {
    const res = await p.app.inject({ method: 'POST', url: '/v1/probe/echo', payload: { name: '', items: [{ qty: 1 }, { qty: -2 }] } });
    expect(res.statusCode).toBe(422);
    const { error } = res.json();
    expect(error.message).toContain('name:');
    expect(error.message).toContain('items[1].qty:');
    expect(error.details).toEqual(expect.arrayContaining([expect.objectContaining({ loc: 'name' }), expect.objectContaining({ loc: 'items[1].qty' })]));
  });

  it('missing required field → 422', async () => {
    const res = await p.app.inject({ method: 'POST', url: '/v1/probe/echo', payload: {} });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.message).toMatch(/^name: /);
  });

  it('valid body passes through with defaults applied', async () => {
    const res = await p.app.inject({ method: 'POST', url: '/v1/probe/echo', payload: { name: 'a' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ echoed: { name: 'a', items: [] } });
  });

  it('unexpected errors → 500 without internals', async () => {
    const res = await p.app.inject({ method: 'GET', url: '/v1/probe/boom' });
    expect(res.statusCode).toBe(500);
    expectEnvelope(res.json());
    expect(res.body).not.toContain('secret internal detail');
    expect(res.body).not.toContain('.ts:');
    expect(res.json().error.message).toBe('Internal Server Error');
  });

  it('typed not-found errors use the reference wording', async () => {
    const res = await p.app.inject({ method: 'GET', url: '/v1/probe/missing/abc' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: {
        message: 'Assistant not found',
        details: 'The assistant with ID [abc] could not be found in the system.',
        help: 'Please ensure the specified ID is correct',
      },
    });
  });

  it('protected routes answer 401 in the envelope when no identity is given', async () => {
    const res = await p.app.inject({ method: 'GET', url: '/v1/probe/private' });
    expect(res.statusCode).toBe(401);
    expectEnvelope(res.json());
    expect(res.json().error.message).toBe('Authentication failed');
  });
});

describe('request ids', () => {
  it('generates one and echoes it', async () => {
    const res = await p.app.inject({ method: 'GET', url: '/v1/info' });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['server-timing']).toMatch(/^app;dur=\d+(\.\d+)?$/);
  });

  it('honours a well-formed X-Request-ID and replaces a malformed one', async () => {
    const ok = await p.app.inject({ method: 'GET', url: '/v1/info', headers: { 'x-request-id': 'trace-123' } });
    expect(ok.headers['x-request-id']).toBe('trace-123');
    const bad = await p.app.inject({ method: 'GET', url: '/v1/info', headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(bad.headers['x-request-id']).not.toContain(' ');
  });

  it('error responses carry the request id too', async () => {
    const res = await p.app.inject({ method: 'GET', url: '/v1/nope', headers: { 'x-request-id': 'r-1' } });
    expect(res.headers['x-request-id']).toBe('r-1');
  });
});

describe('text hygiene (NUL, lone surrogates, invalid UTF-8 → 422, nothing stored)', () => {
  const echo = (payload: string | Buffer) => p.app.inject({ method: 'POST', url: '/v1/probe/echo', headers: { 'content-type': 'application/json' }, payload });

  it('refuses a NUL character, naming where it is', async () => {
    const res = await echo('{"name":"a\\u0000b"}');
    expect(res.statusCode).toBe(422);
    expectEnvelope(res.json());
    expect(res.json().error.message).toBe('name: must not contain NUL characters');
    const nested = await echo('{"name":"ok","items":[{"qty":1,"note":"x\\u0000"}]}');
    expect(nested.statusCode).toBe(422);
    expect(nested.json().error.message).toBe('items[0].note: must not contain NUL characters');
  });

  it('refuses lone surrogates (and NUL in keys), accepts proper pairs', async () => {
    const lone = await echo('{"name":"\\ud800"}');
    expect(lone.statusCode).toBe(422);
    expect(lone.json().error.message).toBe('name: contains invalid Unicode (a lone surrogate)');
    const key = await echo('{"name":"a","x\\u0000":1}');
    expect(key.statusCode).toBe(422);
    const pair = await echo('{"name":"\\ud83d\\ude00 ok"}');
    expect(pair.statusCode).toBe(200);
    expect(pair.json().echoed.name).toBe('😀 ok');
  });

  it('refuses bytes that are not UTF-8 instead of replacing them', async () => {
    const res = await echo(Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]));
    expect(res.statusCode).toBe(422);
    expect(res.json().error.message).toBe('body: is not valid UTF-8 text');
  });

  it('refuses NUL in path and query parameters', async () => {
    const path = await p.app.inject({ method: 'GET', url: '/v1/probe/missing/a%00b' });
    expect(path.statusCode).toBe(422);
    expect(path.json().error.message).toBe('path.id: must not contain NUL characters');
  });

  it('an assistant named with a NUL is refused and nothing is stored', async () => {
    const q = await startTestPlatform({ testAuth: true });
    try {
      const headers = { ...testAuthHeaders({ id: 'u1', username: 'u1', projects: ['demo'] }), 'content-type': 'application/json' };
      const res = await q.app.inject({
        method: 'POST',
        url: '/v1/assistants',
        headers,
        payload: '{"name":"evil\\u0000name","project":"demo","system_prompt":"x"}',
      });
      expect(res.statusCode).toBe(422);
      const list = await q.app.inject({ method: 'GET', url: '/v1/assistants?scope=created_by_user', headers });
      expect(list.json().pagination.total).toBe(0);
    } finally {
      await q.stop();
    }
  });
});

describe('oversized URLs and headers are answered in the envelope', () => {
  it('a path parameter over the router limit → 414 without echoing the path', async () => {
    const long = 'x'.repeat(5000);
    const res = await p.app.inject({ method: 'GET', url: `/v1/probe/missing/${long}` });
    expect(res.statusCode).toBe(414);
    expectEnvelope(res.json());
    expect(res.body).not.toContain(long.slice(0, 200));
  });

  it('request headers over the HTTP limit → 431 in the envelope', async () => {
    const q = await startTestPlatform({ listen: true });
    try {
      const { port } = new URL(q.url);
      const body = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => {
          socket.write(`GET /v1/info HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`);
        });
        let out = '';
        socket.on('data', (d) => (out += d));
        socket.on('end', () => resolve(out));
        socket.on('error', reject);
      });
      expect(body).toMatch(/^HTTP\/1\.1 431 /);
      const json = JSON.parse(body.slice(body.indexOf('\r\n\r\n') + 4));
      expect(json).toEqual({ error: { message: 'Request header fields too large', details: 'The request headers exceed the server limit.', help: null } });
    } finally {
      await q.stop();
    }
  });
});
