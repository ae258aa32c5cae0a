/**
 * The scale-out topology as deployed: two API processes (CODEMIE_ROLE=api) and two worker processes
 * (CODEMIE_ROLE=worker), all REAL child processes of the built server, on one PostgreSQL database and
 * one Redis key prefix, with the test LLM server in this process. Proves: runs spread across workers,
 * SSE streaming crosses processes, aborts reach the worker, a worker killed with SIGKILL hands its run
 * to the other after the lease (finished exactly once), an SSE client gets its final chunk even when the
 * worker died between writing the run's end and publishing it, and an API restart does not touch running work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { freshPostgres, tempDir, TEST_ADMIN_PASSWORD } from './helpers.js';
import { startServerProcess, type ServerProcess } from './process.js';
import { TWO_STATE_YAML, lastUserText, sleep, until } from './scale-support.js';
import { startTestLlmServer, writeTestModelsFile, type TestLlmServer } from './llm-server.js';
import { parseSse } from './sse.js';
import { Redis } from 'ioredis';
import { RedisEventBus } from '../src/events/redis-bus.js';
import { workflowChunk } from '../src/wire/run-events.js';
import type { BusEnvelope } from '../src/workflows/model.js';
import { openIdentityAdmin } from '../src/identity/admin-session.js';
import { loadConfig } from '../src/config/config.js';
import { testServiceUrl } from './services.js';

const enabled = Boolean(testServiceUrl('postgres') && testServiceUrl('redis'));
const LEASE_MS = 3000;
/** An idle execution stream re-reads the execution this often (the lost-final-event fallback). */
const STREAM_CHECK_MS = 500;

const YAML = TWO_STATE_YAML;
const ONE_STATE_YAML = TWO_STATE_YAML.replace(/    next:\n      state_id: second\n[\s\S]*$/, '    next:\n      state_id: end\n');

