/**
 * Scale-out load test: N workflow executions through 1 API process and W worker processes
 * (the BUILT server as real child processes) on PostgreSQL + Redis, against the instant test LLM.
 *
 *   npx tsc -b packages/server
 *   TEST_DATABASE_URL=postgres://… TEST_REDIS_URL=redis://… \
 *     npx tsx bench/scale-out.ts [--workers 1,2,4] [--runs N] [--concurrency C] [--kill] [--json]
 *
 * Per phase (one per worker count, plus `--kill`: 2 workers, one killed with SIGKILL half-way):
 * a fresh PostgreSQL database, a unique Redis key prefix, 1 API process (CODEMIE_ROLE=api) and W
 * worker processes (CODEMIE_ROLE=worker). The test LLM server (instant mode) runs in a child process
 * of its own, so it competes neither with the bench client nor with the servers' event loops.
 * The client keeps C executions of a two-state workflow in flight (submit through the API, completion
 * read from the database, not by polling the API), and reports executions/s and completion latency
 * (submit → the Succeeded write). Then it verifies, from the database and the runs' Redis event
 * streams, that every run Succeeded exactly once: two state rows (first, second), both Succeeded;
 * the final output holds the answer once; at most one `state_finish` per state and one final (`last`)
 * chunk on the stream. Exit status 1 if any run is lost or duplicated. Missing stream events
 * ("stream gaps": what an SSE client would not see) are reported with a warning.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { freshPostgres, tempDir } from '../packages/server/test/helpers.js';
import { startServerProcess, type ServerProcess } from '../packages/server/test/process.js';
import { TWO_STATE_YAML, lastUserText } from '../packages/server/test/scale-support.js';
import { defaultReply, startTestLlmServer, writeTestModelsFile } from '../packages/server/test/llm-server.js';
import { workflowChunk } from '../packages/server/src/wire/run-events.js';
import type { BusEnvelope } from '../packages/server/src/workflows/model.js';

export interface BenchOptions {
  /** Worker process counts, one phase each. */
  workers: number[];
  /** Executions per phase (warm-up excluded). */
  runs: number;
  /** Executions kept in flight by the client. */
  concurrency: number;
  /** Add a phase with 2 workers where one is killed (SIGKILL) half-way through the load. */
  kill: boolean;
  /** CODEMIE_WORKER_CONCURRENCY of each worker. */
  workerConcurrency: number;
  /** Time the test LLM waits before each answer (0: instant). */
  llmLatencyMs?: number;
  /** CODEMIE_RUN_LEASE_MS of every process (a dead worker's runs move after about this long). */
  leaseMs: number;
  /** Warm-up executions per phase (verified, not timed). */
  warmup: number;
  /** A run not Succeeded this long after its submission counts as lost. */
  runTimeoutMs: number;
  /** Admin URL of the PostgreSQL server (fresh databases are created on it) and the Redis URL. */
  databaseUrl: string;
  redisUrl: string;
  log: (line: string) => void;
}

export interface PhaseResult {
  phase: string;
  workers: number;
  killed: boolean;
  runs: number;
  concurrency: number;
  seconds: number;
  executions_per_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Not Succeeded within runTimeoutMs, never accepted, or Succeeded without its states Succeeded / its answer in the output. */
  lost: number;
  /**
   * Ran to completion more than once: an execution row nobody submitted, a state with two rows, a
   * final output holding the answer twice, or `state_finish` events of two different rows of a state
   * on the run's stream (one row's repeated state_finish is a take-over re-announcing it: the API
   * sends it to clients once, and only the first final chunk).
   */
  duplicated: number;
  /**
   * Succeeded runs whose event stream misses an event (a state's `state_finish` or the final `last`
   * chunk): what a client following the run with SSE would not see. Reported, not counted as lost.
   */
  stream_gaps: number;
  /** Model calls beyond one per state (a state re-run after its worker died; 0 without a kill). */
  repeated_model_calls: number;
  /** Runs the surviving workers took over (logged "run taken over by this worker"). */
  taken_over: number;
  /** 429 answers retried by the client. */
  throttled: number;
  load_average_1m: number;
  /**
   * CPU time per timed execution, in ms, by process (Linux /proc; absent elsewhere): the API process,
   * all workers, the test LLM child, this client, and the whole machine (PostgreSQL, Redis and
   * anything else running included).
   */
  cpu_ms_per_run?: { api: number; workers: number; llm: number; client: number; machine: number };
  problems: string[];
}

