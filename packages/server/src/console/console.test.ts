/**
 * The console's server side: its config route (embedded IdP, or an external issuer by
 * configuration), the built app at `/` and /assets/* (no path escapes), the API and Swagger UI
 * where they were; and POST /v1/workflows/validate, which the console's editor calls as you type.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startTestPlatform, tempDir, testAuthHeaders, type TestPlatform } from '../../test/helpers.js';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Infra } from '../infra.js';
import { consoleModule, CONSOLE_DIST } from './module.js';

const me = testAuthHeaders({ username: 'alice', projects: ['demo'] });

describe('console config with an external issuer', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform({ env: { CODEMIE_CONSOLE_ISSUER: 'https://kc.example.com/realms/codemie/', CODEMIE_CONSOLE_CLIENT_ID: 'my-console' } });
  });
  afterAll(async () => p?.stop());

  it('names the configured issuer and client', async () => {
    const res = await p.app.inject({ url: '/code-assistant-api/v1/console/config' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      issuer: 'https://kc.example.com/realms/codemie',
      client_id: 'my-console',
      scope: 'openid profile email',
      api_base: '/v1',
      embedded_idp: false,
    });
  });
});

describe.each(DB_KINDS)('console on %s', (db) => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform({ db, testAuth: true });
  });
  afterAll(async () => p?.stop());

  it('config: the embedded IdP of this server and the console client, without a token', async () => {
    const res = await p.app.inject({ url: '/v1/console/config', headers: { host: 'codemie.test:8080' } });
    expect(res.json()).toEqual({
      issuer: 'http://codemie.test:8080/auth/realms/codemie',
      client_id: 'codemie-console',
      scope: 'openid profile email',
      api_base: '/v1',
      embedded_idp: true,
    });
  });

  it('serves the page at / (or says how to build it), and leaves the API and /docs alone', async () => {
    const res = await p.app.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.body).toMatch(/<div id="root">|npm run build -w packages\/web/);
    expect((await p.app.inject({ url: '/v1/healthcheck' })).statusCode).toBe(200);
    expect((await p.app.inject({ url: '/docs/' })).statusCode).toBe(200);
    expect((await p.app.inject({ url: '/v1/workflows' })).statusCode).toBe(401);
  });

  it('validate: the first problem with its line, or the graph; nothing is stored', async () => {
    const bad = await p.app.inject({
      method: 'POST',
      url: '/v1/workflows/validate',
      headers: me,
      payload: {
        yaml_config:
          'assistants:\n  - id: a\n    system_prompt: x\nstates:\n  - id: one\n    assistant_id: a\n    task: t\n    next:\n      state_id: missing\n',
      },
    });
    expect(bad.statusCode).toBe(200);
    const b = bad.json();
    expect(b.valid).toBe(false);
    expect(b.states).toEqual([]);
    expect(b.errors).toHaveLength(1);
    expect(b.errors[0].message).toContain("'missing'");
    expect(b.errors[0].line).toBeGreaterThanOrEqual(5);

    const syntax = (await p.app.inject({ method: 'POST', url: '/v1/workflows/validate', headers: me, payload: { yaml_config: 'states: [\n' } })).json();
    expect(syntax.valid).toBe(false);
    expect(typeof syntax.errors[0].message).toBe('string');

    const good = await p.app.inject({
      method: 'POST',
      url: '/v1/workflows/validate',
      headers: me,
      payload: {
        yaml_config:
          'assistants:\n  - id: a\n    system_prompt: x\nstates:\n  - id: one\n    assistant_id: a\n    task: t\n    next:\n      state_id: two\n  - id: two\n    assistant_id: a\n    task: t\n    interrupt_before: true\n    next:\n      state_id: end\n',
      },
    });
    expect(good.json()).toEqual({
      valid: true,
      errors: [],
      states: [
        { id: 'one', next: ['two'], interrupt_before: false },
        { id: 'two', next: ['end'], interrupt_before: true },
      ],
    });
    const empty = (await p.app.inject({ method: 'POST', url: '/v1/workflows/validate', headers: me, payload: { yaml_config: '  ' } })).json();
    expect(empty).toEqual({ valid: false, errors: [{ message: 'yaml_config is empty', line: null }], states: [] });
    expect((await p.app.inject({ method: 'POST', url: '/v1/workflows/validate', headers: me, payload: {} })).statusCode).toBe(422);
    expect((await p.app.inject({ method: 'POST', url: '/v1/workflows/validate', payload: { yaml_config: 'x' } })).statusCode).toBe(401);
    const list = (await p.app.inject({ url: '/v1/workflows', headers: me })).json();
    expect(list.pagination.total).toBe(0);
  });
});

describe('console static files', () => {
  const tmp = tempDir();
  let app: FastifyInstance;
  beforeAll(async () => {
    const dist = path.join(tmp.dir, 'web');
    mkdirSync(path.join(dist, 'assets'), { recursive: true });
    writeFileSync(path.join(dist, 'index.html'), '<!doctype html><div id="root"></div><script src="/assets/app-1.js"></script>');
    writeFileSync(path.join(dist, 'assets', 'app-1.js'), 'console.log(1)');
    writeFileSync(path.join(tmp.dir, 'secret.txt'), 'nope');
    // The assets route as the module sets it up, on a bare Fastify app.
    app = Fastify();
    await consoleModule({ config: {} } as unknown as Infra, { dist }).scopes![0].setup!(app);
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    tmp.cleanup();
  });

  it('serves hashed assets (long-cached); unknown or escaping paths are 404', async () => {
    const p = { app };
    const js = await p.app.inject({ url: '/assets/app-1.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.headers['cache-control']).toContain('immutable');
    expect(js.body).toBe('console.log(1)');
    for (const url of ['/assets/missing.js', '/assets/../secret.txt', '/assets/%2e%2e/secret.txt', '/assets/..%2fsecret.txt']) {
      const res = await p.app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.body).not.toContain('nope');
    }
  });

  it('knows where the build goes', () => {
    expect(CONSOLE_DIST.endsWith(path.join('packages', 'web', 'dist'))).toBe(true);
  });
});