describe.skipIf(!enabled)('scale-out: 2 API + 2 worker processes on PostgreSQL + Redis', () => {
  const tmp = tempDir('codemie-scale-');
  let llm: TestLlmServer;
  let drop: (() => Promise<void>) | undefined;
  let env: Record<string, string>;
  let apiA: ServerProcess;
  let apiB: ServerProcess;
  const workers: ServerProcess[] = [];
  let token = '';
  let workflowId = '';
  let dirs = 0;

  const start = (role: 'api' | 'worker') => {
    const dir = path.join(tmp.dir, `p${dirs++}`);
    mkdirSync(dir);
    return startServerProcess({ ...env, CODEMIE_ROLE: role, CODEMIE_DATA_DIR: dir, LOG_LEVEL: role === 'worker' ? 'debug' : 'info' }, 30_000);
  };

  async function api(base: string, method: string, url: string, body?: unknown): Promise<{ status: number; body: any; text: string }> {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let parsed: any = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    return { status: res.status, body: parsed, text };
  }

  async function execute(base: string, input: string): Promise<string> {
    const r = await api(base, 'POST', `/v1/workflows/${workflowId}/executions`, { user_input: input });
    expect(r.status, r.text).toBe(200);
    return r.body.execution_id as string;
  }

  async function waitStatus(base: string, id: string, statuses: string[], timeoutMs = 15_000): Promise<any> {
    return until(
      `execution ${id} to reach ${statuses.join('/')}`,
      async () => {
        const r = await api(base, 'GET', `/v1/workflows/${workflowId}/executions/${id}`);
        return statuses.includes(r.body?.overall_status) ? r.body : undefined;
      },
      timeoutMs,
      100,
    );
  }

  /** The workers whose log mentions running this execution. */
  const ranOn = (id: string) => workers.filter((w) => w.output().includes(id));
  const llmCalls = (marker: string) => llm.chatRequests().filter((r) => lastUserText(r).includes(marker));

  beforeAll(async () => {
    llm = await startTestLlmServer();
    const models = writeTestModelsFile(llm, tmp.dir);
    const pg = await freshPostgres();
    drop = pg.drop;
    env = {
      ...models.env,
      DATABASE_URL: pg.url,
      REDIS_URL: process.env.TEST_REDIS_URL!,
      CODEMIE_REDIS_PREFIX: `scale-test-${randomUUID().slice(0, 8)}`,
      CODEMIE_RUN_LEASE_MS: String(LEASE_MS),
      CODEMIE_WORKER_CONCURRENCY: '2',
      CODEMIE_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      CODEMIE_SCRYPT_N: '1024',
      CODEMIE_SEED_DEMO: 'false',
      CODEMIE_LOCAL_MODEL: 'off',
      CODEMIE_LLM_MAX_RETRIES: '0',
      CODEMIE_SHUTDOWN_TIMEOUT_MS: '2000',
      // Low enough for the fair-use case below; the admin running the other cases is exempt.
      CODEMIE_LIMIT_USER_CONCURRENT_RUNS: '2',
      CODEMIE_LOGIN_MAX_FAILURES: '4',
      CODEMIE_WORKFLOW_STREAM_CHECK_MS: String(STREAM_CHECK_MS),
    };
    // The first process migrates the database; the others start against the migrated schema.
    apiA = await start('api');
    const [b, w1, w2] = await Promise.all([start('api'), start('worker'), start('worker')]);
    apiB = b!;
    workers.push(w1!, w2!);
    const res = await fetch(`${apiA.url}/auth/realms/codemie/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'codemie-sdk', username: 'admin', password: TEST_ADMIN_PASSWORD }).toString(),
    });
    expect(res.status).toBe(200);
    token = ((await res.json()) as { access_token: string }).access_token;
    const wf = await api(apiB.url, 'POST', '/v1/workflows', { name: 'scale', description: 'scale-out test', project: 'demo', yaml_config: YAML });
    expect(wf.status, wf.text).toBe(200);
    workflowId = wf.body.data.id;
  }, 90_000);

  afterAll(async () => {
    await Promise.all([apiA, apiB, ...workers].filter(Boolean).map((p) => p.stop('SIGKILL')));
    await llm?.close();
    await drop?.();
    // Leave the shared Redis as found: drop this run's queue and stream keys.
    if (env?.CODEMIE_REDIS_PREFIX) {
      const redis = new Redis(process.env.TEST_REDIS_URL!);
      const keys = await redis.keys(`${env.CODEMIE_REDIS_PREFIX}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
    tmp.cleanup();
  }, 30_000);

  it('executions created on API A run on the workers, spread across both (never on an API process)', async () => {
    llm.rule((req) => (lastUserText(req).includes('SPREAD') ? { text: 'spread ok', firstTokenDelayMs: 400 } : undefined));
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => execute(apiA.url, `SPREAD ${i}`)));
    for (const id of ids) expect((await waitStatus(apiA.url, id, ['Succeeded', 'Failed', 'Aborted'])).overall_status).toBe('Succeeded');
    // Each run ran on exactly one worker; with 2 slots per worker, 6 slow runs must use both.
    for (const id of ids) expect(ranOn(id)).toHaveLength(1);
    const perWorker = workers.map((w) => ids.filter((id) => w.output().includes(id)).length);
    expect(
      perWorker.every((n) => n > 0),
      `runs per worker: ${perWorker}`,
    ).toBe(true);
    for (const p of [apiA, apiB]) for (const id of ids) expect(p.output()).not.toContain('run started on this worker');
    // Each state's model call happened once per execution.
    expect(llmCalls('SPREAD')).toHaveLength(12);
  }, 40_000);

  it('streams an execution started on API B (SSE) while a worker runs it, to the final `last` chunk', async () => {
    const res = await fetch(`${apiB.url}/v1/workflows/${workflowId}/executions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ user_input: 'STREAM me', stream: true }),
      signal: AbortSignal.timeout(20_000),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const id = res.headers.get('x-workflow-execution-id')!;
    expect(id).toBeTruthy();
    const events = parseSse(await res.text());
    expect(events.length).toBeGreaterThan(1);
    const chunks = events.map((e) => JSON.parse(e.data));
    expect(chunks.at(-1).last).toBe(true);
    expect(chunks.slice(0, -1).every((c) => !c.last)).toBe(true);
    // Event ids are the bus ids: present and strictly increasing (no reordering across processes).
    const ids = events.map((e) => e.id!);
    expect(ids.every(Boolean)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(JSON.stringify(chunks)).toContain('Echo: Second: STREAM me');
    expect((await waitStatus(apiA.url, id, ['Succeeded', 'Failed'])).overall_status).toBe('Succeeded');
    expect(ranOn(id)).toHaveLength(1);

    // Resuming after a seen event id (what Last-Event-ID does, on any API process) yields exactly the rest.
    const bus = new RedisEventBus(process.env.TEST_REDIS_URL!, { prefix: env.CODEMIE_REDIS_PREFIX });
    const rest: Array<{ id: string; chunk: any }> = [];
    try {
      for await (const ev of bus.subscribe(`execution:${id}`, { afterId: ids[1], signal: AbortSignal.timeout(5000) })) {
        // The bus carries run events; clients get them as the reference's chunks.
        const chunk = workflowChunk(id, (ev.data as BusEnvelope).event) as any;
        rest.push({ id: ev.id, chunk });
        if (chunk?.last) break;
      }
    } finally {
      await bus.close();
    }
    expect(rest.map((e) => e.id)).toEqual(ids.slice(2));
    expect(rest.map((e) => e.chunk)).toEqual(chunks.slice(2));
  }, 30_000);

  it('an assistant background task accepted by API B runs on a worker; its result is read through API A', async () => {
    const created = await api(apiB.url, 'POST', '/v1/assistants', {
      name: 'bg',
      description: 'd',
      system_prompt: 'Be brief.',
      llm_model_type: 'test-model',
      project: 'demo',
    });
    expect(created.status, created.text).toBe(200);
    const call = await api(apiB.url, 'POST', `/v1/assistants/${created.body.assistantId}/model`, { text: 'BGTASK please', background_task: true });
    expect(call.status, call.text).toBe(200);
    const taskId = call.body.taskId as string;
    expect(taskId).toBeTruthy();
    const task = await until(
      'the background task to finish',
      async () => {
        const r = await api(apiA.url, 'GET', `/v1/tasks/${taskId}`);
        return r.body?.status && r.body.status !== 'STARTED' ? r.body : undefined;
      },
      15_000,
      100,
    );
    expect(task.status).toBe('COMPLETED');
    expect(task.final_output).toBe('Echo: BGTASK please');
    expect(ranOn(taskId)).toHaveLength(1);
    expect(llmCalls('BGTASK')).toHaveLength(1);
  }, 30_000);

  it('login lock-out counts failures across both API processes', async () => {
    const login = (base: string, password: string) =>
      fetch(`${base}/auth/realms/codemie/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', client_id: 'codemie-sdk', username: 'guesser', password }).toString(),
      });
    // Four failures spread over A and B reach the maximum of 4: both processes now refuse.
    for (const base of [apiA.url, apiB.url, apiA.url, apiB.url]) expect((await login(base, 'wrong')).status).toBe(401);
    for (const base of [apiA.url, apiB.url]) {
      const r = await login(base, 'wrong');
      expect(r.status).toBe(429);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });

  it('a per-user limit of 2 concurrent runs holds across both API processes; a run finished on a worker frees its slot', async () => {
    // A regular (non-admin) user, created in the shared database like `codemie idp user add` does.
    const idp = await openIdentityAdmin(
      loadConfig({ DATABASE_URL: env.DATABASE_URL!, CODEMIE_DATA_DIR: tmp.dir, CODEMIE_SCRYPT_N: '1024', CODEMIE_LOCAL_MODEL: 'off' }),
    );
    try {
      await idp.admin.addUser({ username: 'limited', password: 'limited-password-1', email: 'limited@example.com', projects: ['demo'] });
    } finally {
      await idp.close();
    }
    const res = await fetch(`${apiB.url}/auth/realms/codemie/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'codemie-sdk', username: 'limited', password: 'limited-password-1' }).toString(),
    });
    const userToken = ((await res.json()) as { access_token: string }).access_token;
    const as = async (base: string, method: string, url: string, body?: unknown) => {
      const r = await fetch(`${base}${url}`, {
        method,
        headers: { authorization: `Bearer ${userToken}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      return { status: r.status, headers: r.headers, body: (await r.json()) as any };
    };
    const wf = await as(apiA.url, 'POST', '/v1/workflows', { name: 'limited', description: 'd', project: 'demo', yaml_config: ONE_STATE_YAML });
    expect(wf.status).toBe(200);
    const run = (base: string, input: string) => as(base, 'POST', `/v1/workflows/${wf.body.data.id}/executions`, { user_input: input });
    const done = (id: string) =>
      until(
        `execution ${id} to finish`,
        async () => ((await as(apiB.url, 'GET', `/v1/workflows/${wf.body.data.id}/executions/${id}`)).body.overall_status === 'Succeeded' ? true : undefined),
        15_000,
        100,
      );
    llm.rule((req) => (lastUserText(req).includes('FAIRUSE') ? { text: 'fair', firstTokenDelayMs: 700 } : undefined));

    const [one, two] = await Promise.all([run(apiA.url, 'FAIRUSE 1'), run(apiA.url, 'FAIRUSE 2')]);
    expect([one.status, two.status]).toEqual([200, 200]);
    const third = await run(apiB.url, 'FAIRUSE 3');
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('5');
    expect(third.body.error.details).toBe('Fair-use limit reached: at most 2 concurrent runs per user. Start this one when one of your runs has finished.');
    await Promise.all([done(one.body.execution_id), done(two.body.execution_id)]);
    const next = await run(apiB.url, 'FAIRUSE 4');
    expect(next.status).toBe(200);
    await done(next.body.execution_id);
    // The refused run never reached a model; every API and worker process reports Redis healthy.
    expect(llmCalls('FAIRUSE 3')).toHaveLength(0);
    for (const p of [apiA, apiB, ...workers]) expect(((await (await fetch(`${p.url}/v1/healthcheck`)).json()) as { redis: string }).redis).toBe('ok');
  }, 30_000);

  it('an abort sent to API A reaches the run on a worker', async () => {
    llm.script((req) => (lastUserText(req).includes('ABORTME') ? { hang: true } : undefined));
    const id = await execute(apiB.url, 'ABORTME');
    const call = await until('the hanging model call', () => llmCalls('ABORTME')[0], 15_000);
    const r = await api(apiA.url, 'PUT', `/v1/workflows/${workflowId}/executions/${id}/abort`);
    expect(r.status, r.text).toBe(200);
    // The model call hangs forever unless the abort reaches the worker (then it hangs up): its end is the proof.
    await call.done;
    expect(call.clientClosed).toBe(true);
    expect((await waitStatus(apiB.url, id, ['Aborted', 'Succeeded', 'Failed'], 10_000)).overall_status).toBe('Aborted');
  }, 30_000);

  it('with every worker slot busy, further runs wait in Redis and every API process reports the deployment-wide queue depth', async () => {
    // 2 workers x 2 slots: five hanging runs → four active, one waiting.
    llm.rule((req) => (lastUserText(req).includes('DEPTH') ? { hang: true } : undefined));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await execute(apiA.url, `DEPTH ${i}`));
    await until('four runs on the workers', () => llmCalls('DEPTH').length === 4, 10_000);
    const depth = async (p: ServerProcess) => {
      const text = await (await fetch(`${p.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      return Number(/^codemie_run_queue_depth (\S+)$/m.exec(text)?.[1]);
    };
    expect(await depth(apiA)).toBe(1);
    expect(await depth(apiB)).toBe(1);
    // Abort the waiting run first (else a freed slot would start it), then the active ones.
    const waiting = ids.filter((_, i) => !llmCalls('DEPTH').some((r) => lastUserText(r).includes(`DEPTH ${i}`)));
    expect(waiting).toHaveLength(1);
    for (const id of [...waiting, ...ids.filter((x) => !waiting.includes(x))]) {
      expect((await api(apiB.url, 'PUT', `/v1/workflows/${workflowId}/executions/${id}/abort`)).status).toBe(200);
    }
    for (const id of ids) expect((await waitStatus(apiA.url, id, ['Aborted', 'Succeeded', 'Failed'], 10_000)).overall_status).toBe('Aborted');
    expect(await depth(apiA)).toBe(0);
    // The aborted waiting run never reached a model.
    await sleep(300);
    expect(llmCalls('DEPTH')).toHaveLength(4);
    await until(
      'the workers to free their slots',
      async () => (await Promise.all(workers.map(async (w) => /^codemie_runs_active 0$/m.test(await (await fetch(`${w.url}/metrics`)).text())))).every(Boolean),
      5000,
    );
  }, 40_000);

  it('restarting an API process does not affect a running execution', async () => {
    llm.script((req) => (lastUserText(req).includes('APIRESTART') ? { text: 'survived the api restart', firstTokenDelayMs: 2500 } : undefined));
    const id = await execute(apiA.url, 'APIRESTART');
    await until('the slow model call', () => llmCalls('APIRESTART')[0], 15_000);
    expect(await apiA.stop('SIGTERM')).toBe(0);
    apiA = await start('api');
    const done = await waitStatus(apiA.url, id, ['Succeeded', 'Failed', 'Aborted'], 20_000);
    expect(done.overall_status).toBe('Succeeded');
    expect(done.output).toContain('Echo: Second: APIRESTART');
    // The first state's call was not repeated: the run never left its worker.
    expect(llmCalls('First: APIRESTART')).toHaveLength(1);
    expect(ranOn(id)).toHaveLength(1);
  }, 45_000);

  it('a worker stopped with SIGTERM mid-run (rolling deploy) hands its run back at once; the other worker finishes it', async () => {
    llm.script((req) => (lastUserText(req).includes('Second: DRAIN') ? { hang: true } : undefined));
    const id = await execute(apiB.url, 'DRAIN');
    const hanging = await until('the hanging second-state call', () => llmCalls('Second: DRAIN')[0], 15_000);
    const [leaving] = await until('the worker running the execution', () => (ranOn(id).length === 1 ? ranOn(id) : undefined), 5000);
    const staying = workers.find((w) => w !== leaving)!;
    expect(await leaving!.stop('SIGTERM')).toBe(0);
    expect(hanging.clientClosed).toBe(true);
    expect(leaving!.output()).not.toContain('"level":50');
    const done = await waitStatus(apiA.url, id, ['Succeeded', 'Failed', 'Aborted'], 15_000);
    expect(done.overall_status).toBe('Succeeded');
    // Handed back, not left to expire (ordering, not a clock): the leaving worker put the run back itself.
    expect(leaving!.output()).toMatch(new RegExp(`"runId":"${id}"[^\\n]*run handed back for another worker`));
    expect(llmCalls('Second: DRAIN')).toHaveLength(2);
    expect(staying.output()).toMatch(new RegExp(`"runId":"${id}"[^\\n]*run taken over by this worker`));
    expect(llmCalls('First: DRAIN')).toHaveLength(1);
    const states = await api(apiA.url, 'GET', `/v1/workflows/${workflowId}/executions/${id}/states?per_page=100`);
    expect((states.body.data as any[]).map((st) => [st.name, st.status])).toEqual([
      ['first', 'Succeeded'],
      ['second', 'Succeeded'],
    ]);
    // Replace the worker for what follows.
    workers.splice(workers.indexOf(leaving!), 1, await start('worker'));
  }, 45_000);

  it('a worker killed with SIGKILL mid-run: the other worker takes the run over after the lease and finishes it exactly once', async () => {
    // The second state's first model call hangs (the worker dies during it); the retry answers.
    llm.script((req) => (lastUserText(req).includes('Second: KILLME') ? { hang: true } : undefined));
    const id = await execute(apiA.url, 'KILLME');
    const hanging = await until('the hanging second-state call', () => llmCalls('Second: KILLME')[0], 15_000);
    const [victim] = await until('the worker running the execution', () => (ranOn(id).length === 1 ? ranOn(id) : undefined), 5000);
    const survivor = workers.find((w) => w !== victim)!;
    const t0 = Date.now();
    expect(await victim!.stop('SIGKILL')).toBe(null);
    await Promise.race([hanging.done, sleep(5000)]);
    expect(hanging.clientClosed).toBe(true);

    const done = await waitStatus(apiB.url, id, ['Succeeded', 'Failed', 'Aborted'], 25_000);
    const tookMs = Date.now() - t0;
    expect(done.overall_status).toBe('Succeeded');
    // Not instant: the run waited for the dead worker's lease (renewed every LEASE_MS/2) to run out.
    expect(tookMs).toBeGreaterThanOrEqual(LEASE_MS / 2 - 500);
    expect(survivor.output()).toMatch(new RegExp(`"runId":"${id}"[^\\n]*run taken over by this worker`));
    // The finished first state was replayed from its row, not re-run; the second ran again to completion.
    expect(llmCalls('First: KILLME')).toHaveLength(1);
    expect(llmCalls('Second: KILLME')).toHaveLength(2);
    const states = await api(apiB.url, 'GET', `/v1/workflows/${workflowId}/executions/${id}/states?per_page=100`);
    expect(states.status).toBe(200);
    const byName = (n: string) => (states.body.data as any[]).filter((s) => s.name === n);
    expect(byName('first').map((s) => s.status)).toEqual(['Succeeded']);
    expect(byName('second').map((s) => s.status)).toEqual(['Succeeded']);
    expect(states.body.data).toHaveLength(2);
    // The final output appears once, not duplicated by the two attempts.
    const out = String(done.output);
    expect(out.split('Echo: Second: KILLME').length - 1).toBe(1);
  }, 60_000);

  it('a worker killed after writing the run’s end but before publishing it: the SSE client still gets exactly one final chunk', async () => {
    // Two live workers (an earlier test may have killed one).
    for (const [i, w] of workers.entries()) if (w.child.exitCode !== null || w.child.signalCode !== null) workers[i] = await start('worker');
    llm.script((req) => (lastUserText(req).includes('Second: LOSTEND') ? { hang: true } : undefined));
    const res = await fetch(`${apiB.url}/v1/workflows/${workflowId}/executions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ user_input: 'LOSTEND', stream: true }),
      signal: AbortSignal.timeout(30_000),
    });
    expect(res.status).toBe(200);
    const id = res.headers.get('x-workflow-execution-id')!;
    const body = res.text();
    await until('the hanging second-state call', () => llmCalls('Second: LOSTEND')[0], 15_000);
    const [victim] = await until('the worker running the execution', () => (ranOn(id).length === 1 ? ranOn(id) : undefined), 5000);
    const survivor = workers.find((w) => w !== victim)!;
    // The run's end is in the database (as the engine writes it before publishing)...
    const { default: pg } = await import('pg');
    const db = new pg.Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    try {
      await db.query(
        `update workflow_execution_states set status = 'Succeeded', output = 'written', completed_at = $2 where execution_id = $1 and status = 'In Progress'`,
        [id, new Date().toISOString()],
      );
      await db.query(`update workflow_executions set overall_status = 'Succeeded', output = 'written before the crash' where id = $1`, [id]);
    } finally {
      await db.end();
    }
    // ...and the worker dies before publishing it.
    expect(await victim!.stop('SIGKILL')).toBe(null);
    const events = parseSse(await body);
    // From the API's own re-check of the execution, before the dead worker's lease ran out (ordering:
    // no worker has taken the run over yet when the stream has ended).
    expect(survivor.output()).not.toMatch(new RegExp(`"runId":"${id}"[^\\n]*run taken over`));
    const chunks = events.map((e) => JSON.parse(e.data));
    expect(chunks.filter((c) => c.last)).toHaveLength(1);
    expect(chunks.at(-1)).toMatchObject({ last: true, generated: 'written before the crash', workflow_execution_id: id });
    expect(chunks.filter((c) => c.workflow_state?.event_type === 'state_finish' && c.workflow_state.name === 'first')).toHaveLength(1);

    // The worker taking the finished run over publishes its final event again (for streams without the fallback).
    await until('the take-over', () => new RegExp(`"runId":"${id}"[^\\n]*run taken over by this worker`).test(survivor.output()), 20_000).catch((err) => {
      throw new Error(
        `${(err as Error).message}\n${survivor
          .output()
          .split('\n')
          .filter((l) => l.includes(id))
          .join('\n')}`,
      );
    });
    const bus = new RedisEventBus(process.env.TEST_REDIS_URL!, { prefix: env.CODEMIE_REDIS_PREFIX });
    const finals: any[] = [];
    try {
      for await (const ev of bus.subscribe(`execution:${id}`, { signal: AbortSignal.timeout(5000) })) {
        const chunk = workflowChunk(id, (ev.data as BusEnvelope).event) as any;
        if (chunk?.last) finals.push(chunk);
      }
    } finally {
      await bus.close();
    }
    expect(finals).toHaveLength(1);
    expect(finals[0]).toMatchObject({ last: true, generated: 'written before the crash' });
    workers.splice(workers.indexOf(victim!), 1, await start('worker'));
  }, 60_000);
});