const FINAL = ['Succeeded', 'Failed', 'Aborted', 'Interrupted'];
const ADMIN_PASSWORD = 'bench-admin-password';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// ─── CPU accounting (Linux) ─────────────────────────────────────────────────────────────────────

const TICK_MS = (() => {
  try {
    return 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  } catch {
    return 10;
  }
})();

/** CPU time (user + system) used so far by a process, in ms; undefined when /proc is not there. */
function processCpuMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime, stime (fields 14 and 15)
  } catch {
    return undefined;
  }
}

/** Busy CPU time of the whole machine so far (all cores), in ms. */
function machineCpuMs(): number | undefined {
  try {
    const [, ...v] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const n = v.map(Number);
    const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - n[3]! - n[4]!) * TICK_MS; // minus idle and iowait
  } catch {
    return undefined;
  }
}

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN);

// ─── the test LLM server, in a child process ────────────────────────────────────────────────────

interface LlmChild {
  baseUrl: string;
  pid: number | undefined;
  /** Model calls since the last reset, by the last user message's text. */
  calls(): Promise<Record<string, number>>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Child side: `--serve-llm [latencyMs]` runs the test LLM server and answers the parent over IPC.
 * Instant by default; with a latency every answer (the default echo) waits that long first, like a
 * real model, so that a worker's run slots (not the CPU) bound its throughput.
 */
async function serveLlm(latencyMs: number): Promise<void> {
  const llm = await startTestLlmServer({ instant: latencyMs <= 0 });
  // reset() clears rules too: the latency rule is set again after each one.
  const withLatency = () => latencyMs > 0 && llm.rule((req) => ({ ...defaultReply(req), firstTokenDelayMs: latencyMs }));
  withLatency();
  process.on('message', (m: { id: number; op: string }) => {
    if (m.op === 'calls') {
      const counts: Record<string, number> = {};
      for (const r of llm.chatRequests()) {
        const t = lastUserText(r);
        counts[t] = (counts[t] ?? 0) + 1;
      }
      process.send!({ id: m.id, counts });
    } else if (m.op === 'reset') {
      llm.reset();
      withLatency();
      process.send!({ id: m.id });
    }
  });
  process.on('disconnect', () => void llm.close().finally(() => process.exit(0)));
  process.send!({ ready: llm.baseUrl });
}

async function startLlmChild(latencyMs: number): Promise<LlmChild> {
  const self = fileURLToPath(import.meta.url);
  const child: ChildProcess = fork(self, ['--serve-llm', String(latencyMs)], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const pending = new Map<number, (m: any) => void>();
  const baseUrl = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the test LLM child exited (${code})`)));
    child.on('message', (m: any) => {
      if (m.ready) return resolve(m.ready);
      pending.get(m.id)?.(m);
      pending.delete(m.id);
    });
  });
  const ask = (op: string) =>
    new Promise<any>((resolve) => {
      const id = ++next;
      pending.set(id, resolve);
      child.send({ id, op });
    });
  return {
    baseUrl,
    pid: child.pid,
    calls: async () => (await ask('calls')).counts,
    reset: async () => void (await ask('reset')),
    async close() {
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect();
      await Promise.race([exited, sleep(3000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

// ─── one phase ──────────────────────────────────────────────────────────────────────────────────

interface Outcome {
  id: string;
  input: string;
  submitAt: number;
  /** Wall-clock time of the final status write (the row's update_date), or undefined (timed out). */
  doneAt?: number;
  status: string;
}

/** Waits for executions to end by reading their status from the database (a few cheap queries a second). */
class CompletionWatcher {
  private readonly waiting = new Map<string, { deadline: number; resolve: (v: { status: string; at?: number }) => void }>();
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(private readonly db: pg.Client) {
    this.loop = this.run();
  }

  wait(id: string, timeoutMs: number): Promise<{ status: string; at?: number }> {
    return new Promise((resolve) => this.waiting.set(id, { deadline: Date.now() + timeoutMs, resolve }));
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.waiting.size) {
        const ids = [...this.waiting.keys()];
        const { rows } = await this.db.query<{ id: string; overall_status: string; update_date: string }>(
          'select id, overall_status, update_date from workflow_executions where id = any($1::text[]) and overall_status = any($2::text[])',
          [ids, FINAL],
        );
        for (const r of rows) {
          this.waiting.get(r.id)?.resolve({ status: r.overall_status, at: Date.parse(r.update_date) });
          this.waiting.delete(r.id);
        }
        const now = Date.now();
        for (const [id, w] of this.waiting) {
          if (now > w.deadline) {
            w.resolve({ status: 'timed out' });
            this.waiting.delete(id);
          }
        }
      }
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

async function runPhase(opts: BenchOptions, llm: LlmChild, workerCount: number, kill: boolean): Promise<PhaseResult> {
  const label = kill ? `${workerCount} workers, one killed` : `${workerCount} worker${workerCount > 1 ? 's' : ''}`;
  const tmp = tempDir('codemie-scalebench-');
  const pgdb = await freshPostgres();
  const prefix = `bench-scale-${randomUUID().slice(0, 8)}`;
  const models = writeTestModelsFile({ baseUrl: llm.baseUrl }, tmp.dir);
  const env: Record<string, string> = {
    ...models.env,
    DATABASE_URL: pgdb.url,
    REDIS_URL: opts.redisUrl,
    CODEMIE_REDIS_PREFIX: prefix,
    CODEMIE_RUN_LEASE_MS: String(opts.leaseMs),
    CODEMIE_WORKER_CONCURRENCY: String(opts.workerConcurrency),
    CODEMIE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    CODEMIE_SCRYPT_N: '1024',
    CODEMIE_SEED_DEMO: 'false',
    CODEMIE_LOCAL_MODEL: 'off',
    CODEMIE_LLM_MAX_RETRIES: '0',
    CODEMIE_SHUTDOWN_TIMEOUT_MS: '2000',
  };
  let dirs = 0;
  const start = (role: 'api' | 'worker') => {
    const dir = path.join(tmp.dir, `p${dirs++}`);
    mkdirSync(dir);
    // Workers log at info: "run taken over by this worker" is how takeovers are counted.
    return startServerProcess({ ...env, CODEMIE_ROLE: role, CODEMIE_DATA_DIR: dir, LOG_LEVEL: role === 'worker' ? 'info' : 'warn' }, 60_000);
  };
  const procs: ServerProcess[] = [];
  const db = new pg.Client({ connectionString: pgdb.url });
  let watcher: CompletionWatcher | undefined;
  await llm.reset();
  try {
    // The API process migrates the database; the workers start against the migrated schema.
    const api = await start('api');
    procs.push(api);
    const workers = await Promise.all(Array.from({ length: workerCount }, () => start('worker')));
    procs.push(...workers);
    await db.connect();
    watcher = new CompletionWatcher(db);

    const tok = await fetch(`${api.url}/auth/realms/codemie/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'codemie-sdk', username: 'admin', password: ADMIN_PASSWORD }).toString(),
    });
    if (!tok.ok) throw new Error(`token: ${tok.status} ${await tok.text()}`);
    const headers = { authorization: `Bearer ${((await tok.json()) as { access_token: string }).access_token}`, 'content-type': 'application/json' };
    const wfRes = await fetch(`${api.url}/v1/workflows`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'scale-bench', description: 'scale-out load test', project: 'demo', yaml_config: TWO_STATE_YAML }),
    });
    if (!wfRes.ok) throw new Error(`create workflow: ${wfRes.status} ${await wfRes.text()}`);
    const workflowId = ((await wfRes.json()) as { data: { id: string } }).data.id;

    let throttled = 0;
    const problems: string[] = [];
    const submit = async (input: string): Promise<{ id: string; submitAt: number } | undefined> => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const submitAt = Date.now();
        try {
          const res = await fetch(`${api.url}/v1/workflows/${workflowId}/executions`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ user_input: input }),
            signal: AbortSignal.timeout(30_000),
          });
          const text = await res.text();
          if (res.status === 429) {
            throttled++;
            await sleep(Math.max(100, Number(res.headers.get('retry-after') ?? '1') * 1000));
            continue;
          }
          if (!res.ok) {
            problems.push(`${input}: submit answered ${res.status} ${text.slice(0, 200)}`);
            return undefined;
          }
          return { id: (JSON.parse(text) as { execution_id: string }).execution_id, submitAt };
        } catch (err) {
          problems.push(`${input}: submit failed: ${(err as Error).message}`);
          return undefined;
        }
      }
      problems.push(`${input}: still throttled after 20 attempts`);
      return undefined;
    };

    /** Runs `count` executions keeping `concurrency` in flight; `onSubmitted(n)` after each submission. */
    const drive = async (tag: string, count: number, onSubmitted?: (n: number) => void): Promise<Outcome[]> => {
      const outcomes: Outcome[] = [];
      let nextIndex = 0;
      let submitted = 0;
      await Promise.all(
        Array.from({ length: Math.min(opts.concurrency, count) }, async () => {
          while (nextIndex < count) {
            const input = `[${tag}#${nextIndex++}]`;
            const s = await submit(input);
            if (!s) {
              outcomes.push({ id: '', input, submitAt: Date.now(), status: 'not accepted' });
              continue;
            }
            onSubmitted?.(++submitted);
            const done = await watcher!.wait(s.id, opts.runTimeoutMs);
            outcomes.push({ id: s.id, input, submitAt: s.submitAt, doneAt: done.at, status: done.status });
          }
        }),
      );
      return outcomes;
    };

    opts.log(`[${label}] processes up (1 API + ${workerCount} workers); warm-up ${opts.warmup}, then ${opts.runs} runs, ${opts.concurrency} in flight`);
    const warm = await drive('warm', opts.warmup);

    let killedAt: number | undefined;
    let killing: Promise<unknown> | undefined;
    const victim = kill ? workers[0] : undefined;
    const cpu = () => ({
      api: processCpuMs(api.child.pid),
      workers: workers.map((w) => processCpuMs(w.child.pid)),
      llm: processCpuMs(llm.pid),
      client: process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000,
      machine: machineCpuMs(),
    });
    const cpu0 = cpu();
    const loadStart = Date.now();
    const outcomes = await drive('run', opts.runs, (n) => {
      if (victim && killedAt === undefined && n >= Math.floor(opts.runs / 2)) {
        killedAt = Date.now();
        killing = victim.stop('SIGKILL');
        opts.log(`[${label}] SIGKILL worker pid ${victim.child.pid} after ${n} submissions`);
      }
    });
    const load1 = os.loadavg()[0]!;
    const cpu1 = cpu();
    await killing;

    // ── metrics ──
    const ok = outcomes.filter((o) => o.status === 'Succeeded' && o.doneAt !== undefined);
    const latencies = ok.map((o) => o.doneAt! - o.submitAt).sort((a, b) => a - b);
    const end = Math.max(...ok.map((o) => o.doneAt!), loadStart + 1);
    const seconds = (end - loadStart) / 1000;

    // ── verification (database, Redis streams, model calls) ──
    const all = [...warm, ...outcomes];
    const verdict = await verify(db, opts.redisUrl, prefix, workflowId, all, await llm.calls(), problems);
    const takenOver = workers.reduce((n, w) => n + (w.output().match(/run taken over by this worker/g)?.length ?? 0), 0);
    const result: PhaseResult = {
      phase: label,
      workers: workerCount,
      killed: kill,
      runs: opts.runs,
      concurrency: opts.concurrency,
      seconds: +seconds.toFixed(2),
      executions_per_s: +(ok.length / seconds).toFixed(1),
      p50_ms: Math.round(pct(latencies, 50)),
      p99_ms: Math.round(pct(latencies, 99)),
      max_ms: Math.round(latencies.at(-1) ?? NaN),
      lost: verdict.lost,
      duplicated: verdict.duplicated,
      stream_gaps: verdict.streamGaps,
      repeated_model_calls: verdict.repeatedCalls,
      taken_over: takenOver,
      throttled,
      load_average_1m: +load1.toFixed(2),
      cpu_ms_per_run: cpuPerRun(cpu0, cpu1, ok.length, victim ? workers.indexOf(victim) : -1),
      problems: problems.slice(0, 10),
    };
    if (killedAt !== undefined) opts.log(`[${label}] killed ${((killedAt - loadStart) / 1000).toFixed(1)} s into the load; ${takenOver} runs taken over`);
    opts.log(
      `[${label}] ${result.executions_per_s} executions/s, p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, lost ${result.lost}, duplicated ${result.duplicated}, stream gaps ${result.stream_gaps}, load average ${result.load_average_1m}`,
    );
    for (const p of result.problems) opts.log(`[${label}]   ${p}`);
    return result;
  } finally {
    await watcher?.stop().catch(() => undefined);
    await db.end().catch(() => undefined);
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await pgdb.drop().catch(() => undefined);
    const redis = new Redis(opts.redisUrl);
    try {
      const keys = await redis.keys(`${prefix}:*`);
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
    } finally {
      await redis.quit();
    }
    tmp.cleanup();
  }
}

