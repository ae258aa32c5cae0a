/**
 * A Redis restart under a running execution (API + worker processes on PostgreSQL + a PRIVATE Redis
 * with AOF persistence, so the shared test Redis is never touched): the run continues and completes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freshPostgres, tempDir, TEST_ADMIN_PASSWORD } from './helpers.js';
import { freePort, startServerProcess, type ServerProcess } from './process.js';
import { TWO_STATE_YAML, lastUserText, sleep, until } from './scale-support.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from './llm-server.js';
import { testServiceUrl } from './services.js';

// CODEMIE_TEST_REDIS_SERVER=off opts out explicitly (no redis-server binary for the private Redis)
const enabled = process.env.CODEMIE_TEST_REDIS_SERVER !== 'off' && Boolean(testServiceUrl('postgres') && testServiceUrl('redis'));

const YAML = TWO_STATE_YAML;



describe.skipIf(!enabled)('scale-out: Redis restart under a running execution', () => {
  const tmp = tempDir('codemie-redis-restart-');
  let llm: TestLlmServer;
  let drop: (() => Promise<void>) | undefined;
  let redis: ChildProcess | undefined;
  let redisPort = 0;
  let api: ServerProcess;
  let worker: ServerProcess;
  let token = '';

  const startRedis = async () => {
    const dir = path.join(tmp.dir, 'redis');
    mkdirSync(dir, { recursive: true });
    const child = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
    const probe = new Redis(redisPort, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    await until('redis-server to answer', async () => (await probe.connect().then(() => probe.ping()).catch(() => undefined)) === 'PONG', 5000, 50);
    probe.disconnect();
    return child;
  };

  beforeAll(async () => {
    redisPort = await freePort();
    redis = await startRedis();
    llm = await startTestLlmServer();
    const models = writeTestModelsFile(llm, tmp.dir);
    const pg = await freshPostgres();
    drop = pg.drop;
    const env = {
      ...models.env,
      DATABASE_URL: pg.url,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      CODEMIE_RUN_LEASE_MS: '3000',
      CODEMIE_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      CODEMIE_SCRYPT_N: '1024',
      CODEMIE_LLM_MAX_RETRIES: '0',
      CODEMIE_SHUTDOWN_TIMEOUT_MS: '2000',
    };
    api = await startServerProcess({ ...env, CODEMIE_ROLE: 'api', CODEMIE_DATA_DIR: path.join(tmp.dir) }, 30_000);
    worker = await startServerProcess({ ...env, CODEMIE_ROLE: 'worker', CODEMIE_DATA_DIR: path.join(tmp.dir), LOG_LEVEL: 'debug' }, 30_000);
    const res = await fetch(`${api.url}/auth/realms/codemie/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'codemie-sdk', username: 'admin', password: TEST_ADMIN_PASSWORD }).toString(),
    });
    token = ((await res.json()) as { access_token: string }).access_token;
  }, 60_000);

  afterAll(async () => {
    await Promise.all([api, worker].filter(Boolean).map((p) => p.stop('SIGKILL')));
    redis?.kill('SIGKILL');
    await llm?.close();
    await drop?.();
    tmp.cleanup();
  }, 30_000);

  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${api.url}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  };

  it('the run in progress survives a Redis restart and completes once', async () => {
    const wf = await call('POST', '/v1/workflows', { name: 'r', description: 'd', project: 'demo', yaml_config: YAML });
    expect(wf.status).toBe(200);
    const workflowId = wf.body.data.id as string;
    llm.script((req) => (lastUserText(req).includes('Second: RESTART') ? { text: 'after the restart', firstTokenDelayMs: 2500 } : undefined));
    const ex = await call('POST', `/v1/workflows/${workflowId}/executions`, { user_input: 'RESTART' });
    expect(ex.status).toBe(200);
    const id = ex.body.execution_id as string;
    await until('the slow second-state call', () => llm.chatRequests().find((r) => lastUserText(r).includes('Second: RESTART')), 15_000);
    // Restart Redis while the model call is in flight.
    const exited = new Promise((r) => redis!.once('exit', r));
    redis!.kill('SIGTERM');
    await exited;
    await sleep(500);
    redis = await startRedis();
    const done = await until(
      'the execution to finish',
      async () => {
        const r = await call('GET', `/v1/workflows/${workflowId}/executions/${id}`);
        return ['Succeeded', 'Failed', 'Aborted'].includes(r.body?.overall_status) ? r.body : undefined;
      },
      20_000,
      200,
    );
    expect(done.overall_status).toBe('Succeeded');
    expect(done.output).toBe('after the restart');
    expect(llm.chatRequests().filter((r) => lastUserText(r).includes('First: RESTART'))).toHaveLength(1);
    // A new execution after the restart runs normally.
    const ex2 = await call('POST', `/v1/workflows/${workflowId}/executions`, { user_input: 'AFTER' });
    const id2 = ex2.body.execution_id as string;
    const done2 = await until(
      'the second execution to finish',
      async () => {
        const r = await call('GET', `/v1/workflows/${workflowId}/executions/${id2}`);
        return ['Succeeded', 'Failed', 'Aborted'].includes(r.body?.overall_status) ? r.body : undefined;
      },
      15_000,
      200,
    );
    expect(done2.overall_status).toBe('Succeeded');
  }, 60_000);
});
