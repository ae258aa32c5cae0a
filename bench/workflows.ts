/**
 * Workflow engine benchmark (run: `npx tsx bench/workflows.ts [--db postgres] [--stub-llm]`).
 *
 * 1. Throughput: N one-state executions started through the HTTP API (inject, no sockets) with the
 *    in-process run queue, against the test LLM server in instant mode; executions/s until all Succeeded.
 * 2. Engine overhead per state: a 5-state workflow run sequentially; per-state time minus the time of
 *    the same LLM call made directly through ctx.llm (so the LLM adapter + HTTP cost is excluded).
 */
import { performance } from 'node:perf_hooks';
import { startWorkflowEnv } from '../packages/server/test/workflows-harness.js';
import { startTestLlmServer } from '../packages/server/test/llm-server.js';
import type { LlmService } from '../packages/server/src/llm/types.js';

const db = process.argv.includes('--db') ? (process.argv[process.argv.indexOf('--db') + 1] as 'sqlite' | 'postgres') : 'sqlite';
const N = Number(process.env.BENCH_N ?? 1000);
const SEQ = Number(process.env.BENCH_SEQ ?? 40);

const one = `
assistants:
  - id: a
    system_prompt: bench
states:
  - id: only
    assistant_id: a
    task: go
    next:
      state_id: end
`;
const five = `
assistants:
  - id: a
    system_prompt: bench
states:
${[1, 2, 3, 4, 5].map((i) => `  - id: s${i}\n    assistant_id: a\n    task: step ${i}\n    next:\n      state_id: ${i === 5 ? 'end' : `s${i + 1}`}\n      output_key: o${i}`).join('\n')}
`;

/** An instant in-process LLM: isolates the engine + store + API cost from the HTTP LLM adapter. */
const stubLlm = (real: LlmService): LlmService => ({
  listModels: () => real.listModels(),
  resolveModel: (n) => real.resolveModel(n),
  async *runAgent(req) {
    const text = `Echo: ${req.messages.at(-1)?.content ?? ''}`;
    yield { type: 'text-delta', text };
    yield { type: 'finish', text, usage: { input_tokens: 3, output_tokens: 3, cached_tokens: 0, money_spent: 0 }, finishReason: 'stop' };
  },
});

const mode = process.argv.includes('--stub-llm') ? 'in-process stub LLM' : 'test LLM server (instant, OpenAI-compatible over HTTP)';
const llm = await startTestLlmServer({ instant: true });
const env = await startWorkflowEnv({
  db,
  llm,
  listen: false,
  // Fair-use limits off: the bench's one user starts all N runs at once on purpose.
  env: {
    CODEMIE_WORKER_CONCURRENCY: process.env.BENCH_CONCURRENCY ?? '50',
    CODEMIE_LIMIT_USER_CONCURRENT_RUNS: '0',
    CODEMIE_LIMIT_PROJECT_CONCURRENT_RUNS: '0',
    CODEMIE_LIMIT_USER_REQUESTS_PER_MINUTE: '0',
    CODEMIE_LIMIT_PROJECT_REQUESTS_PER_MINUTE: '0',
  },
  module: process.argv.includes('--stub-llm') ? (infra) => ({ llm: stubLlm(infra.llm) }) : undefined,
});
const { db: kdb } = env.platform.infra.store;
const engineLlm = process.argv.includes('--stub-llm') ? stubLlm(env.platform.infra.llm) : env.platform.infra.llm;