type CpuSample = { api?: number; workers: Array<number | undefined>; llm?: number; client: number; machine?: number };

function cpuPerRun(a: CpuSample, b: CpuSample, runs: number, killedWorker: number): PhaseResult['cpu_ms_per_run'] {
  const d = (x?: number, y?: number) => (x === undefined || y === undefined ? NaN : y - x);
  // A killed worker's counters are gone with it: its share is not counted.
  const workers = a.workers.reduce<number>((n, w, i) => (i === killedWorker ? n : n + d(w, b.workers[i])), 0);
  const per = (ms: number) => +(ms / Math.max(1, runs)).toFixed(1);
  const r = {
    api: per(d(a.api, b.api)),
    workers: per(workers),
    llm: per(d(a.llm, b.llm)),
    client: per(b.client - a.client),
    machine: per(d(a.machine, b.machine)),
  };
  return Object.values(r).some((v) => Number.isNaN(v)) ? undefined : r;
}

/**
 * Every accepted run must have Succeeded once: exactly the states `first` and `second`, one row each,
 * Succeeded; the final output holds the second state's answer once; its event stream, as the API
 * streams it to a client (repeated state_finish of a row dropped, up to the first final chunk), has
 * one `state_finish` per state and a final chunk. Rows nobody submitted are duplicates too.
 */
