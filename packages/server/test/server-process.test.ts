/** Against a real started server process: what a user sees right after `npm start`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from './process.js';
import { tempDir } from './helpers.js';

describe('started server', () => {
  const tmp = tempDir();
  let srv: ServerProcess;
  beforeAll(async () => {
    srv = await startServerProcess({ CODEMIE_DATA_DIR: tmp.dir });
  });
  afterAll(async () => {
    await srv?.stop('SIGKILL');
    tmp.cleanup();
  });

  it('serves the healthcheck and info without auth under both prefixes', async () => {
    for (const base of ['/v1', '/code-assistant-api/v1']) {
      const health = await fetch(`${srv.url}${base}/healthcheck`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'healthy', worker_pid: srv.child.pid, database: 'sqlite' });
      const info = await (await fetch(`${srv.url}${base}/info`)).json();
      expect(info).toEqual({ message: 'Codemie', version: expect.stringMatching(/^\d+\.\d+\.\d+/), description: "Smart AI assistant 'CodeMie'" });
    }
  });

  it('publishes OpenAPI 3.1 at /openapi.json and under the prefix, and docs at /docs', async () => {
    const spec = (await (await fetch(`${srv.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toContain('/v1/healthcheck');
    expect(Object.keys(spec.paths).some((p: string) => p.startsWith('/code-assistant-api'))).toBe(false);
    const prefixed = await (await fetch(`${srv.url}/code-assistant-api/openapi.json`)).json();
    expect(prefixed).toEqual(spec);
    const docs = await fetch(`${srv.url}/docs`, { redirect: 'follow' });
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('keeps its data in CODEMIE_DATA_DIR', async () => {
    const { existsSync } = await import('node:fs');
    expect(existsSync(`${tmp.dir}/codemie.db`)).toBe(true);
  });

  it('writes structured JSON logs with the request id', async () => {
    await fetch(`${srv.url}/v1/info`, { headers: { 'x-request-id': 'log-probe-1' } });
    await new Promise((r) => setTimeout(r, 200));
    const line = srv.output().split('\n').find((l) => l.includes('log-probe-1'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ reqId: 'log-probe-1', status: 200, url: '/v1/info' });
  });

  it('exits cleanly on SIGTERM', async () => {
    const code = await srv.stop('SIGTERM');
    expect(code).toBe(0);
    expect(srv.output()).toContain('stopped');
  });
});

describe('bad configuration', () => {
  it('refuses to start and names the variable', async () => {
    const { spawnSync } = await import('node:child_process');
    const { serverEntry } = await import('./process.js');
    const res = spawnSync(process.execPath, [serverEntry], { env: { ...process.env, PORT: 'abc' }, encoding: 'utf8' });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('Invalid configuration');
    expect(res.stderr).toContain('PORT (port)');
  });
});