let polls = 0; // waitAll's own queries, left out of the statement counts
async function waitAll(ids: string[]): Promise<void> {
  for (;;) {
    polls++;
    const { n } = await kdb
      .selectFrom('workflow_executions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('id', 'in', ids)
      .where('overall_status', 'in', ['Succeeded', 'Failed', 'Aborted'])
      .executeTakeFirstOrThrow();
    if (Number(n) === ids.length) return;
    await new Promise((r) => setTimeout(r, ids.length > 1 ? 50 : 2));
  }
}

// Warm-up.
const oneId = await env.createWorkflow(one);
const warm = await Promise.all(Array.from({ length: 20 }, () => env.execute(oneId, { user_input: 'w' })));
await waitAll(warm.map((e) => e.execution_id));

/** CPU time (user + system) of this process so far, in ms: the API, the engine and the store share it. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/**
 * Statements sent to the database (BEGIN/COMMIT included): every connection's executeQuery is counted
 * (one round trip each on PostgreSQL; an in-process call on SQLite).
 */
let statements = 0;
await kdb.getExecutor().provideConnection(async (conn) => {
  const proto = Object.getPrototypeOf(conn) as { executeQuery: (...a: unknown[]) => unknown };
  const orig = proto.executeQuery;
  proto.executeQuery = function (this: unknown, ...args: unknown[]) {
    statements++;
    return orig.apply(this, args);
  };
  return null;
});
const dbStatements = () => statements;

// 1. Throughput.
const x0 = dbStatements();
const p0 = polls;
const c0 = cpuMs();
const t0 = performance.now();
const ids: string[] = [];
const batch = 50;
for (let i = 0; i < N; i += batch) {
  const started = await Promise.all(Array.from({ length: Math.min(batch, N - i) }, () => env.execute(oneId, { user_input: 'x' })));
  ids.push(...started.map((e) => e.execution_id));
}
await waitAll(ids);
const seconds = (performance.now() - t0) / 1000;
const oneCpu = (cpuMs() - c0) / N;
const x1 = dbStatements();
const p1 = polls;
const failed = await kdb.selectFrom('workflow_executions').select('id').where('id', 'in', ids).where('overall_status', '!=', 'Succeeded').execute();

// 2. Overhead per state.
const model = engineLlm.resolveModel(null).base_name;
const directTimes: number[] = [];
for (let i = 0; i < SEQ * 5; i++) {
  const s = performance.now();
  for await (const ev of engineLlm.runAgent({ model, system: 'bench', messages: [{ role: 'user', content: 'go' }], signal: new AbortController().signal }))
    void ev;
  directTimes.push(performance.now() - s);
}
const fiveId = await env.createWorkflow(five);
const runTimes: number[] = [];
const x2 = dbStatements();
const p2 = polls;
const c2 = cpuMs();
for (let i = 0; i < SEQ; i++) {
  const s = performance.now();
  const ex = await env.execute(fiveId, { user_input: 'x' });
  // The run's event stream ends with it: no status polling (its queries and CPU) in this phase.
  for await (const ev of env.platform.infra.events.subscribe(`execution:${ex.execution_id}`)) void ev;
  runTimes.push(performance.now() - s);
}
const fiveCpu = (cpuMs() - c2) / SEQ;
const x3 = dbStatements();
const p3 = polls;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const llmMs = median(directTimes);
const perState = median(runTimes) / 5;

console.log(
  JSON.stringify(
    {
      db,
      llm: mode,
      one_state_executions: N,
      one_state_executions_per_s: Math.round(N / seconds),
      failed: failed.length,
      five_state_run_ms_median: +median(runTimes).toFixed(2),
      llm_call_ms_median: +llmMs.toFixed(2),
      engine_overhead_per_state_ms: +(perState - llmMs).toFixed(2),
      // CPU of the whole process (API + engine + store + client), less sensitive to a noisy machine than wall time.
      cpu_ms_per_one_state_execution: +oneCpu.toFixed(2),
      cpu_ms_per_five_state_run: +fiveCpu.toFixed(2),
      // Database statements (round trips on PostgreSQL), the bench's own status polling left out.
      db_statements_per_one_state_execution: +((x1 - x0 - (p1 - p0)) / N).toFixed(2),
      db_statements_per_five_state_run: +((x3 - x2 - (p3 - p2)) / SEQ).toFixed(2),
      node: process.version,
    },
    null,
    2,
  ),
);
await env.close();
await llm.close();