async function verify(
  db: pg.Client,
  redisUrl: string,
  prefix: string,
  workflowId: string,
  outcomes: Outcome[],
  calls: Record<string, number>,
  problems: string[],
): Promise<{ lost: number; duplicated: number; streamGaps: number; repeatedCalls: number }> {
  const note = (s: string) => void (problems.length < 50 && problems.push(s));
  const execs = new Map(
    (
      await db.query<{ id: string; overall_status: string; output: string | null }>(
        'select id, overall_status, output from workflow_executions where workflow_id = $1',
        [workflowId],
      )
    ).rows.map((r) => [r.id, r]),
  );
  const states = new Map<string, Array<{ name: string; status: string }>>();
  for (const r of (
    await db.query<{ execution_id: string; name: string; status: string }>(
      'select s.execution_id, s.name, s.status from workflow_execution_states s join workflow_executions e on e.id = s.execution_id where e.workflow_id = $1',
      [workflowId],
    )
  ).rows) {
    states.set(r.execution_id, [...(states.get(r.execution_id) ?? []), { name: r.name, status: r.status }]);
  }
  const accepted = outcomes.filter((o) => o.id);
  const redis = new Redis(redisUrl);
  let streams: Array<[Error | null, unknown]> = [];
  try {
    const pipe = redis.pipeline();
    for (const o of accepted) pipe.xrange(`${prefix}:stream:execution:${o.id}`, '-', '+');
    streams = ((await pipe.exec()) ?? []) as Array<[Error | null, unknown]>;
  } finally {
    await redis.quit();
  }

  let lost = 0;
  let duplicated = 0;
  let streamGaps = 0;
  let repeatedCalls = 0;
  const submittedIds = new Set(accepted.map((o) => o.id));
  for (const id of execs.keys()) {
    if (!submittedIds.has(id)) {
      duplicated++;
      note(`execution ${id} exists but was never submitted`);
    }
  }
  outcomes.forEach((o) => {
    if (o.status !== 'Succeeded') {
      lost++;
      note(`${o.input} ${o.id || ''}: ${o.status}${o.id ? ` (now ${execs.get(o.id)?.overall_status ?? 'missing'})` : ''}`);
    }
  });
  accepted.forEach((o, i) => {
    const dup: string[] = [];
    const gone: string[] = [];
    const gaps: string[] = [];
    const row = execs.get(o.id);
    const succeeded = row?.overall_status === 'Succeeded';
    const answer = `Echo: Second: ${o.input}`;
    if (row) {
      const times = (row.output ?? '').split(answer).length - 1;
      if (succeeded && times > 1) dup.push(`final output holds the answer ${times} times`);
      if (succeeded && times === 0) gone.push('final output lacks the answer');
    }
    const st = states.get(o.id) ?? [];
    for (const name of ['first', 'second']) {
      const rows = st.filter((s) => s.name === name);
      if (rows.length > 1) dup.push(`${rows.length} rows for state ${name}`);
      if (succeeded && (rows.length === 0 || rows.some((r) => r.status !== 'Succeeded')))
        gone.push(`state ${name}: ${rows.map((r) => r.status).join(',') || 'no row'}`);
    }
    if (st.some((s) => s.name !== 'first' && s.name !== 'second')) dup.push(`unexpected states ${st.map((s) => s.name).join(',')}`);
    const [err, entries] = streams[i] ?? [null, []];
    if (err) gaps.push(`stream unreadable: ${err.message}`);
    else if (succeeded) {
      const raw = (entries as Array<[string, string[]]>)
        .filter(([, f]) => f[0] === 'd')
        .map(([, f]) => workflowChunk(o.id, (JSON.parse(f[1]!) as BusEnvelope).event) as Record<string, any>);
      const events = raw
        .map((c) =>
          c.last
            ? 'last'
            : c.workflow_state
              ? `${c.workflow_state.name}:${String(c.workflow_state.event_type).replace('state_', '')}`
              : c.thought
                ? 'thought'
                : 'chunk',
        )
        .join(',');
      // What the API's stream sends a client: up to the first final chunk, a state row's
      // state_finish once (a worker taking a run over publishes the finishes it replays, and the
      // final chunk of a run that had already ended, again).
      const chunks: Array<Record<string, any>> = [];
      const finishedRows = new Set<string>();
      for (const c of raw) {
        if (c.workflow_state?.event_type === 'state_finish') {
          const key = `${c.workflow_state.id}:${c.workflow_state.status}`;
          if (finishedRows.has(key)) continue;
          finishedRows.add(key);
        }
        chunks.push(c);
        if (c.last) break;
      }
      if (!chunks.some((c) => c.last)) gaps.push(`no final chunk on the stream [${events}]`);
      for (const name of ['first', 'second']) {
        // Two different rows finishing the same state: the state ran to completion twice.
        const n = chunks.filter((c) => c.workflow_state?.name === name && c.workflow_state?.event_type === 'state_finish').length;
        if (n > 1) dup.push(`state ${name} finished ${n} times on the stream [${events}]`);
        if (n === 0) gaps.push(`no state_finish for ${name} on the stream [${events}]`);
      }
    }
    if (dup.length) duplicated++;
    if (gone.length && o.status === 'Succeeded') lost++; // (runs not Succeeded were counted above)
    if (gaps.length) streamGaps++;
    const all = [...dup, ...gone, ...gaps];
    if (all.length) note(`${o.input} ${o.id}: ${all.join('; ')}`);
    for (const state of ['First', 'Second']) repeatedCalls += Math.max(0, (calls[`${state}: ${o.input}`] ?? 0) - 1);
  });
  return { lost, duplicated, streamGaps, repeatedCalls };
}

