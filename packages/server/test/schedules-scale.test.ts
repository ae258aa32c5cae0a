/**
 * Schedules in scale-out: two REAL server processes on one PostgreSQL database and one Redis (BullMQ
 * job schedulers). Each tick of a schedule starts exactly one workflow execution; a process killed
 * with SIGKILL between ticks leaves the other firing the following ticks, still once each. The
 * processes' logs never show the stored credentials.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, tempDir, TEST_ADMIN_PASSWORD } from './helpers.js';
import { startServerProcess, type ServerProcess } from './process.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from './llm-server.js';
import { testServiceUrl } from './services.js';
import { TWO_STATE_YAML, sleep, until } from './scale-support.js';

const enabled = Boolean(testServiceUrl('postgres') && testServiceUrl('redis'));
const SECRET_VALUE = 'sk-SCALE-NEVER-LOGGED-77';

describe.skipIf(!enabled)('schedules on two processes with Redis', () => {
  const tmp = tempDir('codemie-sched-');
  let llm: TestLlmServer;
  let drop: (() => Promise<void>) | undefined;
  let db: pg.Client;
  let env: Record<string, string>;
  const procs: ServerProcess[] = [];
  let token = '';
  let n = 0;

  const start = () => {
    const dir = path.join(tmp.dir, `p${n++}`);
    mkdirSync(dir);
    return startServerProcess({ ...env, CODEMIE_DATA_DIR: dir, LOG_LEVEL: 'debug' }, 30_000);
  };
  const api = async (base: string, method: string, url: string, body?: unknown) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, text };
  };

  beforeAll(async () => {
    llm = await startTestLlmServer({ instant: true });
    const models = writeTestModelsFile(llm, tmp.dir);
    const p = await freshPostgres();
    drop = p.drop;
    db = new pg.Client({ connectionString: p.url });
    env = {
      ...models.env,
      DATABASE_URL: p.url,
      REDIS_URL: process.env.TEST_REDIS_URL!,
      CODEMIE_REDIS_PREFIX: `sched-test-${randomUUID().slice(0, 8)}`,
      // Both processes must read what the other sealed.
      CODEMIE_SECRET_KEY: 'scale-test-secret-key-0123456789',
      CODEMIE_SCHEDULE_MIN_INTERVAL_SECONDS: '1',
      CODEMIE_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      CODEMIE_SCRYPT_N: '1024',
      CODEMIE_LLM_MAX_RETRIES: '0',
      CODEMIE_SHUTDOWN_TIMEOUT_MS: '2000',
    };
    procs.push(await start());
    procs.push(await start());
    await db.connect();
    const res = await fetch(`${procs[0].url}/auth/realms/codemie/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'codemie-sdk', username: 'admin', password: TEST_ADMIN_PASSWORD }).toString(),
    });
    expect(res.status).toBe(200);
    token = ((await res.json()) as { access_token: string }).access_token;
  }, 90_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await db?.end();
    await llm?.close();
    await drop?.();
    if (env?.CODEMIE_REDIS_PREFIX) {
      const redis = new Redis(process.env.TEST_REDIS_URL!);
      const keys = await redis.keys(`${env.CODEMIE_REDIS_PREFIX}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
    tmp.cleanup();
  });

  it('fires each tick exactly once across two workers, also after one is killed', async () => {
    const [a, b] = procs;
    const wf = await api(b.url, 'POST', '/v1/workflows', { name: 'ticks', description: 'schedule test', project: 'demo', yaml_config: TWO_STATE_YAML });
    expect(wf.status, wf.text).toBe(200);
    const workflowId = wf.body.data.id as string;
    // A credential saved through one process is usable by the other (same key) and never logged.
    const key = await api(a.url, 'POST', '/v1/settings/user', {
      project_name: 'demo',
      alias: 'provider',
      credential_type: 'LiteLLM',
      credential_values: [
        { key: 'url', value: 'http://127.0.0.1:9' },
        { key: 'api_key', value: SECRET_VALUE },
      ],
    });
    expect(key.status, key.text).toBe(200);
    const sched = await api(a.url, 'POST', '/v1/settings/user', {
      project_name: 'demo',
      alias: 'every-2s',
      credential_type: 'Scheduler',
      credential_values: [
        { key: 'schedule', value: '*/2 * * * * *' },
        { key: 'timezone', value: 'America/New_York' },
        { key: 'is_enabled', value: true },
        { key: 'resource_type', value: 'workflow' },
        { key: 'resource_id', value: workflowId },
        { key: 'prompt', value: 'tick' },
      ],
    });
    expect(sched.status, sched.text).toBe(200);
    const ticks = async () =>
      (
        await db.query<{ tick_at: string; node: string; outcome: string; run_id: string | null }>(
          'select tick_at, node, outcome, run_id from schedule_ticks order by tick_at',
        )
      ).rows;
    const started = async () => (await ticks()).filter((t) => t.outcome === 'started' && t.run_id);

    await until('three ticks', async () => ((await started()).length >= 3 ? true : undefined), 30_000, 100);
    // Kill A right after a tick (between ticks), then let B fire the next ones.
    const before = (await started()).length;
    await until('the next tick', async () => ((await started()).length > before ? true : undefined), 10_000, 50);
    await a.stop('SIGKILL');
    const killedAt = Date.now();
    await until(
      'three ticks after the kill',
      async () => ((await started()).filter((t) => Date.parse(t.tick_at) > killedAt).length >= 3 ? true : undefined),
      30_000,
      100,
    );
    // Freeze the state: stop B too (SIGKILL, like A), then count.
    await b.stop('SIGKILL');
    const all = await ticks();
    const ok = all.filter((t) => t.outcome === 'started');
    // One row per tick (the key), ticks two seconds apart.
    expect(new Set(all.map((t) => t.tick_at)).size).toBe(all.length);
    for (const t of all) expect(new Date(t.tick_at).getUTCSeconds() % 2).toBe(0);
    const execs = (await db.query<{ id: string; tags: string }>('select id, tags from workflow_executions where workflow_id = $1', [workflowId])).rows;
    // Never more executions than claimed ticks; every recorded run is one of them. (A process killed
    // between its claim and the run's creation leaves a claim without a run: that tick is lost, not doubled.)
    expect(execs.length).toBeLessThanOrEqual(ok.length);
    const runIds = ok.map((t) => t.run_id).filter(Boolean);
    expect(new Set(runIds).size).toBe(runIds.length);
    const execIds = new Set(execs.map((e) => e.id));
    for (const id of runIds) expect(execIds.has(id!)).toBe(true);
    expect(execs.length - runIds.length).toBeLessThanOrEqual(2);
    expect(ok.length - runIds.length).toBeLessThanOrEqual(2);
    for (const e of execs) expect(JSON.parse(e.tags)).toEqual(['schedule:every-2s']);
    // After the kill, only B fires.
    const after = ok.filter((t) => t.run_id && Date.parse(t.tick_at) > killedAt + 2000);
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(new Set(after.map((t) => t.node)).size).toBe(1);
    for (const p of procs) {
      expect(p.output()).toContain('"mode":"bullmq"');
      expect(p.output()).not.toContain(SECRET_VALUE);
    }
    const rows = (await db.query('select credentials from integrations')).rows;
    expect(JSON.stringify(rows)).not.toContain(SECRET_VALUE);
    expect(JSON.stringify(rows)).not.toContain('America/New_York');
  }, 120_000);
});