// ─── the whole bench ────────────────────────────────────────────────────────────────────────────

export async function runScaleBench(opts: BenchOptions): Promise<PhaseResult[]> {
  // freshPostgres() reads the admin URL from the environment.
  process.env.TEST_DATABASE_URL = opts.databaseUrl;
  const llm = await startLlmChild(opts.llmLatencyMs ?? 0);
  const results: PhaseResult[] = [];
  try {
    for (const w of opts.workers) results.push(await runPhase(opts, llm, w, false));
    if (opts.kill) results.push(await runPhase(opts, llm, 2, true));
  } finally {
    await llm.close();
  }
  return results;
}

export function formatTable(results: PhaseResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.phase} | ${r.runs} | ${r.concurrency} | **${r.executions_per_s}** | ${r.p50_ms} ms | ${r.p99_ms} ms | ${r.lost} | ${r.duplicated} | ${r.stream_gaps} | ${r.repeated_model_calls} | ${r.taken_over} | ${r.load_average_1m} |`,
  );
  return [
    '| phase | runs | in flight | executions/s | p50 | p99 | lost | duplicated | stream gaps | repeated model calls | taken over | load avg (1 min) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'CPU time per execution (ms):',
    '',
    '| phase | API | workers (sum) | test LLM | client | whole machine |',
    '|---|---|---|---|---|---|',
    ...results.map((r) => {
      const c = r.cpu_ms_per_run;
      return c ? `| ${r.phase} | ${c.api} | ${c.workers} | ${c.llm} | ${c.client} | ${c.machine} |` : `| ${r.phase} | – | – | – | – | – |`;
    }),
  ].join('\n');
}

function parseArgs(argv: string[]): BenchOptions {
  const val = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string, def: number) => {
    const v = val(name);
    const n = v === undefined ? def : Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number`);
    return n;
  };
  const databaseUrl = val('database-url') ?? process.env.TEST_DATABASE_URL;
  const redisUrl = val('redis-url') ?? process.env.TEST_REDIS_URL;
  if (!databaseUrl || !redisUrl) throw new Error('set TEST_DATABASE_URL (PostgreSQL admin URL) and TEST_REDIS_URL, or pass --database-url and --redis-url');
  const leaseMs = num('lease-ms', 3000);
  return {
    workers: (val('workers') ?? '1,2,4')
      .split(',')
      .map((s) => Number(s.trim()))
      .filter((n) => n > 0),
    runs: num('runs', 400),
    concurrency: num('concurrency', 32),
    kill: argv.includes('--kill'),
    workerConcurrency: num('worker-concurrency', 20),
    llmLatencyMs: num('llm-latency-ms', 0),
    leaseMs,
    warmup: num('warmup', 20),
    runTimeoutMs: num('run-timeout-ms', Math.max(60_000, leaseMs * 10)),
    databaseUrl,
    redisUrl,
    log: (line) => console.error(line),
  };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const cpu = os.cpus();
  opts.log(
    `node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  opts.log(
    `worker concurrency ${opts.workerConcurrency}, lease ${opts.leaseMs} ms, test LLM in a child process (${opts.llmLatencyMs ? `${opts.llmLatencyMs} ms per answer` : 'instant'})`,
  );
  const results = await runScaleBench(opts);
  console.log(formatTable(results));
  if (process.argv.includes('--json')) console.log(JSON.stringify({ node: process.version, cpus: cpu.length, results }));
  const bad = results.reduce((n, r) => n + r.lost + r.duplicated, 0);
  const gaps = results.reduce((n, r) => n + r.stream_gaps, 0);
  if (gaps) console.error(`WARNING: ${gaps} succeeded runs miss events on their stream (see the problems above)`);
  if (bad) {
    console.error(`FAILED: ${bad} lost or duplicated runs`);
    process.exitCode = 1;
  }
}

if (process.argv.includes('--serve-llm')) {
  await serveLlm(Number(process.argv[process.argv.indexOf('--serve-llm') + 1] ?? 0) || 0);
} else if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main().catch((err) => {
    console.error(err);
    process.exitCode = 2;
  });
}
